"""A transformer over padded sets of objects: one permutation-invariant vector per set.

Events of reconstructed objects (MET, leptons, jets) and jets of constituents are sets of
different sizes, stored padded to a fixed width ``P`` with a mask (``likely.data.Particles``).
:class:`SetTransformer` embeds each object (its features, plus a learned embedding of its
type when ``n_ids`` is given), runs transformer encoder blocks in which padded objects are
masked out of the attention, aggregates the real objects (sum or mean) and applies a
projection head. Nothing depends on the order of the objects or on how much padding there
is (tests/test_nn_sets.py), the representation AnomalyCLR and DarkCLR learn (seed 003 §5.3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from likely.nn.device import to_numpy, to_tensor
from likely.nn.mlp import MLP
from likely.nn.progress import batch_slices

__all__ = ["ANGLE_SCALES", "SetTransformer", "apply_to_sets", "set_inputs", "set_scales"]

AGGREGATIONS = ("sum", "mean")
#: scale of each angular feature in a network's input (seed 003: η / 4, φ / π for events)
ANGLE_SCALES = {"eta": 4.0, "phi": np.pi}


def set_scales(X: np.ndarray, features: Sequence[str]) -> tuple[float, int | None]:
    """What :func:`set_inputs` needs from training sets ``X`` (N, P, F), first feature pT (GeV):
    the mean pT of the real objects (pT > 0) and, with an ``"id"`` feature, the number of
    object types (max id + 1; else None)."""
    real = X[..., 0] > 0
    n_ids = int(X[..., list(features).index("id")][real].max()) + 1 if "id" in features else None
    return float(X[..., 0][real].mean()), n_ids


def set_inputs(x: torch.Tensor, features: Sequence[str], pt_scale: float
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """:class:`SetTransformer` inputs of raw padded sets ``x`` (N, P, F) named ``features``:
    the features scaled (N, P, F′) — pT / ``pt_scale`` (no centring keeps the padding at zero),
    η / 4, φ / π, others as they are —, the mask (N, P) of real objects (pT > 0) and the
    object types (N, P) long of an ``"id"`` feature (else None; it is not an input feature)."""
    keep = [k for k, name in enumerate(features) if name != "id"]
    scales = torch.tensor([pt_scale if name == "pt" else ANGLE_SCALES.get(name, 1.0)
                           for name in features if name != "id"], dtype=x.dtype, device=x.device)
    ids = x[..., list(features).index("id")].round().long() if "id" in features else None
    return x[..., keep] / scales, x[..., 0] > 0, ids


@torch.no_grad()
def apply_to_sets(model: nn.Module, X: np.ndarray, features: Sequence[str], pt_scale: float,
                  device: str | torch.device, batch: int = 1024) -> np.ndarray:
    """``model`` in eval mode on raw padded sets ``X`` (N, P, F), ``batch`` sets at a time through
    :func:`set_inputs`: its outputs (N, out) as float32."""
    model.eval()
    return np.concatenate([to_numpy(model(*set_inputs(to_tensor(X[start:stop], device), features, pt_scale)))
                           for start, stop in batch_slices(len(X), batch)])


class SetTransformer(nn.Module):
    """Transformer encoder over padded sets → one vector per set.

    Parameters
    ----------
    in_features : int
        Features per object F (e.g. 3 for pT, η, φ).
    dim : int
        Width of the object embeddings and of the transformer (seed 003: 160 for events, 128 for jets).
    out_features : int or None
        Output width of the projection head; None: no head (``forward`` is :meth:`represent`).
    layers, heads : int
        Transformer encoder blocks and attention heads per block (``dim % heads == 0``).
    feedforward : int
        Hidden width of each block's feed-forward network.
    head_hidden : sequence of int
        Hidden widths of the projection head (seed: one hidden layer, two linear layers).
    n_ids : int or None
        Number of object types (ids 0 … n_ids − 1) with a learned embedding added to each
        object's; None: objects have no type.
    aggregate : {"sum", "mean"}
        How the real objects' outputs become one vector: a sum keeps the multiplicity, a
        mean does not.
    dropout : float
        Dropout in the transformer blocks (seed: 0.1).
    """

    def __init__(self, in_features: int, dim: int = 128, out_features: int | None = 128, *, layers: int = 4,
                 heads: int = 4, feedforward: int = 512, head_hidden: Sequence[int] = (128,),
                 n_ids: int | None = None, aggregate: str = "sum", dropout: float = 0.1) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be a multiple of heads ({heads})")
        if aggregate not in AGGREGATIONS:
            raise ValueError(f"aggregate must be one of {AGGREGATIONS}; got {aggregate!r}")
        self.aggregate = aggregate
        self.embed = nn.Linear(in_features, dim)
        self.id_embedding = None if n_ids is None else nn.Embedding(n_ids, dim)
        block = nn.TransformerEncoderLayer(dim, heads, feedforward, dropout, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(dim), enable_nested_tensor=False)
        self.head = None if out_features is None else MLP(dim, out_features, tuple(head_hidden), "relu")

    def represent(self, x: torch.Tensor, mask: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        """The aggregated transformer output (N, dim) of sets ``x`` (N, P, F) with ``mask`` (N, P) bool
        (True: a real object) and, with ``n_ids``, object types ``ids`` (N, P) int."""
        self._check(x, mask, ids)
        h = self.embed(x)
        if self.id_embedding is not None:
            h = h + self.id_embedding(ids.clamp(0, self.id_embedding.num_embeddings - 1))
        h = self.blocks(h, src_key_padding_mask=~mask)
        weights = mask.to(h.dtype).unsqueeze(-1)
        total = (h * weights).sum(1)
        return total if self.aggregate == "sum" else total / weights.sum(1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        """The projection head's output (N, out_features) (the representation without a head)."""
        z = self.represent(x, mask, ids)
        return z if self.head is None else self.head(z)

    def _check(self, x: torch.Tensor, mask: torch.Tensor, ids: torch.Tensor | None) -> None:
        if x.ndim != 3 or mask.shape != x.shape[:2] or mask.dtype != torch.bool:
            raise ValueError(f"x must be (N, P, F) and mask (N, P) bool; got {tuple(x.shape)} and "
                             f"{tuple(mask.shape)} {mask.dtype}")
        if not bool(mask.any(1).all()):
            raise ValueError(f"mask: {int((~mask.any(1)).sum())} set(s) have no object; every set needs one")
        if (ids is None) != (self.id_embedding is None):
            raise ValueError("ids must be given exactly when the transformer has n_ids object types")
        if ids is not None and ids.shape != mask.shape:
            raise ValueError(f"ids must be (N, P) like mask; got {tuple(ids.shape)}")
        if ids is not None and bool(((ids < 0) | (ids >= self.id_embedding.num_embeddings))[mask].any()):
            raise ValueError(f"ids of real objects must lie in 0 … {self.id_embedding.num_embeddings - 1}")
