"""Torch plumbing shared by every model: MLPs, the training loop, checkpoints, devices."""

from likely.nn.checkpoint import load_safely, save_atomic
from likely.nn.device import resolve_device, seeded, to_numpy, to_tensor
from likely.nn.mlp import MLP
from likely.nn.trainer import History, Trainer

__all__ = [
    "MLP",
    "History",
    "Trainer",
    "load_safely",
    "resolve_device",
    "save_atomic",
    "seeded",
    "to_numpy",
    "to_tensor",
]
