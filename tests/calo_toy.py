"""A small, fast toy of calorimeter showers with a known dependence on the incident energy.

Deposited energy ``E_dep = 0.2 E_inc (1 + 0.1 / sqrt(E_inc / GeV) * N(0, 1))`` (a 20 %
sampling fraction with a 10 %/sqrt(E) stochastic term), split over the layers with a
Dirichlet whose mean moves deeper with log E_inc, and within each layer over the voxels
with a core-peaked Dirichlet; voxels below 1e-5 GeV are zeroed (sparse showers).
"""

import numpy as np

from likely.calo import CaloFlow
from likely.density import Flow
from likely.nn import Trainer

SIZES = (6, 4, 3)
SAMPLING = 0.2
STOCHASTIC = 0.1


def toy_showers(n, sizes=SIZES, e_range=(1.0, 100.0), seed=0, e_inc=None):
    """(showers (n, sum(sizes)) GeV, e_inc (n,) GeV), E_inc log-uniform in ``e_range`` unless given."""
    rng = np.random.default_rng(seed)
    if e_inc is None:
        e_inc = np.exp(rng.uniform(*np.log(e_range), size=n))
    e_inc = np.asarray(e_inc, dtype=np.float64)
    e_dep = SAMPLING * e_inc * np.clip(1 + STOCHASTIC / np.sqrt(e_inc) * rng.normal(size=n), 0.05, None)
    depth = np.log10(e_inc)[:, None] / 2  # 0 .. 1
    mean = np.stack([1.5 - depth[:, 0], 2.0 + 0 * depth[:, 0], 0.5 + depth[:, 0]], axis=1)[:, : len(sizes)]
    fractions = _dirichlet(rng, 30 * mean / mean.sum(1, keepdims=True))
    layers = []
    for i, size in enumerate(sizes):
        profile = np.exp(-np.abs(np.arange(size) - size // 2))
        voxels = _dirichlet(rng, np.broadcast_to(20 * profile / profile.sum(), (n, size)))
        layers.append(voxels * (fractions[:, i] * e_dep)[:, None])
    showers = np.concatenate(layers, axis=1)
    showers[showers < 1e-5] = 0.0
    return showers.astype(np.float32), e_inc.astype(np.float32)


def tiny_caloflow(sizes=SIZES, epochs=30, random_state=0):
    """A CaloFlow small enough to train on the toy in a few seconds."""
    trainer = Trainer(epochs=epochs, batch_size=256, lr=3e-3, patience=None, progress=False)
    flow = Flow(transforms=2, hidden=(32, 32), bins=6, trainer=trainer)
    return CaloFlow(layer_sizes=sizes, flow_i=flow, flow_ii=flow, device="cpu", random_state=random_state)


def _dirichlet(rng, alpha):
    gammas = rng.gamma(alpha)
    return gammas / gammas.sum(axis=1, keepdims=True)
