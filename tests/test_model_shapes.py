"""Real model shapes (issue 21): several inputs, a 1x1 stride-2 conv, BatchNorm/PReLU after the last
conv, Sequential and nested graphs, sigmoid and regression heads. Each model is built here; each
figure is checked against an independent reference (a direct tape on the model, the model's own
output, an analytic gradient, finite differences, the integrated-gradients completeness axiom)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_unchanged, snapshot, wrap
from typer.testing import CliRunner

from cnnviz.errors import CnnvizError


def _layers():
    import keras

    return keras, keras.layers


def _image(seed: int = 0, hw: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (hw, hw, 3)).astype("float32")


def _hand_grad_cam(sub, inputs, unit: int, sign: float = 1.0) -> np.ndarray:
    """Grad-CAM by the paper on a model ``inputs -> [maps, value]`` (a tape on a graph of its own)."""
    import tensorflow as tf

    x = [tf.convert_to_tensor(i) for i in inputs] if isinstance(inputs, list) else tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        maps, value = sub(x, training=False)
        total = tf.reduce_sum(sign * value[:, unit])
    grads = tape.gradient(total, maps).numpy()[0].astype("float64")
    a = maps.numpy()[0].astype("float64")
    return np.maximum((a * grads.mean(axis=(0, 1))).sum(-1), 0.0)


# ------------------------------------------------------------------ 1. several inputs


def _meta_first():
    """meta (4,) is input 0, the image input 1: the receptive-field walk must start from the image."""
    keras, L = _layers()
    keras.utils.set_random_seed(11)
    meta, img = keras.Input((4,), name="meta"), keras.Input((16, 16, 3), name="image")
    x = L.Conv2D(4, 3, activation="relu", name="c1")(img)
    x = L.Concatenate()([L.GlobalAveragePooling2D()(x), L.Dense(4, name="m1")(meta)])
    return keras.Model([meta, img], L.Dense(3, name="cls")(x), name="meta_first")


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "layercam", "scorecam"])
def test_layer_methods_on_a_model_whose_image_is_not_the_first_input(method, tmp_path):
    import keras

    from cnnviz.methods.cam import class_heatmap
    from cnnviz.models.model_io import choose_input

    model = _meta_first()
    snap = snapshot(model)
    meta = np.array([1.0, -2.0, 0.5, 3.0], "float32")
    np.savez(tmp_path / "v.npz", meta=meta)
    choose_input(model, "image", tmp_path / "v.npz")
    image = _image(1)
    h = class_heatmap(wrap(model), image, 2, method=method)
    assert h.layer == "c1" and h.info["placement"] == "receptive-field"
    assert h.heat.shape == (16, 16) and np.isfinite(h.raw).all()
    if method == "gradcam":  # against the paper on a tape, the meta input held at the given values
        sub = keras.Model(model.inputs, [model.get_layer("c1").output, model.output])
        want = _hand_grad_cam(sub, [meta[None], image[None] / 255.0], 2)
        np.testing.assert_allclose(h.raw, want, rtol=1e-4, atol=1e-6)
        assert want.max() > 0
    assert_unchanged(model, snap)


# ------------------------------------------------------------------ 2. gradients compiled (1x1 stride-2 conv)


def _stride2_shortcut():
    """A mini-Xception block: a 1x1 stride-2 conv shortcut beside a 3x3 stride-2 conv, added, then
    an activation 'act' -> GAP -> Dense(3) logits. Smooth activations, so finite differences hold."""
    keras, L = _layers()
    keras.utils.set_random_seed(12)
    img = keras.Input((16, 16, 3), name="image")
    x = L.Conv2D(6, 3, padding="same", activation="swish", name="c1")(img)
    short = L.BatchNormalization(name="short_bn")(L.Conv2D(8, 1, strides=2, name="short")(x))
    main = L.Conv2D(8, 3, strides=2, padding="same", name="main")(x)
    x = L.Activation("swish", name="act")(L.Add(name="add")([short, main]))
    return keras.Model(img, L.Dense(3, name="logits")(L.GlobalAveragePooling2D(name="gap")(x)), name="xception_block")


def test_cam_gradients_run_compiled_and_equal_analytic_and_finite_differences():
    from cnnviz.backends import tensorflow as tfa
    from cnnviz.inputs.preprocessing import to_model_input
    from cnnviz.methods.attribution.explain import Explainer, Options
    from cnnviz.models.heads import linear_score
    from cnnviz.optvis import input_gradients, layer_gradients

    model = _stride2_shortcut()
    loaded = wrap(model)
    explainer = Explainer(loaded, ["gradcam", "saliency"], (16, 16), Options(faithfulness_steps=0))
    image = _image(2)
    for k in (0, 2):  # two classes: one compiled function, traced once (the class is an argument)
        explainer.explain(image, k)
    subject = explainer.methods[0].subject
    assert subject.layer == "act"  # the Add -> swish after the last conv
    step = tfa._COMPILED[subject.layer_model][("maps", linear_score)]
    assert step.experimental_get_tracing_count() == 1
    # d logit_k / d act = W[c, k] / (h * w) at every position (GAP then Dense): exact, no tape
    x = to_model_input(image[None], "unit")
    maps, grads, _ = layer_gradients(subject.layer_model, x, subject.score(1))
    w = model.get_layer("logits").get_weights()[0]
    np.testing.assert_allclose(grads[0], np.broadcast_to(w[:, 1] / (maps.shape[1] * maps.shape[2]), grads[0].shape), rtol=1e-5, atol=1e-8)
    # saliency's input gradient (through the 1x1 stride-2 conv) against central differences of the logit
    g, s = input_gradients(subject.logits, x, subject.score(1))
    assert ("input", linear_score) in tfa._COMPILED[subject.logits]
    rng = np.random.default_rng(0)
    eps = 1e-2
    for _ in range(6):
        i, j, c = rng.integers(0, 16), rng.integers(0, 16), rng.integers(0, 3)
        up, down = x.copy(), x.copy()
        up[0, i, j, c] += eps
        down[0, i, j, c] -= eps
        fd = (np.asarray(model(up))[0, 1] - np.asarray(model(down))[0, 1]) / (2 * eps)
        assert abs(g[0, i, j, c] - fd) < 2e-3 + 0.02 * abs(fd), (i, j, c, g[0, i, j, c], fd)
    np.testing.assert_allclose(s, np.asarray(model(x))[:, 1], rtol=1e-5)


MINI_XCEPTION = """
import sys
import numpy as np
import keras
L = keras.layers
keras.utils.set_random_seed(0)
inp = keras.Input((64, 64, 1))
x = L.Conv2D(8, 3, use_bias=False)(inp); x = L.Activation("relu")(L.BatchNormalization()(x))
x = L.Conv2D(8, 3, use_bias=False)(x); x = L.Activation("relu")(L.BatchNormalization()(x))
for f in (16, 32, 64, 128):
    r = L.BatchNormalization()(L.Conv2D(f, 1, strides=2, padding="same", use_bias=False)(x))
    x = L.Activation("relu")(L.BatchNormalization()(L.SeparableConv2D(f, 3, padding="same", use_bias=False)(x)))
    x = L.BatchNormalization()(L.SeparableConv2D(f, 3, padding="same", use_bias=False)(x))
    x = L.Add()([L.MaxPooling2D(3, strides=2, padding="same")(x), r])
