"""``likely generate``: make physics data sets locally.

``likely generate dijet`` runs Pythia 8 + FastJet (:func:`likely.data.generate.generate_dijet`)
and writes an LHC Olympics features file with a JSON record of every chunk beside it.
``likely generate showers`` runs the GFLASH-type shower simulator
(:func:`likely.data.generate.showers.generate_showers`) and writes CaloGAN- or
CaloChallenge-style HDF5 with a JSON record beside it. ``likely generate stream`` draws the
synthetic Gaia-like sky patch with a stellar stream (:func:`likely.data.generate.generate_stream`)
and writes it as an HDF5 table (:func:`likely.data.write_table`). ``likely generate detector``
passes a truth-particles file through the parametric detector
(:func:`likely.data.detector.run_detector`) and writes event images, ADC objects or
reconstructed objects.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from likely.cli.rundir import positive_int

log = logging.getLogger(__name__)


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text}")
    return value


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("generate", help="generate physics data (Pythia 8 + FastJet events, GFLASH showers)")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    dijet = kinds.add_parser(
        "dijet",
        help="LHC Olympics-style dijet events: QCD background or W' -> X Y signal",
        description=(
            "pp at 13 TeV (Pythia 8, MPI off), anti-kT R=1.0 jets of visible particles, leading "
            "jet pT > 1.2 TeV; writes the LHCO features schema (jet px, py, pz, m, tau1-3 of the "
            "two leading jets, label) to --out and a JSON record of the chunks beside it. "
            "Finished chunks are kept in <out>.chunks/, so a rerun resumes."
        ),
    )
    dijet.add_argument(
        "--process",
        required=True,
        choices=("qcd", "wprime", "zprime"),
        help="qcd: HardQCD:all background (label 0); wprime: W' -> X Y signal, zprime: Z' -> t tbar "
        "signal (label 1)",
    )
    dijet.add_argument(
        "--events", required=True, type=positive_int, help="number of selected events to write"
    )
    dijet.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    dijet.add_argument(
        "--pthat-min",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="qcd only: PhaseSpace:pTHatMin in GeV (default: 700; 600 is unbiased but 2.2x slower)",
    )
    dijet.add_argument(
        "--pthat-max",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="qcd only: PhaseSpace:pTHatMax in GeV: one slice of the hard scale (combine slices with "
             "'likely generate mix-slices')",
    )
    dijet.add_argument(
        "--parton-veto",
        action="store_true",
        help="skip hadronizing events whose final partons cannot give a jet above --leading-pt-min "
             "(about 1.2x faster for qcd; the events differ from a run without it, the distributions do not)",
    )
    dijet.add_argument(
        "--mwprime",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="wprime only: W' mass in GeV (default: 3500)",
    )
    dijet.add_argument(
        "--mx",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="wprime only: X mass in GeV, X -> qq' (default: 500)",
    )
    dijet.add_argument(
        "--my",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="wprime only: Y mass in GeV, Y -> qq (default: 100)",
    )
    dijet.add_argument(
        "--wprime-width",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="wprime only: forced W' total width in GeV (default: the width Pythia computes)",
    )
    dijet.add_argument(
        "--mzprime",
        type=positive_float,
        default=None,
        metavar="GEV",
        help="zprime only: Z' mass in GeV, Z' -> t tbar (default: 1300)",
    )
    for name, default in (("leading-pt-min", "1200"), ("leading-pt-max", "none"), ("subleading-pt-min", "20")):
        dijet.add_argument(
            f"--{name}",
            type=positive_float,
            default=None,
            metavar="GEV",
            help=f"jet cut: {name.replace('-', ' ')} pT in GeV (default: {default}; F+M study: 450, 800, 200)",
        )
    dijet.add_argument(
        "--format",
        choices=("features", "lhco-events"),
        default="features",
        help="output: the LHCO features file of the two leading jets (default), or the raw LHCO event file "
             "of every event's visible particles (pT, eta, phi, at most 700; with the label column)",
    )
    add_run_options(dijet, "selected events")
    dijet.set_defaults(run=run_dijet)
    add_mix_slices_parser(kinds)
    add_jets_parser(kinds)
    add_events_parser(kinds)
    add_showers_parser(kinds)
    add_stream_parser(kinds)
    add_detector_parser(kinds)


#: ``likely generate jets`` options that set a JetSettings field: (flag, field, help)
JET_OPTIONS = (
    ("--pt-min", "pt_min", "jet pT window, lower edge (default: 550; dark presets 150)"),
    ("--pt-max", "pt_max", "jet pT window, upper edge (default: 650; dark presets 300, SVJ none)"),
    ("--eta-max", "eta_max", "jet |eta| cut (default: 2)"),
    ("--radius", "R", "anti-kT radius (default: 0.8)"),
    ("--match-dr", "match_dr", "top/dark: largest Delta R between the jet and the top or dark quark (default: 0.8)"),
    ("--pthat-min", "pthat_min", "qcd/top: PhaseSpace:pTHatMin in GeV (default: 0.8 x --pt-min)"),
    ("--mzprime", "mzprime", "dark: Z' mass in GeV (default: 2000)"),
    ("--m-dark-quark", "m_dark_quark", "dark: dark-quark mass in GeV (default: 0.5)"),
    ("--m-dark-pion", "m_dark_pion", "dark: dark-pion mass in GeV (default: 4)"),
    ("--m-dark-rho", "m_dark_rho", "dark: dark-rho mass in GeV (default: 5)"),
    ("--dark-lambda", "dark_lambda", "dark: confinement scale Lambda_d in GeV (default: the dark-rho mass)"),
)
DARK_ONLY = ("mzprime", "m_dark_quark", "m_dark_pion", "m_dark_rho", "dark_lambda", "r_inv")


def add_jets_parser(kinds) -> None:
    """``likely generate jets``: top, dark and QCD jets with their constituents."""
    from likely.data.generate.jet_samples import DARK_PRESETS, JET_PROCESSES

    jets = kinds.add_parser(
        "jets",
        help="jets with their constituents: top tagging (t tbar vs QCD), Hidden Valley dark jets",
        description=(
            "pp at 13 TeV (Pythia 8, MPI on), anti-kT R=0.8 jets of visible particles; of each event the "
            "hardest jet in the pT window and |eta| cut (signal jets matched to a top or dark quark). "
            "Writes the 200 hardest constituents (E, px, py, pz) and jet columns (pt, eta, phi, mass, "
            "tau1-3, truth) as a likely particles file (likely.data.read_particles) and a JSON record "
            "beside it. Finished chunks are kept in <out>.chunks/, so a rerun resumes."
        ),
    )
    jets.add_argument("--process", required=True, choices=JET_PROCESSES,
                      help="qcd: light-QCD dijets (label 0); top: all-hadronic t tbar; dark: Hidden Valley "
                           "Z' -> dark quarks (label 1)")
    jets.add_argument("--preset", choices=tuple(DARK_PRESETS),
                      help="dark only: named dark sector and pT window (aachen: seed 003's benchmark; svj-M: "
                           "seed 004's semi-visible jets at a Z' of M TeV); options given as well override it")
    jets.add_argument("--jets", required=True, type=positive_int, help="number of jets to write")
    jets.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    for flag, _, text in JET_OPTIONS:
        jets.add_argument(flag, type=positive_float, help=text,
                          metavar="X" if flag in ("--eta-max", "--radius", "--match-dr") else "GEV")
    jets.add_argument("--r-inv", type=float, metavar="X", help="dark: invisible fraction of dark-meson decays "
                                                                "(default: 0.75)")
    jets.add_argument("--max-constituents", type=positive_int, default=200,
                      help="constituents kept per jet, the hardest (default: 200)")
    add_run_options(jets, "jets")
    jets.set_defaults(run=run_jets)


def add_events_parser(kinds) -> None:
    """``likely generate events``: whole events as truth final states (the detector's input)."""
    from likely.data.generate.events import EVENT_PROCESSES

    listing = "; ".join(f"{p.name} ({', '.join(f'{k}={v}' for k, v in p.defaults.items()) or 'no parameters'})"
                        for p in EVENT_PROCESSES.values())
    events = kinds.add_parser(
        "events",
        help="whole events as truth final states (QCD multijets, semi-visible jets, ...) for the detector",
        description=(
            "pp at 13 TeV (Pythia 8, MPI on); every kept event's final-state particles in |eta| < --eta-max "
            "(E, px, py, pz, pid, charge) with the columns ht, met, lepton_pt, n_particles, as a likely "
            "particles file (likely.data.read_particles) and a JSON record beside it; `likely generate "
            "detector` turns it into event images or multi-object events. Finished chunks are kept in "
            "<out>.chunks/, so a rerun resumes."
        ),
        epilog=f"processes and their parameters (GeV; None: derived): {listing}",
    )
    events.add_argument("--process", required=True, choices=tuple(EVENT_PROCESSES),
                        help="; ".join(f"{p.name}: {p.description}" for p in EVENT_PROCESSES.values()))
    events.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", type=_param,
                        help="change a parameter of the process from its default (repeatable; see below)")
    events.add_argument("--events", required=True, type=positive_int, help="number of events to write")
    events.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    events.add_argument("--ht-min", type=float, default=0.0, metavar="GEV",
                        help="filter: truth-jet H_T (anti-kT 0.4, pT > 30 GeV, |eta| < 2.5) at least this "
                             "(default: 0, off; looser than the detector-level cut)")
    events.add_argument("--lepton-pt-min", type=float, default=0.0, metavar="GEV",
                        help="filter: an electron or muon in |eta| < 2.5 above this pT (default: 0, off)")
    events.add_argument("--eta-max", type=positive_float, default=5.0, metavar="X",
                        help="final-state particles beyond this |eta| are not written (default: 5)")
    add_run_options(events, "events")
    events.set_defaults(run=run_events)


