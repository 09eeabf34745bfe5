"""Small samples shipped with the package, so the main job runs with no generation step.

``dijet_background.h5`` and ``dijet_signal.h5`` were made by ``likely generate dijet``
with the default settings (QCD with pTHatMin 700 GeV; W′ 3.5 TeV → X 500 GeV, Y 100 GeV);
the JSON beside each records seeds, settings and cross-sections.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from likely.data.events import EventSet
from likely.data.lhco import DEFAULT_FEATURES, read_lhco

__all__ = ["bundled_dijet_paths", "load_bundled_dijets"]


def bundled_dijet_paths() -> tuple[Path, Path]:
    """Paths of the bundled background and signal LHCO features files."""
    folder = resources.files(__name__)
    return Path(str(folder / "dijet_background.h5")), Path(str(folder / "dijet_signal.h5"))


def load_bundled_dijets(features=DEFAULT_FEATURES) -> tuple[EventSet, EventSet]:
    """The bundled (background, signal) events with the given derived features."""
    background, signal = bundled_dijet_paths()
    return read_lhco(background, features=features), read_lhco(signal, features=features)
