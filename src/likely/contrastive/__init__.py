"""Contrastive representation learning for anomaly detection (seed 003 §5.3: AnomalyCLR, DarkCLR).

So far the losses (:mod:`likely.contrastive.losses`); the representation network is
:class:`likely.nn.SetTransformer` and the augmentations live in ``likely.data``.
"""

from likely.contrastive.losses import anomclr_loss, anomclr_plus_loss, cosine_similarity, darkclr_loss, simclr_loss

__all__ = ["anomclr_loss", "anomclr_plus_loss", "cosine_similarity", "darkclr_loss", "simclr_loss"]
