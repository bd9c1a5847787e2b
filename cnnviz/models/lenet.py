"""The LeNet of the classic Keras MNIST tutorial, and the trained copy that ships with cnnviz."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLED_FILE = "data/lenet.keras"
DIGITS_FILE = "data/digits.npz"


def bundled_path() -> Path:
    return Path(str(resources.files("cnnviz").joinpath(BUNDLED_FILE)))


def sample_digits():
    """The ~20 MNIST digits that ship with cnnviz: (x uint8 (N, 28, 28, 1), y uint8 (N,))."""
    import numpy as np

    with np.load(str(resources.files("cnnviz").joinpath(DIGITS_FILE))) as data:
        return data["x"], data["y"]


def build_lenet(input_shape=(28, 28, 1), num_classes: int = 10):
    """Conv2D(6, 3, same) -> MaxPool 2 -> Conv2D(16, 5, valid) -> MaxPool 2 -> Flatten -> 120 -> 84 -> 10."""
    from ..backends.runtime import keras

    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 5, padding="valid", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, activation="relu", name="fc1")(x)
    x = layers.Dense(84, activation="relu", name="fc2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="lenet")
