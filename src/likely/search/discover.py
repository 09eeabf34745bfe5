"""From anomaly scores to a p-value on unlabelled data: cut, fit, significance, look-elsewhere.

The analysis of CWoLa hunting (Collins, Howe, Nachman 2018), for any method that keeps
out-of-fold scores of the data it trained on (``data_scores_``):

1. for each signal region of a sliding scan, fit the method on the unlabelled events of
   the fit range (``edges[0] <= mjj < edges[-1]``; for CWoLa: the signal region against
   the rest of the fit range) and take every event's out-of-fold score. Every event of
   the fit range is then scored by a model that did not see it, and all by the same kind
   of model: a mix of out-of-fold scores and fold-averaged ones (whose spread is smaller)
   would put a step in the cut's efficiency at the sideband edges;
2. for each efficiency ``eps``, keep the ``eps`` highest-scoring events of the fit range;
3. fit the dijet function (:func:`likely.stats.choose_dijet_fit`) to the kept events' mjj
   spectrum with the signal-region bins masked; the fit predicts the background ``b ± σ``
   in the signal region, where ``n`` events are observed;
4. the local p-value of ``n`` given ``b ± σ`` (:func:`likely.stats.excess_pvalue`);
5. the global p-value of the smallest local one over all windows and cuts, from
   background-only pseudo-experiments of the whole set of tests.

The pseudo-experiments assume what a search that does not sculpt the background
guarantees: without signal, the cut keeps events independently of mjj up to a smooth
efficiency. Each draws a background-only spectrum from a dijet fit to the uncut data,
thins it bin by bin with the smooth efficiencies of the nested cuts (each window's cut
drawn anew: the windows' classifiers differ), refits every (window, cut) as on the data
and keeps the smallest local p-value. The assumption is tested, not trusted: on
signal-free data the local p-values must be uniform (docs/search.md, "From scores to a
p-value").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from likely.data import EventSet
from likely.nn import progress_bar
from likely.search.decorrelation import Decorrelator
from likely.search.methods import CWoLa, ResonantMethod
from likely.search.windows import Window
from likely.stats import (
    choose_dijet_fit, excess_pvalue, fit_dijet, global_pvalue, gross_vitells, p_to_z, upcrossings, z_to_p,
)

__all__ = [
    "DEFAULT_EFFICIENCIES", "Discovery", "WindowTest", "check_windows", "discover", "hunt", "sliding_windows",
]

log = logging.getLogger(__name__)

#: fractions of the events kept by the cuts (CWoLa hunting's 10 %, 1 %, 0.1 %)
DEFAULT_EFFICIENCIES = (0.1, 0.01, 0.001)
#: significance level of the Gross–Vitells upcrossings
_GV_LEVEL = 0.5


@dataclass(frozen=True)
class WindowTest:
    """The bump hunt of one window at one cut.

    Attributes
    ----------
    window : Window
    efficiency : float
        Fraction of the fit range's events kept.
    counts, expected : ndarray (B,)
        Kept events per bin, and the background fit's expectation (signal-region bins
        included: there it is the prediction).
    sr_bins : ndarray (B,) bool
        The bins of the signal region (masked in the fit).
    observed, background, background_error : float
        Events in the signal region, and the fit's prediction with its 1σ uncertainty.
    p_local, z_local : float
        NaN where the kept spectrum could not be fitted (``failure`` says why); such tests
        count in neither the best test nor the pseudo-experiments.
    n_params, chi2, ndof : fit quality (number of dijet parameters chosen, Poisson deviance)
    failure : str
        Empty, or why the fit failed (e.g. too few kept events in the sidebands).
    """

    window: Window
    efficiency: float
    counts: np.ndarray
    expected: np.ndarray
    sr_bins: np.ndarray
    observed: float
    background: float
    background_error: float
    p_local: float
    z_local: float
    n_params: int
    chi2: float
    ndof: int
    failure: str = ""

    @property
    def tested(self) -> bool:
        return not self.failure

    def summary(self) -> dict:
        """The numbers as JSON-able data (None for those of a failed fit)."""
        numbers = {"observed": self.observed, "background": self.background,
                   "background_error": self.background_error, "p_local": self.p_local, "z_local": self.z_local,
                   "n_params": self.n_params, "chi2": self.chi2, "ndof": self.ndof}
        if not self.tested:
            numbers = {key: (value if key == "observed" else None) for key, value in numbers.items()}
        return {"sr": [self.window.low, self.window.high], "efficiency": self.efficiency, **numbers,
                "failure": self.failure or None}


@dataclass
class Discovery:
    """All bump hunts of a search and their look-elsewhere correction.

    ``tests[i][j]``: window ``i`` at efficiency ``j``. ``null_z`` (n, C, W): the local
    significance of every cut ``C`` and window ``W`` in each of ``n`` background-only
    pseudo-experiments (-inf where the test was not made). ``scores[i]``: the out-of-fold
    scores of window ``i`` (N,), for the selected events' plots.
    """

    edges: np.ndarray
    efficiencies: tuple[float, ...]
    tests: list[list[WindowTest]]
    null_z: np.ndarray = field(repr=False)
    scores: list[np.ndarray] = field(repr=False, default_factory=list)

    @property
    def null_min_p(self) -> np.ndarray:
        """The smallest local p-value of each pseudo-experiment (n,)."""
        return _z_to_min_p(self.null_z)

    @property
    def gv_upcrossings(self) -> float:
        """Mean upcrossings of Z = 0.5 in the pseudo-experiments, along the windows of each width
        (ordered by position), summed over widths and cuts."""
        return float(sum(upcrossings(self.null_z[..., scan], _GV_LEVEL).sum(axis=-1).mean() for scan in self.scans))

    @property
    def scans(self) -> list[list[int]]:
        """Indices of the windows grouped by width, each group ordered by position: one scan per width."""
        windows = [row[0].window for row in self.tests]
        widths = sorted({_width(w) for w in windows})
        return [sorted((i for i, w in enumerate(windows) if _width(w) == width), key=lambda i: windows[i].low)
                for width in widths]

    @property
    def best(self) -> WindowTest:
        """The test with the smallest local p-value."""
        tested = [t for row in self.tests for t in row if t.tested]
        if not tested:
            raise ValueError("no window and cut could be fitted: use larger efficiencies or more data")
        return min(tested, key=lambda t: t.p_local)

    @property
    def p_global(self) -> float:
        """From the pseudo-experiments (bounded below by 1 / (1 + their number))."""
        return global_pvalue(self.best.p_local, self.null_min_p)

    @property
    def p_global_gv(self) -> float:
        """Gross–Vitells extrapolation, for global p-values below what the pseudo-experiments resolve."""
        return gross_vitells(self.best.z_local, self.gv_upcrossings, _GV_LEVEL)

    def summary(self) -> dict:
        best = self.best
        return {
            "edges": self.edges.tolist(), "efficiencies": list(self.efficiencies),
            "best": best.summary(),
            "p_global": self.p_global, "z_global": float(p_to_z(self.p_global)),
            "p_global_gross_vitells": self.p_global_gv, "z_global_gross_vitells": float(p_to_z(self.p_global_gv)),
            "pseudo_experiments": int(self.null_min_p.size),
            "tests": [t.summary() for row in self.tests for t in row],
        }


def hunt(mjj: np.ndarray, scores: np.ndarray, window: Window, edges: np.ndarray,
         efficiencies: Sequence[float] = DEFAULT_EFFICIENCIES) -> list[WindowTest]:
    """The bump hunt of one window: cut ``scores`` (N,) at each efficiency, fit, p-value.

    ``mjj`` (N,) in the units of ``edges`` (TeV). The cut keeps the given fraction of the
    events in the fit range ``[edges[0], edges[-1])``.
    """
    in_range = (mjj >= edges[0]) & (mjj < edges[-1])
    sr_bins = _sr_bins(edges, window)
    tests = []
    for efficiency in efficiencies:
        cut = np.quantile(scores[in_range], 1 - efficiency)
        counts = np.histogram(mjj[in_range & (scores >= cut)], edges)[0].astype(np.float64)
        try:
            fit = _falling(choose_dijet_fit(counts, edges, mask=sr_bins), sr_bins)
        except ValueError as error:
            log.warning("window %s at efficiency %g not tested: %s", window, efficiency, error)
            tests.append(_untested(window, efficiency, counts, sr_bins, str(error)))
            continue
        tests.append(_test(window, efficiency, counts, sr_bins, fit))
    return tests


def _falling(fit, sr_bins: np.ndarray):
    """``fit`` if its density falls from the signal region's first bin to the end of the range.

    A sparse kept spectrum can be fitted by a dijet function with a peak in the masked
    signal region; such a fit predicts a bump, not a background. Below the signal region
    the fit may rise (a turn-on, or a cut that keeps more events at higher mjj).
    """
    density = (fit.expected() / np.diff(fit.edges))[np.argmax(sr_bins):]
    if np.any(np.diff(density) > 1e-9 * density[:-1]):
        raise ValueError("the fit peaks in or above the signal region (too few kept events to fit)")
    return fit


def _untested(window, efficiency, counts, sr_bins, why: str) -> WindowTest:
    nan = float("nan")
    return WindowTest(window, efficiency, counts, np.full(len(counts), nan), sr_bins, float(counts[sr_bins].sum()),
                      nan, nan, nan, nan, 0, nan, 0, failure=why)


def _test(window, efficiency, counts, sr_bins, fit) -> WindowTest:
    observed, background, error, p = _signal_region_test(counts, sr_bins, fit)
    return WindowTest(window, efficiency, counts, fit.expected(), sr_bins, observed, background, error, p,
                      float(p_to_z(p)), fit.n_params, fit.chi2, fit.ndof)


def _signal_region_test(counts, sr_bins, fit) -> tuple[float, float, float, float]:
    """Observed events in the signal region, the fit's background there ± its error, and the local p-value."""
    background, error = fit.predict(sr_bins)
    observed = float(counts[sr_bins].sum())
    return observed, background, error, float(excess_pvalue(observed, max(background, 1e-9), error))


