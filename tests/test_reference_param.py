"""Reference values for cnnviz.optvis.param beyond tests/test_param_transforms.py: lucid's constants, the
spectrum scale of a non-square image, the Fourier image against numpy's irfft2 and a direct evaluation of its
trigonometric series (the band-limited smaller render at an odd size), the colour and sigmoid steps, and
invert()'s clipping, all on non-degenerate inputs."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from cnnviz.errors import CnnvizError
from cnnviz.optvis import param as P


def _np(x):
    return ops.convert_to_numpy(x)


def test_lucids_colour_matrix_and_defaults():
    np.testing.assert_array_equal(P.COLOR_CORRELATION_SVD_SQRT, [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05],
                                                                 [0.27, -0.09, 0.03]])
    norm = np.sqrt(0.26**2 + 0.27**2 + 0.27**2)  # the first column's norm is the largest
    np.testing.assert_allclose(P.COLOR_CORRELATION, P.COLOR_CORRELATION_SVD_SQRT / norm, rtol=1e-12)
    f, p = P.Fourier(), P.Pixel()
    assert (f.name, f.decay, f.sd, f.decorrelate) == ("fourier", 1.0, 0.01, True)  # lucid's fft_image: sd 0.01, decay 1
    assert (p.name, p.clip, p.noise) == ("pixel", True, 10.0)


def test_spectrum_scale_of_a_non_square_image():
    h, w = 6, 10
    fy = np.array([0, 1, 2, -3, -2, -1]) / 6.0
    fx = np.array([0, 1, 2, 3, 4, 5]) / 10.0
    f = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    np.testing.assert_allclose(P.rfft2_freqs(h, w), f, rtol=1e-12)
    expect = np.sqrt(60.0) / np.maximum(f, 0.1) ** 1.5  # the DC term is scaled as the frequency 1 / max(h, w)
    np.testing.assert_allclose(P.spectrum_scale(h, w, 1.5), expect, rtol=1e-12)
    assert P.spectrum_scale(h, w, 1.5)[0, 0] == pytest.approx(np.sqrt(60.0) * 10**1.5)


def test_fourier_linear_of_a_non_square_image_is_numpys_irfft2():
    h, w = 6, 10
    params = np.random.default_rng(0).normal(size=(2, 2, 2, h, w // 2 + 1)).astype("float32")
    got = _np(P.Fourier(decay=1.5).linear(ops.convert_to_tensor(params), h, w, 2))
    spec = (params[:, 0] + 1j * params[:, 1]) * P.spectrum_scale(h, w, 1.5)
    expect = np.moveaxis(np.fft.irfft2(spec, s=(h, w)), 1, -1) / 4.0  # lucid divides by 4
    assert got.shape == (2, h, w, 2)
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-3)


def _series(spec: np.ndarray, h: int, w: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The trigonometric series that numpy's irfft2 samples on the h x w grid, evaluated at any (y, x):
    Re(sum_{ky, kx} c_kx F[ky, kx] exp(2 pi i (ky y / h + kx x / w))) / (h w), c = 1 for kx = 0, else 2
    (no Nyquist column in the band used here)."""
    ky = np.fft.fftfreq(h) * h
    total = np.zeros((len(ys), len(xs)))
    for i in range(h):
        for j in range(spec.shape[1]):
            if spec[i, j] == 0:
                continue
            wave = np.exp(2j * np.pi * (ky[i] * ys[:, None] / h + j * xs[None, :] / w))
            total += ((1 if j == 0 else 2) * spec[i, j] * wave).real
    return total / (h * w)


