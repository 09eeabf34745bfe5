"""Cost of one normalized-autoencoder step on 40 x 40 jet images, against one plain autoencoder step.

Run by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/nae_cost.py                          # print the table (~10 min on 2 busy cores)
    .venv/bin/python benchmarks/nae_cost.py --write docs/benchmarks.md
    .venv/bin/python benchmarks/nae_cost.py --device cuda --steps 20

The model has seed 003's settings (Tab. 5.1: latent 3 on the sphere, both Langevin chains of
30 steps with the Metropolis test, batch 128); the images are the bundled QCD jets as
40 x 40 jet images (σ_G = 1 pixel, pTⁿ with n = 0.2 inside the model). Reported, at batch
128: seconds per NAE step (negative sampling + loss + update), its two chains alone, and
one step of the plain autoencoder pre-training (the baseline, same network and batch),
measured in the same run; and the implied time of the seed's 40k NAE steps.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import log, peak_mib, publish, warn_if_busy

from likely.autoencoders import NormalizedAutoencoder
from likely.autoencoders.langevin import langevin_chain, to_sphere, uniform_on_sphere
from likely.data import jet_images
from likely.data.samples import load_bundled_jets
from likely.nn import Trainer, to_tensor

SECTION = "Normalized autoencoder: cost of one step (benchmarks/nae_cost.py)"
SEED_STEPS = 40_000


def fit_seconds(model: NormalizedAutoencoder, images) -> float:
    start = time.perf_counter()
    model.fit(images)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3, help="NAE steps timed (default: 3)")
    parser.add_argument("--batch", type=int, default=128, help="batch of the NAE and pre-training steps (default: 128)")
    parser.add_argument("--device", default="cpu", help="'cpu', 'cuda', ... (default: cpu)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads on the CPU (default: 2)")
    parser.add_argument("--write", metavar="MARKDOWN", help="write the section into this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warn_if_busy()

    images = jet_images(load_bundled_jets("qcd"), pixels=40, sigma=1.0)[:8 * args.batch]
    trainer = Trainer(epochs=1, batch_size=args.batch, val_fraction=0.0, schedule="constant", progress=False)
    settings = dict(power=0.2, trainer=trainer, batch_size=args.batch, progress=False, device=args.device,
                    random_state=0)
    log(f"pre-training only: {len(images) // args.batch} steps of batch {args.batch}")
    pretraining = fit_seconds(NormalizedAutoencoder(steps=0, **settings), images)
    log(f"pre-training and {args.steps} NAE steps")
    model = NormalizedAutoencoder(steps=args.steps, **settings)
    nae_step = (fit_seconds(model, images) - pretraining) / args.steps
    ae_step = pretraining / (len(images) // args.batch)

    generator = torch.Generator(device=model.device_).manual_seed(1)
    start_z = uniform_on_sphere(args.batch, model.latent, generator=generator, device=model.device_)
    begin = time.perf_counter()
    z, _ = langevin_chain(start_z, model.model_.latent_energy, model.latent_chain, project=to_sphere,
                          generator=generator)
    latent_s = time.perf_counter() - begin
    x0 = to_tensor(model.preprocess(images[:args.batch]), model.device_)
    begin = time.perf_counter()
    langevin_chain(x0, model.model_.energy, model.input_chain, project=lambda v: v.clamp(0, 1), generator=generator)
    input_s = time.perf_counter() - begin

    headers = ["what (batch %d)" % args.batch, "s", "x AE step"]
    rows = [[name, f"{seconds:.3g}", f"{seconds / ae_step:.0f}"] for name, seconds in (
        ("AE pre-training step (baseline)", ae_step),
        (f"latent chain ({model.latent_chain.steps} steps)", latent_s),
        (f"input chain ({model.input_chain.steps} steps)", input_s),
        ("NAE step (both chains, loss, update)", nae_step),
    )]
    setup = (f"{len(images)} bundled QCD jets as 40 x 40 images, NormalizedAutoencoder defaults (Tab. 5.1) with "
             f"power=0.2 on {model.device_}; {args.steps} NAE steps timed")
    footer = (f"The seed's {SEED_STEPS:,} NAE steps would take {SEED_STEPS * nae_step / 3600:.1f} h at this rate; "
              f"peak memory {peak_mib():.0f} MiB.")
    publish(args.write, SECTION, setup, headers, rows, footer)


if __name__ == "__main__":
    main()
