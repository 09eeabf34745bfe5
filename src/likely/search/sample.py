"""Signal injection and the standard splits of a resonant-search study."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from likely._checks import check_fraction, check_positive
from likely.data import EventSet
from likely.search.windows import Window

__all__ = ["SearchSample", "make_search_sample"]


@dataclass
class SearchSample:
    """What a signal-injection study needs.

    Attributes
    ----------
    data : EventSet
        The "observed" data: background plus the injected signal, over the full
        ``mjj`` range; its labels are truth, used only for evaluation and by ``Supervised``.
    extra_background : EventSet
        An independent background sample (the idealized detector's perfect reference).
    test : EventSet
        Held-out background and signal in the signal region, for ROC/SIC curves.
    signal : EventSet
        Held-out signal (not injected, not in ``test``), for the supervised bound.
    """

    data: EventSet
    extra_background: EventSet
    test: EventSet
    signal: EventSet

    def summary(self, window: Window) -> dict:
        """Counts in the signal region: S, B, S/B and S/sqrt(B) of ``data``."""
        sr = self.data[window.in_sr(self.data)]
        n_signal = int(sr.label.sum())
        n_background = len(sr) - n_signal
        return {
            "signal_in_sr": n_signal,
            "background_in_sr": n_background,
            "s_over_b": n_signal / max(n_background, 1),
            "significance": n_signal / np.sqrt(max(n_background, 1)),
        }


def make_search_sample(
    background: EventSet,
    signal: EventSet,
    n_signal: int,
    *,
    extra_fraction: float = 0.3,
    test_fraction: float = 0.2,
    signal_test_fraction: float = 0.5,
    window: Window | None = None,
    random_state: int | None = None,
) -> SearchSample:
    """Split background and signal into injected data, extra background and test sets.

    Parameters
    ----------
    background, signal : EventSet
        Pure samples (labels are set to 0 and 1 here).
    n_signal : int
        Signal events injected into the data (over all ``mjj``); 0 gives a no-signal
        control run.
    extra_fraction : float
        Fraction of the background set aside as ``extra_background``.
    test_fraction : float
        Fraction of the background set aside (signal-region events only) for ``test``.
    signal_test_fraction : float
        Fraction of the non-injected signal used in ``test``; the rest is ``signal``.
    window : Window
        Restricts ``test`` to the signal region (default: ``Window()``).
    """
    check_positive(n_signal, "n_signal", integer=True, allow_zero=True)
    check_fraction(extra_fraction, "extra_fraction")
    check_fraction(test_fraction, "test_fraction")
    check_fraction(signal_test_fraction, "signal_test_fraction", allow_zero=False)
    if extra_fraction + test_fraction >= 1:
        raise ValueError("extra_fraction + test_fraction must leave background for the data")
    window = window or Window()
    rng = np.random.default_rng(random_state)
    background = background.with_label(0).shuffle(rng)
    signal = signal.with_label(1).shuffle(rng)
    if n_signal >= len(signal):
        raise ValueError(f"n_signal={n_signal} leaves no signal for testing ({len(signal)} signal events given)")

    n_extra = int(extra_fraction * len(background))
    n_test = int(test_fraction * len(background))
    extra, test_background, data_background = (
        background[:n_extra], background[n_extra : n_extra + n_test], background[n_extra + n_test :]
    )
    injected, rest = signal[:n_signal], signal[n_signal:]
    n_signal_test = int(signal_test_fraction * len(rest))
    test = EventSet.concat([test_background, rest[:n_signal_test]])
    return SearchSample(
        data=EventSet.concat([data_background, injected]).shuffle(rng),
        extra_background=extra,
        test=test[window.in_sr(test)],
        signal=rest[n_signal_test:],
    )
