"""Device choice and repeatable seeding."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

from likely._device import resolve_device

__all__ = ["resolve_device", "seeded", "to_tensor", "to_numpy"]


@contextlib.contextmanager
def seeded(random_state: int | None) -> Iterator[None]:
    """Run the block with torch's global RNG seeded, restoring the RNG afterwards.

    With ``random_state=None`` the block uses (and advances) the global RNG as usual.
    """
    if random_state is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(random_state))
        yield


def to_tensor(array: np.ndarray | None, device: torch.device) -> torch.Tensor | None:
    """NumPy float32 array -> tensor on ``device`` (None passes through)."""
    if array is None:
        return None
    return torch.as_tensor(array, dtype=torch.float32).to(device)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Tensor -> float32 NumPy array on the CPU."""
    return tensor.detach().to("cpu", torch.float32).numpy()
