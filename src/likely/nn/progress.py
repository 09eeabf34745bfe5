"""Progress bars that a user can switch off per object or for the whole session."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

__all__ = ["batch_slices", "progress_bar", "set_progress_bars"]

_ENABLED = True


def set_progress_bars(enabled: bool) -> None:
    """Switch every progress bar of ``likely`` on or off (the command's ``--quiet`` does this)."""
    global _ENABLED
    _ENABLED = bool(enabled)


def progress_bar(iterable: Any = None, *, enabled: bool = True, **kwargs: Any) -> tqdm:
    """A tqdm bar, shown only if ``enabled`` here and progress bars are on globally."""
    kwargs.setdefault("leave", False)
    return tqdm(iterable, disable=not (enabled and _ENABLED), **kwargs)


def batch_slices(n_rows: int, size: int, *, desc: str = "batches", enabled: bool = False):
    """``(start, stop)`` of consecutive batches of at most ``size`` rows out of ``n_rows``.

    A progress bar (``desc``) is shown when ``enabled`` and there is more than one batch.

    >>> list(batch_slices(5, 2))
    [(0, 2), (2, 4), (4, 5)]
    """
    starts = range(0, n_rows, size)
    for start in progress_bar(starts, desc=desc, enabled=enabled and len(starts) > 1):
        yield start, min(start + size, n_rows)
