"""Reference images in pixel space (0-255): what "absence of evidence" looks like for integrated
gradients, occlusion and the insertion curve. numpy + OpenCV only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import CnnvizError
from .registry import BASELINES


def blur(image: np.ndarray) -> np.ndarray:
    """A strong Gaussian blur, sigma = a tenth of the larger side (2.8 px at 28 px): RISE's insertion canvas
    (sigma 5 at 224 px there) left LeNet at p = 0.95 on its digits; at a tenth the mean is 0.3."""
    import cv2

    h, w = image.shape[:2]
    sigma = max(1.0, max(h, w) / 10.0)
    out = cv2.GaussianBlur(np.asarray(image, "float32"), (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    return out.reshape(image.shape)


def check_baseline(spec: str) -> str:
    """Before the model loads: a known name or a readable image file."""
    if spec in BASELINES or Path(spec).is_file():
        return spec
    raise CnnvizError(f"unknown --baseline {spec!r}; use one of: {', '.join(BASELINES)}, or an image file of the model's input size")


def baseline_pixels(spec: str, image: np.ndarray, seed: int = 0) -> np.ndarray:
    """The baseline for ``image`` (H, W, C pixels): black, blurred, uniform noise, or an image file of the same size."""
    image = np.asarray(image, "float32")
    if image.ndim == 2:
        image = image[..., None]
    if spec == "black":
        return np.zeros_like(image)
    if spec == "blur":
        return blur(image)
    if spec == "noise":
        return np.random.default_rng(seed).uniform(0.0, 255.0, image.shape).astype("float32")
    from ...inputs.images import fit_channels, read_image

    other, _ = fit_channels(read_image(spec), image.shape[-1])
    if other.shape[:2] != image.shape[:2]:
        raise CnnvizError(f"--baseline image {spec!r} is {other.shape[1]}x{other.shape[0]} px; the input is "
                          f"{image.shape[1]}x{image.shape[0]}: give an image of that size, or black, blur or noise")
    return np.asarray(other, "float32").reshape(image.shape)
