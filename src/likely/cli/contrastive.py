"""``likely detect clr train | score | report``: anomaly scores in a contrastive representation of sets.

Jets (point clouds of their hardest ``--constituents``) or ADC2021 events are sets; a
:class:`likely.represent.CLR` learns their representation on the background and a
:class:`~likely.detect.RepresentationDetector` scores it (``--scorer``: the norm ‖z‖ or
seed 003's 5-d autoencoder of z). ``train``, ``score`` and ``report`` are
:mod:`likely.cli.detector_runs`; docs/contrastive.md.
"""

from __future__ import annotations

import argparse

from likely.cli.detector_runs import REPRESENTATION, SETS, ModelCommand
from likely.cli.rundir import positive_int


def _clr_options(parser: argparse.ArgumentParser) -> None:
    """CLR's options; the training defaults are DarkCLR's (Tab. B.11: 150 epochs, batch 256, lr 5e-5)."""
    parser.set_defaults(epochs=150, batch_size=256, lr=5e-5, patience=None)
    parser.add_argument("--loss", choices=("anomclr+", "anomclr", "darkclr", "simclr"), default="anomclr+",
                        help="contrastive loss (default: anomclr+; simclr is JetCLR, with --anomaly none)")
    parser.add_argument("--physical", nargs="*", metavar="NAME",
                        help="augmentations making the positive view, in turn (default: the seed's: rotate translate "
                             "for jets, rotate-events smear-events for ADC events)")
    parser.add_argument("--anomaly", default="auto",
                        help="the anomaly augmentation, or 'none' (default: the seed's: drop for jets, event-anomaly "
                             "for ADC events)")
    parser.add_argument("--dim", type=positive_int, default=128, help="transformer width (default: 128)")
    parser.add_argument("--out-features", type=positive_int, default=512, help="representation size (default: 512)")
    parser.add_argument("--layers", type=positive_int, default=4, help="transformer blocks (default: 4)")
    parser.add_argument("--heads", type=positive_int, default=4, help="attention heads (default: 4)")
    parser.add_argument("--feedforward", type=positive_int, default=512, help="feed-forward width (default: 512)")
    parser.add_argument("--head-hidden", type=positive_int, nargs="+", default=[512], metavar="N",
                        help="hidden widths of the projection head (default: 512)")
    parser.add_argument("--aggregate", choices=("sum", "mean"), default="sum",
                        help="how the objects' outputs become one vector: sum (keeps the multiplicity, default) or mean")
    parser.add_argument("--tau", type=float, default=0.1, help="temperature (default: 0.1)")
    parser.add_argument("--norm-weight", type=float, default=1.0,
                        help="weight of the background-norm penalty of --loss darkclr (default: 1)")


def _build_clr(args, trainer):
    from likely.represent import CLR
    from likely.data.set_inputs import read_sets

    _, _, features = read_sets(args.data[:1], constituents=args.constituents)
    trainer.set_params(val_fraction=0.0, schedule="constant")
    return CLR(features=features, loss=args.loss, physical=None if args.physical is None else tuple(args.physical),
               anomaly=None if args.anomaly == "none" else args.anomaly, dim=args.dim, out_features=args.out_features,
               layers=args.layers, heads=args.heads, feedforward=args.feedforward, head_hidden=tuple(args.head_hidden),
               aggregate=args.aggregate, tau=args.tau, norm_weight=args.norm_weight, trainer=trainer, device=args.device,
               random_state=args.seed)


#: the models of the command: ``likely detect clr train | score | report``
MODELS: dict[str, ModelCommand] = {
    "clr": ModelCommand("contrastive representation of jets or events: JetCLR, AnomalyCLR, DarkCLR "
                        "(docs/contrastive.md)", _clr_options, _build_clr, inputs=SETS, family=REPRESENTATION),
}