x = L.GlobalAveragePooling2D()(L.Conv2D(7, 3, padding="same")(x))
model = keras.Model(inp, L.Activation("softmax")(x), name="mini_xception")
from cnnviz.models import LoadedModel
from cnnviz.methods.cam import class_heatmap
image = np.random.default_rng(0).uniform(0, 255, (64, 64, 1)).astype("float32")
for method in ("gradcam", "saliency", "integrated-gradients"):
    h = class_heatmap(LoadedModel(model, "mini", "unit", 7, None, "test"), image, 3, method=method)
    assert np.isfinite(h.raw).all() and h.raw.std() > 0, method
print("done")
"""


@pytest.mark.slow
def test_cam_on_a_mini_xception_does_not_crash(tmp_path):
    """The emotion-model shape (1x1 stride-2 conv shortcuts, separable convs, BatchNorm): TensorFlow
    2.21's oneDNN segfaults / double-frees in its *eager* gradients on CPUs with AVX-512 (it did here, AMD
    EPYC with AVX512-BF16, on the eager code); cam's gradients are compiled. In a child process, so a
    crash fails this test instead of killing the run (on CPUs without the bug it passes either way)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "mini.py"
    script.write_text(MINI_XCEPTION)
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and "done" in done.stdout, (done.returncode, done.stderr[-2000:])


