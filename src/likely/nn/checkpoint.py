"""Atomic saving and safe loading of torch checkpoints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from likely._io import atomic_write
from likely._persist import torch_bytes

__all__ = ["save_atomic", "load_safely"]


def save_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` through a temporary file renamed over ``path``.

    A reader never sees a half-written file, and a crash mid-write leaves the previous
    file intact.
    """
    with atomic_write(path) as stream:
        stream.write(torch_bytes(obj))
    return Path(path)


def load_safely(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Any:
    """Load a file written by :func:`save_atomic` with ``weights_only=True`` (no code executed)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return torch.load(path, map_location=map_location, weights_only=True)
