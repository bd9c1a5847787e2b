"""Sub-models for feature extraction and class work: plain ``keras.Model(inputs, outputs)`` sharing the
user's layers (and so its weights); nothing here assigns to the user's model."""

from __future__ import annotations

from typing import Sequence

from ..backends.runtime import keras
from ..checks import RESPONSE_RULE  # noqa: F401 (re-exported: the one rule, beside its graph walk)
from ..errors import CnnvizError
from .heads import Head
from .loading import LoadedModel, input_shape
from .model_io import ToChannelsLast, ToModelLayout, channels_first, output_index
from .model_io import feed as _feed
from .graph import producer, inbound_nodes, outbound_nodes, run_through_graph


def feature_model(model, paths: Sequence[tuple], size: tuple[int, int] | None = None, *, preactivation: bool = False):
    """``keras.Model(image input, [output of each layer path])`` with a free batch axis.

    Works for nested models (a base model inside a Sequential or a functional model) and for
    Sequential models whose recorded input has a fixed batch size. With ``preactivation``, a layer
    with a built-in activation (``Conv2D(..., activation="relu")``) yields its value *before* the
    activation, computed by a linear copy of the layer (the user's layer is not touched).
    """
    h, w, c = input_shape(model)
    if size is not None and (h is None or w is None):
        h, w = size
    inputs = keras.Input(shape=(h, w, c), name="cnnviz_input")
    first = channels_first(model)
    wanted = []
    for p in paths:
        linear = preactivation and getattr(getattr(p[-1], "activation", None), "__name__", "linear") != "linear"
        wanted.append((tuple(p), "input" if linear else "output"))
    found = _trace(model, ToModelLayout()(inputs) if first else inputs, wanted)
    outputs = []
    for p, kind in wanted:
        tensor = found[(id(p[-1]), kind)]
        tensor = _linear_copy(p[-1])(tensor) if kind == "input" else tensor
        outputs.append(ToChannelsLast()(tensor) if first else tensor)
    return keras.Model(inputs, outputs, name=f"cnnviz_features_{model.name}")


def _linear_copy(layer):
    """A new layer with ``layer``'s config and weights but no activation (the original is untouched)."""
    config = dict(layer.get_config(), activation="linear", name=f"{layer.name}_preactivation")
    copy = type(layer).from_config(config)
    copy.build(layer.input.shape)
    copy.set_weights([v.numpy() for v in layer.weights])
    return copy


def _trace(container, x, wanted: list[tuple[tuple, str]], need_output: bool = False, connected: bool = False):
    """Symbolic tensors for ``(path, "output" | "input")`` items when ``container`` is fed ``x``,
    keyed by ``(id(target layer), kind)``. With ``need_output``, returns ``(found, container output)``
    computed in the same pass (so gradients flow from the output back to the found tensors). With
    ``connected``, a functional graph is re-run layer by layer (:func:`_replay`), so that each found
    tensor is the direct output of its layer and the rest of the graph follows from it (what a
    backend that differentiates a sub-model ``found tensor -> output`` needs, JAX's and torch's)."""
    found: dict[tuple[int, str], object] = {}
    if isinstance(container, keras.Sequential):
        remaining = list(wanted)
        for layer in container.layers:
            if not remaining and not need_output:
                break
            here = [(p, k) for p, k in remaining if p[0] is layer]
            deeper = [(p[1:], k) for p, k in here if len(p) > 1]
            if any(len(p) == 1 and k == "input" for p, k in here):
                found[(id(layer), "input")] = x
            remaining = [(p, k) for p, k in remaining if p[0] is not layer]
            if deeper:
                inner, y = _trace(layer, x, deeper, need_output=True)
                found.update(inner)
            elif remaining or need_output or any(len(p) == 1 and k == "output" for p, k in here):
                y = layer(x)
            else:
                break
            if any(len(p) == 1 and k == "output" for p, k in here):
                found[(id(layer), "output")] = y
            x = y
        return (found, x) if need_output else found
    direct = [(p, k) for p, k in wanted if len(p) == 1]
    nested = [(p, k) for p, k in wanted if len(p) > 1]
    if nested or need_output or connected:
        return _replay(container, x, wanted, need_output)
    tensors = [p[0].output if k == "output" else p[0].input for p, k in direct]
    if need_output:
        tensors = tensors + list(container.outputs)
    out = None
    if tensors:
        outs = keras.Model(container.inputs, tensors)(_feed(container, x) if not isinstance(x, (list, tuple)) else x)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        for (p, k), t in zip(direct, outs):
            found[(id(p[0]), k)] = t
        if need_output:
            out = outs[len(direct)] if len(container.outputs) == 1 else outs[len(direct):]
    heads: dict[int, list[tuple[tuple, str]]] = {}
    for p, k in nested:
        heads.setdefault(id(p[0]), []).append((p, k))
    for group in heads.values():
        head = group[0][0][0]
        feed = inbound_nodes(head)[0].input_tensors
        feed = feed[0] if len(feed) == 1 else feed
        if any(feed is t for t in container.inputs):
            feed_x = x
        else:
            feed_x = keras.Model(container.inputs, feed)(_feed(container, x) if not isinstance(x, (list, tuple)) else x)
        found.update(_trace(head, feed_x, [(p[1:], k) for p, k in group]))
    return (found, out) if need_output else found


