"""Bring your own model: what real models look like (BatchNorm before the ReLU, several inputs or
outputs, a leading Rescaling, channels_first, Conv1D), each checked against a direct forward pass."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cnnviz.errors import CnnvizError

from conftest import assert_unchanged, snapshot, wrap


def _conv_bn_relu(seed: int = 3):
    """Input 24x24x3 -> Conv2D(6) 'conv' (no activation) -> BatchNorm 'bn' (shifted) -> ReLU 'relu'
    -> Conv2D(4) 'conv_last' (no activation, nothing after but pooling) -> GAP -> Dense(3)."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((24, 24, 3), name="image")
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv_last")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, outputs, name="cbr")
    bn = model.get_layer("bn")
    rng = np.random.default_rng(seed)
    # a BatchNorm that really moves things: some channels pushed down (raw mean > 0 but ReLU output ~0)
    bn.set_weights([rng.uniform(0.5, 2.0, 6).astype("float32"), np.array([-3, 2, -1, 0.5, -2, 1], "float32"),
                    rng.normal(0, 0.2, 6).astype("float32"), rng.uniform(0.5, 2, 6).astype("float32")])
    return model


def test_response_path_follows_the_graph():
    from cnnviz.models import resolve_layer
    from cnnviz.models.submodels import response_path

    model = _conv_bn_relu()
    where, kind = response_path(model, resolve_layer(model, "conv"))
    assert kind == "next" and where[-1].name == "relu"
    where, kind = response_path(model, resolve_layer(model, "conv_last"))
    assert kind == "positive" and where[-1].name == "conv_last"


@pytest.mark.parametrize("method", ["smooth", "classic"])
def test_filters_report_the_post_relu_mean_of_the_saved_image(method):
    import keras

    from cnnviz.methods.filters import visualize_filters
    from cnnviz.inputs.preprocessing import to_model_input

    model = _conv_bn_relu()
    snap = snapshot(model)
    loaded = wrap(model, "unit")
    res = visualize_filters(loaded, "conv", [0, 1, 2, 3, 4, 5], steps=3, method=method, seed=1)
    assert "relu" in res.measured
    after_relu = keras.Model(model.input, model.get_layer("relu").output)
    maps = np.asarray(after_relu(to_model_input(res.images.astype("float32"), "unit")))
    want = np.array([maps[k, ..., i].mean() for k, i in enumerate(res.indices)])
    np.testing.assert_allclose(res.activations, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(res.alive, want > 1e-6)
    raw = keras.Model(model.input, model.get_layer("conv").output)
    raw_means = np.asarray(raw(to_model_input(res.images.astype("float32"), "unit"))).mean((1, 2))
    raw_means = np.array([raw_means[k, i] for k, i in enumerate(res.indices)])
    assert np.abs(raw_means - want).max() > 0.1  # the old measure would have reported something else
    assert_unchanged(model, snap)

    last = visualize_filters(loaded, "conv_last", [0, 1], steps=2, method=method, seed=1)
    assert "positive part" in last.measured
    raw = keras.Model(model.input, model.get_layer("conv_last").output)
    maps = np.maximum(np.asarray(raw(to_model_input(last.images.astype("float32"), "unit"))), 0)
    np.testing.assert_allclose(last.activations, [maps[k, ..., i].mean() for k, i in enumerate(last.indices)], rtol=1e-5, atol=1e-6)


def test_filters_manifest_says_what_was_measured(tmp_path):
    from cnnviz.cli import app

    path = tmp_path / "cbr.keras"
    _conv_bn_relu().save(path)
    result = CliRunner().invoke(app, ["filters", str(path), "--layer", "conv", "--filters", "0-1", "--steps", "2", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert "relu" in manifest["measured"] and "nonlinearity" in manifest["measured"]
    assert "alive = mean response > 1e-6" in manifest["response_rule"]


# ------------------------------------------------------------------ models of every shape


def _two_inputs():
    """image (16x16x3) + meta (4,) -> class (3, softmax); the class depends on both."""
    import keras

    keras.utils.set_random_seed(5)
    L = keras.layers
    img, meta = keras.Input((16, 16, 3), name="image"), keras.Input((4,), name="meta")
    x = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, activation="relu", name="c1")(img))
    x = L.Concatenate()([x, L.Dense(4, name="m1")(meta)])
    return keras.Model([img, meta], L.Dense(3, activation="softmax", name="cls")(x), name="two_in")


def _two_outputs(second_softmax: bool = False):
    import keras

    keras.utils.set_random_seed(6)
    L = keras.layers
    img = keras.Input((16, 16, 3), name="image")
    x = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, activation="relu", name="c1")(img))
    second = L.Dense(4, activation="softmax", name="mood")(x) if second_softmax else L.Dense(1, name="age")(x)
    return keras.Model(img, [L.Dense(2, activation="softmax", name="gender")(x), second], name="two_out")