def discover(events: EventSet, windows: Sequence[Window], edges, *, method: ResonantMethod | None = None,
             efficiencies: Sequence[float] = DEFAULT_EFFICIENCIES, n_pseudo: int = 200,
             decorrelator: Decorrelator | None = None, decorrelate_on: str = "fit range",
             random_state: int | None = 0, progress: bool = True, callback: Callable[[int, ResonantMethod], None] | None = None) -> Discovery:
    """Search unlabelled ``events`` for a resonance in each of ``windows``.

    Parameters
    ----------
    events : EventSet
        The data; labels, if any, are ignored.
    windows : sequence of Window
        Signal regions, each inside ``edges`` with its edges on bin edges, and without
        ``sideband_width``: the sidebands are the rest of the fit range.
    edges : array (B + 1,)
        Binning of the resonant variable for the fits (TeV for mjj); the fit range.
    method : ResonantMethod with ``n_folds``, default ``CWoLa(n_folds=5)``
        Cloned and fitted per window; its ``data_scores_`` are cut on.
    efficiencies : sequence of float in (0, 1)
    n_pseudo : int
        Background-only pseudo-experiments of the look-elsewhere correction (>= 1).
    decorrelator : Decorrelator or None
        If given, maps the method's features to ``z = f⁻¹(x | mjj)``, independent of mjj on
        background, out of fold (:meth:`Decorrelator.cross_transform`, 2 folds: each event
        mapped by a flow that never saw it); the methods then train on ``z``. For features
        that depend on mjj (jet masses), whose cut would otherwise sculpt a bump.
    decorrelate_on : {"fit range", "sidebands"}
        What the decorrelating flows are fitted on. ``"fit range"`` (default): all events,
        once for all windows (2 flows); the null is calibrated, but the flows see the signal
        regions too and learn part of a signal where the background is sparse (heavy jet
        masses). ``"sidebands"``: each window's sidebands (2 flows per window), interpolated
        into its signal region: no flow sees the window it tests, so more of such a signal is
        kept, but the interpolation sculpts signal-free data (local p-values too small:
        docs/search.md, "Why decorrelate").
    random_state : int or None
        Seeds the methods and the pseudo-experiments.
    callback : called as ``callback(i, fitted_method)`` after window ``i`` (e.g. to save it).
    """
    edges = np.asarray(edges, dtype=np.float64)
    efficiencies = _check_efficiencies(efficiencies)
    if not isinstance(n_pseudo, int) or n_pseudo < 1:
        raise ValueError(f"n_pseudo must be an integer >= 1; got {n_pseudo!r}")
    method = method if method is not None else CWoLa(n_folds=5)
    check_windows(windows, edges)
    variable = windows[0].variable
    events = events[(events.column(variable) >= edges[0]) & (events.column(variable) < edges[-1])]
    mjj = events.column(variable).astype(np.float64)
    if decorrelate_on not in ("fit range", "sidebands"):
        raise ValueError(f"decorrelate_on must be 'fit range' or 'sidebands'; got {decorrelate_on!r}")
    once = decorrelator is not None and decorrelate_on == "fit range"
    if once:
        events = _decorrelated(events, mjj, method.features, decorrelator, random_state)
    tests, scores = [], []
    for i, window in enumerate(progress_bar(windows, desc="windows", enabled=progress)):
        inputs = events if decorrelator is None or once else _decorrelated(
            events, mjj, method.features, decorrelator, random_state, trainable=~window.in_sr(events))
        fitted = clone(method).set_params(random_state=random_state).fit(inputs, window)
        if getattr(fitted, "data_scores_", None) is None:
            raise ValueError(f"{type(method).__name__} keeps no out-of-fold scores: give it n_folds")
        scores.append(fitted.data_scores_)
        tests.append(hunt(mjj, fitted.data_scores_, window, edges, efficiencies))
        if callback is not None:
            callback(i, fitted)
        log.info("window %s: smallest local p %.3g", window, min(t.p_local for t in tests[-1]))
    uncut = np.histogram(mjj, edges)[0].astype(np.float64)
    _, null_z = pseudo_experiments(uncut, edges, tests, n_pseudo, np.random.default_rng(random_state),
                                   progress=progress)
    return Discovery(edges, efficiencies, tests, null_z, scores)