def _param(text: str) -> tuple[str, float | None]:
    """argparse type of ``--param``: ``NAME=VALUE`` with a number (or ``none``) as the value."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE; got {text!r}")
    if value.strip().lower() == "none":
        return name.strip(), None
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the value of {name} must be a number or none; got {value!r}") from None


def run_events(args) -> Path:
    from likely.data.generate.events import EventSettings, generate_events

    params = dict(args.param)
    if len(params) != len(args.param):
        raise ValueError("--param: a parameter is given twice")
    settings = EventSettings(args.process, params, ht_min=args.ht_min, lepton_pt_min=args.lepton_pt_min,
                             eta_max=args.eta_max)
    return generate_events(args.out, settings, args.events, chunk_size=args.chunk_size, workers=args.workers,
                           seed=args.seed, overwrite=args.force, progress=not args.quiet)


def add_run_options(parser, unit: str) -> None:
    """The options every chunked generator takes: chunk size, workers, seed, --force."""
    parser.add_argument("--chunk-size", type=positive_int, default=1000,
                        help=f"{unit} per chunk, the unit of parallelism and resuming (default: 1000)")
    parser.add_argument("--workers", type=positive_int, default=1, help="parallel worker processes (default: 1)")
    parser.add_argument("--seed", type=positive_int, default=1,
                        help="Pythia seed of chunk 0; chunk k uses seed + k (default: 1)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing output file and regenerate chunks made with other settings")


def run_jets(args) -> Path:
    from likely.data.generate.jet_samples import JetSettings, generate_jets

    options = {field: getattr(args, flag[2:].replace("-", "_")) for flag, field, _ in JET_OPTIONS}
    options["r_inv"] = args.r_inv
    options = {name: value for name, value in options.items() if value is not None}
    if args.process != "dark":
        given = [name for name in (*DARK_ONLY,) if name in options] + (["preset"] if args.preset else [])
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')} applies only to --process dark")
    options["max_constituents"] = args.max_constituents
    if args.preset is not None:
        settings = JetSettings.preset(args.preset, **options)
    else:
        settings = JetSettings(args.process, **options)
    return generate_jets(args.out, settings, args.jets, chunk_size=args.chunk_size, workers=args.workers,
                         seed=args.seed, overwrite=args.force, progress=not args.quiet)


def add_stream_parser(kinds) -> None:
    """``likely generate stream``: the synthetic sky patch with a stellar stream."""
    stream = kinds.add_parser(
        "stream",
        help="a synthetic Gaia-like sky patch with a thin stellar stream (SkyCURTAINs' test case)",
        description=(
            "Field stars of a disk-like and a halo-like population and a GD-1-like stream (label 1) in a "
            "10 x 10 degree patch: columns phi, lambda (deg), mu_phi, mu_lambda (mas/yr), bp_rp, g (mag); "
            "G < 20.2. Synthetic: no survey data is downloaded (docs/generate.md). Writes an HDF5 table "
            "(likely.data.read_table reads it)."
        ),
    )
    stream.add_argument("--field", required=True, type=positive_int, help="number of field (background) stars")
    stream.add_argument("--stream", required=True, type=int, help="number of stream stars (0 for none)")
    stream.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    stream.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    stream.add_argument("--force", action="store_true", help="overwrite an existing output file")
    stream.set_defaults(run=run_stream)


def run_stream(args) -> Path:
    from likely.data import write_table
    from likely.data.generate import generate_stream

    if args.stream < 0:
        raise ValueError(f"--stream must be >= 0; got {args.stream}")
    path = write_table(args.out, generate_stream(args.field, args.stream, random_state=args.seed),
                       overwrite=args.force)
    log.info("wrote %d field and %d stream stars to %s", args.field, args.stream, path)
    return path


def add_detector_parser(kinds) -> None:
    """``likely generate detector``: truth particles through the parametric detector."""
    detector = kinds.add_parser(
        "detector",
        help="pass truth particles through the fast parametric (Delphes-like, CMS-like) detector",
        description=(
            "Reads a likely particles file of truth final states (E, px, py, pz, pid, charge), simulates "
            "tracks, ECAL/HCAL cells, electrons, muons, photons, jets and missing pT with the detector card "
            "(default: CMS-like; a parametrization, not Geant4: docs/detector.md), keeps the events with "
            "H_T above --ht-min, and writes seed-004 event images, an ADC2021 file or the reconstructed "
            "objects, with a JSON record beside the output."
        ),
    )
    detector.add_argument("truth", type=Path, help="truth particles file (.h5, likely.data.read_particles)")
    detector.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    detector.add_argument("--to", required=True, choices=("event-images", "adc", "particles"),
                          help="event-images: Trk/ECAL/HCAL images and nTracks (seed 004); adc: the 19 object "
                               "slots of the CMS anomaly-detection challenge; particles: the objects (pt, eta, "
                               "phi, id) with the columns ht and n_tracks")
    detector.add_argument("--card", metavar="CARD", help="detector card: a TOML file, or a bundled card: cms (the "
                                                         "default, CMS-like), adc (its ADC2021 object thresholds: "
                                                         "e and mu above 3 GeV, jets above 15)")
    detector.add_argument("--pool", type=positive_int, default=1, metavar="K",
                          help="event-images only: sum K x K pixels (seed 004: 5, giving 58 x 72; default: 1)")
    detector.add_argument("--ht-min", type=float, metavar="GEV",
                          help="keep events with H_T (e, mu, gamma, jets) above this (default: 500 for "
                               "event-images, 0 otherwise)")
    detector.add_argument("--lepton-trigger", action="store_true",
                          help="also require an electron or muon above 23 GeV (the ADC2021 trigger)")
    detector.add_argument("--pileup", type=Path, metavar="MINBIAS.h5",
                          help="truth particles file of minimum-bias events to overlay (needs --mu)")
    detector.add_argument("--mu", type=float, metavar="MU", help="mean number of pile-up events per event (Poisson)")
    detector.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    detector.add_argument("--batch", type=positive_int, default=500,
                          help="events simulated at a time (default: 500; unpooled images take 1.2 MB each)")
    detector.add_argument("--force", action="store_true", help="overwrite an existing output file")
    detector.set_defaults(run=run_detector_command)


def run_detector_command(args) -> Path:
    from likely.data.detector import run_detector

    return run_detector(args.truth, args.out, to=args.to, card=args.card, pool=args.pool, ht_min=args.ht_min,
                        require_lepton=args.lepton_trigger, pileup=args.pileup, mu=args.mu, seed=args.seed,
                        batch=args.batch, overwrite=args.force, progress=not args.quiet)


def run_dijet(args) -> Path:
    from likely.data.generate import DijetSettings, generate_dijet

    masses = {"mwprime": args.mwprime, "mx": args.mx, "my": args.my, "wprime_width": args.wprime_width}
    if args.process != "wprime" and any(value is not None for value in masses.values()):
        raise ValueError("--mwprime, --mx, --my and --wprime-width apply only to --process wprime")
    if args.process != "zprime" and args.mzprime is not None:
        raise ValueError("--mzprime applies only to --process zprime")
    if args.process != "qcd" and (args.pthat_min is not None or args.pthat_max is not None):
        raise ValueError("--pthat-min and --pthat-max apply only to --process qcd")
    masses["mzprime"] = args.mzprime
    cuts = {"leading_pt_min": args.leading_pt_min, "leading_pt_max": args.leading_pt_max,
            "subleading_pt_min": args.subleading_pt_min}
    scale = {"pthat_min": args.pthat_min, "pthat_max": args.pthat_max}
    options = {name: value for name, value in {**masses, **cuts, **scale}.items()
               if value is not None}
    return generate_dijet(
        args.out,
        DijetSettings(args.process, parton_veto=args.parton_veto, **options),
        args.events,
        chunk_size=args.chunk_size,
        workers=args.workers,
        seed=args.seed,
        overwrite=args.force,
        progress=not args.quiet,
        format=args.format,
    )


def add_mix_slices_parser(kinds) -> None:
    mix = kinds.add_parser(
        "mix-slices", help="one unweighted dijet sample from pTHat slices, mixed by their cross-sections",
        description="Each slice contributes in proportion to its sigma x efficiency (from the JSON beside "
                    "it); the first events of each slice are used and the mixture is shuffled "
                    "(likely.data.generate.mix_slices).")
    mix.add_argument("slices", nargs="+", type=Path, metavar="FILE",
                     help="slice files of 'likely generate dijet --pthat-min A --pthat-max B'")
    mix.add_argument("--out", required=True, type=Path, help="output LHCO features file (.h5)")
    mix.add_argument("--events", type=positive_int, help="events of the mixture (default: the most the slices allow)")
    mix.add_argument("--seed", type=int, default=0, help="seed of the shuffling (default: 0)")
    mix.add_argument("--force", action="store_true", help="overwrite an existing output file")
    mix.set_defaults(run=run_mix_slices)


def run_mix_slices(args) -> Path:
    from likely.data.generate import mix_slices

    return mix_slices(args.slices, args.out, n_events=args.events, seed=args.seed, overwrite=args.force)


def add_showers_parser(kinds, name: str = "showers") -> None:
    """The shower generator's subcommand (``likely generate showers``, also ``likely calo generate``)."""
    showers = kinds.add_parser(
        name,
        help="GFLASH-parametrized EM showers in a Pb/LAr sampling calorimeter",
        description=(
            "Photon or electron showers, or seed 000's chi -> gamma gamma signal, simulated with the "
            "GFLASH parametrization (no Geant4) and binned into the seed-000 three-layer calorimeter "
            "or a CaloChallenge XML geometry. Voxel energies are visible energies in MeV. Finished "
            "chunks are kept in <out>.chunks/, so a rerun resumes."
        ),
    )
    showers.add_argument("--particle", choices=("photon", "electron", "chi"), default="photon",
                         help="incident particle (default: photon); chi needs --mass and "
                              "--displacement or --lifetime")
    energy = showers.add_mutually_exclusive_group()
    energy.add_argument("--energy", type=positive_float, metavar="GEV",
                        help="fixed energy in GeV (chi: total energy; seed 000 uses 50)")
    energy.add_argument("--energy-range", type=positive_float, nargs=2, metavar=("LOW", "HIGH"),
                        help="energy range in GeV (chi: kinetic energy); default 1 100 for photons "
                             "and electrons, chi defaults to --energy 50")
    showers.add_argument("--spectrum", choices=("uniform", "log-uniform"), default="uniform",
                         help="distribution of the energy in --energy-range (default: uniform)")
    showers.add_argument("--mass", type=positive_float, metavar="GEV", help="chi mass in GeV")
    where = showers.add_mutually_exclusive_group()
    where.add_argument("--displacement", type=positive_float, metavar="M",
                       help="chi decay position on the axis in m from the detector centre "
                            "(calorimeter front face at 1 m)")
    where.add_argument("--lifetime", type=positive_float, metavar="NS",
                       help="chi rest-frame lifetime in ns: decays at seed 000's ten displacements "
                            "with its weights w_i")
    showers.add_argument("--position", type=float, nargs=2, default=(0.0, 0.0), metavar=("X", "Y"),
                         help="photon/electron entry point on the front face in mm from the axis "
                              "(default: 0 0)")
    showers.add_argument("--xml", type=Path, metavar="FILE",
                         help="CaloChallenge binning XML (cylindrical geometry; default: seed-000 "
                              "three-layer calorimeter)")
    showers.add_argument("--xml-particle", metavar="NAME",
                         help="name or pid of the <Bin> to use in --xml when it has several")
    showers.add_argument("--depth", type=positive_float, default=480.0, metavar="MM",
                         help="--xml only: total depth in mm, split equally over the layers (default: 480)")
    showers.add_argument("--format", choices=("calogan", "calochallenge"), default=None,
                         help="output layout (default: calogan for seed 000, calochallenge for --xml)")
    showers.add_argument("--events", required=True, type=positive_int, help="number of showers")
    showers.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    showers.add_argument("--chunk-size", type=positive_int, default=1000,
                         help="showers per chunk, the unit of parallelism and resuming (default: 1000)")
    showers.add_argument("--workers", type=positive_int, default=1,
                         help="parallel worker processes (default: 1)")
    showers.add_argument("--seed", type=int, default=1, help="seed; chunk k uses [seed, k] (default: 1)")
    showers.add_argument("--force", action="store_true",
                         help="overwrite an existing output file and regenerate chunks made with other settings")
    showers.set_defaults(run=run_showers)


