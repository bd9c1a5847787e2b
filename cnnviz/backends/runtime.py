"""Import Keras once, quietly, on the chosen backend. Only modules that need Keras import this.

The backend is picked by :mod:`cnnviz.backends.select` (``--backend``, ``KERAS_BACKEND``,
keras.json, else TensorFlow) and checked before Keras loads. TensorFlow is imported only when it
is the backend. TensorFlow prints start-up lines (oneDNN, CUDA probing) on file descriptor 2 before
its logging is configured, whatever TF_CPP_MIN_LOG_LEVEL says; they are hidden during the import
itself unless CNNVIZ_TF_LOGS=1.
"""

from __future__ import annotations

import os
import random
import sys
from contextlib import contextmanager

import numpy as np

from . import select as keras_backend
from ..errors import CnnvizError, first_line

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _quietly(module: str) -> None:
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None or os.environ.get("CNNVIZ_TF_LOGS"):
        __import__(module)
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        __import__(module)
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _keep_tensorflow_out() -> None:
    """On JAX or PyTorch, tell Keras that TensorFlow is absent. Keras imports it whenever it is
    installed just to ask ``tf.available`` (serialising a layer config, ``set_random_seed``): seconds
    of start-up and, on a GPU, a second framework claiming device memory. Keras' own lazy module
    holds that answer; if its layout ever changes, nothing breaks (TensorFlow then merely loads)."""
    try:
        from keras.src.utils import module_utils
    except ImportError:
        return
    lazy = getattr(module_utils, "tensorflow", None)
    if lazy is not None and getattr(lazy, "module", None) is None and hasattr(lazy, "_available"):
        lazy._available = False


def _load():
    name = keras_backend.running() or keras_backend.select(None)
    try:
        if name == "tensorflow" and "tensorflow" not in sys.modules:
            _quietly("tensorflow")
            import absl.logging

            absl.logging.set_verbosity(absl.logging.ERROR)
        import keras

        if name != "tensorflow" and "tensorflow" not in sys.modules:
            _keep_tensorflow_out()
    except ImportError as exc:
        raise CnnvizError(f"Keras could not load the {name} backend ({first_line(exc)}); "
                          f"reinstall it with: {keras_backend.INSTALL.get(name, 'pip install ' + name)}") from None
    return keras


keras = _load()
BACKEND: str = keras.backend.backend()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, Keras' global generator and the backend's own, without importing
    TensorFlow on other backends (``keras.utils.set_random_seed`` imports it whenever installed)."""
    if BACKEND == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    if BACKEND == "torch":
        import torch

        torch.manual_seed(seed)


@contextmanager
def preserved_random_state():
    """Run a block without moving any global random stream that training draws from (Python, NumPy,
    Keras' global seed generator, TensorFlow's eager op-seed counter, PyTorch's generator): a
    callback that looks at a model mid-training must not change its shuffling or dropout."""
    py, npy = random.getstate(), np.random.get_state()
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator

    keras_gen = global_state.get_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR)
    keras_state = None if keras_gen is None else keras.ops.convert_to_numpy(keras_gen.state.value)
    backend_state = _backend_random_state()
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, keras_gen)
        if keras_gen is not None:
            keras_gen.state.assign(keras_state)
        _restore_backend_random_state(backend_state)


def _backend_random_state():
    if BACKEND == "tensorflow":
        from tensorflow.python.eager import context

        ctx = context.context()  # once seeded, unseeded ops draw their op seeds from ctx._rng
        saved = {k: getattr(ctx, k) for k in ("_seed", "_rng") if hasattr(ctx, k)}
        return saved, (saved["_rng"].getstate() if saved.get("_rng") is not None else None)
    if BACKEND == "torch":
        import torch

        return torch.get_rng_state()
    return None


def _restore_backend_random_state(state) -> None:
    if BACKEND == "tensorflow":
        from tensorflow.python.eager import context

        saved, rng_state = state
        ctx = context.context()
        for k in ("_seed", "_rng"):
            if k in saved:
                setattr(ctx, k, saved[k])
            elif hasattr(ctx, k):
                delattr(ctx, k)
        if rng_state is not None and saved["_rng"].getstate() != rng_state:
            # the block drew op seeds: give them back, and drop the cached kernels that would
            # otherwise continue those seeds' streams instead of starting them afresh
            saved["_rng"].setstate(rng_state)
            ctx.clear_kernel_cache()
    elif BACKEND == "torch":
        import torch

        torch.set_rng_state(state)


def deterministic() -> None:
    """Ask the backend for deterministic kernels (training reproducible bit for bit)."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif BACKEND == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
    # JAX on CPU is deterministic as it is


def float64_dtype() -> str:
    """``"float64"`` where the backend computes in it on this device, else ``"float32"``.

    TensorFlow: CPU and CUDA. JAX: CPU and GPU, inside :func:`float64_scope` (``jax_enable_x64``);
    not on TPU. PyTorch: CPU and CUDA; not on Apple's MPS, which has no float64.
    """
    if BACKEND == "jax":
        import jax

        return "float32" if jax.default_backend() == "tpu" else "float64"
    if BACKEND == "torch":
        from keras.src.backend.torch.core import get_device

        return "float32" if str(get_device()).startswith("mps") else "float64"
    return "float64"


@contextmanager
def float64_scope():
    """A context in which float64 tensors stay float64 (JAX otherwise silently makes them float32)."""
    if BACKEND == "jax" and float64_dtype() == "float64":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


def forward(model, x) -> list[np.ndarray]:
    """``model(x)`` as a list of NumPy arrays, on any backend: no gradient recorded (PyTorch would
    otherwise keep the graph alive and refuse ``np.asarray``)."""
    if BACKEND == "torch":
        import torch

        with torch.no_grad():
            outs = model(x, training=False)
    else:
        outs = model(x, training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return [keras.ops.convert_to_numpy(o) for o in outs]


__all__ = ["BACKEND", "deterministic", "float64_dtype", "float64_scope", "forward", "keras", "preserved_random_state", "seed_everything"]
