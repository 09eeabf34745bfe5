"""Small samples shipped with the package, so the main job runs with no generation step.

``dijet_background.h5`` and ``dijet_signal.h5`` were made by ``likely generate dijet``
with the default settings (QCD with pTHatMin 700 GeV; W′ 3.5 TeV → X 500 GeV, Y 100 GeV);
the JSON beside each records seeds, settings and cross-sections.

``shower_*.h5`` are CaloGAN-style files made by ``likely generate showers`` (GFLASH
parametrization, seed-000 geometry; the JSON beside each records the settings and seeds):
2000 photons with energy uniform in 1-100 GeV (``--seed 1``), and 500 showers each of the
seed-000 signal χ → γγ with E = 50 GeV at (mχ = 5 GeV, z = 0.33 m; ``--seed 2``) and
(mχ = 0.05 GeV, z = 1.04 m; ``--seed 3``).

``jets_*.h5`` are particles files made by ``likely generate jets`` (the JSON beside each
records seeds and settings): 1000 top and 1000 QCD jets of the top-tagging window (pT
550–650 GeV; ``--process top --seed 7001``, ``--process qcd --seed 7101``), 500 Aachen dark
jets (``--process dark --preset aachen --seed 7201``) and 500 QCD jets of its window (pT
150–300 GeV; ``--process qcd --pt-min 150 --pt-max 300 --seed 7301``), each with its 200
hardest constituents (E, px, py, pz).

``event_images_*.h5`` (seed-004 layout, pooled to 58 × 72) and ``adc_*.h5`` (ADC2021 layout)
went through the parametric detector: truth events from ``likely generate events`` (its
record is ``<name>.truth.json``), then ``likely generate detector`` (its record is
``<name>.json``). Event images: ``--process qcd``, ``--process suep --param
mediator_mass=400`` and ``--process svj --param mzprime=3100``, each with ``--ht-min 400``
and seeds 8001, 8101, 8201 (800, 200, 150 events), then ``--to event-images --pool 5`` with
the same seed (reconstructed H_T > 500 GeV: 459, 176, 149 images). ADC: ``wjets``,
``zjets``, ``ttbar``, ``ato4l``, ``leptoquark``, ``h0tautau`` with ``--lepton-pt-min 20``
and seeds 8301 … 8801 (500, 200, 150, 200, 200, 150 events), then ``--to adc --card adc
--lepton-trigger`` (364, 165, 84, 86, 95, 94 events).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from likely.data.events import EventSet
from likely.data.lhco import DEFAULT_FEATURES, read_lhco

__all__ = ["BUNDLED_ADC", "BUNDLED_EVENT_IMAGES", "BUNDLED_JETS", "SHOWER_SIGNALS", "bundled_dijet_paths",
           "bundled_files", "bundled_path", "bundled_shower_path", "load_bundled_adc", "load_bundled_dijets",
           "load_bundled_event_images", "load_bundled_jets", "load_bundled_showers"]

#: The bundled signal samples, (mχ in GeV, decay displacement in m).
SHOWER_SIGNALS = ((5.0, 0.33), (0.05, 1.04))


#: The bundled jet samples: name → file.
BUNDLED_JETS = {"top": "jets_top.h5", "qcd": "jets_qcd.h5", "aachen": "jets_aachen.h5",
                "qcd-150-300": "jets_qcd_150_300.h5"}


#: The bundled event images (seed-004 layout, 58 × 72): name → file.
BUNDLED_EVENT_IMAGES = {"qcd": "event_images_qcd.h5", "suep400": "event_images_suep400.h5",
                        "svj3.1": "event_images_svj3.1.h5"}
#: The bundled ADC2021 events: process name (of ``likely generate events``) → file.
BUNDLED_ADC = {name: f"adc_{name}.h5" for name in ("wjets", "zjets", "ttbar", "ato4l", "leptoquark", "h0tautau")}


def bundled_path(name: str, files: dict[str, str]) -> Path:
    """Path of the bundled sample ``name`` of ``files`` (name → file name); an unknown name is refused."""
    if name not in files:
        raise ValueError(f"name must be one of {tuple(files)}; got {name!r}")
    return Path(str(resources.files(__name__) / files[name]))


def bundled_files() -> dict[str, Path]:
    """Every bundled sample file by ``"<kind>/<name>"`` (``jets/aachen``, ``adc/wjets``, ``dijet/signal``, ...),
    for commands that take paths (``likely data samples`` prints them)."""
    files = {f"{kind}/{name}": bundled_path(name, table)
             for kind, table in (("jets", BUNDLED_JETS), ("adc", BUNDLED_ADC), ("event-images", BUNDLED_EVENT_IMAGES))
             for name in table}
    files.update(zip(("dijet/background", "dijet/signal"), bundled_dijet_paths()))
    files["showers/photons"] = bundled_shower_path()
    files.update({f"showers/chi_m{mass:g}_z{z:g}": bundled_shower_path((mass, z)) for mass, z in SHOWER_SIGNALS})
    return files


def load_bundled_jets(name: str):
    """The bundled jets ``name`` (:data:`BUNDLED_JETS`) as :class:`~likely.data.Particles` (E, px, py, pz in GeV).

    Examples
    --------
    >>> jets = load_bundled_jets("top")
    >>> len(jets), jets.features, float(jets.columns["pt"].min()) > 550
    (1000, ('E', 'px', 'py', 'pz'), True)
    """
    from likely.data.particles import read_particles

    return read_particles(bundled_path(name, BUNDLED_JETS))


def load_bundled_event_images(name: str):
    """The bundled event images ``name`` (:data:`BUNDLED_EVENT_IMAGES`; label 0 QCD, 1 the signals).

    Examples
    --------
    >>> images = load_bundled_event_images("suep400")
    >>> images.images.shape[1:], bool((images.label == 1).all())
    ((3, 58, 72), True)
    """
    from likely.data.event_images import read_event_images

    return read_event_images(bundled_path(name, BUNDLED_EVENT_IMAGES))


def load_bundled_adc(name: str):
    """The bundled ADC2021 events of process ``name`` (:data:`BUNDLED_ADC`) as objects ``(pt, eta, phi, id)``,
    labelled 0 (backgrounds) or 1 (signals)."""
    from likely.data.adc import read_adc
    from likely.data.generate.events import EVENT_PROCESSES

    return read_adc(bundled_path(name, BUNDLED_ADC), label=EVENT_PROCESSES[name].label)


def bundled_dijet_paths() -> tuple[Path, Path]:
    """Paths of the bundled background and signal LHCO features files."""
    folder = resources.files(__name__)
    return Path(str(folder / "dijet_background.h5")), Path(str(folder / "dijet_signal.h5"))


def load_bundled_dijets(features=DEFAULT_FEATURES) -> tuple[EventSet, EventSet]:
    """The bundled (background, signal) events with the given derived features."""
    background, signal = bundled_dijet_paths()
    return read_lhco(background, features=features), read_lhco(signal, features=features)


def bundled_shower_path(signal: tuple[float, float] | None = None) -> Path:
    """Path of the bundled photon showers, or of the signal ``(mass, displacement)`` in :data:`SHOWER_SIGNALS`."""
    if signal is None:
        name = "shower_photons.h5"
    else:
        if tuple(signal) not in SHOWER_SIGNALS:
            raise ValueError(f"signal must be one of {SHOWER_SIGNALS}; got {signal!r}")
        name = f"shower_chi_m{signal[0]:g}_z{signal[1]:g}.h5"
    return Path(str(resources.files(__name__) / name))


def load_bundled_showers(signal: tuple[float, float] | None = None):
    """The bundled photon showers (label 0) or a signal sample (label 1) as :class:`~likely.data.showers.Showers`.

    Examples
    --------
    >>> load_bundled_showers().energies.shape
    (2000, 504)
    """
    from likely.data.showers import read_calogan

    return read_calogan(bundled_shower_path(signal))
