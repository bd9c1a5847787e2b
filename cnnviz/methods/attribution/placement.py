"""Put a layer's map back on the input where its units look.

Unit ``i`` of a conv layer is centred on input coordinate ``start + i * jump`` (its receptive field,
:mod:`cnnviz.models.receptive_field`); a map is interpolated linearly between those centres, and held
at the outermost centres' values beyond them (those pixels lie inside the edge units' fields).
Stretching a valid convolution's map edge to edge instead shifts everything towards the borders.
"""

from __future__ import annotations

import numpy as np


def interpolation_matrix(centres: np.ndarray, n: int) -> np.ndarray:
    """(n, len(centres)) weights: row ``y`` interpolates linearly between the centres around pixel y."""
    centres = np.asarray(centres, "float64")
    eye = np.eye(len(centres))
    pixels = np.arange(n, dtype="float64")
    return np.stack([np.interp(pixels, centres, eye[i]) for i in range(len(centres))], axis=1)


def stretched_centres(units: int, pixels: int) -> np.ndarray:
    """Centres of an edge-to-edge resize (what cv2.resize assumes): ``(i + 0.5) * pixels / units - 0.5``."""
    return (np.arange(units) + 0.5) * pixels / units - 0.5


def place(maps: np.ndarray, centres_y, centres_x, image_hw: tuple[int, int]) -> np.ndarray:
    """Maps (..., h, w) at layer resolution -> (..., H, W) on the input, by the unit centres."""
    wy = interpolation_matrix(centres_y, image_hw[0])
    wx = interpolation_matrix(centres_x, image_hw[1])
    return np.einsum("yi,...ij,xj->...yx", wy, np.asarray(maps, "float64"), wx).astype("float32")