def run_showers(args) -> Path:
    from likely.data.generate.showers import Source, generate_showers

    chi = args.particle == "chi"
    if not chi and any(v is not None for v in (args.mass, args.displacement, args.lifetime)):
        raise ValueError("--mass, --displacement and --lifetime apply only to --particle chi")
    if args.xml is None and (args.xml_particle is not None or args.depth != 480.0):
        raise ValueError("--xml-particle and --depth apply only with --xml")
    if args.energy is not None:
        energy = args.energy
    elif args.energy_range is not None:
        energy = tuple(args.energy_range)
    else:
        energy = 50.0 if chi else (1.0, 100.0)
    source = Source(particle=args.particle, energy=energy, spectrum=args.spectrum, mass=args.mass,
                    displacement=args.displacement, lifetime=args.lifetime,
                    position=tuple(args.position))
    geometry = None
    if args.xml is not None:
        geometry = {"kind": "xml", "path": str(args.xml), "particle": args.xml_particle,
                    "depths": None, "total_depth": args.depth}
    fmt = args.format or ("calogan" if args.xml is None else "calochallenge")
    return generate_showers(
        args.out, args.events, source=source, geometry=geometry, fmt=fmt,
        chunk_size=args.chunk_size, workers=args.workers, seed=args.seed,
        overwrite=args.force, progress=not args.quiet,
    )
