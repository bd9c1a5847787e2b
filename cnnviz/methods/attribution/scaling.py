"""How a map becomes the [0, 1] heat that is drawn: its positive part over a threshold, with the
brightest outliers clipped for pixel-gradient maps.

A gradient map on a photograph is a few very large values over a faint field: scaled to its own
maximum, 1.6% (saliency) and 2.4% (integrated gradients) of a 224-px cat's pixels reach a quarter of
it, and the figure looks empty. Captum's ``visualize_image_attr`` clips by ``outlier_perc``: the
threshold is the value at which the sorted values' cumulative sum reaches ``100 - outlier_perc`` % of
their total, so the top ``outlier_perc`` % of the heat *mass* saturates. The raw map is never clipped.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-8

#: Captum's default ``outlier_perc``, used for maps drawn per pixel from input gradients.
DEFAULT_CLIP_PERCENT = 2.0
PIXEL_GRADIENT_METHODS = ("saliency", "smoothgrad", "integrated-gradients", "guided-backprop", "guided-gradcam")


def default_clip(method: str) -> float:
    """Percent of the heat mass clipped when nothing is asked: Captum's 2 for pixel-gradient maps, 0 for
    the smooth maps of the CAM family, occlusion and RISE (their maximum is not an outlier)."""
    return DEFAULT_CLIP_PERCENT if method in PIXEL_GRADIENT_METHODS else 0.0


def cumulative_threshold(values: np.ndarray, percent: float) -> float:
    """The smallest value whose cumulative sum (ascending) reaches ``percent`` % of the total (Captum's rule)."""
    v = np.sort(np.asarray(values, "float64").ravel())
    if v.size == 0:
        return 0.0
    cum = np.cumsum(v)
    i = int(np.searchsorted(cum, cum[-1] * percent / 100.0))
    return float(v[min(i, v.size - 1)])


def heat01(raw: np.ndarray, clip_percent: float = 0.0) -> np.ndarray:
    """The drawn heat: the positive part of ``raw`` over its maximum, or (``clip_percent`` > 0) over the
    cumulative threshold at ``100 - clip_percent`` %, clipped to 1."""
    pos = np.maximum(np.asarray(raw, "float64"), 0.0)
    top = cumulative_threshold(pos, 100.0 - clip_percent) if clip_percent > 0 else float(pos.max(initial=0.0))
    return np.clip(pos / (top + EPS), 0.0, 1.0).astype("float32")
