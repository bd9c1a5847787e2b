"""Deletion and insertion scores (RISE, Petsiuk et al. 2018): how fast the class probability falls as
the image is removed in the heatmap's order (deletion, lower = more faithful), and how fast it rises as
it is revealed on a blurred canvas (insertion, higher = more faithful); each is the area under the
curve of probability against the fraction of pixels, in [0, 1].

The image is removed in square patches a sixteenth of its side (1 px at 28, 14 px at 224), ranked by
the heat's mean over each patch. The bar a heatmap must beat is a random *smooth* map (white noise
blurred with sigma an eighth of the side, the scale of a 7x7 CAM grid on 224 px; the mean of
:data:`REFERENCE_ORDERS` of them), ordered the same way. Random single pixels are no fair bar on a
photograph: a sprinkling of black dots wrecks a 224-px image at once (the cat's probability falls
to 0.025 AUC while Grad-CAM's contiguous deletion scores 0.33), so every map looked far worse than
"random"; random 14-px patches still do (0.10 against 0.26). A random blob removes the image the way
a heatmap does, just not where the evidence is.
"""

from __future__ import annotations

import numpy as np

from .baselines import blur
from .options import DEFAULT_FAITHFULNESS_STEPS as DEFAULT_STEPS

REFERENCE_ORDERS = 3  # random smooth maps averaged into the reference


def patch_size(h: int, w: int) -> int:
    """The deletion / insertion patch side: a sixteenth of the smaller side, at least 1 px."""
    return max(1, min(h, w) // 16)


def pixel_order(scores: np.ndarray, rng: np.random.Generator, patch: int = 1) -> np.ndarray:
    """Flat pixel indices, patch by patch from the highest mean score to the lowest (``patch`` x ``patch``
    squares on a grid from the top-left; the last row/column may be narrower); ties in random order
    (not top-left first)."""
    scores = np.asarray(scores, "float64")
    h, w = scores.shape
    cell = (np.arange(h)[:, None] // patch) * (-(-w // patch)) + np.arange(w)[None, :] // patch  # patch id per pixel
    ids = cell.ravel()
    n = int(ids.max()) + 1
    means = np.bincount(ids, scores.ravel(), n) / np.bincount(ids, minlength=n)
    rank = np.empty(n, int)
    rank[np.lexsort((rng.random(n), -means))] = np.arange(n)
    return np.lexsort((rng.random(ids.size), rank[ids]))  # pixels of the first patch first


def random_smooth_map(hw: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """White noise blurred with sigma an eighth of the smaller side: a random heatmap as smooth as a CAM's."""
    import cv2

    sigma = max(1.0, min(hw) / 8.0)
    noise = rng.standard_normal(hw).astype("float32")
    return cv2.GaussianBlur(noise, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


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


def scores(probabilities, image: np.ndarray, heat: np.ndarray | None, target: int, steps: int = DEFAULT_STEPS, seed: int = 0,
           patch: int | None = None, orders: int = REFERENCE_ORDERS) -> dict:
    """Deletion and insertion AUC of ``heat``'s patch order, with the curves; ``heat`` None: the reference,
    the mean curves of ``orders`` random smooth maps in the same patches. ``patch`` None: :func:`patch_size`."""
    rng = np.random.default_rng(seed)
    shape = np.asarray(image).shape[:2]
    patch = patch or patch_size(*shape)
    maps = [heat] if heat is not None else [random_smooth_map(shape, rng) for _ in range(orders)]
    runs = [curves(probabilities, image, pixel_order(h, rng, patch), target, steps) for h in maps]
    d, i = np.mean([r[0] for r in runs], axis=0), np.mean([r[1] for r in runs], axis=0)
    out = {"deletion_auc": auc(d), "insertion_auc": auc(i), "deletion_curve": [float(v) for v in d],
           "insertion_curve": [float(v) for v in i], "patch": patch}
    if heat is None:
        out["reference"] = f"mean of {len(runs)} random smooth maps (sigma {max(1.0, min(shape) / 8.0):g} px) in {patch}x{patch}-px patches"
    return out

