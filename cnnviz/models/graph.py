"""The one seam over Keras internals: how a functional graph is walked. Keras 3 has no public API for
"which layer produced this symbolic tensor", "which nodes feed or consume this layer" or "re-run this
graph operation by operation"; cnnviz needs all three (receptive fields, where a conv's signal is read
after its nonlinearity, nested base models in one graph). Every private name cnnviz touches is here, and
tests/test_keras_internals.py fails loudly, naming it, when a Keras release changes one of them.
``keras`` is pinned in pyproject.toml to the minor versions tested.
"""

from __future__ import annotations

from typing import Any, Callable


def producer(tensor) -> Any:
    """The layer (operation) that produced a symbolic tensor of a functional model."""
    return tensor._keras_history.operation


def inbound_nodes(layer) -> list:
    """The graph nodes where ``layer`` was called (each with ``input_tensors``); [] for none."""
    return list(getattr(layer, "_inbound_nodes", []))


def outbound_nodes(layer) -> list:
    """The graph nodes where ``layer``'s output is consumed (each with ``operation``); [] for none."""
    return list(getattr(layer, "_outbound_nodes", []))


def parents(node) -> list:
    """The layers feeding one inbound node."""
    return [producer(t) for t in node.input_tensors]


def consumers(layer) -> list:
    """The layers consuming ``layer``'s output."""
    return [n.operation for n in outbound_nodes(layer)]


def run_through_graph(container, inputs, call: Callable) -> Any:
    """Re-run a functional model's graph on ``inputs`` operation by operation, each through
    ``call(operation, *args, **kwargs)`` (so nested models can be traced into on the way)."""
    return container._run_through_graph(inputs, operation_fn=lambda op: op, call_fn=call)