def _decorrelated(events: EventSet, mjj: np.ndarray, features: Sequence[str], decorrelator: Decorrelator,
                  random_state: int | None, trainable: np.ndarray | None = None) -> EventSet:
    """``events`` with ``features`` replaced by their out-of-fold decorrelation from ``mjj`` (N,),
    the flows fitted on the ``trainable`` rows (default all)."""
    features = list(features)
    log.info("decorrelating %s from mjj (2 folds)", features)
    z = clone(decorrelator).set_params(random_state=random_state).cross_transform(events.array(features), mjj,
                                                                                  trainable=trainable)
    return events.with_columns(**{name: z[:, i] for i, name in enumerate(features)})


def pseudo_experiments(uncut: np.ndarray, edges: np.ndarray, tests: list[list[WindowTest]], n: int,
                       rng: np.random.Generator, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Smallest local p-value (n,) and local significances (n, C, W) of background-only repetitions.

    See the module docstring for the model; each (window, cut) is refitted with the
    number of parameters its data fit chose.
    """
    background = choose_dijet_fit(uncut, edges).expected()
    n_windows, n_cuts = len(tests), len(tests[0])
    z = np.full((n, n_cuts, n_windows), -np.inf)  # -inf: a test that failed on the data
    for k in progress_bar(range(n), desc="pseudo-experiments", enabled=progress):
        spectrum = rng.poisson(background)
        for i, row in enumerate(tests):
            kept, previous = spectrum, background
            for j, test in enumerate(row):
                if not test.tested:  # the tighter cuts of this window failed too, or will be skipped
                    continue
                kept = rng.binomial(kept, np.clip(test.expected / previous, 0.0, 1.0))
                previous = test.expected
                z[k, j, i] = _refit_z(kept.astype(np.float64), edges, test)
    return _z_to_min_p(z), z


def _refit_z(counts, edges, test: WindowTest) -> float:
    try:
        fit = _falling(fit_dijet(counts, edges, mask=test.sr_bins, n_params=test.n_params), test.sr_bins)
    except ValueError:  # a pseudo-spectrum too sparse to fit: no excess claimed, as on data
        return -np.inf
    return float(p_to_z(_signal_region_test(counts, test.sr_bins, fit)[3]))


def _z_to_min_p(z: np.ndarray) -> np.ndarray:
    return z_to_p(z.reshape(len(z), -1).max(axis=1))


def sliding_windows(first: float, last: float, width: float, step: float) -> list[Window]:
    """Signal regions ``[low, low + width)`` for ``low = first, first + step, ...`` up to ``last``."""
    if not (width > 0 and step > 0 and first + width <= last + 1e-9):
        raise ValueError("sliding windows need width > 0, step > 0 and first + width <= last (--windows FIRST "
                         f"LAST WIDTH STEP); got {first} {last} {width} {step}")
    count = int(np.floor((last - width - first) / step + 1e-9)) + 1
    return [Window(round(first + k * step, 6), round(first + k * step + width, 6)) for k in range(count)]


def _width(window: Window) -> float:
    return round(window.high - window.low, 6)


def check_windows(windows: Sequence[Window], edges: np.ndarray) -> None:
    """Raise ``ValueError`` unless every window can be hunted with bins ``edges`` (before any training)."""
    if not windows:
        raise ValueError("windows is empty: give at least one signal region")
    if len(set(windows)) < len(windows):
        raise ValueError(f"windows holds the same signal region twice: {list(windows)}")
    for window in windows:
        _sr_bins(np.asarray(edges, dtype=np.float64), window)


def _sr_bins(edges: np.ndarray, window: Window) -> np.ndarray:
    """Bins (B,) bool whose centre lies in the signal region; raises if there are none or no sidebands."""
    if window.sideband_width is not None:
        raise ValueError(f"window {window} has sideband_width={window.sideband_width}: a discovery's sidebands "
                         "are the rest of the fit range (edges); give windows without it")
    centres = (edges[1:] + edges[:-1]) / 2
    sr = (centres >= window.low) & (centres < window.high)
    if not sr.any():
        raise ValueError(f"signal region {window} holds no bin of edges [{edges[0]}, {edges[-1]}]")
    if sr.all() or not (np.isclose(edges, window.low).any() and np.isclose(edges, window.high).any()):
        raise ValueError(f"signal region {window} must lie inside the fit range with its edges on bin edges")
    return sr


def _check_efficiencies(values) -> tuple[float, ...]:
    values = tuple(float(v) for v in values)
    if not values or any(not 0 < v < 1 for v in values) or list(values) != sorted(values, reverse=True):
        raise ValueError(f"efficiencies must be decreasing fractions in (0, 1); got {values}")
    return values