def _channels_first():
    import keras

    keras.utils.set_random_seed(7)
    L = keras.layers
    img = keras.Input((3, 16, 12), name="image")
    x = L.Conv2D(4, 3, activation="relu", data_format="channels_first", name="c1")(img)
    x = L.GlobalAveragePooling2D(data_format="channels_first")(x)
    return keras.Model(img, L.Dense(3, activation="softmax", name="cls")(x), name="cf")


def _softmax(x):
    x = np.asarray(x, "float64")
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_two_inputs_image_picked_and_others_held(tmp_path):
    from cnnviz.models import Classifier, feature_model, resolve_layer
    from cnnviz.models.model_io import choose_input

    model = _two_inputs()
    snap = snapshot(model)
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    meta = np.array([3.0, -2.0, 1.0, 0.5], "float32")
    loaded = wrap(model, "unit")
    notes = choose_input(model)
    assert "meta held at zero" in notes[0]
    probs = Classifier(loaded).probabilities(images)
    np.testing.assert_allclose(probs, np.asarray(model([images / 255.0, np.zeros((2, 4), "float32")])), rtol=1e-5, atol=1e-6)
    np.savez(tmp_path / "meta.npz", meta=meta)
    notes = choose_input(model, "image", tmp_path / "meta.npz")
    assert "meta held at the values from meta.npz" in notes[0]
    held = Classifier(loaded).probabilities(images)
    want = np.asarray(model([images / 255.0, np.tile(meta, (2, 1))]))
    np.testing.assert_allclose(held, want, rtol=1e-5, atol=1e-6)
    assert np.abs(held - probs).max() > 1e-3  # the held values matter
    maps = np.asarray(feature_model(model, [resolve_layer(model, "c1")])(images / 255.0))
    direct = __import__("keras").Model(model.inputs[0], model.get_layer("c1").output)(images / 255.0)
    np.testing.assert_allclose(maps, np.asarray(direct), rtol=1e-5, atol=1e-6)
    assert_unchanged(model, snap)


@pytest.mark.parametrize("spec, values, pattern", [
    ("meta", None, "must name a .batch, H, W, C. image input"),
    ("nope", None, "unknown input 'nope'; the model's inputs are: image"),
    (None, {"other": np.zeros(4)}, "names 'other', which is not an input"),
    (None, {"meta": np.zeros(5)}, r"has shape \(5,\); input 'meta' takes \(4,\)"),
])
def test_input_choice_bad_input(tmp_path, spec, values, pattern):
    from cnnviz.models.model_io import choose_input

    path = None
    if values is not None:
        path = tmp_path / "v.npz"
        np.savez(path, **values)
    with pytest.raises(CnnvizError, match=pattern):
        choose_input(_two_inputs(), spec, path)


