"""The engine: the only code that takes gradients (see :mod:`cnnviz.engine.ascent`)."""

from .ascent import (PRECISIONS, Ascent, Stage, UpdateRule, input_gradients, layer_gradients, native_bfloat16,
                     resolve_precision)

__all__ = ["PRECISIONS", "Ascent", "Stage", "UpdateRule", "input_gradients", "layer_gradients", "native_bfloat16",
           "resolve_precision"]
