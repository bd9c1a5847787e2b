"""The layer table of ``cnnviz layers``: name, type, output shape, parameters."""

from __future__ import annotations

from dataclasses import dataclass

from .layers import is_conv, iter_layers


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: tuple
    params: int
    is_conv: bool


def layer_rows(model) -> tuple[list[LayerRow], int, int]:
    """Rows for every layer (nested models expanded below their own row), total and trainable
    parameter counts (each weight counted once)."""
    rows = []
    for name, path in iter_layers(model):
        layer = path[-1]
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            shape = ()
        rows.append(LayerRow(name, type(layer).__name__, shape, int(layer.count_params()) if layer.built else 0, is_conv(layer)))
    total = int(sum(int(w.numpy().size) for w in model.weights))
    trainable = int(sum(int(w.numpy().size) for w in model.trainable_weights))
    return rows, total, trainable
