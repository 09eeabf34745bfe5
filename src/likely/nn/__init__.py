"""Torch plumbing shared by every model: MLPs, the training loop, checkpoints, devices."""

from likely.nn.checkpoint import load_safely, save_atomic
from likely.nn.device import resolve_device, seeded, to_numpy, to_tensor
from likely.nn.mlp import MLP
from likely.nn.progress import batch_slices, progress_bar, set_progress_bars
from likely.nn.trainer import History, Trainer

__all__ = [
    "MLP",
    "History",
    "Trainer",
    "batch_slices",
    "load_safely",
    "progress_bar",
    "resolve_device",
    "save_atomic",
    "seeded",
    "set_progress_bars",
    "to_numpy",
    "to_tensor",
]
