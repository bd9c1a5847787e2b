"""Reference values for cnnviz.methods.attribution.baselines: the blur against SciPy's Gaussian filter
(sigma a tenth of the larger side, at least 1; mirrored edges, OpenCV's BORDER_REFLECT is SciPy's
'reflect'), the seeded noise, black, and an image file of the input's size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.baselines import baseline_pixels, blur, check_baseline


@pytest.mark.parametrize("shape, sigma", [((28, 20, 3), 2.8), ((6, 5, 1), 1.0), ((40, 12), 4.0)])
def test_blur_is_a_gaussian_of_a_tenth_of_the_larger_side(shape, sigma):
    img = np.random.default_rng(0).uniform(0, 255, shape).astype("float32")
    got = blur(img)
    ref = gaussian_filter(img.astype("float64"), sigma=(sigma, sigma) + (0,) * (img.ndim - 2), mode="reflect", truncate=4.0)
    assert got.shape == img.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=2e-3)


def test_black_noise_and_grey_input():
    img = np.random.default_rng(1).uniform(0, 255, (5, 4, 3))
    black = baseline_pixels("black", img)
    assert black.dtype == np.float32 and black.shape == img.shape and (black == 0).all()
    noise = baseline_pixels("noise", img, seed=3)
    np.testing.assert_array_equal(noise, np.random.default_rng(3).uniform(0.0, 255.0, img.shape).astype("float32"))
    assert noise.dtype == np.float32 and noise.min() >= 0 and noise.max() < 255
    np.testing.assert_array_equal(baseline_pixels("noise", img), np.random.default_rng(0).uniform(0, 255, img.shape).astype("float32"))
    grey = img[..., 0]
    assert baseline_pixels("black", grey).shape == (5, 4, 1)  # a 2-D image gets its channel axis
    np.testing.assert_allclose(baseline_pixels("blur", grey)[..., 0], blur(grey[..., None])[..., 0], rtol=1e-6)


def test_an_image_file_of_the_input_size(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    path = tmp_path / "base.png"
    Image.fromarray(rgb).save(path)
    got = baseline_pixels(str(path), np.zeros((6, 7, 3)))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, rgb.astype("float32"))
    grey = baseline_pixels(str(path), np.zeros((6, 7)))  # fitted to one channel
    assert grey.shape == (6, 7, 1) and grey.std() > 0
    with pytest.raises(CnnvizError, match=r"is 7x6 px; the input is 9x6: give an image of that size"):
        baseline_pixels(str(path), np.zeros((6, 9, 3)))


def test_check_baseline_names_and_files(tmp_path):
    for name in ("black", "blur", "noise"):
        assert check_baseline(name) == name
    path = tmp_path / "b.png"
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(path)
    assert check_baseline(str(path)) == str(path)
    with pytest.raises(CnnvizError, match="unknown --baseline 'grey'; use one of: black, blur, noise"):
        check_baseline("grey")


def test_blur_of_uint8_pixels_is_not_rounded():
    img = np.random.default_rng(4).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    got = blur(img)
    assert got.dtype == np.float32 and not np.allclose(got, np.round(got))
    np.testing.assert_array_equal(got, blur(img.astype("float32")))
