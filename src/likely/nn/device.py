"""Device choice and repeatable seeding."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

from likely._checks import check_choice

__all__ = ["resolve_device", "seeded", "to_tensor", "to_numpy"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"`` into CUDA when a GPU is present (else CPU); validate anything else."""
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda:0'; got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"device {device!r} is not a valid torch device") from error
    check_choice(resolved.type, "device", ("cpu", "cuda", "mps"))
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested, but no CUDA GPU is available")
    return resolved


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
