"""Reference values for cnnviz.methods.attribution.guided: the guided ReLU's forward value and gradient against
Springenberg et al.'s rule written in NumPy (gradient = upstream * [0 < y < cap] * [upstream > 0]), which
layers become guided in the copy, and Guided Grad-CAM = guided backprop * Grad-CAM on a tiny conv model."""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest
from conftest import assert_unchanged, snapshot, wrap

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.explain import Explainer, Options
from cnnviz.methods.attribution.guided import (
    GuidedReLU,
    _relu_cap,
    guided_model,
    guided_relu,
)

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the reference gradient is a tf.GradientTape")

X = np.array([-2.0, -0.5, 0.0, 0.5, 3.0, 5.9, 6.5, 9.0], "float32")
UP = np.array([1.0, -1.0, 2.0, -0.5, 1.5, 0.7, 2.0, -3.0], "float32")


def _value_and_grad(fn, x, up):
    import tensorflow as tf

    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = fn(t)
        s = tf.reduce_sum(y * tf.constant(up))
    return y.numpy(), tape.gradient(s, t).numpy()


@pytest.mark.parametrize("cap", [None, 6.0])
def test_guided_relu_value_and_gradient(cap):
    top = np.inf if cap is None else cap
    y, g = _value_and_grad(guided_relu(cap), X, UP)
    ref_y = np.minimum(np.maximum(X, 0), top)
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(g, UP * ((ref_y > 0) & (ref_y < top)) * (UP > 0))


def test_which_layers_are_plain_relus_and_their_caps():
    L = keras.layers
    assert _relu_cap(L.ReLU()) == (True, None)
    assert _relu_cap(L.ReLU(max_value=4)) == (True, 4.0)
    assert _relu_cap(L.ReLU(negative_slope=0.1))[0] is False  # leaky: not a gate
    assert _relu_cap(L.ReLU(threshold=0.5))[0] is False
    assert _relu_cap(L.Activation("relu")) == (True, None)
    assert _relu_cap(L.Activation("relu6")) == (True, 6.0)
    assert _relu_cap(L.Activation("tanh")) == (False, None)
    assert _relu_cap(L.Dense(2, activation="relu")) == (False, None)  # handled by its activation instead
    assert _relu_cap(L.Activation(functools.partial(keras.activations.relu, max_value=2.0))) == (False, None)  # no __name__


def test_nested_models_are_guided_too():
    """A ReLU inside a nested Sequential is replaced as well (a recursive clone), and the user's model is untouched."""
    rng = np.random.default_rng(5)
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, name="d1"), keras.layers.ReLU(name="r")], name="inner")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, name="d2")(inner(inputs)), name="nested")
    for layer in (inner.get_layer("d1"), model.get_layer("d2")):
        k, b = layer.get_weights()
        layer.set_weights([rng.normal(0, 1.5, k.shape).astype("float32"), rng.normal(0, 1, b.shape).astype("float32")])
    snap = snapshot(model)
    copy = guided_model(model)
    assert isinstance(copy.get_layer("inner").get_layer("r"), GuidedReLU)
    x = rng.normal(0, 1, (8, 4)).astype("float32")
    up = rng.normal(0, 1, (8, 3)).astype("float32")
    (k1, b1), (k2, _) = inner.get_layer("d1").get_weights(), model.get_layer("d2").get_weights()
    z = x @ k1 + b1
    g_mid = up @ k2.T
    expected = (g_mid * (z > 0) * (g_mid > 0)) @ k1.T
    np.testing.assert_allclose(_value_and_grad(copy, x, up)[1], expected, rtol=1e-4, atol=1e-5)
    assert_unchanged(model, snap)