def test_two_outputs_default_choice_and_refusals():
    from cnnviz.models import Classifier
    from cnnviz.models.model_io import choose_output

    model = _two_outputs()
    loaded = wrap(model, "unit")
    images = np.random.default_rng(1).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    probs = Classifier(loaded).probabilities(images)  # default: the only classifier-like output
    np.testing.assert_allclose(probs, np.asarray(model(images / 255.0)[0]), rtol=1e-5, atol=1e-6)
    choose_output(model, "age")  # a regression head: explained as a value, refused by class commands
    age = Classifier(loaded)
    assert age.head.kind == "regression"
    np.testing.assert_allclose(age.values(images), np.asarray(model(images / 255.0)[1]), rtol=1e-5, atol=1e-6)
    with pytest.raises(CnnvizError, match=r"output 'age' is a regression"):
        age.model
    with pytest.raises(CnnvizError, match="unknown output 'x'; the model's outputs are: 0: gender"):
        choose_output(model, "x")
    ambiguous = _two_outputs(second_softmax=True)
    with pytest.raises(CnnvizError, match=r"several outputs \(0: gender \(None, 2\) softmax; 1: mood .*--output"):
        Classifier(wrap(ambiguous, "unit"))
    choose_output(ambiguous, 1)
    probs = Classifier(wrap(ambiguous, "unit")).probabilities(images)
    np.testing.assert_allclose(probs, np.asarray(ambiguous(images / 255.0)[1]), rtol=1e-5, atol=1e-6)


def test_leading_rescaling_means_raw_pixels(tmp_path):
    import keras

    from cnnviz.models import Classifier, load_model

    keras.utils.set_random_seed(8)
    L = keras.layers
    img = keras.Input((16, 16, 3))
    x = L.Conv2D(4, 3, activation="relu")(L.Rescaling(1 / 255.0, name="scale")(img))
    keras.Model(img, L.Dense(3, activation="softmax")(L.GlobalAveragePooling2D()(x))).save(tmp_path / "r.keras")
    loaded = load_model(str(tmp_path / "r.keras"))
    assert loaded.preprocess == "none" and any("Rescaling layer 'scale'" in n for n in loaded.notes)
    pixels = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(Classifier(loaded).probabilities(pixels), np.asarray(loaded.model(pixels)), rtol=1e-5, atol=1e-6)
    forced = load_model(str(tmp_path / "r.keras"), preprocess="unit")
    assert forced.preprocess == "unit" and not forced.notes


def test_bgr_preprocessing_is_raw_reversed_channels():
    from cnnviz.inputs.preprocessing import to_model_input, to_pixels

    x = np.arange(2 * 3 * 3, dtype="float32").reshape(1, 2, 3, 3) * 10
    np.testing.assert_array_equal(to_model_input(x, "bgr"), x[..., ::-1])
    np.testing.assert_array_equal(to_pixels(to_model_input(x, "bgr"), "bgr"), x)


