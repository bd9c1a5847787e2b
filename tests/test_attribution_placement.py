"""Receptive-field placement of layer maps (hand-computed centres) and the transfer-learning shape."""

import keras
import numpy as np
import pytest

from cnnviz.methods.attribution.explain import Explainer, Options
from cnnviz.methods.attribution.placement import place
from cnnviz.methods.attribution.subject import make_subject, place_layer_maps

from conftest import assert_unchanged, snapshot, wrap


def _with_head(inputs, x):
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x)))


def test_valid_padding_and_stride_by_hand():
    # 10 px -> Conv 3 valid (8 units, centres 1..8) -> Conv 3 stride 2 valid: (8 - 3) // 2 + 1 = 3 units,
    # unit i centred at 1 + 1 + 2 i = 2, 4, 6 (and the same along x).
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.Conv2D(1, 3, name="c1")(inputs)
    x = keras.layers.Conv2D(1, 3, strides=2, name="c2")(x)
    subject = make_subject(wrap(_with_head(inputs, x)), (10, 10), layer="c2", needs_layer=True)
    np.testing.assert_allclose(subject.centres[0], [2, 4, 6])
    one = np.zeros((1, 3, 3))
    one[0, 1, 2] = 1.0  # unit (1, 2) -> pixel (4, 6)
    placed = place_layer_maps(subject, one)[0]
    assert placed[4, 6] == pytest.approx(1.0) and np.unravel_index(placed.argmax(), placed.shape) == (4, 6)
    assert placed[5, 6] == pytest.approx(0.5) and placed[4, 5] == pytest.approx(0.5) and placed[5, 5] == pytest.approx(0.25)
    assert placed[4, 9] == pytest.approx(1.0)  # beyond the last centre (6) the edge unit's value holds
    assert placed[2, 6] == 0.0 and placed[4, 4] == 0.0
    ramp = place_layer_maps(subject, np.array([[[0.0, 1.0, 2.0]] * 3]))[0]
    np.testing.assert_allclose(ramp[0], [0, 0, 0, 0.5, 1, 1.5, 2, 2, 2, 2])


def test_same_padding_stride_and_pool_by_hand():
    # 8 px -> Conv 3 stride 2 same: 4 units, TF pads (4-1)*2 + 3 - 8 = 1 in all, 0 before: centres 1, 3, 5, 7
    # -> MaxPool 2: centres 1 + 0.5 * 2 = 2, then every 4: 2, 6
    inputs = keras.Input((8, 8, 1))
    c = keras.layers.Conv2D(1, 3, strides=2, padding="same", name="c")(inputs)
    p = keras.layers.MaxPooling2D(2, name="p")(c)
    loaded = wrap(_with_head(inputs, p))
    assert list(make_subject(loaded, (8, 8), layer="c", needs_layer=True).centres[1]) == [1, 3, 5, 7]
    subject = make_subject(loaded, (8, 8), layer="p", needs_layer=True)
    assert list(subject.centres[0]) == [2, 6]
    placed = place_layer_maps(subject, np.array([[[0.0, 4.0], [0.0, 0.0]]]))[0]
    np.testing.assert_allclose(placed[2], [0, 0, 0, 1, 2, 3, 4, 4])
    np.testing.assert_allclose(placed[:, 6], [4, 4, 4, 3, 2, 1, 0, 0])


def test_lenet_conv2_is_placed_inside_the_valid_region(lenet):
    """conv2 of LeNet: centres 4.5 .. 22.5 (issue 13), not stretched over 0 .. 27."""
    subject = make_subject(lenet, (28, 28), layer="conv2", needs_layer=True)
    np.testing.assert_allclose(subject.centres[0], 4.5 + 2 * np.arange(10))
    one = np.zeros((1, 10, 10))
    one[0, 0, 0] = 1.0
    placed = place_layer_maps(subject, one)[0]
    stretched = place(one, (np.arange(10) + 0.5) * 2.8 - 0.5, (np.arange(10) + 0.5) * 2.8 - 0.5, (28, 28))[0]
    assert placed[4, 4] == 1.0 and placed[6, 6] == pytest.approx(0.0625) and placed[7, 7] == 0.0
    assert stretched[4, 4] < 0.3  # an edge-to-edge stretch puts unit 0 at pixel 0.9


def _base():
    i = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(i)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv_last")(x)
    return keras.Model(i, x, name="base")


def _transfer(kind):
    keras.utils.set_random_seed(0)
    base = _base()
    pool, dense = keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax", name="head")
    if kind == "functional":
        i = keras.Input((16, 16, 3))
        return keras.Model(i, dense(pool(base(i))), name="transfer"), base, dense
    return keras.Sequential([keras.Input((16, 16, 3)), base, pool, dense], name="transfer"), base, dense


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_transfer_learning_layer_methods(kind):
    model, base, dense = _transfer(kind)
    snap = snapshot(model)
    image = np.random.default_rng(0).uniform(0, 255, (16, 16, 3)).astype("float32")
    # by hand: logit_c = mean_ij(A) . W[:, c] + b, so dlogit/dA = W[:, c] / 144 everywhere
    A = keras.ops.convert_to_numpy(base(image[None] / 255.0))[0].astype("float64")
    W = dense.get_weights()[0].astype("float64")
    expected = np.maximum((A * (W[:, 1] / 144.0)).sum(-1), 0.0)
    for layer in (None, "base/conv_last", "conv_last"):
        ex = Explainer(wrap(model), ["gradcam", "gradcam++", "layercam", "scorecam"], (16, 16),
                       Options(layer=layer, faithfulness_steps=4)).explain(image, 1)
        for r in ex.results:
            assert r.layer == "base/conv_last" and r.info["placement"] == "receptive-field"
            assert np.isfinite(r.raw).all() and r.raw.max() > 0, r.method
        np.testing.assert_allclose(ex.results[0].layer_raw, expected, rtol=1e-4, atol=1e-7)
        layercam = np.maximum((np.maximum(W[:, 1] / 144.0, 0) * A).sum(-1), 0.0)
        np.testing.assert_allclose(ex.results[2].layer_raw, layercam, rtol=1e-4, atol=1e-7)
    inner = Explainer(wrap(model), ["gradcam"], (16, 16), Options(layer="base/conv1", faithfulness_steps=0))
    assert inner.explain(image, 1).results[0].layer_raw.shape == (14, 14)
    from cnnviz.methods.attribution.subject import class_score
    from cnnviz.optvis import layer_gradients

    maps, grads, _ = layer_gradients(inner.methods[0].subject.layer_model, image[None] / 255.0, class_score(1, 1, 3))
    assert maps.shape == (1, 14, 14, 4) and np.abs(grads).sum() > 0  # the gradient reaches a layer deep in the base
    assert_unchanged(model, snap)
