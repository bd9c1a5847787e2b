"""How much a filter responds to the pictures shown: its mean activation on the saved 8-bit pixels, and
the contrast line search that keeps the stronger of a picture and its contrast-stretched copy."""

from __future__ import annotations

import numpy as np

from ..inputs.preprocessing import to_model_input
from ..pixels import to_uint8

#: A filter "responds" (is alive) when its mean activation on its picture exceeds this.
ALIVE_EPS = 1e-6


CONTRASTS = (2.5,)


def contrast_search(model, images: np.ndarray, indices: list[int], preprocess: str,
                    factors: tuple[float, ...] = CONTRASTS) -> tuple[np.ndarray, np.ndarray]:
    """Line search along contrast: per image, keep ``128 + k (x - 128)`` for the k in (1, *factors)
    whose saved pixels give the highest mean activation. Returns (images, their activations)."""
    best_images = images.copy()
    best = mean_activation(model, images, indices, preprocess)
    for k in factors:
        candidate = to_uint8((images.astype("float32") - 128.0) * k + 128.0)
        acts = mean_activation(model, candidate, indices, preprocess)
        better = acts > best
        best[better] = acts[better]
        best_images[better] = candidate[better]
    return best_images, best


def mean_activation(model, images: np.ndarray, indices: list[int], preprocess: str, batch_size: int = 32) -> np.ndarray:
    """Mean activation of filter ``indices[k]`` for ``images[k]`` (saved uint8 pixels, re-preprocessed)."""
    from ..backends.runtime import forward

    out = []
    for b in range(0, len(images), batch_size):
        x = to_model_input(images[b : b + batch_size].astype("float32"), preprocess)
        maps = forward(model, x)[0]
        for k, i in enumerate(indices[b : b + batch_size]):
            out.append(float(maps[k, ..., i].mean()))
    return np.asarray(out, dtype="float64")
