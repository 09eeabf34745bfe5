"""Progress bars that a user can switch off per object or for the whole session."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar", "set_progress_bars"]

_ENABLED = True


def set_progress_bars(enabled: bool) -> None:
    """Switch every progress bar of ``likely`` on or off (the command's ``--quiet`` does this)."""
    global _ENABLED
    _ENABLED = bool(enabled)


def progress_bar(iterable: Any = None, *, enabled: bool = True, **kwargs: Any) -> tqdm:
    """A tqdm bar, shown only if ``enabled`` here and progress bars are on globally."""
    kwargs.setdefault("leave", False)
    return tqdm(iterable, disable=not (enabled and _ENABLED), **kwargs)
