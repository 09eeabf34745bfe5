"""Device choice and repeatable seeding."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
import torch

from likely._device import resolve_device

__all__ = ["resolve_device", "seeded", "to_tensor", "to_numpy"]


#: torch's RNG is one per process: seeded blocks of different threads (e.g. the jobs of a
#: threaded Dask worker) take turns, or they would draw from each other's streams
_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded(random_state: int | None) -> Iterator[None]:
    """Run the block with torch's global RNG seeded, restoring the RNG afterwards.

    With ``random_state=None`` the block uses (and advances) the global RNG as usual.
    Seeded blocks in different threads of one process run one at a time (the RNG is
    global), so their results do not depend on what the other threads do.
    """
    if random_state is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with _RNG_LOCK, torch.random.fork_rng(devices=devices):
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