def test_a_native_crash_is_one_line_and_exit_status_4(capfd):
    import os
    import subprocess
    import sys

    from cnnviz.cli.guard import run_guarded

    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    assert run_guarded(crash) == 4
    err = [l for l in capfd.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and err[0].startswith("error: the Keras backend crashed (SIGSEGV)") and "TF_ENABLE_ONEDNN_OPTS=0" in err[0]
    assert run_guarded([sys.executable, "-c", "raise SystemExit(3)"]) == 3
    env = {k: v for k, v in os.environ.items() if k != "CNNVIZ_GUARDED"}
    done = subprocess.run([sys.executable, "-m", "cnnviz", "cam", "--model", "/nonexistent.keras"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith("error: model file")


# ------------------------------------------------------------------ 3. default layer after the nonlinearity


def _bn_relu_head(prelu: bool = False):
    """... -> Conv2D 'conv_last' (no activation) -> BatchNorm 'bn' -> ReLU 'relu' (or PReLU 'prelu', MTCNN
    ONet style) -> GAP -> Dense(3). The BatchNorm shifts some channels down, so the raw conv and the
    ReLU output differ."""
    keras, L = _layers()
    keras.utils.set_random_seed(13)
    img = keras.Input((16, 16, 3), name="image")
    x = L.Conv2D(6, 3, padding="same", activation="relu", name="c1")(img)
    x = L.Conv2D(5, 3, padding="same", name="conv_last")(x)
    if prelu:
        x = L.PReLU(shared_axes=[1, 2], name="prelu")(x)
    else:
        x = L.ReLU(name="relu")(L.BatchNormalization(name="bn")(x))
    model = keras.Model(img, L.Dense(3, name="cls")(L.GlobalAveragePooling2D()(x)), name="bnrelu")
    if not prelu:
        model.get_layer("bn").set_weights([np.ones(5, "float32"), np.array([-2, 1, -0.5, 0.5, -1], "float32"),
                                           np.zeros(5, "float32"), np.ones(5, "float32")])
    return model


@pytest.mark.parametrize("prelu", [False, True])
def test_default_layer_is_read_after_the_last_convs_nonlinearity(prelu):
    import keras

    from cnnviz.methods.cam import class_heatmap

    model = _bn_relu_head(prelu)
    act = "prelu" if prelu else "relu"
    image = _image(3)
    h = class_heatmap(wrap(model), image, 1)
    assert h.layer == act
    record = h.record()
    assert record["layer_reason"] == f"{act}, the nonlinearity after the last conv conv_last"
    sub = keras.Model(model.input, [model.get_layer(act).output, model.output])
    np.testing.assert_allclose(h.raw, _hand_grad_cam(sub, image[None] / 255.0, 1), rtol=1e-4, atol=1e-6)
    given = class_heatmap(wrap(model), image, 1, layer="conv_last")
    assert given.layer == "conv_last" and given.record()["layer_reason"] == "given with --layer"


# ------------------------------------------------------------------ 4. "responds" after the nonlinearity, any graph


def _sequential_bn_relu():
    keras, L = _layers()
    keras.utils.set_random_seed(14)
    model = keras.Sequential([keras.Input((12, 12, 3)), L.Conv2D(6, 3, name="conv"), L.BatchNormalization(name="bn"),
                              L.ReLU(name="relu"), L.GlobalAveragePooling2D(), L.Dense(2)], name="seq")
    model.get_layer("bn").set_weights([np.ones(6, "float32"), np.array([-3, 2, -1, 0.5, -2, 1], "float32"),
                                       np.zeros(6, "float32"), np.ones(6, "float32")])
    return model


def _nested_base():
    """A base model ending in a linear conv; BatchNorm and ReLU follow in the outer model."""
    keras, L = _layers()
    keras.utils.set_random_seed(15)
    inner_in = keras.Input((12, 12, 3))
    base = keras.Model(inner_in, L.Conv2D(6, 3, name="conv")(L.Conv2D(4, 3, activation="relu", name="c0")(inner_in)), name="base")
    img = keras.Input((12, 12, 3))
    x = L.ReLU(name="relu")(L.BatchNormalization(name="bn")(base(img)))
    model = keras.Model(img, L.Dense(2)(L.GlobalAveragePooling2D()(x)), name="outer")
    model.get_layer("bn").set_weights([np.ones(6, "float32"), np.array([-3, 2, -1, 0.5, -2, 1], "float32"),
                                       np.zeros(6, "float32"), np.ones(6, "float32")])
    return model


@pytest.mark.parametrize("build,layer", [(_sequential_bn_relu, "conv"), (_nested_base, "base/conv")])
def test_response_is_read_after_the_relu_in_sequential_and_nested_graphs(build, layer):
    import keras

    from cnnviz.models import feature_model, resolve_layer
    from cnnviz.models.submodels import response_model, response_path

    model = build()
    feature_model(model, [resolve_layer(model, layer)])  # as filters do first: the layers are called again
    where, kind = response_path(model, resolve_layer(model, layer))
    assert kind == "next" and [l.name for l in where] == ["relu"]
    sub, measured = response_model(model, resolve_layer(model, layer))
    assert "relu" in measured and "nonlinearity after" in measured
    x = np.random.default_rng(4).uniform(0, 1, (2, 12, 12, 3)).astype("float32")
    want = np.asarray(keras.Model(model.inputs, model.get_layer("relu").output)(x))
    np.testing.assert_allclose(np.asarray(sub(x)), want, rtol=1e-5, atol=1e-6)
    assert (want.reshape(-1, 6).max(0) == 0).any()  # some channel is exactly 0 after the ReLU: not "alive"


def test_prelu_unit_with_negative_mean_but_positive_response_is_alive():
    import keras

    from cnnviz.methods.filters import ALIVE_EPS
    from cnnviz.models import resolve_layer
    from cnnviz.models.submodels import response_model

    _, L = _layers()
    keras.utils.set_random_seed(16)
    img = keras.Input((12, 12, 3))
    conv = L.Conv2D(3, 3, name="conv")
    x = L.PReLU(shared_axes=[1, 2], name="prelu")(conv(img))
    model = keras.Model(img, L.Dense(2)(L.GlobalAveragePooling2D()(x)))
    kernel, _ = conv.get_weights()
    conv.set_weights([kernel, np.array([-0.3, -5.0, 0.2], "float32")])  # channel 0: mostly negative, some positive
    model.get_layer("prelu").set_weights([np.full((1, 1, 3), 0.8, "float32")])
    x = np.random.default_rng(5).uniform(0, 1, (4, 12, 12, 3)).astype("float32")
    out = np.asarray(keras.Model(img, model.get_layer("prelu").output)(x)).astype("float64")
    sub, measured = response_model(model, resolve_layer(model, "conv"))
    got = np.asarray(sub(x)).mean(axis=(1, 2))
    np.testing.assert_allclose(got, np.maximum(out, 0).mean(axis=(1, 2)), rtol=1e-5, atol=1e-7)
    assert out[..., 0].mean() < 0 and out[..., 0].max() > 0 and got[:, 0].max() > ALIVE_EPS  # alive: responds somewhere
    assert "positive part" in measured
    from cnnviz.models.submodels import RESPONSE_RULE

    assert "positive response" in RESPONSE_RULE


# ------------------------------------------------------------------ 5. sigmoid and regression heads


def _head(units: int, activation: str | None, seed: int = 17):
    keras, L = _layers()
    keras.utils.set_random_seed(seed)
    img = keras.Input((16, 16, 3), name="image")
    x = L.Conv2D(6, 3, padding="same", activation="relu", name="c1")(img)
    x = L.Conv2D(5, 3, padding="same", activation="relu", name="c2")(x)
    return keras.Model(img, L.Dense(units, activation=activation, name="head")(L.GlobalAveragePooling2D()(x)), name="head_model")


def _ig(model, image, target):
    from cnnviz.methods.cam import class_heatmap

    return class_heatmap(wrap(model), image, method="integrated-gradients", target=target)


def _logit(p):
    p = np.asarray(p, "float64")
    return np.log(p) - np.log1p(-p)


def test_binary_sigmoid_head_class_one_is_evidence_for_and_zero_against():
    from cnnviz.models import Classifier

    model = _head(1, "sigmoid")
    snap = snapshot(model)
    image = _image(6)
    clf = Classifier(wrap(model))
    p = float(np.asarray(model(image[None] / 255.0))[0, 0])
    np.testing.assert_allclose(clf.probabilities(image[None])[0], [1 - p, p], rtol=1e-5)
    z = _logit(p) - _logit(float(np.asarray(model(np.zeros((1, 16, 16, 3), "float32")))[0, 0]))
    for cls, sign in ((1, 1.0), (0, -1.0)):  # completeness: the attributions add up to the change of +-logit
        h = _ig(model, image, cls)
        assert h.class_index == cls and h.score["head"] == "binary" and h.score["sign"] == sign
        assert abs(h.raw.sum() - sign * z) < 0.02 * abs(z) + 1e-4
        assert abs(h.probability - (p if cls == 1 else 1 - p)) < 1e-5
    assert_unchanged(model, snap)


def test_multilabel_sigmoid_head_class_picks_the_unit():
    model = _head(3, "sigmoid")
    image = _image(7)
    z = _logit(np.asarray(model(image[None] / 255.0))[0]) - _logit(np.asarray(model(np.zeros((1, 16, 16, 3), "float32")))[0])
    h = _ig(model, image, 2)
    assert h.score["head"] == "multi-label" and h.score["unit"] == 2
    assert abs(h.raw.sum() - z[2]) < 0.02 * abs(z[2]) + 1e-4


@pytest.mark.parametrize("target,sign", [("value", 1.0), ("-value", -1.0), (None, 1.0)])
def test_regression_head_value_and_minus_value(target, sign):
    from cnnviz.methods.cam import class_heatmap

    model = _head(1, None)
    image = _image(8)
    f = float(np.asarray(model(image[None] / 255.0))[0, 0])
    f0 = float(np.asarray(model(np.zeros((1, 16, 16, 3), "float32")))[0, 0])
    h = _ig(model, image, target)
    assert h.score["head"] == "regression" and h.score["sign"] == sign
    assert abs(h.probability - f) < 1e-5 and h.class_name == ("output 0's decrease" if sign < 0 else "output 0's increase")
    assert abs(h.raw.sum() - sign * (f - f0)) < 0.02 * abs(f - f0) + 1e-5
    occ = class_heatmap(wrap(model), image, method="occlusion", target=target)
    assert np.abs(occ.raw).max() > 0
    cam = class_heatmap(wrap(model), image, method="gradcam", target=target)
    assert cam.layer == "c2" and cam.heat.shape == (16, 16)


def test_regression_class_is_refused_and_fool_refuses_a_regression():
    from cnnviz.methods.cam import class_heatmap
    from cnnviz.methods.fooling import fool_from_noise

    model = _head(1, None)
    with pytest.raises(CnnvizError, match="regression output .*--target value"):
        class_heatmap(wrap(model), _image(9), 0)
    with pytest.raises(CnnvizError, match="is a regression"):
        fool_from_noise(wrap(model), [0], max_steps=1)


def test_a_users_score_function_of_the_logits():
    """Captum / tf-keras-vis style: any function of the head value; here logit 1 - logit 0 of a softmax
    head, whose change the completeness axiom pins to log(p1/p0)(x) - log(p1/p0)(x0)."""
    from keras import ops

    model = _head(3, "softmax")
    image = _image(10)

    def margin(values):
        return ops.subtract(values[:, 1], values[:, 0])

    p = np.asarray(model(image[None] / 255.0), "float64")[0]
    p0 = np.asarray(model(np.zeros((1, 16, 16, 3), "float32")), "float64")[0]
    want = np.log(p[1] / p[0]) - np.log(p0[1] / p0[0])
    h = _ig(model, image, margin)
    assert h.score["score"] == "margin" and h.score["head"] == "softmax"
    assert abs(h.raw.sum() - want) < 0.02 * abs(want) + 1e-4


@pytest.mark.parametrize("units", [1, 3])
def test_fool_on_sigmoid_heads_reaches_the_class(units):
    from cnnviz.methods.fooling import fool_from_noise

    model = _head(units, "sigmoid", seed=18)
    head = model.get_layer("head")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 30.0, bias])  # a head that can be pushed both ways within 0-255 pixels
    classes = [0, 1] if units == 1 else [2]
    r = fool_from_noise(wrap(model), classes, confidence=0.8, max_steps=200)
    p = np.asarray(model(r.images.astype("float32") / 255.0), "float64")
    want = np.concatenate([1 - p, p], axis=1)[np.arange(len(classes)), classes] if units == 1 else p[:, 2]
    np.testing.assert_allclose(r.probabilities, want, rtol=1e-4, atol=1e-6)
    assert r.reached.all(), r.probabilities
    # the objective is log p(class) of this head: log sigmoid(+-z) for one unit, log sigmoid(z_k) for several
    from keras import ops

    from cnnviz.methods.fooling import log_probability
    from cnnviz.models import Classifier

    clf = Classifier(wrap(model))
    logits = ops.convert_to_numpy(clf.model(np.zeros((1, 16, 16, 3), "float32")))  # the class-logit form of a real output
    got = ops.convert_to_numpy(log_probability(clf)({"logits": ops.convert_to_tensor(logits)}, np.array([classes[-1]])))
    p = np.asarray(model(np.zeros((1, 16, 16, 3), "float32")), "float64")[0]
    want = np.log(p[0]) if units == 1 else np.log(p[2])  # class 1 of one unit is p; unit 2 of three is p_2
    np.testing.assert_allclose(got, [want], rtol=1e-4, atol=1e-5)


def test_cli_cam_on_binary_and_regression_models(tmp_path):
    from cnnviz.cli import app

    _head(1, "sigmoid").save(tmp_path / "catdog.keras")
    _head(1, None).save(tmp_path / "age.keras")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["cam", str(tmp_path / "catdog.keras"), "--class", "0", "--faithfulness-steps", "4", "-o", str(out / "a")])
    assert r.exit_code == 0, r.output
    m = json.loads(next((out / "a").glob("*.json")).read_text())
    assert m["head"] == "binary" and m["class"] == 0 and m["sign"] == -1.0 and m["layer"] == "c2"
    r = CliRunner().invoke(app, ["cam", str(tmp_path / "age.keras"), "--target", "-value", "--method", "gradcam",
                                 "--method", "integrated-gradients", "-o", str(out / "b")])
    assert r.exit_code == 0, r.output
    m = json.loads(next((out / "b").glob("*.json")).read_text())
    assert m["head"] == "regression" and m["sign"] == -1.0 and "value" in m and m["faithfulness"] is None
    r = CliRunner().invoke(app, ["cam", str(tmp_path / "age.keras"), "--class", "0", "-o", str(out / "c")])
    assert r.exit_code == 1 and "--target value" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["fool", str(tmp_path / "age.keras"), "--class", "0", "-o", str(out / "d")])
    lines = [line for line in r.output.splitlines() if line.strip() and not line.startswith("note: ")]  # notes: how it is fed
    assert r.exit_code == 1 and len(lines) == 1 and "is a regression" in lines[0] and not (out / "d").exists()


