"""The one device rule: ``"auto"`` means a GPU when there is one; anything else is validated."""

from __future__ import annotations

import torch

from likely._checks import check_choice

__all__ = ["resolve_device"]


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
