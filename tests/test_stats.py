"""likely.stats: the dijet fit recovers what it is drawn from, p-values match their analytic
values, and the look-elsewhere corrections match pseudo-experiments."""

import numpy as np
import pytest
from scipy import stats

from likely.stats import (
    DijetFit, choose_dijet_fit, dijet_density, excess_pvalue, fit_dijet, global_pvalue, gross_vitells, p_to_z,
    upcrossings, z_to_p,
)

EDGES = np.linspace(2.6, 6.0, 35)  # TeV
THREE = np.array([np.log(1e3), 12.0, 4.0])  # ~17 000 events in the range
FOUR = np.array([np.log(1e3), 12.0, 4.0, 1.5])


def expected(params, edges=EDGES):
    return DijetFit(np.asarray(params, float), np.eye(len(params)), edges, np.ones(len(edges) - 1, bool), 0, 0, 0,
                    13.0).expected()


def test_bin_integrals_match_the_density():
    fine = np.linspace(EDGES[0], EDGES[1], 20_001)
    assert expected(THREE)[0] == pytest.approx(np.trapezoid(dijet_density(fine, THREE), fine), rel=1e-6)


def test_fit_recovers_the_parameters_with_honest_uncertainties():
    """Over spectra drawn from the function, (fit - truth) C⁻¹ (fit - truth) is chi-square(P)."""
    for truth in (THREE, FOUR):
        mu = expected(truth)
        pulls = []
        for seed in range(30):
            fit = fit_dijet(np.random.default_rng(seed).poisson(mu), EDGES, n_params=len(truth))
            d = fit.params - truth
            pulls.append(d @ np.linalg.solve(fit.covariance, d))
        total = np.sum(pulls)  # chi-square with 30 P degrees of freedom
        assert 1e-3 < stats.chi2.sf(total, df=30 * len(truth)) < 1 - 1e-3, (truth, total)


def test_masked_fit_predicts_the_signal_region_within_its_uncertainty():
    mu = expected(THREE)
    sr = (EDGES[:-1] >= 3.3) & (EDGES[1:] <= 3.7)
    pulls = []
    for seed in range(40):
        counts = np.random.default_rng(seed).poisson(mu)
        fit = fit_dijet(counts, EDGES, mask=sr, n_params=3)
        assert not fit.fitted[sr].any() and fit.fitted[~sr].all()
        predicted, error = fit.predict(sr)
        pulls.append((predicted - mu[sr].sum()) / error)
    assert abs(np.mean(pulls)) < 0.5 and 0.6 < np.std(pulls) < 1.5


def test_chosen_number_of_parameters_follows_the_data():
    chosen_three = [choose_dijet_fit(np.random.default_rng(s).poisson(expected(THREE)), EDGES).n_params
                    for s in range(20)]
    assert chosen_three.count(3) >= 15  # alpha = 0.05 adds a parameter in ~5 % of the cases
    big = expected(np.array([np.log(1e5), 12.0, 4.0, 1.5]))
    assert choose_dijet_fit(np.random.default_rng(0).poisson(big), EDGES).n_params >= 4


@pytest.mark.parametrize("kwargs, match", [
    (dict(counts=np.ones(3), edges=np.array([3.0, 3.1, 3.2])), "edges must have"),
    (dict(counts=-np.ones(34), edges=EDGES), "counts must be >= 0"),
    (dict(counts=np.ones(34), edges=EDGES[::-1]), "edges must increase"),
    (dict(counts=np.ones(34), edges=EDGES * 3), "sqrt_s"),
    (dict(counts=np.ones(34), edges=EDGES, n_params=6), "n_params"),
    (dict(counts=np.ones(34), edges=EDGES, mask=np.ones(34, bool)), "too few"),
    (dict(counts=np.r_[np.nan, np.ones(33)], edges=EDGES), "counts"),
])
def test_bad_spectra_are_refused_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_dijet(**kwargs)


# ----------------------------------------------------------------- local p-values
def test_without_uncertainty_the_p_value_is_the_poisson_tail():
    n, b = np.array([0, 3, 10, 150, 1200]), np.array([2.0, 0.5, 4.2, 100.0, 1100.0])
    np.testing.assert_allclose(excess_pvalue(n, b), np.where(n == 0, 1.0, stats.poisson.sf(n - 1, b)), rtol=1e-12)
    # the large-count limit agrees with the asymptotic Z = sqrt(2 (n ln(n/b) - (n - b)))
    asimov = np.sqrt(2 * (1200 * np.log(1200 / 1100) - 100))
    assert p_to_z(excess_pvalue(1200, 1100.0)) == pytest.approx(asimov, abs=0.03)


