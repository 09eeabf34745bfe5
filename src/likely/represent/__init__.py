"""Contrastive representation learning for anomaly detection (seed 003 §5.3: AnomalyCLR, DarkCLR).

:class:`CLR` learns a representation of sets (jets of constituents, events of objects) with
a :class:`likely.nn.SetTransformer`, augmentations from ``likely.data`` and the losses of
:mod:`likely.represent.losses`; :func:`linear_classifier_test` says how well a representation
separates two labelled samples; :class:`RawSets` is the raw-data baseline (the
preprocessed objects, flattened). Anomaly scores in it: ``likely.detect.RepresentationDetector``.
"""

from likely.represent.clr import AUGMENTATIONS, CLR
from likely.represent.evaluation import linear_classifier_test
from likely.represent.raw import RawSets
from likely.represent.losses import anomclr_loss, anomclr_plus_loss, cosine_similarity, darkclr_loss, simclr_loss

__all__ = ["AUGMENTATIONS", "CLR", "anomclr_loss", "anomclr_plus_loss", "cosine_similarity", "darkclr_loss",
           "linear_classifier_test", "RawSets", "simclr_loss"]