# ------------------------------------------------------------------ 8. smaller


def _two_images_two_outputs():
    keras, L = _layers()
    keras.utils.set_random_seed(19)
    a, b = keras.Input((16, 16, 3), name="a"), keras.Input((16, 16, 3), name="b")
    ca = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, activation="relu", name="ca")(a))
    cb = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, activation="relu", name="cb")(b))
    x = L.Concatenate()([ca, cb])
    return keras.Model([a, b], [L.Dense(3, activation="softmax", name="cls")(x), L.Dense(1, name="age")(x)], name="two_two")


def test_manifest_records_input_values_and_output_and_gradcampp_name(tmp_path):
    from cnnviz.cli import app

    _two_images_two_outputs().save(tmp_path / "m.keras")
    np.savez(tmp_path / "v.npz", b=np.full((16, 16, 3), 0.5, "float32"))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["cam", str(tmp_path / "m.keras"), "--input", "a", "--input-values", str(tmp_path / "v.npz"),
                                 "--output", "cls", "--method", "gradcam++", "--faithfulness-steps", "0", "-o", str(out)])
    assert r.exit_code == 0, r.output
    png = next(out.glob("*.png"))
    assert "gradcampp" in png.name and "gradcampppp" not in png.name
    m = json.loads(next(out.glob("*.json")).read_text())
    assert m["image_input"] == "a" and m["output"] == "cls"
    assert m["held_inputs"] == {"b": f"values from {tmp_path / 'v.npz'}"}


