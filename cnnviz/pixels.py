"""Pixel arithmetic on numpy arrays: deprocessing, normalisation, colour maps. No TensorFlow here."""

from __future__ import annotations

import numpy as np

EPS = 1e-7


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Round and clip pixels in [0, 255] to uint8 (what a PNG stores)."""
    return np.clip(np.rint(np.asarray(pixels, dtype="float64")), 0, 255).astype("uint8")


def rms_change(pictures: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Per picture, the root-mean-square difference from ``photo`` in grey levels (0-255): how far a
    feature accentuation moved away from the photo it started from."""
    diff = np.asarray(pictures, "float64") - np.asarray(photo, "float64")[None]
    return np.sqrt(np.mean(np.square(diff), axis=tuple(range(1, diff.ndim))))


def deprocess_classic(image: np.ndarray, std: float = 0.1) -> np.ndarray:
    """The Keras-blog display transform: centre, scale to std 0.1, shift to 0.5, clip, to 0-255.

    A flat (dead) image stays flat grey instead of dividing by zero.
    """
    x = np.asarray(image, dtype="float64")
    x = x - x.mean()
    x = x / (x.std() + 1e-5) * std + 0.5
    return to_uint8(np.clip(x, 0.0, 1.0) * 255.0)


def normalize01(a: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Scale to [0, 1] by (a - lo) / (hi - lo + eps); an all-constant map becomes all zeros."""
    a = np.asarray(a, dtype="float64")
    lo = float(a.min()) if lo is None else lo
    hi = float(a.max()) if hi is None else hi
    return np.clip((a - lo) / (hi - lo + EPS), 0.0, 1.0)


def symmetric01(a: np.ndarray) -> np.ndarray:
    """Map signed values to [0, 1] with 0 at 0.5 (for kernels and perturbations)."""
    a = np.asarray(a, dtype="float64")
    m = float(np.abs(a).max())
    return 0.5 + 0.5 * a / (m + EPS)


def colormap(values01: np.ndarray, name: str = "viridis") -> np.ndarray:
    """Apply a matplotlib colour map to values in [0, 1]; returns uint8 RGB (..., 3)."""
    from matplotlib import colormaps

    lut = (colormaps[name].resampled(256)(np.arange(256))[:, :3] * 255.0).round().astype("uint8")
    idx = np.clip(np.rint(np.asarray(values01) * 255.0), 0, 255).astype("int64")
    return lut[idx]


def luma(rgb: np.ndarray) -> np.ndarray:
    """Grey level (float64, H x W) of an RGB image: ITU-R 601 weights, as OpenCV uses."""
    return np.asarray(rgb, dtype="float64") @ np.array([0.299, 0.587, 0.114])


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Grey (H, W) or (H, W, 1) -> (H, W, 3); RGB passes through."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return a


def upscale_nearest(image: np.ndarray, factor: int) -> np.ndarray:
    """Integer nearest-neighbour enlargement, so small tiles stay crisp in a grid."""
    if factor <= 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def grey(image: np.ndarray) -> np.ndarray:
    """uint8 RGB or grey -> float grey (H, W), ITU-R 601 luma like OpenCV."""
    a = np.asarray(image, dtype="float64")
    if a.ndim == 3 and a.shape[-1] == 3:
        return luma(a)
    return a.reshape(a.shape[0], a.shape[1])


def orientation_rgb(angle: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """Colour wheel: hue = gradient direction, brightness = magnitude (uint8 RGB)."""
    import cv2

    mag = magnitude if magnitude.ndim == 2 else magnitude.max(axis=-1)
    hue = ((np.mod(angle, 2 * np.pi) / (2 * np.pi)) * 179).astype("uint8")
    val = np.clip(mag / (np.percentile(mag, 99.5) + 1e-8) * 255, 0, 255).astype("uint8")
    hsv = np.stack([hue, np.full_like(hue, 255), val], axis=-1)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
