"""Import TensorFlow/Keras once, quietly. Only modules that need TensorFlow import this."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import absl.logging  # noqa: E402

absl.logging.set_verbosity(absl.logging.ERROR)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["keras", "tf"]