def test_channels_first_transposed_at_the_edges():
    import keras

    from cnnviz.methods.filters import visualize_filters
    from cnnviz.models import Classifier, feature_model, logits_model, resolve_layer

    model = _channels_first()
    loaded = wrap(model, "unit")
    assert loaded.input_shape == (16, 12, 3)
    pixels = np.random.default_rng(3).uniform(0, 255, (2, 16, 12, 3)).astype("float32")
    nchw = np.transpose(pixels / 255.0, (0, 3, 1, 2))
    np.testing.assert_allclose(Classifier(loaded).probabilities(pixels), np.asarray(model(nchw)), rtol=1e-5, atol=1e-6)
    maps = np.asarray(feature_model(model, [resolve_layer(model, "c1")])(pixels / 255.0))
    direct = np.asarray(keras.Model(model.input, model.get_layer("c1").output)(nchw))
    np.testing.assert_allclose(maps, np.transpose(direct, (0, 2, 3, 1)), rtol=1e-5, atol=1e-6)
    res = visualize_filters(loaded, "c1", [0, 3], steps=2, seed=0)
    direct = np.asarray(keras.Model(model.input, model.get_layer("c1").output)(np.transpose(res.images / 255.0, (0, 3, 1, 2)).astype("float32")))
    np.testing.assert_allclose(res.activations, [direct[k, i].mean() for k, i in enumerate(res.indices)], rtol=1e-5, atol=1e-6)
    cam_model, _ = logits_model(loaded, extra=[resolve_layer(model, "c1")])
    logits, cam_maps = cam_model(pixels / 255.0)
    np.testing.assert_allclose(_softmax(logits), np.asarray(model(nchw)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(cam_maps), np.transpose(np.asarray(keras.Model(model.input, model.get_layer("c1").output)(nchw)), (0, 2, 3, 1)), rtol=1e-5, atol=1e-6)
    from cnnviz.methods.cam import class_heatmap

    # Grad-CAM by hand: after c1 comes GAP -> Dense, so d logit_k / d c1[c, i, j] = W[c, k] / (H W)
    c1 = np.asarray(keras.Model(model.input, model.get_layer("c1").output)(np.transpose(pixels[:1].astype("uint8") / 255.0, (0, 3, 1, 2)).astype("float32")))[0]
    dense_w = model.get_layer("cls").get_weights()[0]
    checked = 0
    for k in range(3):
        heat = class_heatmap(loaded, pixels[0].astype("uint8"), k, layer="c1")
        want = np.maximum((c1 * (dense_w[:, k] / (c1.shape[1] * c1.shape[2]))[:, None, None]).sum(0), 0)
        assert heat.heat.shape == (16, 12)
        np.testing.assert_allclose(heat.raw, want, rtol=1e-4, atol=1e-6 * max(want.max(), 1e-3))
        checked += want.max() > 0
    assert checked >= 1


def _save_odd_models(tmp_path):
    import keras

    L = keras.layers
    s = keras.Input((50, 2))
    keras.Model(s, L.Dense(3)(L.GlobalAveragePooling1D()(L.Conv1D(4, 3, name="c1")(s)))).save(tmp_path / "seq.keras")
    v = keras.Input((8, 8, 8, 1))
    keras.Model(v, L.Dense(3)(L.GlobalAveragePooling3D()(L.Conv3D(2, 3, name="c1")(v)))).save(tmp_path / "vol.keras")
    keras.Sequential([L.Conv2D(4, 3, name="c1"), L.Flatten(), L.Dense(2)]).save(tmp_path / "unbuilt.keras")
    _two_inputs().save(tmp_path / "two.keras")


def test_layers_works_on_any_model_and_image_commands_refuse_honestly(tmp_path):
    from cnnviz.cli import app

    _save_odd_models(tmp_path)
    runner = CliRunner()
    for name, shown in (("seq", "(None, 50, 2)"), ("vol", "(None, 8, 8, 8, 1)"), ("unbuilt", "never built"), ("two", "meta (None, 4)")):
        result = runner.invoke(app, ["layers", str(tmp_path / f"{name}.keras")])
        assert result.exit_code == 0, result.output
        assert shown in " ".join(result.output.split()) and "c1" in result.output
    out = tmp_path / "out"
    for name, reason in (("seq", "takes sequences"), ("vol", "takes volumes"), ("unbuilt", "never built")):
        for args in (["filters", str(tmp_path / f"{name}.keras"), "--layer", "c1"], ["cam", "--model", str(tmp_path / f"{name}.keras")],
                     ["fool", "--model", str(tmp_path / f"{name}.keras"), "--class", "1"]):
            result = runner.invoke(app, args + ["-o", str(out)])
            lines = [l for l in result.output.splitlines() if l.strip()]
            assert result.exit_code == 1 and len(lines) == 1 and reason in lines[0], (args, result.output)
            assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_two_inputs_with_values_and_output_choice(tmp_path):
    from cnnviz.cli import app

    _two_inputs().save(tmp_path / "two.keras")
    np.savez(tmp_path / "meta.npz", meta=np.array([3.0, -2.0, 1.0, 0.5], "float32"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cam", "--model", str(tmp_path / "two.keras"), "--input-values", str(tmp_path / "meta.npz"),
                                      "--output", "cls", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "meta held at the values from meta.npz" in result.output
    manifest = json.loads(next(out.glob("*.json")).read_text())
    import keras

    from cnnviz.inputs.images import bundled_cat, load_input

    model = keras.saving.load_model(tmp_path / "two.keras")
    image, _, _ = load_input(bundled_cat(), 16, 16, 3)
    p = np.asarray(model([image[None].astype("float32") / 255.0, np.array([[3.0, -2.0, 1.0, 0.5]], "float32")]))[0]
    assert manifest["class"] == int(p.argmax()) and abs(manifest["probability"] - float(p.max())) < 1e-4
    result = CliRunner().invoke(app, ["cam", "--model", str(tmp_path / "two.keras"), "--input-values", str(tmp_path / "missing.npz"), "-o", str(out / "x")])
    assert result.exit_code == 1 and "--input-values file" in result.output and not (out / "x").exists()
