"""Model input conventions: pixels (0-255, RGB or grey, channels last) <-> model input.

Every command that feeds or shows images goes through :func:`to_model_input` and :func:`to_pixels`.
The functions use only arithmetic and slicing, so they work on numpy arrays and on TensorFlow tensors
alike (the ascent engine applies them inside its compiled step); this module imports no TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MODES = ("none", "unit", "caffe", "tf", "torch", "bgr")

#: ImageNet channel means in BGR order, as used by Caffe-trained models (VGG16, VGG19, ResNet50).
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def check_mode(mode: str) -> str:
    """Return ``mode`` if it is a known preprocessing mode, else raise a one-line error."""
    from ..errors import CnnvizError

    if mode not in MODES:
        raise CnnvizError(f"unknown preprocessing {mode!r}; use one of: {', '.join(MODES)}")
    return mode


def _per_channel(values: tuple[float, ...], channels: int, like: Any = None) -> Any:
    """Per-channel constants as NumPy, or as a backend tensor when ``like`` is one (a PyTorch tensor
    minus a NumPy array would go through NumPy, which refuses tensors that record gradients)."""
    out = (np.asarray(values, dtype="float32") if channels == len(values)
           else np.full((channels,), float(np.mean(values)), dtype="float32"))
    if like is None or isinstance(like, np.ndarray):
        return out
    from keras import ops

    return ops.convert_to_tensor(out)


def _flip_channels(x: Any, channels: int) -> Any:
    """RGB <-> BGR. NumPy stays NumPy; a backend tensor goes through ``keras.ops.flip`` (PyTorch
    tensors have no negative-step slices)."""
    if channels != 3:
        return x
    if isinstance(x, np.ndarray):
        return x[..., ::-1]
    from keras import ops

    return ops.flip(x, axis=-1)


def to_model_input(pixels: Any, mode: str) -> Any:
    """Map pixels in [0, 255] (RGB or grey, channels last) to what the model expects."""
    channels = int(pixels.shape[-1])
    if mode == "none":
        return pixels
    if mode == "unit":
        return pixels / 255.0
    if mode == "caffe":
        return _flip_channels(pixels, channels) - _per_channel(CAFFE_MEAN_BGR, channels, pixels)
    if mode == "tf":
        return pixels / 127.5 - 1.0
    if mode == "torch":
        return (pixels / 255.0 - _per_channel(TORCH_MEAN, channels, pixels)) / _per_channel(TORCH_STD, channels, pixels)
    if mode == "bgr":  # raw 0-255 BGR, no mean: models trained on OpenCV frames
        return _flip_channels(pixels, channels)
    return to_model_input(pixels, check_mode(mode))


def to_pixels(x: Any, mode: str) -> Any:
    """Inverse of :func:`to_model_input`: model input back to pixels in [0, 255] (not clipped)."""
    channels = int(x.shape[-1])
    if mode == "none":
        return x
    if mode == "unit":
        return x * 255.0
    if mode == "caffe":
        return _flip_channels(x + _per_channel(CAFFE_MEAN_BGR, channels, x), channels)
    if mode == "tf":
        return (x + 1.0) * 127.5
    if mode == "torch":
        return (x * _per_channel(TORCH_STD, channels, x) + _per_channel(TORCH_MEAN, channels, x)) * 255.0
    if mode == "bgr":
        return _flip_channels(x, channels)
    return to_pixels(x, check_mode(mode))
