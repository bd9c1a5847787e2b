"""The engine: the only code that takes gradients (see :mod:`cnnviz.optvis.ascent`; one small
adapter per Keras backend in :mod:`cnnviz.backends`)."""

from .ascent import (
                     PRECISIONS,
                     Ascent,
                     Stage,
                     UpdateRule,
                     adam_update,
                     input_gradients,
                     layer_gradients,
                     native_bfloat16,
                     resolve_precision,
)

__all__ = ["PRECISIONS", "Ascent", "Stage", "UpdateRule", "adam_update", "input_gradients", "layer_gradients",
           "native_bfloat16", "resolve_precision"]
