"""Reference values for cnnviz.methods.attribution.layer_methods beyond tests/test_attribution*.py: Score-CAM's
softmax on large logits, Faster Score-CAM's channel choice on ties and at the edges, Grad-CAM++'s EPS guard
at its boundary, and Score-CAM on signed maps with a given baseline against a direct NumPy computation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import wrap

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.layer_methods import (
    ScoreCAM,
    grad_cam_pp_from,
    score_cam_weights,
    top_variance_channels,
)
from cnnviz.methods.attribution.subject import make_subject


def test_score_cam_weights_on_large_logits_stay_a_softmax():
    w = score_cam_weights(np.array([1000.0, 1001.0, 999.0]), 0.0)  # exp(1000) overflows without the shift
    e = np.exp([0.0, 1.0, -1.0])
    np.testing.assert_allclose(w, e / e.sum(), rtol=1e-7)
    np.testing.assert_allclose(score_cam_weights(np.array([3.0]), 0.0), [1.0 / (1.0 + 1e-8)], rtol=1e-12)  # the EPS


def test_top_variance_channels_ties_and_edges():
    maps = np.zeros((2, 2, 4))
    maps[..., 1] = maps[..., 3] = [[0, 2], [2, 0]]  # equal variances: the earlier channel wins
    maps[..., 0] = [[0, 1], [1, 0]]
    assert top_variance_channels(maps, 1).tolist() == [1]
    assert top_variance_channels(maps, 2).tolist() == [1, 3]
    assert top_variance_channels(maps, 4).tolist() == [0, 1, 2, 3]  # n = K: every channel


def test_grad_cam_pp_denominator_of_exactly_eps_is_replaced_by_plus_eps():
    """|2 g^2 + sum(A) g^3| <= EPS: the denominator becomes +EPS (g = 2^-14 and this sum give exactly -1e-8), so
    alpha keeps the sign of g^2; dividing by the -1e-8 itself would flip the weight and light up the map."""
    g = np.full((1, 1, 1), 2.0**-14)
    a = np.full((1, 1, 1), -76748.46511104)
    assert (2.0 * g**2 + a.sum() * g**3)[0, 0, 0] == -1e-8
    assert grad_cam_pp_from(a, g)[0, 0] == 0.0  # weight g^3 / EPS > 0 times a negative map, ReLU-ed
    assert np.maximum(a * (g**3 / -1e-8), 0.0)[0, 0, 0] > 0  # what the unguarded division would give


def test_top_variance_channels_ties_among_many_channels_keep_the_earliest():
    """33 channels, variances in three tied levels: the earliest channels of a tie win (a stable sort; NumPy's
    default sort does not keep that order beyond 16 elements)."""
    s = np.random.default_rng(0).integers(0, 3, 33).astype("float64")
    maps = np.zeros((2, 2, 33))
    maps[0, 1] = maps[1, 0] = s  # variance s^2 / 4
    expected = sorted(sorted(range(33), key=lambda i: (-s[i], i))[:7])
    assert top_variance_channels(maps, 7).tolist() == expected


def _linear_conv_model():
    """(6, 7, 2) -> 1x1 Conv2D(4), no activation (signed maps, each channel its own minimum) -> Dense(3) softmax."""
    rng = np.random.default_rng(2)
    inputs = keras.Input((6, 7, 2))
    conv = keras.layers.Conv2D(4, 1, name="conv")
    dense = keras.layers.Dense(3, activation="softmax", name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(conv(inputs))), name="lin")
    conv.set_weights([rng.normal(0, 1, (1, 1, 2, 4)).astype("float32"), np.array([0.5, -0.3, 0.0, 1.0], "float32")])
    dense.set_weights([rng.normal(0, 0.3, (6 * 7 * 4, 3)).astype("float32"), np.zeros(3, "float32")])
    return model, conv, dense


def test_score_cam_with_signed_maps_a_given_baseline_and_small_batches():
    """Each mask is min-max scaled on its own (the channels' minima differ here); masked image = base + M (x - base)
    for a given baseline; chunks of 2 masks; of 4 channels the 3 most varying."""
    model, conv, dense = _linear_conv_model()
    subject = make_subject(wrap(model, preprocess="none"), (6, 7), layer="conv", needs_layer=True)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (2, 6, 7, 2)).astype("float32")
    base = rng.uniform(-0.5, 0.5, (6, 7, 2)).astype("float32")
    method = ScoreCAM(subject, channels=3, baseline=base, batch_size=2)
    got = method.attribute_layer(x, 1)
    k, b = conv.get_weights()
    w, c = dense.get_weights()

    def maps(img):
        return np.einsum("nhwc,ck->nhwk", img.astype("float64"), k[0, 0]) + b

    def logit(img):
        return maps(img).reshape(len(img), -1) @ w[:, 1] + c[1]

    expected = []
    for xi, a in zip(x, maps(x)):
        idx = np.sort(np.argsort(-a.reshape(-1, 4).var(0))[:3])
        mk = np.moveaxis(a[..., idx], -1, 0)
        lo, hi = mk.min(axis=(1, 2), keepdims=True), mk.max(axis=(1, 2), keepdims=True)
        mk = (mk - lo) / (hi - lo)
        inc = logit(base + mk[..., None] * (xi - base)) - logit(base[None])
        wts = np.exp(inc - inc.max()) / np.exp(inc - inc.max()).sum()
        expected.append(np.maximum((a[..., idx] * wts).sum(-1), 0))
    assert maps(x).min(axis=(0, 1, 2)).std() > 0.1  # the channels' minima differ
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.stack(expected), rtol=1e-4, atol=1e-5)
    assert method.info == {"channels": 3, "of_channels": 4, "signed_maps": True}


def test_score_cam_channel_count_is_checked():
    model, _, _ = _linear_conv_model()
    subject = make_subject(wrap(model, preprocess="none"), (6, 7), layer="conv", needs_layer=True)
    assert ScoreCAM(subject, channels=1).channels == 1  # one channel is allowed
    with pytest.raises(CnnvizError, match="Score-CAM needs at least 1 channel, got 0"):
        ScoreCAM(subject, channels=0)