def test_background_uncertainty_tends_to_poisson_and_lowers_the_significance():
    n, b = 150, 100.0
    assert excess_pvalue(n, b, 1e-3) == pytest.approx(excess_pvalue(n, b), rel=1e-4)
    p = excess_pvalue(n, b, np.array([0.0, 2.0, 5.0, 10.0, 20.0]))
    assert np.all(np.diff(p) > 0)
    # Z_Bi of the on/off problem: n_off = b tau events in a sideband tau times the signal region
    tau = b / 10.0**2
    n_off = b * tau
    binomial = stats.binom.sf(n - 1, n + n_off, 1 / (1 + tau))  # exact for integer n_off
    assert excess_pvalue(n, b, 10.0) == pytest.approx(binomial, rel=1e-9)


def test_p_values_of_background_are_never_too_small():
    """Background-only counts: P(p <= alpha) <= alpha (discrete p-values are conservative)."""
    counts = np.random.default_rng(0).poisson(7.3, 200_000)
    p = excess_pvalue(counts, 7.3)
    for alpha in (0.5, 0.1, 0.01, 0.001):
        assert np.mean(p <= alpha) <= alpha * 1.05


def test_z_and_p_are_inverse():
    assert p_to_z(z_to_p(5.0)) == pytest.approx(5.0) and z_to_p(0.0) == 0.5


@pytest.mark.parametrize("args, match", [((-1, 5.0), "observed"), ((3, 0.0), "expected"), ((3, 5.0, -1.0), "sigma"),
                                         ((np.nan, 5.0), "observed")])
def test_bad_counts_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        excess_pvalue(*args)


# ----------------------------------------------------------------- look-elsewhere
def test_global_p_value_of_independent_tests_matches_the_analytic_one():
    """M independent tests: P(min p <= p0) = 1 - (1 - p0)^M; the global p is never below the local one."""
    rng = np.random.default_rng(3)
    m = 10
    null_min_p = rng.uniform(size=(20_000, m)).min(1)
    for local in (0.001, 0.01, 0.05):
        analytic = 1 - (1 - local) ** m
        estimate = global_pvalue(local, null_min_p)
        assert estimate >= local
        assert estimate == pytest.approx(analytic, abs=4 * np.sqrt(analytic * (1 - analytic) / 20_000) + 1e-4)
    assert global_pvalue(0.0, null_min_p) == pytest.approx(1 / 20_001)


def _smooth_scans(n, width, seed):
    """Background-only significance scans: unit-variance Gaussian processes along ``width`` windows."""
    kernel = np.exp(-0.5 * (np.arange(-20, 21) / 5.0) ** 2)
    kernel /= np.sqrt((kernel**2).sum())
    white = np.random.default_rng(seed).normal(size=(n, width + 40))
    return np.stack([np.convolve(row, kernel, mode="valid") for row in white])


def test_gross_vitells_matches_pseudo_experiments():
    scans = _smooth_scans(20_000, 200, seed=1)
    mean_up = upcrossings(scans[:100], 0.5).mean()  # a hundred scans at a low level
    for z in (2.5, 3.0):
        pseudo = np.mean(scans.max(1) >= z)
        assert gross_vitells(z, mean_up, 0.5) == pytest.approx(pseudo, rel=0.3)
        assert gross_vitells(z, mean_up, 0.5) >= z_to_p(z)


def test_upcrossings_count_rises_above_the_level():
    scan = np.array([[0.0, 2.0, 0.0, 2.0, 2.0], [2.0, 0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(upcrossings(scan, 1.0), [2, 1])


def test_local_and_global_p_values_agree_with_pybumphunter():
    """The same scan (3-bin windows over a known flat background, no uncertainty) as pyBumpHunter's BumpHunter1D."""
    import pyBumpHunter

    rng = np.random.default_rng(0)
    edges, background = np.linspace(3.0, 5.0, 21), np.full(20, 100.0)
    data = rng.poisson(background).astype(float)
    data[8:11] += 12
    hunter = pyBumpHunter.BumpHunter1D(rang=[3.0, 5.0], width_min=3, width_max=3, npe=2000, bins=edges,
                                       nworker=1, seed=1)
    hunter.bump_scan(data, background, is_hist=True)

    def scan(counts):
        return np.array([excess_pvalue(counts[s:s + 3].sum(), background[s:s + 3].sum()) for s in range(18)])

    local = scan(data)
    assert int(np.argmin(local)) == int(np.atleast_1d(hunter.min_loc_ar)[0])
    assert local.min() == pytest.approx(float(np.atleast_1d(hunter.min_Pval_ar)[0]), rel=1e-9)
    null = [scan(toy).min() for toy in rng.poisson(background, (2000, 20)).astype(float)]
    ours = global_pvalue(local.min(), null)
    assert 0.001 < ours < 0.5  # a case where the look-elsewhere effect matters
    assert ours == pytest.approx(hunter.global_Pval, abs=4 * np.sqrt(ours * (1 - ours) / 2000))
