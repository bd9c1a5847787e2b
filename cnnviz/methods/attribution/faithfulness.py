"""Deletion and insertion scores (RISE, Petsiuk et al. 2018): how fast the class probability falls as
pixels are removed in the heatmap's order (deletion, lower = more faithful), and how fast it rises as
they are revealed on a blurred canvas (insertion, higher = more faithful); each is the area under
the curve of probability against the fraction of pixels, in [0, 1]. The same for a random order is
the bar a heatmap must beat."""

from __future__ import annotations

import numpy as np

from .baselines import blur

from .options import DEFAULT_FAITHFULNESS_STEPS as DEFAULT_STEPS


def pixel_order(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat pixel indices from the highest score to the lowest; ties in random order (not top-left first)."""
    flat = np.asarray(scores, "float64").ravel()
    return np.lexsort((rng.random(flat.size), -flat))


def curves(probabilities, image: np.ndarray, order: np.ndarray, target: int, steps: int = DEFAULT_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """(deletion, insertion) class probabilities at ``steps + 1`` fractions 0, 1/steps, ..., 1 of the pixels.

    ``probabilities(images) -> (n, classes)`` takes pixel images; deleted pixels become black,
    insertion starts from the blurred image and reveals the original pixels."""
    image = np.asarray(image, "float32")
    if image.ndim == 2:
        image = image[..., None]
    h, w, c = image.shape
    flat = image.reshape(h * w, c)
    blurred = blur(image).reshape(h * w, c)
    counts = np.rint(np.linspace(0, h * w, steps + 1)).astype(int)
    deleted, inserted = [], []
    for n in counts:
        idx = order[:n]
        d = flat.copy()
        d[idx] = 0.0
        i = blurred.copy()
        i[idx] = flat[idx]
        deleted.append(d.reshape(h, w, c))
        inserted.append(i.reshape(h, w, c))
    p = probabilities(np.stack(deleted + inserted))[:, target]
    return p[: steps + 1], p[steps + 1 :]


def auc(curve: np.ndarray) -> float:
    """Area under a curve sampled at equal steps over [0, 1] (trapezoid rule)."""
    curve = np.asarray(curve, "float64")
    return float((curve[:-1] + curve[1:]).sum() / (2 * (len(curve) - 1)))


def scores(probabilities, image: np.ndarray, heat: np.ndarray, target: int, steps: int = DEFAULT_STEPS, seed: int = 0) -> dict:
    """Deletion and insertion AUC of ``heat``'s order (``heat`` None: a random order), with the curves."""
    rng = np.random.default_rng(seed)
    shape = np.asarray(image).shape[:2]
    order = pixel_order(np.zeros(shape) if heat is None else heat, rng)
    d, i = curves(probabilities, image, order, target, steps)
    return {"deletion_auc": auc(d), "insertion_auc": auc(i), "deletion_curve": [float(v) for v in d],
            "insertion_curve": [float(v) for v in i]}
