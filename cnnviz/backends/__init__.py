"""One small gradient adapter per Keras backend, chosen by ``keras.backend.backend()``.

Each adapter module exposes the same three functions; everything else in the engine is ``keras.ops``:

``compile_step(model, loss, update)``
    ``loss(call, params, *args) -> (total, aux)`` where ``call(x)`` runs ``model`` (a list of outputs)
    and ``total`` is a scalar; ``update(params, grads, state, *args) -> (params, state)``. Returns a
    compiled ``step(params, state, *args) -> (params, state, aux)`` (one trace per input shape).
``gradients(model, loss, params, *args)``
    One eager (uncompiled) evaluation: ``(grads, aux)``; for saliency and Grad-CAM.
``precision_scope(precision)``
    A context in which compiled steps run in ``precision`` where the backend can rewrite them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

NAMES = ("tensorflow", "jax", "torch")


def adapter(name: str | None = None) -> ModuleType:
    """The adapter module of ``name`` (default: the backend Keras runs on)."""
    if name is None:
        import keras

        name = keras.backend.backend()
    if name not in NAMES:
        from ..errors import CnnvizError

        raise CnnvizError(f"Keras backend {name!r} has no gradient adapter; use one of: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


def as_list(outputs) -> list:
    """A model's outputs as a list (one output comes back bare)."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
