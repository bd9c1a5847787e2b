"""Edge detection by a Keras ``Conv2D`` whose weights are fixed classic kernels.

The convolution the tutorials talk about is literally the one that runs: the image is padded
(reflect-101 by default, OpenCV's default border) and passed through a ``Conv2D(padding="valid",
use_bias=False)`` layer holding V and H (or any kernel). It runs in float64 wherever the backend
allows it (TensorFlow; JAX with ``jax_enable_x64``, switched on for this call only; PyTorch on CPU
and CUDA), so the responses equal OpenCV's ``filter2D`` to ~1e-13; where not (JAX on TPU, PyTorch
on Apple MPS) in float32, and :attr:`EdgeResult.dtype` says so.
"""

from __future__ import annotations


import numpy as np

from ..errors import CnnvizError
from ..pixels import grey, luma, orientation_rgb  # noqa: F401 (re-exported)
from .kernels_classic import EDGE_PAIRS, SINGLE, gallery_kernels, load_kernel_file
from ..results.edges import EdgeResult  # noqa: F401 (re-exported)

BORDERS = {"reflect101": "reflect", "symmetric": "symmetric", "zero": "constant", "replicate": "edge"}


def kernel_conv(kernels: np.ndarray, dtype: str = "float64"):
    """A Keras Conv2D(n, k x k, valid, no bias) holding ``kernels`` (k, k, n) for 1 input channel.
    On JAX, build and call it inside :func:`cnnviz.backends.runtime.float64_scope` to keep float64."""
    from ..backends.runtime import keras

    k, _, n = kernels.shape
    layer = keras.layers.Conv2D(n, k, padding="valid", use_bias=False, trainable=False, dtype=dtype)
    layer.build((None, None, None, 1))
    layer.set_weights([kernels.reshape(k, k, 1, n).astype(dtype)])
    return layer


def apply_kernels(image: np.ndarray, kernels: np.ndarray, border: str = "reflect101") -> np.ndarray:
    """Correlate a 2-D image (H, W) with each kernel (k, k, n) -> (H, W, n), through Conv2D, in
    float64 where the backend allows it (the result's dtype says which)."""
    from ..backends.runtime import float64_dtype, float64_scope, forward

    if border not in BORDERS:
        raise CnnvizError(f"unknown border {border!r}; use one of: {', '.join(BORDERS)}")
    kernels = np.asarray(kernels, dtype="float64")
    if kernels.ndim == 2:
        kernels = kernels[..., None]
    r = kernels.shape[0] // 2
    dtype = float64_dtype()
    padded = np.pad(np.asarray(image, dtype="float64"), r, mode=BORDERS[border]).astype(dtype)
    with float64_scope():
        out = forward(kernel_conv(kernels, dtype), padded[None, :, :, None])[0]
    return out[0]


def resolve_kernel(name: str) -> tuple[str, np.ndarray, np.ndarray | None]:
    """``(label, V, H or None)`` for a kernel name or file."""
    if name in EDGE_PAIRS:
        v = EDGE_PAIRS[name]
        return name, v, v.T.copy()
    if name in SINGLE:
        return name, SINGLE[name], None
    k = load_kernel_file(name)
    return name, k, None  # one kernel from a file: one response, not an invented V/H pair




def edge_filter(image: np.ndarray, kernel: str = "sobel", *, per_channel: bool = False, border: str = "reflect101") -> EdgeResult:
    """Apply V and H (or a single kernel) to the grey image, or to each colour channel."""
    label, v, h = resolve_kernel(kernel)
    stack = np.stack([v, h], axis=-1) if h is not None else v[..., None]
    planes = [np.asarray(image, "float64")[..., c] for c in range(image.shape[-1])] if per_channel and image.ndim == 3 and image.shape[-1] == 3 else [grey(image)]
    responses = np.stack([apply_kernels(p, stack, border) for p in planes], axis=-1)  # (H, W, n, C)
    if len(planes) == 1:
        responses = responses[..., 0]
    vert = responses[:, :, 0]
    horiz = responses[:, :, 1] if h is not None else None
    if horiz is not None:
        mag = np.hypot(vert, horiz)
        # per channel: the orientation of the channel with the strongest gradient
        if mag.ndim == 3:
            pick = np.argmax(mag, axis=-1)[..., None]
            angle = np.arctan2(np.take_along_axis(horiz, pick, -1), np.take_along_axis(vert, pick, -1))[..., 0]
        else:
            angle = np.arctan2(horiz, vert)
    else:
        mag, angle = np.abs(vert), None
    return EdgeResult(label, v, h, vert, horiz, mag, angle, str(responses.dtype))


def gallery(image: np.ndarray, border: str = "reflect101") -> dict[str, np.ndarray]:
    """``{kernel name: response (H, W)}`` of every classic kernel on the grey image (one Conv2D)."""
    kernels = gallery_kernels()
    stack = np.stack(list(kernels.values()), axis=-1)
    out = apply_kernels(grey(image), stack, border)
    return {name: out[..., i] for i, name in enumerate(kernels)}
