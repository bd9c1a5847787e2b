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

    from cnnviz.filters import visualize_filters
    from cnnviz.preprocessing import to_model_input

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
