"""The ``likely`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from likely import __version__
from likely.cli import calo, data, demo, detect, generate, report, search
from likely.nn import set_progress_bars

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="likely",
        description="Density estimation with deep generative models for collider physics.",
    )
    parser.add_argument("--version", action="version", version=f"likely {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars, warnings only")
    parser.add_argument("--debug", action="store_true", help="on an error, show the full Python traceback")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_parser(subparsers)
    search.add_parser(subparsers)
    report.add_parser(subparsers)
    generate.add_parser(subparsers)
    calo.add_parser(subparsers)
    detect.add_parser(subparsers)
    data.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``likely`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    set_progress_bars(not args.quiet)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        parser.exit(130, f"likely {args.command}: interrupted\n")
    except (ValueError, TypeError, OSError) as error:
        if args.debug:
            raise
        parser.exit(_exit_code(error), f"likely {args.command}: error: {_message(error)}\n")
    return 0


def _exit_code(error: Exception) -> int:
    """2 for bad input (arguments, files, values), 1 for the system failing (permissions, full disk)."""
    bad_input = (ValueError, TypeError, FileExistsError, FileNotFoundError, IsADirectoryError, NotADirectoryError)
    return 2 if isinstance(error, bad_input) else 1


def _message(error: Exception) -> str:
    """The message of ``error``; system errors as 'reason: path' (e.g. 'No space left on device: out.h5')."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
