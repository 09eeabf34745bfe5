"""``likely data``: what a data file is; particle-level files converted, represented, pooled.

``likely data info`` names each file's layout and says what it holds
(:func:`likely.data.formats.describe_file`); ``convert`` writes particle-level files of the
public layouts as one likely particles file (:func:`likely.data.convert.convert_particles`);
``represent`` writes the jet images or point clouds of a particle-level file
(:func:`~likely.data.convert.jet_images_file`, :func:`~likely.data.convert.point_clouds_file`);
``pool`` sums k x k pixels of seed-004 event images (:func:`~likely.data.convert.sum_pool_file`);
``samples`` lists the bundled sample files (:func:`likely.data.samples.bundled_files`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from likely.cli.generate import positive_float
from likely.cli.rundir import fresh_file, positive_int
from likely.data.formats import FORMATS, PARTICLE_READERS

FORMAT_HELP = "layout of the input: auto (detected, the default) or one of " + ", ".join(PARTICLE_READERS)


def label_value(text: str) -> int:
    """argparse type: a label, an integer in 0..127 (labels are stored as int8)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= value <= 127:
        raise argparse.ArgumentTypeError(f"must be in 0..127; got {value}")
    return value


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("data", help="inspect, convert and represent data files (jets, events, images)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    info = actions.add_parser(
        "info", help="say what each file is: its layout, events, datasets, columns and shapes",
        description="Reads the headers only. Known layouts: " + "; ".join(f"{k} ({v})" for k, v in FORMATS.items()),
    )
    info.add_argument("files", nargs="+", type=Path, metavar="FILE", help="data files")
    info.set_defaults(run=run_info)
    add_convert_parser(actions)
    add_represent_parser(actions)
    add_pool_parser(actions)
    samples = actions.add_parser("samples", help="the bundled sample files: name, layout, events and path",
                                 description="e.g. likely detect clr train --data $(likely data samples --path "
                                             "adc/wjets) --out run")
    samples.add_argument("--path", metavar="NAME", help="print only the path of the sample NAME (e.g. jets/aachen)")
    samples.set_defaults(run=run_samples)


def add_convert_parser(actions) -> None:
    convert = actions.add_parser(
        "convert", help="particle-level files of the public layouts into one likely particles file",
        description="Reads top-tagging, JetNet, JetClass, ADC2021, LHC Olympics raw event or likely particles "
                    "files a batch at a time with their readers and writes them one after another as one likely "
                    "particles file (likely.data.read_particles); the inputs must have the same features and columns.",
    )
    convert.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="particle-level files")
    convert.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    convert.add_argument("--format", choices=("auto", *PARTICLE_READERS), default="auto", help=FORMAT_HELP)
    convert.add_argument("--label", type=label_value, metavar="N",
                         help="label every set N (0..127; e.g. 1 for a signal sample; default: the files' labels)")
    convert.add_argument("--max-particles", type=positive_int, metavar="N",
                         help="keep the N hardest particles of each set (by pt, ptrel or E), hardest first")
    add_batch_options(convert, 10_000, "sets")
    convert.set_defaults(run=run_convert)


