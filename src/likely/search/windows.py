"""Signal regions and sidebands in the resonant variable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from likely.data import EventSet

__all__ = ["Window"]


@dataclass(frozen=True)
class Window:
    """A signal region (SR) ``[low, high)`` in ``variable`` and the sidebands (SB) around it.

    Parameters
    ----------
    low, high : float
        SR edges, in the units of ``variable`` (TeV for ``mjj``). Default: CATHODE's
        3.3-3.7 TeV.
    sideband_width : float or None
        Each sideband's width; None uses every event outside the SR.
    variable : str
        The resonant (conditioning) column.
    """

    low: float = 3.3
    high: float = 3.7
    sideband_width: float | None = None
    variable: str = "mjj"

    def __post_init__(self) -> None:
        if not np.isfinite([self.low, self.high]).all() or self.low >= self.high:
            raise ValueError(f"the signal region needs low < high; got [{self.low}, {self.high})")
        if self.sideband_width is not None and not self.sideband_width > 0:
            raise ValueError(f"sideband_width must be > 0 or None; got {self.sideband_width}")

    def in_sr(self, events: EventSet) -> np.ndarray:
        """Boolean mask (N,) of events in the signal region."""
        m = events.column(self.variable)
        return (m >= self.low) & (m < self.high)

    def in_sb(self, events: EventSet) -> np.ndarray:
        """Boolean mask (N,) of events in the sidebands."""
        m = events.column(self.variable)
        outside = (m < self.low) | (m >= self.high)
        if self.sideband_width is None:
            return outside
        return outside & (m >= self.low - self.sideband_width) & (m < self.high + self.sideband_width)

    def signal_region(self, events: EventSet, what: str = "events") -> EventSet:
        """The SR events; raises a clear error if there are none."""
        return _non_empty(events[self.in_sr(events)], f"no {what} in the signal region {self}")

    def sidebands(self, events: EventSet, what: str = "events") -> EventSet:
        """The SB events; raises a clear error if there are none."""
        return _non_empty(events[self.in_sb(events)], f"no {what} in the sidebands of {self}")

    def __str__(self) -> str:
        return f"{self.low:g} <= {self.variable} < {self.high:g}"


def _non_empty(events: EventSet, message: str) -> EventSet:
    if len(events) == 0:
        raise ValueError(message)
    return events
