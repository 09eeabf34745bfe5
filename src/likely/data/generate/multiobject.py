"""The Pythia processes of the CMS anomaly-detection challenge (ADC2021) multi-object events.

Govorkova et al., "LHC physics dataset for unsupervised New Physics detection at 40 MHz",
Sci. Data 9, 118 (2022), arXiv:2107.02157 (seed 003 §2.5): pp at 13 TeV, events with an
electron or muon above 23 GeV. Its background is W(→ℓν)+jets (59.2 %), Z(→ℓℓ)+jets (6.7 %),
tt̄ (0.3 %) and QCD multijets (33.8 %), ℓ = e, μ, τ; its signals, made with Pythia 8, are a
leptoquark (80 GeV) → bτ, a neutral scalar A (50 GeV) → Z*Z* → 4ℓ, a scalar h⁰ (60 GeV) →
τ⁺τ⁻ and a charged scalar h± (60 GeV) → τν. :data:`ADC_PROCESSES` holds them as
:class:`~likely.data.generate.pythia.EventProcess` (masses in GeV are parameters); the QCD
background is the ``qcd`` process of :mod:`likely.data.generate.events` with a lower
``pthat_min`` and the lepton filter.

Pythia's own choices set two limits: its A → Z*Z* width is zero unless m_A > m_Z / 2, and
its Z* masses start at ``23:mMin`` = 10 GeV, so the 4ℓ scalar must be heavier than 45.6 GeV.
"""

from __future__ import annotations

from likely._checks import check_positive
from likely.data.generate.pythia import EventProcess, Params, num

__all__ = ["ADC_PROCESSES"]

#: masses Pythia 8 uses (GeV): τ, b quark, Z
M_TAU, M_B, M_Z = 1.77682, 4.8, 91.1876
CHARGED_LEPTONS = "11 13 15"


def _resonance(pid: int, mass: float) -> list[str]:
    """A resonance's mass and its Breit–Wigner range [m/2, 2m] (Pythia's default floor, 50 GeV, would cut it)."""
    return [f"{pid}:m0 = {num(mass)}", f"{pid}:mMin = {num(mass / 2)}", f"{pid}:mMax = {num(2 * mass)}"]


def _heavier(params: Params, name: str, threshold: float, what: str, why: str = "") -> None:
    """Raise unless ``params[name]`` exceeds ``threshold`` GeV, which is ``what``."""
    check_positive(params[name], name)
    if params[name] <= threshold:
        raise ValueError(f"{name} must exceed {what} = {threshold:.2f} GeV{why}; got {params[name]!r}")


def _boson_plus_jets(inclusive: str, with_parton: tuple[str, str], pthat_min: float) -> list[str]:
    """The inclusive 2 → 1 process (jets from the shower) or, at ``pthat_min`` > 0, boson + parton above it."""
    if pthat_min == 0:
        return [f"{inclusive} = on"]
    return [*(f"{name} = on" for name in with_parton), f"PhaseSpace:pTHatMin = {num(pthat_min)}"]


def _wjets(p: Params) -> list[str]:
    hard = _boson_plus_jets("WeakSingleBoson:ffbar2W",
                            ("WeakBosonAndParton:qqbar2Wg", "WeakBosonAndParton:qg2Wq"), p["pthat_min"])
    return [*hard, "24:onMode = off", f"24:onIfAny = {CHARGED_LEPTONS}"]


def _zjets(p: Params) -> list[str]:
    hard = _boson_plus_jets("WeakSingleBoson:ffbar2gmZ",
                            ("WeakBosonAndParton:qqbar2gmZg", "WeakBosonAndParton:qg2gmZq"), p["pthat_min"])
    mll = num(p["mll_min"])
    return [*hard, f"PhaseSpace:mHatMin = {mll}", f"23:mMin = {mll}", "23:onMode = off",
            f"23:onIfAny = {CHARGED_LEPTONS}"]


def _check_pthat(p: Params) -> None:
    check_positive(p["pthat_min"], "pthat_min", allow_zero=True)


def _check_zjets(p: Params) -> None:
    _check_pthat(p)
    _heavier(p, "mll_min", 2 * M_TAU, "two tau masses")


def _leptoquark(p: Params) -> list[str]:
    # the LQ's flavours are those of its first decay channel (Pythia's default: u e-)
    return ["LeptoQuark:all = on", "42:0:products = 5 15", *_resonance(42, p["m_lq"])]


def _ato4l(p: Params) -> list[str]:
    # Pythia's CP-even H0 (id 35) as the ADC's neutral scalar A; its A0 (id 36) has no ZZ coupling by default
    return ["Higgs:useBSM = on", "HiggsBSM:gg2H2 = on", *_resonance(35, p["m_a"]), "35:onMode = off",
            "35:onIfMatch = 23 23", "23:onMode = off", "23:onIfAny = 11 13"]


def _h0tautau(p: Params) -> list[str]:
    return ["Higgs:useBSM = on", "HiggsBSM:gg2H2 = on", *_resonance(35, p["m_h0"]), "35:onMode = off",
            "35:onIfMatch = 15 15"]


def _hplus(p: Params) -> list[str]:
    return ["Higgs:useBSM = on", "HiggsBSM:ffbar2H+- = on", *_resonance(37, p["m_hplus"]), "37:onMode = off",
            "37:onIfMatch = 15 16"]


#: The ADC's W, Z and tt̄ backgrounds (label 0) and its four signals (label 1); QCD is ``qcd``.
ADC_PROCESSES: tuple[EventProcess, ...] = (
    EventProcess("wjets", "W -> e nu, mu nu, tau nu + jets (ADC background); pthat_min 0: inclusive ffbar2W, "
                 "jets from the shower; > 0: W + parton above it", 0, {"pthat_min": 0.0}, _wjets, _check_pthat),
    EventProcess("zjets", "Z/gamma* -> ee, mumu, tautau + jets, m_ll > mll_min (ADC background); pthat_min as "
                 "for wjets", 0, {"pthat_min": 0.0, "mll_min": 50.0}, _zjets, _check_zjets),
    EventProcess("ttbar", "top pairs, all decays (ADC background)", 0, {},
                 lambda p: ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on"]),
    EventProcess("leptoquark", "scalar leptoquark -> b tau (ADC signal LQ), pair and single production", 1,
                 {"m_lq": 80.0}, _leptoquark, lambda p: _heavier(p, "m_lq", M_B + M_TAU, "m_b + m_tau")),
    EventProcess("ato4l", "neutral scalar A (gg -> H0) -> Z* Z* -> 4 leptons (e, mu) (ADC signal)", 1,
                 {"m_a": 50.0}, _ato4l,
                 lambda p: _heavier(p, "m_a", M_Z / 2, "m_Z / 2", " (below it Pythia gives A -> Z* Z* no width)")),
    EventProcess("h0tautau", "neutral scalar h0 (gg -> H0) -> tau tau (ADC signal)", 1, {"m_h0": 60.0}, _h0tautau,
                 lambda p: _heavier(p, "m_h0", 2 * M_TAU, "two tau masses")),
    EventProcess("hplus", "charged scalar h+- (c sbar -> H+) -> tau nu (ADC signal)", 1, {"m_hplus": 60.0},
                 _hplus, lambda p: _heavier(p, "m_hplus", M_TAU, "the tau mass")),
)