def add_represent_parser(actions) -> None:
    represent = actions.add_parser(
        "represent", help="jet images or point clouds of a particle-level file",
        description="jet-images: the top-tagging preprocessing (centre, rotate, flip, pixelate, normalize; "
                    "likely.data.jet_images) as HDF5 'images' (N, H, W) float32 with 'label' and the options as "
                    "attributes (likely.data.images.read_jet_images); point-clouds: the hardest constituents as "
                    "(pt, deta, dphi) about the jet axis (likely.data.clouds.point_clouds) as a likely particles file.",
    )
    represent.add_argument("source", type=Path, metavar="PARTICLES", help="particle-level file (jet constituents)")
    represent.add_argument("--as", dest="kind", required=True, choices=("jet-images", "point-clouds"),
                           help="the representation")
    represent.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    represent.add_argument("--format", choices=("auto", *PARTICLE_READERS), default="auto", help=FORMAT_HELP)
    represent.add_argument("--pixels", type=positive_int, help="jet-images: pixels per side (default: 40)")
    represent.add_argument("--smear", type=positive_float, metavar="SIGMA",
                           help="jet-images: Gaussian smoothing width in pixels (seed 003: 1; default: none)")
    represent.add_argument("--power", type=positive_float, metavar="N",
                           help="jet-images: intensities x -> x**N after normalizing (seed 003: 0.2; default: none)")
    represent.add_argument("--constituents", type=positive_int, metavar="N",
                           help="point-clouds: constituents kept per jet, the hardest (default: 50)")
    add_batch_options(represent, 10_000, "jets")
    represent.set_defaults(run=run_represent)


def add_pool_parser(actions) -> None:
    pool = actions.add_parser(
        "pool", help="sum k x k pixels of seed-004 event images (286 x 360 -> 58 x 72 with k = 5)",
        description="Sums non-overlapping k x k pixels of every channel (edges padded as TensorFlow's 'SAME', so "
                    "every image keeps its total) and writes the same layout, track counts and labels as they were.",
    )
    pool.add_argument("source", type=Path, metavar="IMAGES", help="seed-004 event-image file (.h5)")
    pool.add_argument("--k", type=positive_int, default=5, help="pixels summed per side (default: 5)")
    pool.add_argument("--out", required=True, type=Path, help="output file (.h5)")
    add_batch_options(pool, 500, "events (unpooled images take 1.2 MB each)")
    pool.set_defaults(run=run_pool)


def add_batch_options(parser, default: int, unit: str) -> None:
    """``--batch`` and ``--force`` of a command that writes one file a batch at a time."""
    parser.add_argument("--batch", type=positive_int, default=default,
                        help=f"{unit} read at a time (default: {default})")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")


def run_info(args) -> None:
    from likely.data.formats import describe_file

    for path in args.files:
        print(describe_file(path))


def run_samples(args) -> None:
    from likely.data.formats import describe_file
    from likely.data.samples import bundled_files

    files = bundled_files()
    if args.path is not None:
        if args.path not in files:
            raise ValueError(f"--path must name a bundled sample, one of {', '.join(files)}; got {args.path!r}")
        print(files[args.path])
        return
    width = max(map(len, files))
    for name, path in files.items():
        info = describe_file(path)
        print(f"{name:<{width}}  {info.format:<14} {info.n_events:>6} events  {path}")


def run_convert(args) -> Path:
    from likely.data.convert import convert_particles

    fresh_file(args.out, args.force)
    return convert_particles(args.inputs, args.out, format=args.format, label=args.label,
                             max_particles=args.max_particles, batch=args.batch, overwrite=args.force,
                             progress=not args.quiet)


def run_represent(args) -> Path:
    from likely.data.convert import jet_images_file, point_clouds_file

    images = {"--pixels": ("pixels", args.pixels), "--smear": ("sigma", args.smear), "--power": ("power", args.power)}
    clouds = {"--constituents": ("n", args.constituents)}
    write, options, others = ((jet_images_file, images, clouds) if args.kind == "jet-images" else
                              (point_clouds_file, clouds, images))
    given = [flag for flag, (_, value) in others.items() if value is not None]
    if given:
        raise ValueError(f"{', '.join(given)} cannot be used with --as {args.kind}")
    fresh_file(args.out, args.force)
    return write(args.source, args.out, format=args.format, batch=args.batch, overwrite=args.force,
                 progress=not args.quiet, **{name: value for name, value in options.values() if value is not None})


def run_pool(args) -> Path:
    from likely.data.convert import sum_pool_file

    fresh_file(args.out, args.force)
    return sum_pool_file(args.source, args.out, args.k, batch=args.batch, overwrite=args.force,
                         progress=not args.quiet)
