"""Import TensorFlow/Keras once, quietly. Only modules that need TensorFlow import this.

TensorFlow prints start-up lines (oneDNN, CUDA probing) on file descriptor 2 before its logging is
configured, whatever TF_CPP_MIN_LOG_LEVEL says; they are hidden during the import itself unless
CNNVIZ_TF_LOGS=1. Import errors still raise as usual.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_quietly():
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None or os.environ.get("CNNVIZ_TF_LOGS"):
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


_import_quietly()

import absl.logging  # noqa: E402

absl.logging.set_verbosity(absl.logging.ERROR)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["keras", "tf"]
