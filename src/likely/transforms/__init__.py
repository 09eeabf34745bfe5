"""Invertible, Jacobian-tracking preprocessing, so densities stay in the user's coordinates."""

from __future__ import annotations

from likely.transforms.base import Chain, ElementwiseTransform, Transform, fresh_copy, transform_from_dict
from likely.transforms.elementwise import Affine, Log, Logit, MinMax, Standardize
from likely.transforms.simplex import LayerSplit

__all__ = [
    "Affine",
    "Chain",
    "ElementwiseTransform",
    "LayerSplit",
    "Log",
    "Logit",
    "MinMax",
    "Standardize",
    "Transform",
    "make_preprocessing",
    "transform_from_dict",
]

PRESETS = {
    "none": lambda: Chain(),
    "standardize": lambda: Standardize(),
    "logit": lambda: Chain(MinMax(), Logit(), Standardize()),
}


def make_preprocessing(spec: str | Transform | None) -> Transform:
    """An unfitted transform from a preset name, a ``Transform`` (copied) or None (identity).

    Presets: ``"standardize"``; ``"logit"`` = MinMax -> Logit -> Standardize (for bounded
    features, as in CATHODE); ``"none"``.
    """
    if spec is None:
        return Chain()
    if isinstance(spec, Transform):
        return fresh_copy(spec)
    if isinstance(spec, str) and spec in PRESETS:
        return PRESETS[spec]()
    raise ValueError(f"preprocessing must be one of {tuple(PRESETS)}, a Transform or None; got {spec!r}")