@pytest.mark.parametrize("out", [7, 6])
def test_fourier_smaller_render_samples_the_same_band_limited_image(out):
    """The image at 12 x 12 from frequencies |k| <= 2 rendered at a smaller size is the same continuous image
    sampled on the coarser grid (pixel n at 12 n / out), for an odd and an even size."""
    n = 12
    par = P.Fourier(decay=1.0, decorrelate=False)
    params = np.zeros((1, 2, 1, n, n // 2 + 1), "float32")
    rng = np.random.default_rng(1)
    band = [0, 1, 2, n - 2, n - 1]  # ky in -2..2
    for i in band:
        params[0, :, 0, i, :3] = rng.normal(size=(2, 3))
    small = _np(par.linear(ops.convert_to_tensor(params), n, n, 1, (out, out)))[0, ..., 0]
    spec = (params[0, 0, 0] + 1j * params[0, 1, 0]) * P.spectrum_scale(n, n, 1.0)
    grid = np.arange(out) * n / out
    np.testing.assert_allclose(small, _series(spec, n, n, grid, grid) / 4.0, rtol=1e-4, atol=2e-3)
    full = _np(par.linear(ops.convert_to_tensor(params), n, n, 1))[0, ..., 0]
    np.testing.assert_allclose(full, _series(spec, n, n, np.arange(n), np.arange(n)) / 4.0, rtol=1e-4, atol=2e-3)


def test_fourier_image_decorrelates_three_channels_then_squashes():
    h = w = 8
    params = np.random.default_rng(2).normal(0, 0.02, size=(1, 2, 3, h, w // 2 + 1)).astype("float32")
    t = ops.convert_to_tensor(params)
    lin = _np(P.Fourier().linear(t, h, w, 3))
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(_np(P.Fourier().image(t, h, w, 3)), 255 * sigmoid(lin @ P.COLOR_CORRELATION.T),
                               rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(_np(P.Fourier(decorrelate=False).image(t, h, w, 3)), 255 * sigmoid(lin), atol=1e-3)
    small = _np(P.Fourier().image(t, h, w, 3, (4, 4)))  # a smaller render goes through the same colour step
    lin4 = _np(P.Fourier().linear(t, h, w, 3, (4, 4)))
    assert small.shape == (1, 4, 4, 3) and small.dtype == np.float32  # float32, as the model takes it
    np.testing.assert_allclose(small, 255 * sigmoid(lin4 @ P.COLOR_CORRELATION.T), rtol=1e-4, atol=1e-3)
    one = ops.convert_to_tensor(params[:, :, :1])  # one channel: no colour step whatever decorrelate says
    np.testing.assert_allclose(_np(P.Fourier().image(one, h, w, 1)), 255 * sigmoid(lin[..., :1]), atol=1e-3)
    # lucid's matrix maps a decorrelated (1, 0, 0) onto its first column
    np.testing.assert_allclose(_np(P.decorrelate(ops.convert_to_tensor(np.array([[1.0, 0, 0]], "float32")))),
                               [P.COLOR_CORRELATION[:, 0]], atol=1e-7)


def test_fourier_invert_clips_black_and_white_to_one_in_a_million():
    par = P.Fourier(decorrelate=False)
    px = np.zeros((1, 4, 4, 1), "float32")
    px[0, ::2, :, 0] = 255.0  # rows of white and black: the clip decides both
    params = par.invert(px)
    logit = np.log(1e-6) - np.log(1 - 1e-6)
    x = np.where(px[0, ..., 0] > 0, -logit, logit)
    spec = np.fft.rfft2(4.0 * x) / P.spectrum_scale(4, 4, 1.0)
    np.testing.assert_allclose(params[0, 0, 0], spec.real, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(params[0, 1, 0], spec.imag, atol=1e-6)
    assert params.shape == (1, 2, 1, 4, 3) and params.dtype == np.float32
    np.testing.assert_array_equal(P.Fourier().invert(px), params)  # one channel: no colour step, whatever decorrelate says
    back = _np(par.image(ops.convert_to_tensor(params), 4, 4, 1))
    np.testing.assert_allclose(back, np.where(px > 0, 255 * (1 - 1e-6), 255e-6), atol=2e-4)


def test_pixel_init_image_and_sizes():
    rng, again = np.random.default_rng(3), np.random.default_rng(3)
    x = P.Pixel(noise=4.0).init(rng, 3, 5, 2)
    np.testing.assert_allclose(x, 128.0 + again.uniform(-4.0, 4.0, size=(3, 5, 2)), rtol=1e-6)
    assert x.dtype == np.float32 and P.Pixel().image(x, 3, 5, 2) is x
    assert P.Pixel().size_of((1, 3, 5, 2)) == (3, 5)
    rng, again = np.random.default_rng(4), np.random.default_rng(4)
    f = P.Fourier(sd=0.5).init(rng, 6, 6, 3)
    np.testing.assert_allclose(f, again.normal(0.0, 0.5, size=(2, 3, 6, 4)), rtol=1e-6)
    assert f.dtype == np.float32 and P.Fourier().size_of((1, 2, 3, 6, 4)) == (6, 6)


def test_make_and_check_param():
    assert P.make("fourier", decay=1.7) == P.Fourier(decay=1.7)
    assert P.make("pixel", clip=False) == P.Pixel(clip=False)
    assert P.make("pixel") == P.Pixel(clip=True) and P.make("fourier") == P.Fourier(decay=1.0)  # the defaults
    assert P.check_param("pixel") == "pixel" and P.check_param("fourier") == "fourier"
    with pytest.raises(CnnvizError, match="unknown --param 'wavelet'"):
        P.make("wavelet")
