"""Image parametrisations: what the optimiser changes, and how that becomes pixels in [0, 255].

``pixel``
    The pixels themselves (the Keras-blog recipe and cnnviz's earlier default). The engine clips
    them to [0, 255] (or not, for ``classic``).
``fourier``
    lucid's parametrisation (Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017):
    per channel, the real and imaginary parts of the image's 2-D real spectrum, each coefficient
    scaled by ``1 / max(f, 1 / max(h, w)) ** decay`` (f: spatial frequency in cycles per pixel), so
    that a gradient step moves low frequencies as easily as high ones; then lucid's fixed colour
    decorrelation (the square root of ImageNet's colour covariance, normalised by its largest
    column norm) for 3-channel models, and a sigmoid onto [0, 255].

The inverse real FFT is written as four small real matrix products (exactly ``numpy.fft.irfft2``),
so it runs and differentiates the same way on TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import PARAMS  # noqa: F401 (re-exported: the names make() accepts)

#: lucid's ``color_correlation_svd_sqrt`` (rows: R, G, B).
COLOR_CORRELATION_SVD_SQRT = np.asarray([[0.26, 0.09, 0.02],
                                         [0.27, 0.00, -0.05],
                                         [0.27, -0.09, 0.03]], dtype="float64")
COLOR_CORRELATION = COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))


def check_param(name: str) -> str:
    from ..checks import image_options

    image_options(name, 1)
    return name


def decorrelate(flat: Any) -> Any:
    """Decorrelated colour (..., 3) -> correlated RGB, as lucid's ``_linear_decorelate_color``."""
    from keras import ops

    return ops.matmul(flat, ops.convert_to_tensor(COLOR_CORRELATION.T.astype("float32")))


def correlate(rgb: Any) -> Any:
    """Inverse of :func:`decorrelate` (numpy)."""
    return np.asarray(rgb) @ np.linalg.inv(COLOR_CORRELATION.T)


def rfft2_freqs(h: int, w: int) -> np.ndarray:
    """|f| (cycles per pixel) of each coefficient of ``numpy.fft.rfft2`` of an h x w image."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return np.sqrt(fx * fx + fy * fy)


def spectrum_scale(h: int, w: int, decay: float) -> np.ndarray:
    """lucid's per-coefficient scale: ``sqrt(h w) / max(f, 1 / max(h, w)) ** decay``."""
    return np.sqrt(h * w) / np.maximum(rfft2_freqs(h, w), 1.0 / max(h, w)) ** decay


def _irfft2_bases(h: int, w: int) -> tuple[np.ndarray, ...]:
    """Real matrices with ``irfft2(A + iB) = Ch (A Cw - B Sw) - Sh (A Sw + B Cw)`` (numpy's normalisation)."""
    wf = w // 2 + 1
    v, x = np.arange(wf)[:, None], np.arange(w)[None, :]
    weight = np.full((wf, 1), 2.0)
    weight[0] = 1.0
    if w % 2 == 0:
        weight[-1] = 1.0  # the Nyquist column appears once
    cw = weight * np.cos(2 * np.pi * v * x / w) / w
    sw = weight * np.sin(2 * np.pi * v * x / w) / w
    y, u = np.arange(h)[:, None], np.arange(h)[None, :]
    ch = np.cos(2 * np.pi * y * u / h) / h
    sh = np.sin(2 * np.pi * y * u / h) / h
    return tuple(m.astype("float32") for m in (ch, sh, cw, sw))


def irfft2(real: Any, imag: Any, h: int, w: int) -> Any:
    """``numpy.fft.irfft2(real + 1j imag, s=(h, w))`` over the last two axes, in ``keras.ops``."""
    from keras import ops

    ch, sh, cw, sw = (ops.convert_to_tensor(m) for m in _irfft2_bases(h, w))
    zr = ops.matmul(real, cw) - ops.matmul(imag, sw)
    zi = ops.matmul(real, sw) + ops.matmul(imag, cw)
    return ops.matmul(ch, zr) - ops.matmul(sh, zi)


