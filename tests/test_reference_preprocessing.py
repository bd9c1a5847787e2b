"""Reference values for cnnviz.inputs.preprocessing: each mode by hand, on grey and colour, NumPy and tensors.

keras.applications' preprocess_input is the reference for colour (tests/test_preprocessing.py); grey
images (1 channel) use the mean of the per-channel constants, and backend tensors must give the same
numbers as NumPy (the ascent engine feeds tensors)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.errors import CnnvizError
from cnnviz.inputs.preprocessing import (
    CAFFE_MEAN_BGR,
    MODES,
    TORCH_MEAN,
    TORCH_STD,
    check_mode,
    to_model_input,
    to_pixels,
)

RGB = np.array([[[[255.0, 0.0, 51.0]]]])
GREY = np.array([[[[102.0]]]])


def test_constants_are_the_published_imagenet_ones():
    assert CAFFE_MEAN_BGR == (103.939, 116.779, 123.68)
    assert TORCH_MEAN == (0.485, 0.456, 0.406) and TORCH_STD == (0.229, 0.224, 0.225)
    assert MODES == ("none", "unit", "caffe", "tf", "torch", "bgr")


@pytest.mark.parametrize(
    "mode, rgb, grey",
    [
        ("none", [255.0, 0.0, 51.0], [102.0]),
        ("unit", [1.0, 0.0, 0.2], [0.4]),
        ("caffe", [51 - 103.939, 0 - 116.779, 255 - 123.68], [102 - (103.939 + 116.779 + 123.68) / 3]),
        ("tf", [1.0, -1.0, 51 / 127.5 - 1], [102 / 127.5 - 1]),
        ("torch", [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.2 - 0.406) / 0.225],
         [(0.4 - (0.485 + 0.456 + 0.406) / 3) / ((0.229 + 0.224 + 0.225) / 3)]),
        ("bgr", [51.0, 0.0, 255.0], [102.0]),
    ],
)
def test_each_mode_by_hand(mode, rgb, grey):
    np.testing.assert_allclose(to_model_input(RGB, mode)[0, 0, 0], rgb, rtol=1e-6)
    np.testing.assert_allclose(to_model_input(GREY, mode)[0, 0, 0], grey, rtol=1e-6)
    np.testing.assert_allclose(to_pixels(np.asarray(to_model_input(RGB, mode)), mode), RGB, atol=1e-4)
    np.testing.assert_allclose(to_pixels(np.asarray(to_model_input(GREY, mode)), mode), GREY, atol=1e-4)


@pytest.mark.parametrize("mode", MODES)
def test_tensors_give_the_numpy_numbers(mode):
    from keras import ops

    px = np.random.default_rng(2).uniform(0, 255, (1, 3, 3, 3)).astype("float32")
    x = ops.convert_to_tensor(px)
    model_in = to_model_input(x, mode)
    np.testing.assert_allclose(ops.convert_to_numpy(model_in), to_model_input(px, mode), rtol=1e-5, atol=1e-4)
    back = to_pixels(model_in, mode)
    np.testing.assert_allclose(ops.convert_to_numpy(back), px, rtol=1e-5, atol=1e-3)


def test_unknown_mode_everywhere():
    assert check_mode("caffe") == "caffe"
    with pytest.raises(CnnvizError, match=r"^unknown preprocessing 'rgb'; use one of: none, unit, caffe, tf, torch, bgr$"):
        to_model_input(RGB, "rgb")
    with pytest.raises(CnnvizError, match=r"^unknown preprocessing 'rgb'"):
        to_pixels(RGB, "rgb")


@pytest.mark.parametrize("mode", ["caffe", "torch"])
def test_float32_stays_float32_on_grey_and_colour(mode):
    """The per-channel constants are float32: a float32 image is not promoted to float64 (the ascent
    engine's compiled step would change dtype)."""
    for channels in (1, 3):
        px = np.full((1, 2, 2, channels), 100.0, "float32")
        assert to_model_input(px, mode).dtype == np.float32 and to_pixels(px, mode).dtype == np.float32
