"""Figure creation and saving shared by every plot."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the library never opens windows; notebooks pick their own backend

import matplotlib.pyplot as plt  # noqa: E402
import mplhep  # noqa: E402

from likely._io import atomic_write  # noqa: E402

__all__ = ["figure", "save_figure", "styled"]

# mplhep's styles name fonts that minimal machines lack; matplotlib's fallback is fine
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def styled(plot_function):
    """Decorator: draw the whole figure in mplhep's ROOT style."""

    @functools.wraps(plot_function)
    def wrapper(*args, **kwargs):
        with plt.style.context(mplhep.style.ROOT):
            return plot_function(*args, **kwargs)

    return wrapper


def figure(ncols: int = 1, nrows: int = 1, width: float = 7.0, height: float = 6.0):
    """A figure with an (nrows, ncols) grid of axes, ``width`` x ``height`` inches each."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                        constrained_layout=True)


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Save ``fig`` atomically (temporary file, then rename) and close it."""
    path = Path(path)
    try:
        with atomic_write(path) as stream:
            fig.savefig(stream, format=path.suffix.lstrip(".") or "png", bbox_inches="tight", dpi=120)
    finally:
        plt.close(fig)
    return path
