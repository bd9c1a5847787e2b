"""Reference values for cnnviz.methods.attribution.scaling: Captum's cumulative clipping rule by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.methods.attribution.scaling import (
    DEFAULT_CLIP_PERCENT,
    EPS,
    cumulative_threshold,
    default_clip,
    heat01,
)


def test_default_clip_by_method():
    assert DEFAULT_CLIP_PERCENT == 2.0 and EPS == 1e-8
    for method in ("saliency", "smoothgrad", "integrated-gradients", "guided-backprop", "guided-gradcam"):
        assert default_clip(method) == 2.0
    for method in ("gradcam", "gradcam++", "score-cam", "occlusion", "rise"):
        assert default_clip(method) == 0.0


@pytest.mark.parametrize(
    "percent, value",
    # sorted [1, 2, 3, 4], cumulative [1, 3, 6, 10]: the first value whose cumulative sum reaches percent % of 10
    [(10.0, 1.0), (20.0, 2.0), (30.0, 2.0), (30.1, 3.0), (50.0, 3.0), (60.0, 3.0), (61.0, 4.0), (100.0, 4.0), (200.0, 4.0)],
)
def test_cumulative_threshold_by_hand(percent, value):
    assert cumulative_threshold(np.array([[4.0, 1.0], [3.0, 2.0]]), percent) == value


def test_cumulative_threshold_of_nothing_is_zero():
    assert cumulative_threshold(np.array([]), 98.0) == 0.0


def test_heat01_by_hand():
    raw = np.array([[-1.0, 0.0, 2.0, 4.0]])
    h = heat01(raw)
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, [[0.0, 0.0, 0.5, 1.0]], rtol=1e-6)
    # clip 70 %: threshold at 30 % of the positive mass of [1, 1, 1, 1, 6] (cumulative 1, 2, 3, ...) = 1
    np.testing.assert_allclose(heat01(np.array([1.0, 1.0, 1.0, 1.0, 6.0]), 70.0), [1, 1, 1, 1, 1])
    np.testing.assert_allclose(heat01(np.array([1.0, 1.0, 1.0, 1.0, 6.0]), 0.0), [1 / 6] * 4 + [1], rtol=1e-6)
    np.testing.assert_array_equal(heat01(np.zeros((2, 2))), np.zeros((2, 2)))  # EPS: no 0 / 0
    np.testing.assert_array_equal(heat01(-np.ones(3)), np.zeros(3))
    np.testing.assert_allclose(heat01(np.array([1e-9, 0.0])), [1e-9 / (1e-9 + 1e-8), 0.0], rtol=1e-6)  # EPS is 1e-8


def test_a_small_clip_saturates_only_when_the_top_value_is_a_small_share_of_the_mass():
    many = np.array([1.0] * 1000 + [2.0])  # the 2 is 0.2 % of the mass
    np.testing.assert_allclose(heat01(many)[:3], [0.5] * 3, rtol=1e-6)  # default: no clipping, over the max
    np.testing.assert_array_equal(heat01(many, 0.5), np.ones(1001, "float32"))  # clip 0.5 %: threshold 1
    assert heat01(np.zeros((0,))).shape == (0,)  # an empty map: max with initial 0, no error