def _replay(container, x, wanted: list[tuple[tuple, str]], need_output: bool):
    """Like :func:`_trace` for a functional ``container`` holding nested models: re-run its graph on ``x``
    operation by operation, tracing into the nested models on the way, so that the wanted inner tensors
    and the container's output lie in ONE graph (the transfer-learning shape Input -> base -> pooling ->
    Dense: calling the base separately leaves the logits disconnected from its conv maps)."""
    groups: dict[int, list[tuple[tuple, str]]] = {}
    for p, k in wanted:
        groups.setdefault(id(p[0]), []).append((p, k))
    found: dict[tuple[int, str], object] = {}

    def call(op, *args, **kwargs):
        group = groups.get(id(op), [])
        direct = {k for p, k in group if len(p) == 1}
        deeper = [(p[1:], k) for p, k in group if len(p) > 1]
        if "input" in direct:
            found[(id(op), "input")] = args[0]
        if deeper:
            inner, y = _trace(op, args[0], deeper, need_output=True)
            found.update(inner)
        else:
            y = op(*args, **kwargs)
        if "output" in direct:
            found[(id(op), "output")] = y
        return y

    fed = _feed(container, x) if not isinstance(x, (list, tuple)) else x  # several inputs: the others held
    out = run_through_graph(container, fed, call)
    return (found, out) if need_output else found


def output_layer(model):
    """The layer that produces the model's class output (the only one, or the one chosen with
    :func:`cnnviz.models.model_io.choose_output`), descending into a nested last model."""
    layer = model.layers[-1]
    if not isinstance(model, keras.Sequential):
        layer = producer(model.outputs[output_index(model)])
    while isinstance(layer, keras.Model) and not isinstance(layer, keras.Sequential) and layer.layers:
        layer = producer(layer.outputs[0])
    return layer


def head_of(model) -> tuple[Head, str]:
    """``(head, where)`` of the chosen output: ``where`` is how its value before the final softmax /
    sigmoid is read: ``"copy"`` (a linear copy of a Dense with that activation, fed its input),
    ``"input"`` (the input of a Softmax/Activation layer) or ``"output"`` (the output as it is)."""
    out = model.outputs[output_index(model)]
    units = out.shape[-1] if len(out.shape) == 2 else None
    if not units:
        raise CnnvizError(_no_head(model, out))
    units = int(units)
    last = output_layer(model)
    activation = _activation_name(last)
    kind = type(last).__name__
    if kind == "Softmax" or (kind == "Activation" and activation == "softmax"):
        return Head("softmax", units, last.name, "softmax"), "input"
    if kind == "Activation" and activation == "sigmoid":
        return Head("binary" if units == 1 else "multi-label", units, last.name, "sigmoid"), "input"
    if kind == "Dense" and activation in ("softmax", "sigmoid"):
        sig = activation == "sigmoid"
        return Head(("binary" if units == 1 else "multi-label") if sig else "softmax", units, last.name, activation), "copy"
    if activation == "linear" and units >= 2:
        return Head("logits", units, last.name), "output"
    return Head("regression", units, last.name, activation if activation != "linear" else "none"), "output"


def _no_head(model, out) -> str:
    """Why ``out`` cannot be explained or fooled, and which other output could (never itself)."""
    which = f"output {producer(out).name!r} " if len(model.outputs) > 1 else ""
    text = (f"{model.name} {which}has shape {tuple(out.shape)}; class and score commands need a (batch, units) output "
            f"(softmax, logits, sigmoid or regression)")
    others = [producer(t).name for t in model.outputs
              if t is not out and len(t.shape) == 2 and t.shape[-1]]
    if others:
        return text + f"; pick one of {', '.join(others)} with --output"
    if len(model.outputs) > 1:
        return text + "; none of its outputs is one (a fully convolutional model: filters and activations work)"
    return text