def test_layer_not_fed_by_the_image_input_is_one_clear_error():
    from cnnviz.methods.cam import class_heatmap
    from cnnviz.models.model_io import choose_input, choose_output

    model = _two_images_two_outputs()
    choose_input(model, "a")
    choose_output(model, "cls")
    with pytest.raises(CnnvizError, match="cb.*not fed by the image input 'a'"):
        class_heatmap(wrap(model), _image(11), 0, layer="cb")


def test_fully_convolutional_output_hint_never_points_back_to_itself():
    keras, L = _layers()
    from cnnviz.models import Classifier
    from cnnviz.models.model_io import choose_output

    img = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, activation="relu", name="c1")(img)
    model = keras.Model(img, [L.Conv2D(2, 1, activation="softmax", name="prob")(x), L.Conv2D(4, 1, name="bbox")(x)], name="pnet")
    choose_output(model, "prob")
    with pytest.raises(CnnvizError) as info:
        Classifier(wrap(model))
    assert "--output" not in str(info.value) and "fully convolutional" in str(info.value)


def test_conv1d_kernels_refusal_names_a_conv2d_or_none():
    keras, L = _layers()
    from cnnviz.methods.kernels import learned_kernels

    seq = keras.Input((32, 3))
    model = keras.Model(seq, L.Dense(2)(L.GlobalAveragePooling1D()(L.Conv1D(4, 3, name="c1d")(seq))), name="seq1d")
    with pytest.raises(CnnvizError) as info:
        learned_kernels(wrap(model), "c1d")
    assert "such as c1d" not in str(info.value) and "has none" in str(info.value)