def low_band(re: Any, im: Any, h: int, w: int, size: tuple[int, int] | None) -> tuple[Any, Any, tuple[int, int]]:
    """The coefficients of an h x w spectrum that an image of ``size`` keeps (its low frequencies,
    rescaled for numpy's irfft2 normalisation): rendering them is an ideal low-pass resampling."""
    from keras import ops

    oh, ow = size or (h, w)
    if (oh, ow) == (h, w):
        return re, im, (h, w)
    top, bottom = (oh + 1) // 2, oh // 2
    rows = lambda a: ops.concatenate([a[..., :top, :], a[..., h - bottom :, :]], axis=-2)
    k = oh * ow / (h * w)
    return rows(re)[..., : ow // 2 + 1] * k, rows(im)[..., : ow // 2 + 1] * k, (oh, ow)


def _standardised(x: Any, eps: float = 1e-5) -> Any:
    """``(x - mean) / (std + eps)`` per image (over every axis but the first)."""
    from keras import ops

    axes = tuple(range(1, len(x.shape)))
    x = x - ops.mean(x, axis=axes, keepdims=True)
    return x / (ops.sqrt(ops.mean(ops.square(x), axis=axes, keepdims=True)) + eps)


@dataclass(frozen=True)
class Pixel:
    """Pixels in [0, 255] are the parameters (B, H, W, C)."""

    name: str = "pixel"
    clip: bool = True
    noise: float = 10.0

    def init(self, rng: np.random.Generator, h: int, w: int, c: int) -> np.ndarray:
        """Grey plus uniform noise of +-``noise``, as the Keras blog."""
        return (128.0 + rng.uniform(-self.noise, self.noise, size=(h, w, c))).astype("float32")

    def image(self, params: Any, h: int, w: int, c: int, size: tuple[int, int] | None = None) -> Any:
        return params

    def size_of(self, params_shape: tuple) -> tuple[int, int]:
        return int(params_shape[1]), int(params_shape[2])


@dataclass(frozen=True)
class Fourier:
    """lucid's Fourier parametrisation; parameters (B, 2, C, H, W // 2 + 1): real and imaginary parts."""

    name: str = "fourier"
    decay: float = 1.0
    sd: float = 0.01
    decorrelate: bool = True

    def init(self, rng: np.random.Generator, h: int, w: int, c: int) -> np.ndarray:
        return rng.normal(0.0, self.sd, size=(2, c, h, w // 2 + 1)).astype("float32")

    def linear(self, params: Any, h: int, w: int, c: int, size: tuple[int, int] | None = None) -> Any:
        """The image before colour and squashing (B, H, W, C): lucid's ``fft_image`` (scaled irfft2 / 4).

        ``size`` smaller than (h, w): the same image band-limited and rendered at ``size`` directly
        from its low-frequency coefficients (an ideal low-pass resampling, no aliasing, and a smaller
        inverse transform): the engine's half-size first steps cost a quarter."""
        from keras import ops

        scale = ops.convert_to_tensor(spectrum_scale(h, w, self.decay).astype("float32"))
        re, im, (oh, ow) = low_band(params[:, 0] * scale, params[:, 1] * scale, h, w, size)
        x = irfft2(re, im, oh, ow) / 4.0
        return ops.transpose(x, (0, 2, 3, 1))

    def image(self, params: Any, h: int, w: int, c: int, size: tuple[int, int] | None = None) -> Any:
        from keras import ops

        x = self.linear(params, h, w, c, size)
        if c == 3 and self.decorrelate:
            x = decorrelate(x)
        return ops.sigmoid(x) * 255.0

    def invert(self, pixels: np.ndarray) -> np.ndarray:
        """Parameters (B, 2, C, H, W // 2 + 1) whose image is ``pixels`` (B, H, W, C, strictly inside
        (0, 255)): lets a later run go on from a saved picture in this parametrisation."""
        x = np.asarray(pixels, "float64") / 255.0
        x = np.clip(x, 1e-6, 1 - 1e-6)
        x = np.log(x) - np.log1p(-x)  # the sigmoid's inverse
        if x.shape[-1] == 3 and self.decorrelate:
            x = correlate(x)
        h, w = x.shape[1:3]
        spectrum = np.fft.rfft2(4.0 * np.moveaxis(x, -1, 1)) / spectrum_scale(h, w, self.decay)
        return np.stack([spectrum.real, spectrum.imag], axis=1).astype("float32")

    def size_of(self, params_shape: tuple) -> tuple[int, int]:
        return int(params_shape[3]), int(params_shape[3])  # square images; see Fourier.shape


@dataclass(frozen=True)
class Maco:
    """MACO (Fel et al., NeurIPS 2023): only the *phase* of the image's spectrum is optimised; its
    magnitude is fixed to a natural image's, ``1 / max(f, 1 / max(h, w)) ** alpha`` per decorrelated
    colour channel (the 1/f law of photographs' amplitude spectra; ``alpha`` 1 gives a power slope
    of -2), so no step can add the high-frequency energy that makes Fourier pictures look like swirls.
    As in the paper: the phase is standardised, the image is the inverse FFT of magnitude x e^(i phase),
    standardised, colour-recorrelated and squashed by a sigmoid. Parameters (B, C, H, W // 2 + 1)."""

    name: str = "maco"
    alpha: float = 1.0
    decorrelate: bool = True
    contrast: float = 1.0  # the standardised image's spread before the sigmoid (1: the paper's)

    def init(self, rng: np.random.Generator, h: int, w: int, c: int) -> np.ndarray:
        return rng.normal(0.0, 1.0, size=(c, h, w // 2 + 1)).astype("float32")

    def magnitude(self, h: int, w: int) -> np.ndarray:
        """The fixed amplitude spectrum (H, W // 2 + 1) of an h x w image."""
        return spectrum_scale(h, w, self.alpha) / np.sqrt(h * w)

    def linear(self, params: Any, h: int, w: int, c: int, size: tuple[int, int] | None = None) -> Any:
        """The standardised image before colour and squashing (B, H, W, C); ``size``: band-limited, as Fourier."""
        from keras import ops

        phase = _standardised(params)
        mag = ops.convert_to_tensor(self.magnitude(h, w).astype("float32"))
        re, im, (oh, ow) = low_band(ops.cos(phase) * mag, ops.sin(phase) * mag, h, w, size)
        return ops.transpose(_standardised(irfft2(re, im, oh, ow)), (0, 2, 3, 1))

    def image(self, params: Any, h: int, w: int, c: int, size: tuple[int, int] | None = None) -> Any:
        from keras import ops

        x = self.linear(params, h, w, c, size) * self.contrast
        if c == 3 and self.decorrelate:
            x = decorrelate(x)
        return ops.sigmoid(x) * 255.0

    def invert(self, pixels: np.ndarray) -> np.ndarray:
        """The phase of ``pixels`` (B, H, W, C): under MACO's fixed magnitude it draws the picture's
        structure (edges and places), not its exact pixels; used to go on from a saved MACO picture."""
        x = np.clip(np.asarray(pixels, "float64") / 255.0, 1e-6, 1 - 1e-6)
        x = np.log(x) - np.log1p(-x)
        if x.shape[-1] == 3 and self.decorrelate:
            x = correlate(x)
        return np.angle(np.fft.rfft2(np.moveaxis(x, -1, 1))).astype("float32")


def make(name: str, *, clip: bool = True, decay: float = 1.0):
    """The parametrisation called ``name`` (``pixel``, ``fourier`` or ``maco``)."""
    name = check_param(name)
    return Fourier(decay=decay) if name == "fourier" else Maco() if name == "maco" else Pixel(clip=clip)
