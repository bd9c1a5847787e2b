"""Which Keras backend cnnviz runs on: chosen the Keras way, checked before Keras is imported.

Order (Keras' own): ``--backend`` (which sets ``KERAS_BACKEND``), the ``KERAS_BACKEND`` variable,
the ``"backend"`` of ``$KERAS_HOME/keras.json`` (default ``~/.keras/keras.json``), else TensorFlow.
Nothing here imports a framework: the checks only look for the package (``find_spec``), so an
unknown or missing backend is one clear line before anything heavy loads.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

from ..errors import CnnvizError

BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT = "tensorflow"
INSTALL = {
    "tensorflow": "pip install tensorflow",
    "jax": 'pip install "jax[cpu]"  (NVIDIA GPU: pip install "jax[cuda12]")',
    "torch": "pip install torch",
}


def keras_dir() -> str:
    """Keras' config folder, found as Keras finds it (``KERAS_HOME``, else ``~/.keras`` or ``/tmp/.keras``)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def configured_from() -> tuple[str, str]:
    """``(backend, where it came from)``: ``KERAS_BACKEND``, else keras.json, else the default."""
    name = os.environ.get("KERAS_BACKEND")
    if name:
        return name, "KERAS_BACKEND"
    path = os.path.join(keras_dir(), "keras.json")
    try:
        with open(path, encoding="utf-8") as fh:
            found = json.load(fh).get("backend")
    except (OSError, ValueError, AttributeError):
        found = None
    return (str(found), path) if found else (DEFAULT, "default")


def configured() -> str:
    """The backend Keras would pick now: ``KERAS_BACKEND``, else keras.json, else TensorFlow."""
    return configured_from()[0]


def running() -> str | None:
    """The backend of an already imported Keras, or None when Keras is not imported yet."""
    if "keras" not in sys.modules:
        return None
    import keras

    return keras.backend.backend()


def check(name: str) -> str:
    """``name`` if it is a backend cnnviz supports and its package is installed, else CnnvizError."""
    if name not in BACKENDS:
        raise CnnvizError(f"unknown Keras backend {name!r}; use one of: {', '.join(BACKENDS)}")
    if importlib.util.find_spec(name) is None:
        raise CnnvizError(f"the {name} backend is not installed; install it with: {INSTALL[name]}")
    return name


def select(name: str | None) -> str:
    """Make ``name`` (or the configured backend when None) the one Keras will load, before it loads.

    A Keras already imported on another backend cannot switch: that is an error (start a new process).
    """
    name = check(name or configured())
    now = running()
    if now is not None and now != name:
        raise CnnvizError(f"Keras already runs on {now} in this process; cannot switch to {name} "
                          f"(set KERAS_BACKEND={name} before starting Python)")
    os.environ["KERAS_BACKEND"] = name
    return name
