"""cnnviz.models.graph is the one place that touches Keras internals; if a Keras release changes one of
them, these tests fail with the internal's name (and pyproject.toml pins keras to the tested minor range)."""

import numpy as np
import pytest


def _models():
    import keras

    L = keras.layers
    inputs = keras.Input((8, 8, 1), name="img")
    a = L.Conv2D(2, 3, name="a")(inputs)
    b = L.ReLU(name="b")(a)
    c = L.Conv2D(2, 1, name="c")(a)
    out = L.Add(name="d")([b, c])
    functional = keras.Model(inputs, out)
    base = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3, name="s1"), L.ReLU(name="s2")], name="base")
    outer_in = keras.Input((8, 8, 1))
    outer = keras.Model(outer_in, L.GlobalAveragePooling2D(name="gap")(base(outer_in)))
    return functional, outer


def _check(what: str, ok: bool) -> None:
    import keras

    if not ok:
        pytest.fail(f"Keras {keras.__version__} changed {what}, which cnnviz.models.graph relies on; "
                    f"adapt that module (and the keras pin in pyproject.toml)")


def test_the_graph_seam_walks_functional_and_nested_models():
    from cnnviz.models import graph

    functional, outer = _models()
    _check("tensor._keras_history.operation (producer)", graph.producer(functional.outputs[0]).name == "d")
    _check("layer._inbound_nodes / node.input_tensors (parents)",
           [p.name for n in graph.inbound_nodes(functional.get_layer("d")) for p in graph.parents(n)] == ["b", "c"])
    _check("layer._outbound_nodes / node.operation (consumers)",
           sorted(c.name for c in graph.consumers(functional.get_layer("a"))) == ["b", "c"])
    _check("the producer of a model input (an InputLayer)", type(graph.producer(functional.inputs[0])).__name__ == "InputLayer")
    _check("a nested model as one operation of the outer graph",
           any(p.name == "base" for n in graph.inbound_nodes(outer.get_layer("gap")) for p in graph.parents(n)))


def test_run_through_graph_replays_each_operation():
    from cnnviz.models import graph

    functional, _ = _models()
    seen = []

    def call(op, *args, **kwargs):
        seen.append(op.name)
        return op(*args, **kwargs)

    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype("float32")
    out = graph.run_through_graph(functional, x, call)
    _check("Functional._run_through_graph(inputs, operation_fn, call_fn)",
           set(seen) >= {"a", "b", "c", "d"} and np.allclose(np.asarray(out), np.asarray(functional(x)), atol=1e-6))
