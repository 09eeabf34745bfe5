"""Contrastive losses of seed 003 §5.3 on batches of representations (N, D).

``z`` are the representations of a batch of background objects, ``z_pos`` of their
physically augmented views x′ (same physics), ``z_anom`` of their anomaly-augmented views
x* (made unlike themselves). ``s`` is the cosine similarity and ``τ`` the temperature.

- :func:`simclr_loss` — SimCLR / JetCLR's NT-Xent: each of the 2N views must find its
  partner among the other 2N − 1 (seed eq. 3.48);
- :func:`anomclr_loss` — L_AnomCLR (eq. 5.9): the positive pair pulled together, the anomaly
  pair pushed apart, against all other objects of the batch;
- :func:`anomclr_plus_loss` — its positive-only form L⁺ (eq. 5.10), O(N) in the batch;
- :func:`darkclr_loss` — L⁺ plus a penalty on the norms of the background representations,
  so that an anomaly's norm comes out large (DarkCLR, s_CLR = ‖z‖).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["anomclr_loss", "anomclr_plus_loss", "cosine_similarity", "darkclr_loss", "simclr_loss"]


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """All cosine similarities s(a_i, b_j), (N, M), of ``a`` (N, D) and ``b`` (M, D)."""
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T


def _paired(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """s(a_i, b_i), (N,)."""
    return F.cosine_similarity(a, b, dim=1)


def simclr_loss(z: torch.Tensor, z_pos: torch.Tensor, tau: float = 0.1) -> torch.Tensor:
    """NT-Xent of the 2N views: mean over views v of −log(e^{s(v, v⁺)/τ} / Σ_{u ≠ v} e^{s(v, u)/τ})."""
    views = torch.cat([z, z_pos])
    n = len(z)
    logits = cosine_similarity(views, views) / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, partner)


def anomclr_loss(z: torch.Tensor, z_pos: torch.Tensor, z_anom: torch.Tensor, tau: float = 0.1) -> torch.Tensor:
    """L_AnomCLR, the batch mean of
    −log(e^{[s(z_i, z′_i) − s(z_i, z*_i)]/τ} / Σ_{j ≠ i} [e^{s(z_i, z_j)/τ} + e^{s(z_i, z′_j)/τ}])."""
    n = len(z)
    others = torch.cat([cosine_similarity(z, z), cosine_similarity(z, z_pos)], dim=1) / tau
    self_pairs = torch.eye(n, dtype=torch.bool, device=z.device).repeat(1, 2)
    denominator = torch.logsumexp(others.masked_fill(self_pairs, float("-inf")), dim=1)
    return (denominator - (_paired(z, z_pos) - _paired(z, z_anom)) / tau).mean()


def anomclr_plus_loss(z: torch.Tensor, z_pos: torch.Tensor, z_anom: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """L⁺_AnomCLR, the batch mean of [s(z_i, z*_i) − s(z_i, z′_i)] / τ (τ only scales it)."""
    return ((_paired(z, z_anom) - _paired(z, z_pos)) / tau).mean()


def darkclr_loss(z: torch.Tensor, z_pos: torch.Tensor, z_anom: torch.Tensor, norm_weight: float = 1.0,
                 tau: float = 1.0) -> torch.Tensor:
    """DarkCLR: L⁺_AnomCLR + ``norm_weight`` × the mean squared norm ‖z‖² of the background
    representations (the objects and their physical views, not the anomaly views)."""
    background = torch.cat([z, z_pos])
    return anomclr_plus_loss(z, z_pos, z_anom, tau) + norm_weight * background.square().sum(1).mean()