def head_model(loaded: LoadedModel, extra: Sequence[tuple] = ()):
    """``(keras.Model(image) -> head value, Head)``: the chosen output's value before its final
    softmax/sigmoid (see :func:`head_of`). With ``extra`` layer paths the model returns
    ``[value, *their outputs]`` from one forward pass (so d value / d maps is defined: Grad-CAM)."""
    model = loaded.model
    h, w, c = input_shape(model)  # refuses models without an image input first
    head, where = head_of(model)
    last = output_layer(model)
    inputs = keras.Input(shape=(h, w, c), name="cnnviz_input")
    first = channels_first(model)
    fed = ToModelLayout()(inputs) if first else inputs
    extras = [(tuple(p), "output") for p in extra]
    value, found_extra = _trace_top(model, last, "output" if where == "output" else "input", fed, extras, first)
    if where == "copy":
        value = _linear_copy(last)(value)
    outs = [value] + found_extra if extras else value
    return keras.Model(inputs, outs, name=f"cnnviz_head_{model.name}"), head


class BinaryLogits(keras.layers.Layer):
    """One sigmoid logit z -> the two-class logits [-z/2, z/2], whose softmax is [1 - sigmoid(z), sigmoid(z)]
    exactly: a binary head becomes a two-class softmax for fool / visualize / adversarial."""

    def call(self, z):
        return keras.ops.concatenate([-0.5 * z, 0.5 * z], axis=-1)


def logits_model(loaded: LoadedModel, extra: Sequence[tuple] = ()):
    """``(keras.Model(image) -> class logits, number of classes)`` for class work (fool, visualize).

    The head value of :func:`head_model`; a single sigmoid unit becomes two-class logits
    (:class:`BinaryLogits`); a multi-label head gives its units' logits. A regression is refused.
    """
    sub, head = head_model(loaded, extra)
    if not head.is_classifier:
        raise CnnvizError(f"{loaded.name}'s output {head.layer!r} is a regression ({head.units} value(s), no classes); "
                          f"class commands need a softmax, logits or sigmoid output (cam explains a value with --target value)")
    if head.kind != "binary":
        return sub, head.units
    outs = sub.outputs if extra else [sub.output]
    logits = BinaryLogits(name="cnnviz_binary_logits")(outs[0])
    return keras.Model(sub.input, [logits] + list(outs[1:]) if extra else logits, name=f"cnnviz_logits_{loaded.model.name}"), 2


def _trace_top(model, last, kind: str, inputs, extras: list, channels_first_model: bool = False):
    """The input or output of the output layer ``last`` plus ``extras``, in one traced graph."""
    if channels_first_model and extras:
        return _through_channels_last(model, last, kind, inputs, extras)
    if isinstance(model, keras.Sequential) or last in model.layers:
        found = _trace(model, inputs, [((last,), kind)] + extras, connected=True)
        return found[(id(last), kind)], [found[(id(p[-1]), k)] for p, k in extras]
    raise CnnvizError(f"the output layer {last.name!r} of {model.name!r} sits inside a nested functional model; save the model flat")


def _through_channels_last(model, last, kind: str, inputs, extras: list):
    """For a channels_first model: the extra layer's maps turned channels last, and the logits
    computed *from* those (transposed back), so that d logits / d maps exists in the methods'
    (H, W, C) layout (Grad-CAM). Needs the rest of the model to depend on that layer alone."""
    (path, _), = extras if len(extras) == 1 else (None,)
    layer = path[-1]
    where = "/".join(l.name for l in path)
    if len(path) != 1:
        raise CnnvizError(f"Grad-CAM on a channels_first model needs a layer of the outer model, not {where!r}")
    maps = ToChannelsLast()(_trace(model, inputs, [(path, "output")])[(id(layer), "output")])
    try:
        tail = keras.Model(layer.output, last.input if kind == "input" else last.output)
    except Exception:  # noqa: BLE001 - Keras raises ValueError or its own graph errors
        raise CnnvizError(
            f"{model.name!r} is channels_first and its output depends on more than layer {where!r} (skip connections or other inputs); "
            f"Grad-CAM there needs a channels_last copy of the model (filters, fool and activations work)"
        ) from None
    return tail(ToModelLayout()(maps)), [maps]


# ------------------------------------------------------------------ what "a unit responds" means

#: layers a conv's output may pass through before its nonlinearity, keeping its channels
PASS_THROUGH = ("BatchNormalization", "Add", "Dropout", "SpatialDropout2D", "Identity", "GaussianNoise",
                "LayerNormalization", "GroupNormalization", "Rescaling")
NONLINEAR = ("Activation", "ReLU", "PReLU", "LeakyReLU", "ELU", "ThresholdedReLU")


