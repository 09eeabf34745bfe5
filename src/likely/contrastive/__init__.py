"""Contrastive representation learning for anomaly detection (seed 003 §5.3: AnomalyCLR, DarkCLR).

:class:`CLR` learns a representation of sets (jets of constituents, events of objects) with
a :class:`likely.nn.SetTransformer`, augmentations from ``likely.data`` and the losses of
:mod:`likely.contrastive.losses`. The anomaly scores on representations come next (issue 16).
"""

from likely.contrastive.clr import AUGMENTATIONS, CLR
from likely.contrastive.losses import anomclr_loss, anomclr_plus_loss, cosine_similarity, darkclr_loss, simclr_loss

__all__ = ["AUGMENTATIONS", "CLR", "anomclr_loss", "anomclr_plus_loss", "cosine_similarity", "darkclr_loss", "simclr_loss"]
