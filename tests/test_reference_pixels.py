"""Reference values for cnnviz.pixels: rounding by hand, the Keras-blog display formula written out, colour maps
against matplotlib's own look-up table, grey levels against OpenCV, the orientation wheel against colorsys."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np
import pytest
from matplotlib import colormaps

from cnnviz import pixels


def test_to_uint8_rounds_half_to_even_and_clips() -> None:
    got = pixels.to_uint8(np.array([-0.6, 0.4, 0.5, 1.5, 2.5, 254.5, 255.4, 300.0]))
    assert got.dtype == np.uint8 and got.tolist() == [0, 0, 0, 2, 2, 254, 255, 255]
    assert pixels.to_uint8([[3, 4]]).tolist() == [[3, 4]]  # lists too


def test_deprocess_classic_is_the_keras_blog_formula() -> None:
    x = np.array([[0.0, 1.0], [2.0, 13.0]])
    mean, std = 4.0, np.sqrt(((x - 4.0) ** 2).mean())
    expect = np.rint(np.clip((x - mean) / (std + 1e-5) * 0.1 + 0.5, 0, 1) * 255)
    assert pixels.deprocess_classic(x).tolist() == expect.tolist()
    expect = np.rint(np.clip((x - mean) / (std + 1e-5) * 1.0 + 0.5, 0, 1) * 255)
    assert pixels.deprocess_classic(x, std=1.0).tolist() == expect.tolist() and expect.min() == 0 and expect.max() == 255
    assert pixels.deprocess_classic(np.full((2, 2), 7, "uint8")).tolist() == [[128, 128], [128, 128]]  # flat: 127.5 grey
    tiny = np.array([0.0, 1e-6])  # std 5e-7: the 1e-5 keeps the scale finite (0.5 +- 0.1 * 5e-7 / 1.05e-5)
    np.testing.assert_array_equal(pixels.deprocess_classic(tiny), np.rint((0.5 + np.array([-1, 1]) * 0.1 * 5e-7 / 1.05e-5) * 255))


def test_normalize01_and_symmetric01() -> None:
    a = np.array([1.0, 2.0, 3.0, 5.0])
    np.testing.assert_array_equal(pixels.normalize01(a), (a - 1.0) / (4.0 + 1e-7))
    np.testing.assert_array_equal(pixels.normalize01(a, lo=2.0, hi=4.0), np.clip((a - 2.0) / (2.0 + 1e-7), 0, 1))
    np.testing.assert_array_equal(pixels.normalize01(a, hi=2.0), np.clip((a - 1.0) / (1.0 + 1e-7), 0, 1))
    np.testing.assert_array_equal(pixels.normalize01(a, lo=4.0), np.clip((a - 4.0) / (1.0 + 1e-7), 0, 1))
    assert pixels.normalize01(np.full(3, 2.0)).tolist() == [0.0, 0.0, 0.0]
    assert pixels.normalize01(np.array([0, 1], "uint8")).dtype == np.float64
    s = np.array([-2.0, 0.0, 1.0])
    np.testing.assert_array_equal(pixels.symmetric01(s), 0.5 + 0.5 * s / (2.0 + 1e-7))
    assert pixels.symmetric01(np.zeros(2)).tolist() == [0.5, 0.5]
    assert pixels.symmetric01(np.array([1, 3], "int64")).tolist() == [0.5 + 0.5 / (3 + 1e-7), 0.5 + 1.5 / (3 + 1e-7)]


@pytest.mark.parametrize("name", ["viridis", "inferno", "gray"])
def test_colormap_is_matplotlibs_table(name: str) -> None:
    v = np.array([[-0.2, 0.0, 0.3], [0.5, 0.999, 1.4]])
    idx = np.array([[0, 0, 76], [128, 255, 255]])  # rint(v * 255) clipped: 76.5 -> 76, 127.5 -> 128
    expect = np.rint(colormaps[name](idx)[..., :3] * 255).astype("uint8")
    got = pixels.colormap(v, name)
    assert got.dtype == np.uint8 and got.shape == (2, 3, 3)
    np.testing.assert_array_equal(got, expect)
    assert pixels.colormap(np.array(0.5)).tolist() == np.rint(np.array(colormaps["viridis"](128)[:3]) * 255).tolist()


def test_luma_and_grey_are_opencvs_601_weights() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (5, 4, 3)).astype("uint8")
    y = pixels.luma(rgb)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2], rtol=0, atol=1e-9)
    assert np.abs(y - cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).max() <= 0.5 + 1e-9
    np.testing.assert_array_equal(pixels.grey(rgb), y)
    g = rgb[..., :1]
    assert pixels.grey(g).shape == (5, 4) and pixels.grey(g).tolist() == rgb[..., 0].astype(float).tolist()
    assert pixels.grey(rgb[..., 0]).dtype == np.float64
    rgba = np.concatenate([rgb, np.zeros((5, 4, 1), "uint8")], -1)
    with pytest.raises(ValueError):  # four channels are not grey: refused, not averaged
        pixels.grey(rgba)


def test_to_rgb_and_upscale_nearest() -> None:
    g = np.arange(6, dtype="uint8").reshape(2, 3)
    assert pixels.to_rgb(g).tolist() == np.stack([g] * 3, -1).tolist()
    assert pixels.to_rgb(g[..., None]).tolist() == np.stack([g] * 3, -1).tolist()
    rgb = np.zeros((2, 2, 3))
    assert pixels.to_rgb(rgb) is rgb
    rgba = np.zeros((1, 1, 4))
    assert pixels.to_rgb(rgba).shape == (1, 1, 4)
    np.testing.assert_array_equal(pixels.upscale_nearest(g, 3), np.kron(g, np.ones((3, 3), "uint8")))
    np.testing.assert_array_equal(pixels.upscale_nearest(rgb[..., 0] + np.eye(2), 2), np.kron(np.eye(2), np.ones((2, 2))))
    assert pixels.upscale_nearest(g, 1) is g and pixels.upscale_nearest(g, 0) is g


def test_orientation_rgb_against_colorsys() -> None:
    angle = np.array([[0.0, np.pi / 2], [np.pi, -np.pi / 2]])
    mag = np.array([[1.0, 2.0], [4.0, 0.5]])
    got = pixels.orientation_rgb(angle, mag)
    p = np.percentile(mag, 99.5)
    hue = (np.mod(angle, 2 * np.pi) / (2 * np.pi) * 179).astype("uint8")  # OpenCV hue: 0-179
    val = np.clip(mag / (p + 1e-8) * 255, 0, 255).astype("uint8")
    assert hue.tolist() == [[0, 44], [89, 134]] and val.tolist() == [[64, 128], [255, 32]]  # 99.5th percentile 3.97
    for (i, j), h in np.ndenumerate(hue):
        expect = np.array(colorsys.hsv_to_rgb(h / 180.0, 1.0, val[i, j] / 255.0)) * 255
        assert np.abs(got[i, j].astype(float) - expect).max() <= 1.5, (i, j, got[i, j], expect)
    mag3 = np.stack([mag, mag / 2, mag * 0], -1)  # several channels: the largest per pixel
    np.testing.assert_array_equal(pixels.orientation_rgb(angle, mag3), got)
    assert pixels.orientation_rgb(angle, np.zeros((2, 2))).max() == 0  # no gradient: black, not a division by zero


def test_float32_input_gives_float64_results() -> None:
    a = np.array([1.0, 2.0, 4.0], "float32")
    assert pixels.normalize01(a).dtype == np.float64 and pixels.symmetric01(a).dtype == np.float64
    np.testing.assert_array_equal(pixels.normalize01(a), (np.array([1.0, 2.0, 4.0]) - 1.0) / (3.0 + 1e-7))


def test_orientation_rgb_brightness_truncates_the_scaled_magnitude() -> None:
    """99.5th percentile of (2, 1.8, 2, 2) is 2: brightness floor(255 * m / (2 + 1e-8)): 2 -> 254, 1.8 -> 229."""
    angle = np.array([[0.0, np.pi / 2], [np.pi, 3 * np.pi]])
    mag = np.array([[2.0, 1.8], [2.0, 2.0]])
    hsv = np.stack([np.array([[0, 44], [89, 89]], "uint8"), np.full((2, 2), 255, "uint8"),
                    np.array([[254, 229], [254, 254]], "uint8")], -1)
    np.testing.assert_array_equal(pixels.orientation_rgb(angle, mag), cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))
