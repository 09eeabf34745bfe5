"""Metrics: analytic Gaussian cases, the background-statistics floor, bands, bootstrap, errors."""

import functools

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_curve as sk_roc_curve

from likely.metrics import (
    auc, background_efficiency_at_signal_efficiency, band, bootstrap, max_sic, mmd, rejection_at_signal_efficiency, roc_curve,
    sic_at_background_efficiency, sic_curve,
)


def _gaussians(n, d, seed=0):
    """n background events ~ N(0, 1) (label 0) and n signal events ~ N(d, 1) (label 1)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n)
    return y, np.concatenate([rng.normal(0.0, 1.0, n), rng.normal(d, 1.0, n)])


@pytest.fixture(scope="module")
def gaussians():
    return _gaussians(200_000, 1.0)


def _ladder(n_background=100, n_signal=10):
    """Distinct scores: background 0..99, signal 100..109 (perfectly separated)."""
    y = np.repeat([0, 1], [n_background, n_signal])
    return y, np.arange(n_background + n_signal, dtype=float)


# ---------------------------------------------------------------- ROC and AUC

def test_roc_curve_keeps_every_threshold_and_matches_sklearn(rng):
    y = rng.integers(0, 2, 500)
    score = rng.normal(size=500) + y
    fpr, tpr, thresholds = roc_curve(y, score)
    assert thresholds.shape == (np.unique(score).size + 1,)
    expected = sk_roc_curve(y, score, drop_intermediate=False)
    for got, want in zip((fpr, tpr, thresholds), expected):
        np.testing.assert_array_equal(got, want)


def test_auc_perfect_separation_and_inverted():
    y, score = _ladder()
    assert auc(y, score) == 1.0
    assert auc(y, -score) == 0.0


def test_auc_random_scores_is_one_half(rng):
    # sd of the AUC for 10k + 10k events is ~0.004; tolerance 0.02 is 5 sd
    y = np.repeat([0, 1], 10_000)
    assert abs(auc(y, rng.uniform(size=y.size)) - 0.5) < 0.02


def test_auc_of_two_gaussians_is_phi_of_d_over_sqrt2(gaussians):
    # AUC = P(s > b) with s - b ~ N(d, 2); sd of the estimate ~0.001
    assert auc(*gaussians) == pytest.approx(norm.cdf(1.0 / np.sqrt(2)), abs=0.005)


def test_auc_sample_weight_equals_repeating_events(rng):
    y = np.array([0, 0, 1, 1, 0, 1])
    score = rng.normal(size=6)
    weights = np.array([1, 3, 2, 1, 2, 1])
    repeated = np.repeat(np.arange(6), weights)
    assert auc(y, score, sample_weight=weights) == pytest.approx(auc(y[repeated], score[repeated]))


# ---------------------------------------------------------------- SIC

@pytest.mark.parametrize("threshold", [0.5, 1.0, 1.5, 2.0])
def test_sic_matches_analytic_gaussian_cut(gaussians, threshold):
    # a cut score >= t keeps eps_S = sf(t - 1) and eps_B = sf(t); at t = 2 about 4.5k
    # background events pass, so eps_B is known to 1.5% and SIC to < 1%
    eps_s, eps_b = norm.sf(threshold - 1.0), norm.sf(threshold)
    expected = eps_s / np.sqrt(eps_b)
    tpr, sic = sic_curve(*gaussians)
    assert np.interp(eps_s, tpr, sic) == pytest.approx(expected, rel=0.03)
    assert sic_at_background_efficiency(*gaussians, eps_b) == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("floor, kept", [(0, 100), (1, 100), (25, 76), (26, 75), (100, 1)])
def test_background_floor_removes_exactly_the_sparse_points(floor, kept):
    # cuts at the background scores k = 99..0 are passed by 100 - k background events
    y, score = _ladder()
    tpr, sic = sic_curve(y, score, min_background=floor)
    assert tpr.shape == sic.shape == (kept,)
    np.testing.assert_array_equal(tpr, 1.0)
    fpr = (tpr / sic) ** 2
    np.testing.assert_allclose(np.sort(fpr), np.arange(101 - kept, 101) / 100)


def test_background_floor_counts_unweighted_events(rng):
    y, score = _ladder()
    weights = rng.uniform(0.1, 10.0, size=y.size)
    tpr, _ = sic_curve(y, score, min_background=25, sample_weight=weights)
    assert tpr.shape == (76,)


@pytest.mark.parametrize("floor", [0, 10, 50])
def test_max_sic_matches_brute_force_over_cuts(floor):
    y, score = _gaussians(300, 1.5, seed=5)
    background, signal = score[y == 0], score[y == 1]
    best = max(
        np.mean(signal >= t) / np.sqrt(np.mean(background >= t))
        for t in score
        if np.sum(background >= t) >= max(floor, 1)
    )
    assert max_sic(y, score, min_background=floor) == pytest.approx(best)


def test_floor_removes_the_low_statistics_spike():
    # well-separated classes: the few highest background events give SIC ~ 10 that
    # the floor removes; with >= 50 events the cut is near t = 2 and SIC ~ 5.4
    y, score = _gaussians(2000, 3.0)
    assert max_sic(y, score, min_background=0) > 8.0
    assert max_sic(y, score, min_background=50) == pytest.approx(
        norm.sf(2.0 - 3.0) / np.sqrt(norm.sf(2.0)), rel=0.1)


def test_max_sic_raises_when_no_point_survives_the_floor():
    y, score = _ladder(n_background=10)
    with pytest.raises(ValueError, match="min_background=25"):
        max_sic(y, score)


def test_sic_at_background_efficiency_refuses_eps_below_floor():
    y, score = _gaussians(1000, 1.0)
    with pytest.raises(ValueError, match="eps_b"):
        sic_at_background_efficiency(y, score, 1e-3)  # 1 expected event < 25
    assert np.isfinite(sic_at_background_efficiency(y, score, 1e-3, min_background=1))


def test_sic_at_background_efficiency_takes_the_best_cut_at_tied_fpr():
    # all signal is above all background: at eps_B -> 0 the cut keeps eps_S = 1
    y, score = _ladder()
    assert sic_at_background_efficiency(y, score, 0.005, min_background=0) == pytest.approx(
        1 / np.sqrt(0.005))


# ---------------------------------------------------------------- rejection

@pytest.mark.parametrize("eps_s", [0.3, 0.5, 0.8])
def test_rejection_matches_analytic_gaussian(gaussians, eps_s):
    threshold = 1.0 + norm.isf(eps_s)  # eps_S = sf(t - d)
    expected = 1.0 / norm.sf(threshold)
    assert rejection_at_signal_efficiency(*gaussians, eps_s) == pytest.approx(expected, rel=0.02)


def test_rejection_is_infinite_without_background():
    assert rejection_at_signal_efficiency(*_ladder(), 0.5) == np.inf
    # ranked signal, background, background, signal: eps_S = 0.5 is reached with eps_B = 0
    assert rejection_at_signal_efficiency([1, 0, 0, 1], [4, 3, 2, 1], 0.5) == np.inf
    assert rejection_at_signal_efficiency([1, 0, 0, 1], [4, 3, 2, 1], 0.75) == 2.0  # eps_B = 0.5


@pytest.mark.parametrize("eps_s", [0.2, 0.4, 0.8])
def test_background_efficiency_matches_analytic_gaussian(gaussians, eps_s):
    expected = norm.sf(1.0 + norm.isf(eps_s))
    assert background_efficiency_at_signal_efficiency(*gaussians, eps_s) == pytest.approx(expected, rel=0.03)


def test_background_efficiency_interpolates_the_roc_curve():
    # signal, background, signal, background: eps_S 0.5 at eps_B 0, eps_S 1 at eps_B 0.5
    assert background_efficiency_at_signal_efficiency([1, 0, 1, 0], [4, 3, 2, 1], 0.75) == 0.25
    with pytest.raises(ValueError, match="eps_s"):
        background_efficiency_at_signal_efficiency([1, 0], [1, 0], 1.5)


# ---------------------------------------------------------------- band

def test_band_of_identical_curves_has_zero_width():
    x = np.linspace(0, 1, 11)
    grid = x[::2]  # on the nodes, so interpolation is exact
    result = band([x] * 4, [x**2] * 4, grid)
    assert result.shape == (3, 6)
    np.testing.assert_allclose(result, np.broadcast_to(grid**2, (3, 6)))


def test_band_quantiles_of_known_curves():
    # runs y = k x for k = 1..5: the q-quantile over runs is (1 + 4 q) x
    x = np.linspace(0, 1, 5)
    grid = np.array([0.1, 0.5, 0.9])
    result = band([x] * 5, [k * x for k in range(1, 6)], grid, quantiles=(0.0, 0.25, 0.5, 1.0))
    np.testing.assert_allclose(result, np.outer([1, 2, 3, 5], grid))


def test_band_ignores_runs_outside_their_range():
    x, short = np.linspace(0, 1, 5), np.linspace(0, 0.5, 5)
    grid = np.array([0.25, 0.75, 2.0])
    xs, ys = [x, x, x, short[::-1]], [x, 2 * x, 3 * x, 100 * short[::-1]]
    median = band(xs, ys, grid, quantiles=(0.5,))[0]
    assert median[0] == pytest.approx(2.5 * 0.25)  # median of {1, 2, 3, 100} x
    assert median[1] == pytest.approx(2.0 * 0.75)  # the short run does not reach 0.75
    assert np.isnan(median[2])


@pytest.mark.parametrize(
    "args, kwargs, name",
    [
        (([], [], [0.5]), {}, "xs"),
        (([[0, 1]], [[0, 1], [0, 1]], [0.5]), {}, "ys"),
        (([[0, 1]], [[0, 1, 2]], [0.5]), {}, r"ys\[0\]"),
        (([[0, np.nan]], [[0, 1]], [0.5]), {}, r"xs\[0\]"),
        (([[0, 1]], [[0, 1]], [0.5]), {"quantiles": (0.5, 1.5)}, "quantiles"),
    ],
)
def test_band_rejects_bad_input(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        band(*args, **kwargs)


# ---------------------------------------------------------------- bootstrap

def _hanley_mcneil(a, n0, n1):
    q1, q2 = a / (2 - a), 2 * a**2 / (1 + a)
    return np.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a**2) + (n0 - 1) * (q2 - a**2)) / (n0 * n1))


def test_bootstrap_std_of_auc_matches_hanley_mcneil():
    # 200 resamples estimate the sd to ~5%; Hanley-McNeil is approximate for Gaussians
    y, score = _gaussians(1000, 1.0, seed=3)
    value, std = bootstrap(auc, y, score, n_resamples=200, random_state=0)
    assert value == auc(y, score)
    assert std == pytest.approx(_hanley_mcneil(value, 1000, 1000), rel=0.2)


def test_bootstrap_is_reproducible_and_stratified():
    y, score = _gaussians(50, 1.0)
    counts = []

    def metric(labels, scores):
        counts.append(np.bincount(labels, minlength=2))
        return auc(labels, scores)

    first = bootstrap(metric, y, score, n_resamples=20, random_state=7)
    assert first == bootstrap(auc, y, score, n_resamples=20, random_state=7)
    assert first != bootstrap(auc, y, score, n_resamples=20, random_state=8)
    np.testing.assert_array_equal(np.array(counts), 50)


def test_bootstrap_passes_sample_weight():
    y, score = _gaussians(100, 1.0)
    metric = functools.partial(max_sic, min_background=5)
    unweighted = bootstrap(metric, y, score, n_resamples=10, random_state=1)
    weighted = bootstrap(metric, y, score, n_resamples=10, random_state=1,
                         sample_weight=np.full(y.size, 3.0))
    assert weighted == pytest.approx(unweighted)
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap(auc, y, score, n_resamples=1)


# ---------------------------------------------------------------- input validation

METRICS = {
    "roc_curve": roc_curve,
    "auc": auc,
    "sic_curve": sic_curve,
    "max_sic": max_sic,
    "sic_at_background_efficiency": functools.partial(sic_at_background_efficiency, eps_b=0.5),
    "rejection_at_signal_efficiency": functools.partial(rejection_at_signal_efficiency, eps_s=0.5),
    "bootstrap": functools.partial(bootstrap, auc, n_resamples=2),
}

BAD_INPUTS = {
    "nan score": ([0, 1, 0, 1], [0.1, np.nan, 0.3, 0.4], "score"),
    "inf score": ([0, 1, 0, 1], [0.1, np.inf, 0.3, 0.4], "score"),
    "length mismatch": ([0, 1, 0, 1], [0.1, 0.2, 0.3], "score"),
    "labels not 0/1": ([0, 2, 0, 2], [0.1, 0.2, 0.3, 0.4], "y"),
    "single class": ([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], "y"),
    "empty": ([], [], "y"),
    "2-d score": ([0, 1], [[0.1], [0.2]], "score"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
@pytest.mark.parametrize("function", sorted(METRICS))
def test_bad_inputs_name_the_argument(function, case):
    y, score, name = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=name):
        METRICS[function](y, score)


def test_bad_weights_and_parameters_name_the_argument():
    y, score = _ladder()
    with pytest.raises(ValueError, match="sample_weight"):
        auc(y, score, sample_weight=-np.ones(y.size))
    with pytest.raises(ValueError, match="sample_weight"):
        sic_curve(y, score, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="min_background"):
        sic_curve(y, score, min_background=-1)
    with pytest.raises(TypeError, match="min_background"):
        max_sic(y, score, min_background=2.5)
    with pytest.raises(ValueError, match="eps_b"):
        sic_at_background_efficiency(y, score, 1.5)
    with pytest.raises(ValueError, match="eps_s"):
        rejection_at_signal_efficiency(y, score, 0.0)
    with pytest.raises(TypeError, match="score"):
        auc(y, ["a"] * y.size)
    with pytest.raises(TypeError, match="metric"):
        bootstrap("auc", y, score)


# ---------------------------------------------------------------- MMD
@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_mmd_of_two_gaussians_matches_the_closed_form(shift):
    """X ~ N(0, 1), Y ~ N(μ, 1), kernel width σ: MMD² = 2 √(σ²/(σ²+2)) (1 − exp(−μ² / (2 (σ² + 2))))."""
    n, sigma, rng = 2000, 1.5, np.random.default_rng(3)
    x, y = rng.normal(0, 1, (n, 1)), rng.normal(shift, 1, (n, 1))
    exact = 2 * np.sqrt(sigma**2 / (sigma**2 + 2)) * (1 - np.exp(-shift**2 / (2 * (sigma**2 + 2))))
    assert mmd(x, y, bandwidth=sigma) == pytest.approx(exact, abs=0.01)


def test_mmd_median_heuristic_and_errors():
    rng = np.random.default_rng(4)
    x, y = rng.normal(0, 1, (300, 3)), rng.normal(0.5, 1, (300, 3))
    assert mmd(x, y) > mmd(x, rng.normal(0, 1, (300, 3))) and mmd(x, y) == mmd(x, y)
    assert mmd(2 * x, 2 * y) == pytest.approx(mmd(x, y), rel=1e-9)  # the median width follows the units
    with pytest.raises(ValueError, match="bandwidth must be"):
        mmd(x, y, bandwidth=0.0)
    with pytest.raises(ValueError, match="median distance"):
        mmd(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="y needs at least 2 rows"):
        mmd(x, y[:1])