def _activation_name(layer) -> str:
    return getattr(getattr(layer, "activation", None), "__name__", "linear")


def _consumers(layer, container) -> list:
    """The layers of ``container`` that read ``layer``'s output (the next one, in a Sequential)."""
    if isinstance(container, keras.Sequential):
        layers = container.layers
        at = [i for i, l in enumerate(layers) if l is layer]
        return [layers[at[0] + 1]] if at and at[0] + 1 < len(layers) else []
    inside = {id(l) for l in container.layers}
    found = {id(n.operation): n.operation for n in outbound_nodes(layer) if id(n.operation) in inside}
    return list(found.values())  # once each: sub-models built on the graph call the same layers again


def _is_output(layer, container) -> bool:
    if isinstance(container, keras.Sequential):
        return bool(container.layers) and container.layers[-1] is layer
    return any(producer(t) is layer for t in container.outputs)


def _next_step(nxt, channels) -> str:
    """``"nonlinear"``, ``"through"`` (keeps the channels, no nonlinearity) or ``"stop"``."""
    kind = type(nxt).__name__
    try:
        same = nxt.output.shape[-1] == channels
    except (AttributeError, ValueError):
        same = False
    if not same:
        return "stop"
    linear_activation = kind == "Activation" and _activation_name(nxt) == "linear"
    if kind in NONLINEAR and not linear_activation:
        return "nonlinear"
    if kind in PASS_THROUGH or linear_activation:
        return "through"
    if not isinstance(nxt, keras.Model) and _activation_name(nxt) != "linear" and not hasattr(nxt, "kernel"):
        return "nonlinear"  # an elementwise layer with an activation of its own (a custom Swish, say)
    return "stop"


def response_path(model, path: tuple) -> tuple[tuple, str]:
    """Where a conv unit's response is measured: ``(layer path, kind)``, kind one of ``"own"`` (the
    conv has its own nonlinearity), ``"next"`` (the first nonlinearity after it in the graph, reached
    through BatchNorm/Add/Dropout... with the same channels; the next layer in a Sequential; out of a
    nested model into the one around it) or ``"positive"`` (none follows: the conv's output)."""
    path = tuple(path)
    layer = path[-1]
    if _activation_name(layer) != "linear":
        return path, "own"
    channels = layer.output.shape[-1]
    prefix, current = path[:-1], layer
    for _ in range(12):
        container = prefix[-1] if prefix else model
        consumers = _consumers(current, container)
        if not consumers and prefix and _is_output(current, container):
            prefix, current = prefix[:-1], container  # the nested model's output: go on outside it
            continue
        if len(consumers) != 1:
            break
        step = _next_step(consumers[0], channels)
        if step == "nonlinear":
            return prefix + (consumers[0],), "next"
        if step == "stop":
            break
        current = consumers[0]
    return path, "positive"


def response_model(model, path: tuple, size: tuple[int, int] | None = None):
    """``(keras.Model(image) -> the conv unit's response map, description)``: the positive part of the
    map after the layer's nonlinearity wherever it sits (see :func:`response_path` and
    :data:`RESPONSE_RULE`), so a PReLU/LeakyReLU/ELU unit whose mean is negative but that does respond
    somewhere is not called dead. Filters use it for "alive" verdicts and the value in captions."""
    where, kind = response_path(model, path)
    sub = feature_model(model, [where], size)
    name = "/".join(l.name for l in where)
    relu = keras.layers.ReLU(name="cnnviz_positive_part")
    positive = keras.Model(sub.input, [relu(sub.outputs[0])], name=f"cnnviz_response_{model.name}")
    if kind == "own":
        return positive, f"positive part of the output of {name} (after its own {_activation_name(where[-1])})"
    if kind == "next":
        return positive, (f"positive part of the output of {name} ({type(where[-1]).__name__}), "
                          f"the nonlinearity after {'/'.join(l.name for l in path)}")
    return positive, f"positive part of the output of {name} (no nonlinearity follows it)"


def signal_layer(model, path: tuple) -> tuple[tuple, str]:
    """Where a conv layer's signal is read for the layer methods: ``(path, why)`` by the same rule as
    "responds" (:func:`response_path`): after its nonlinearity."""
    where, kind = response_path(model, path)
    conv = "/".join(l.name for l in path)
    if kind == "own":
        return where, f"the last conv {conv} (its own {_activation_name(path[-1])} included)"
    if kind == "next":
        return where, f"{'/'.join(l.name for l in where)}, the nonlinearity after the last conv {conv}"
    return where, f"the last conv {conv} (no nonlinearity follows it)"