def _mixed_model():
    """Every kind of ReLU the copy replaces: a ReLU layer with a cap, Activation('relu6'), Dense(relu6), Dense(relu)."""
    rng = np.random.default_rng(0)
    inputs = keras.Input((4,))
    x = keras.layers.Dense(6, name="d1")(inputs)
    x = keras.layers.ReLU(max_value=2.0, name="r")(x)
    x = keras.layers.Dense(6, activation="relu6", name="d2")(x)
    x = keras.layers.Activation("relu6", name="a")(keras.layers.Dense(5, name="d3")(x))
    out = keras.layers.Dense(3, activation="relu", name="d4")(x)
    model = keras.Model(inputs, out, name="mixed")
    for layer in (l for l in model.layers if isinstance(l, keras.layers.Dense)):
        k, b = layer.get_weights()
        layer.set_weights([rng.normal(0, 2.0, k.shape).astype("float32"), rng.normal(0, 1.0, b.shape).astype("float32")])
    return model


def _guided_numpy(model, x, up):
    """Forward with the same weights, backward by the guided rule, all in NumPy."""
    caps = {"r": 2.0, "d2": 6.0, "a": 6.0, "d4": np.inf}
    acts, h = [], x.astype("float64")
    for name in ("d1", "r", "d2", "d3", "a", "d4"):
        layer = model.get_layer(name)
        if name in ("d1", "d2", "d3", "d4"):
            k, b = layer.get_weights()
            h = h @ k + b
            acts.append(("dense", k))
        if name in caps:
            y = np.minimum(np.maximum(h, 0), caps[name])
            acts.append(("relu", (y > 0) & (y < caps[name])))
            h = y
    g = up.astype("float64")
    for kind, v in reversed(acts):
        g = g @ v.T if kind == "dense" else g * v * (g > 0)
    return h, g


def test_guided_copy_keeps_the_forward_pass_and_gates_every_relu():
    model = _mixed_model()
    snap = snapshot(model)
    copy = guided_model(model)
    assert isinstance(copy.get_layer("r"), GuidedReLU) and copy.get_layer("r").cap == 2.0
    assert isinstance(copy.get_layer("a"), GuidedReLU) and copy.get_layer("a").cap == 6.0
    x = np.random.default_rng(1).normal(0, 1.5, (16, 4)).astype("float32")
    up = np.random.default_rng(2).normal(0, 1, (16, 3)).astype("float32")
    ref_y, ref_g = _guided_numpy(model, x, up)
    y, g = _value_and_grad(copy, x, up)
    np.testing.assert_allclose(y, ref_y, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(model(x)), ref_y, rtol=1e-4, atol=1e-4)  # the same forward pass
    np.testing.assert_allclose(g, ref_g, rtol=1e-4, atol=1e-4)
    assert 0 < (np.abs(ref_g) > 0).mean() < 1  # the gates pass some paths and stop others
    assert_unchanged(model, snap)


def test_a_model_keras_cannot_clone_is_one_clear_error():
    class Opaque(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    model = Opaque()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(CnnvizError, match=r"needs a model keras can clone \(\w+Error: .*\); use saliency or gradcam instead$"):
        guided_model(model)


def test_guided_grad_cam_is_guided_backprop_times_grad_cam(tiny_conv_model):
    x = np.random.default_rng(3).uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    ex = Explainer(wrap(tiny_conv_model, preprocess="none"), ["guided-gradcam", "guided-backprop", "gradcam"], (16, 16),
                   Options(layer="c2", faithfulness_steps=0))
    gg_method = ex.methods[0]
    gg, gb, gc = (m.attribute(x, 1) for m in ex.methods)
    assert gg.dtype == gb.dtype == np.float32 and gc.std() > 0 and gb.std() > 0
    np.testing.assert_allclose(gg, gb * gc, rtol=1e-5, atol=1e-8)
    assert gg_method.info["layer"] == "c2" and gg_method.info["grid"] == [8, 8]
    backprop = ex.methods[1]
    assert gg_method.subject is ex.methods[2].subject and backprop.subject is ex.subject  # what each explains
    copy = backprop.guided.loaded.model  # the guided subject describes the guided copy, not the user's model
    assert copy is not tiny_conv_model and copy.get_layer("c1").activation is not tiny_conv_model.get_layer("c1").activation
    np.testing.assert_array_equal(gg_method.layer_maps, ex.methods[2].layer_maps)
