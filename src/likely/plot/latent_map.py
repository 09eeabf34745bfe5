"""The latent map of models: each model's held-out sets in the latent plane, and a query's."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_hex
from matplotlib.patches import Ellipse

from likely.plot.common import figure, styled

__all__ = ["plot_latent_map"]


@styled
def plot_latent_map(latent_map, query=None, query_label: str = "query", max_points: int = 300):
    """Models in the first two latent dimensions of a fitted :class:`likely.search.LatentMap`.

    Each model: up to ``max_points`` of its held-out sets (dots), its centroid (labelled) and the
    ellipse of its latent covariance (1σ). ``query``: a :class:`likely.search.Resemblance`, whose
    sets are drawn as black crosses and whose three most similar models are named in the legend.
    """
    if latent_map.latent_dim < 2:
        raise ValueError(f"the map needs latent_dim >= 2 to be drawn in a plane; it has {latent_map.latent_dim}")
    fig, axes = figure(width=8.0, height=7.0)
    ax = axes[0, 0]
    # resolved now, in the style's colour cycle: "C<i>" would be looked up again when the figure is saved
    colors = [to_hex(f"C{i % 10}") for i in range(len(latent_map.models_))]
    for name, color, centre, covariance in zip(latent_map.models_, colors, latent_map.centroids_,
                                               latent_map.covariances_, strict=True):
        points = latent_map.reference_latents_[name][:max_points]
        ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.3, color=color)
        ax.add_patch(_ellipse(centre[:2], covariance[:2, :2], color))
        label = ax.annotate(name, centre[:2], fontsize="x-small", fontweight="bold", color=color, ha="center",
                            va="bottom", clip_on=True)
        label.set_in_layout(False)  # a name near the edge must not shrink the axes
    if query is not None:
        closest = "\n".join(f"{name} ({d:.2f})" for name, d in zip(query.names[:3], query.distances[:3], strict=False))
        ax.scatter(query.latent[:max_points, 0], query.latent[:max_points, 1], s=18, marker="x", color="black",
                   label=f"{query_label}, closest:\n{closest}")
        ax.legend(fontsize="xx-small", loc="best").set_in_layout(False)  # a long name must not shrink the axes
    ax.set(xlabel=r"latent $z_1$", ylabel=r"latent $z_2$",
           title=f"{len(latent_map.models_)} models, sets of {latent_map.set_size} events")
    return fig


def _ellipse(centre: np.ndarray, covariance: np.ndarray, color: str) -> Ellipse:
    """The 1σ ellipse of a 2-d covariance."""
    values, vectors = np.linalg.eigh(covariance)
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    width, height = 2 * np.sqrt(np.clip(values[::-1], 0, None))
    return Ellipse(centre, width, height, angle=angle, fill=False, color=color, linewidth=1.5)
