"""Which input is the image and which output holds the classes, for models with several of each;
how the image is laid out (channels last or first); and whether the model scales its own pixels.

A model with one 4-D input and one class output needs nothing from here. For the others the
choice (``--input``, ``--input-values``, ``--output``) is recorded per model object in a weak
table, so every sub-model built later (features, logits, Grad-CAM) feeds and reads the same
tensors; the user's model itself is never changed.
"""

from __future__ import annotations

import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..backends.runtime import keras
from ..errors import CnnvizError
from .graph import producer, inbound_nodes, outbound_nodes


@dataclass
class IOPlan:
    image: int | None = None  # index into model.inputs; None: the only 4-D input
    held: dict[int, np.ndarray] = field(default_factory=dict)  # other inputs' values (default zeros)
    output: int | None = None  # index into model.outputs for class work; None: the only classifier-like one
    values_file: str | None = None  # where the held values came from (--input-values), for manifests


#: The input/output choices in force, per model object, in the current context only: every public cnnviz
#: function runs in a context of its own (cnnviz.api.common.scoped), so a choice made for one call never
#: changes a later one; a LoadedModel carries its choice (``io``) into the calls it is given to.
_ACTIVE: ContextVar[dict] = ContextVar("cnnviz_io_plans", default={})


def plan_for(model) -> IOPlan:
    """The choice in force for ``model`` (the defaults when none was made in this context)."""
    entry = _ACTIVE.get().get(id(model))
    return entry[1] if entry is not None and entry[0]() is model else IOPlan()


def use_plan(model, plan: IOPlan) -> None:
    """Make ``plan`` the choice for ``model`` in the current context."""
    _ACTIVE.set({**_ACTIVE.get(), id(model): (weakref.ref(model), plan)})


def _defined_inputs(model) -> list:
    """The model's input tensors; empty for a model never built (Keras raises on ``inputs`` there)."""
    try:
        return list(model.inputs or [])
    except (AttributeError, ValueError):
        return []


def _inputs(model) -> list:
    inputs = _defined_inputs(model)
    if not inputs:
        raise CnnvizError(
            f"model {model.name!r} has no defined input (never built); `cnnviz layers` can list it, "
            f"image commands need a model built with an input shape (model.build(shape) before saving)"
        )
    return inputs


def _input_name(tensor) -> str:
    return getattr(tensor, "name", "?").split(":")[0]


def describe_inputs(model) -> str:
    """``image (None, 32, 32, 3), meta (None, 4)``, or why there is none."""
    inputs = _defined_inputs(model)
    if not inputs:
        return "no defined input (never built)"
    return ", ".join(f"{_input_name(t)} {tuple(t.shape)}" for t in inputs)


def describe_outputs(model) -> list[str]:
    out = []
    for i, t in enumerate(model.outputs):
        layer = producer(t)
        act = getattr(getattr(layer, "activation", None), "__name__", None)
        out.append(f"{i}: {layer.name} {tuple(t.shape)}" + (f" {act}" if act and act != "linear" else ""))
    return out


def image_input_index(model) -> int:
    """The index of the image input: the chosen one, else the only 4-D input; refuses honestly."""
    inputs = _inputs(model)
    chosen = plan_for(model).image
    if chosen is not None:
        return chosen
    rank4 = [i for i, t in enumerate(inputs) if len(t.shape) == 4]
    if len(rank4) == 1:
        return rank4[0]
    listing = describe_inputs(model)
    if not rank4:
        ranks = {len(t.shape) for t in inputs}
        kind = "sequences (batch, steps, channels)" if ranks == {3} else "volumes (batch, D, H, W, C)" if ranks == {5} else "no images"
        raise CnnvizError(
            f"model {model.name!r} takes {kind}: {listing}; image commands need a (batch, H, W, C) image input "
            f"(`cnnviz layers` works on any model)"
        )
    raise CnnvizError(f"model {model.name!r} has several image inputs ({listing}); pick one with --input NAME")


def channels_first(model) -> bool:
    """True when the image input is read by a ``data_format="channels_first"`` layer."""
    from .layers import iter_layers

    for _, path in iter_layers(model):
        fmt = getattr(path[-1], "data_format", None)
        if fmt in ("channels_first", "channels_last"):
            return fmt == "channels_first"
    return False


def image_shape(model) -> tuple[int | None, int | None, int]:
    """(height, width, channels) of the image input, channels last whatever the model's layout."""
    t = _inputs(model)[image_input_index(model)]
    shape = tuple(t.shape)
    if channels_first(model):
        c, h, w = shape[1], shape[2], shape[3]
    else:
        h, w, c = shape[1], shape[2], shape[3]
    if c is None:
        raise CnnvizError(f"model {model.name!r} has an image input with an undefined channel count {shape}; save it with a fixed number of channels")
    return h, w, int(c)


class HeldInput(keras.layers.Layer):
    """A constant input (another input of the model held at given values), batched like ``x``."""

    def __init__(self, values: np.ndarray, **kwargs):
        super().__init__(**kwargs)
        self.values = np.asarray(values)

    def call(self, x):
        ops = keras.ops
        values = ops.convert_to_tensor(self.values)
        return ops.broadcast_to(values[None], (ops.shape(x)[0],) + tuple(self.values.shape))


class ToModelLayout(keras.layers.Layer):
    """Channels-last image -> the model's channels-first layout (and nothing for channels-last)."""

    def call(self, x):
        return keras.ops.transpose(x, (0, 3, 1, 2))


class ToChannelsLast(keras.layers.Layer):
    """A channels-first feature map -> channels last, so every method reads ``maps[..., c]``."""

    def call(self, x):
        return keras.ops.transpose(x, (0, 2, 3, 1)) if len(x.shape) == 4 else x


def feed(model, x):
    """What to call ``keras.Model(model.inputs, ...)`` with when the image (channels last) is ``x``."""
    inputs = model.inputs
    if len(inputs) == 1:
        return x
    image = image_input_index(model)
    held = plan_for(model).held
    out = []
    for i, t in enumerate(inputs):
        if i == image:
            out.append(x)
            continue
        values = held.get(i)
        if values is None:
            values = np.zeros(tuple(t.shape)[1:], dtype=str(getattr(t, "dtype", "float32")))
        out.append(HeldInput(values, name=f"cnnviz_held_{i}")(x))
    return out


# ------------------------------------------------------------------ choosing


def _index(names: list[str], spec: str | int, what: str, listing: str) -> int:
    text = str(spec).strip()
    if text.isdigit():
        i = int(text)
        if i < len(names):
            return i
        raise CnnvizError(f"{what} {i} is out of range; the model's {what}s are: {listing}")
    if text in names:
        return names.index(text)
    raise CnnvizError(f"unknown {what} {text!r}; the model's {what}s are: {listing}")


def choose_input(model, spec: str | int | None = None, values_file: str | Path | None = None) -> list[str]:
    """Record which input is the image (``spec``: name or index) and the values the other inputs
    are held at (an ``.npz`` keyed by input name; default zeros). Returns notes for the user."""
    inputs = _inputs(model)
    names = [_input_name(t) for t in inputs]
    plan = IOPlan(output=plan_for(model).output)
    if spec is not None:
        plan.image = _index(names, spec, "input", describe_inputs(model))
        if len(inputs[plan.image].shape) != 4:
            raise CnnvizError(f"input {names[plan.image]!r} has shape {tuple(inputs[plan.image].shape)}; --input must name a (batch, H, W, C) image input")
    notes = []
    if values_file is not None:
        if len(inputs) == 1:
            raise CnnvizError("--input-values is for models with several inputs; this one has one")
        try:
            with np.load(str(values_file)) as data:
                given = {k: np.asarray(data[k]) for k in data.files}
        except (OSError, ValueError) as exc:
            raise CnnvizError(f"cannot read --input-values {str(values_file)!r} as an .npz file ({exc})") from None
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise CnnvizError(f"--input-values names {unknown[0]!r}, which is not an input; inputs: {describe_inputs(model)}")
        for name, values in given.items():
            i = names.index(name)
            want = tuple(inputs[i].shape)[1:]
            if values.shape[:1] == (1,) and values.shape[1:] == want:
                values = values[0]
            if len(values.shape) != len(want) or any(w is not None and w != v for w, v in zip(want, values.shape)):
                raise CnnvizError(f"--input-values {name!r} has shape {values.shape}; input {name!r} takes {want} (one example, no batch axis)")
            plan.held[i] = values.astype(str(getattr(inputs[i], "dtype", "float32")))
        plan.values_file = str(values_file)
    use_plan(model, plan)
    if len(inputs) > 1:
        image = image_input_index(model)
        others = [names[i] for i in range(len(inputs)) if i != image]
        held = [n for n in others if names.index(n) in plan.held]
        zeros = [n for n in others if n not in held]
        text = f"image input {names[image]!r}"
        if held:
            text += f"; {', '.join(held)} held at the values from {Path(str(values_file)).name}"
        if zeros:
            text += f"; {', '.join(zeros)} held at zero (give values with --input-values FILE.npz)"
        notes.append(text)
    return notes


def _classifier_like(t) -> bool:
    return len(t.shape) == 2 and (t.shape[-1] or 0) >= 2


def output_index(model) -> int:
    """The output used for class work: the chosen one, else the only classifier-like one."""
    outputs = model.outputs
    chosen = plan_for(model).output
    if chosen is not None:
        return chosen
    if len(outputs) == 1:
        return 0
    candidates = [i for i, t in enumerate(outputs) if _classifier_like(t)]
    softmax = [i for i in candidates
               if getattr(getattr(producer(outputs[i]), "activation", None), "__name__", "") == "softmax"]
    for group in (softmax, candidates):
        if len(group) == 1:
            return group[0]
    raise CnnvizError(f"model {model.name!r} has several outputs ({'; '.join(describe_outputs(model))}); pick the class output with --output NAME|INDEX")


def choose_output(model, spec: str | int) -> int:
    """Record the output used for class work (name of its layer, or index). Library entry point
    for every command that uses a class (fool, cam, atlas, attribution)."""
    outputs = model.outputs
    names = [producer(t).name for t in outputs]
    index = _index(names, spec, "output", "; ".join(describe_outputs(model)))
    plan = plan_for(model)
    use_plan(model, IOPlan(plan.image, plan.held, index, plan.values_file))
    return index


def fed_by_image(model, path: tuple) -> bool:
    """Whether the image input reaches the layer at ``path`` (not only the other, held inputs)."""
    if isinstance(model, keras.Sequential) or len(_defined_inputs(model)) < 2:
        return True
    image = producer(model.inputs[image_input_index(model)])
    seen: set[int] = set()
    stack = [path[0]]
    while stack:
        op = stack.pop()
        if op is image:
            return True
        if id(op) in seen:
            continue
        seen.add(id(op))
        for node in inbound_nodes(op):
            stack.extend(producer(t) for t in node.input_tensors)
    return False


def check_fed_by_image(model, path: tuple) -> None:
    """Refuse a layer that the image input does not reach: its maps do not change with the image, so
    no map of it can explain the image."""
    if fed_by_image(model, path):
        return
    name = "/".join(l.name for l in path)
    raise CnnvizError(f"layer {name!r} is not fed by the image input {_input_name(model.inputs[image_input_index(model)])!r} "
                      f"(it reads another input); pick a conv layer on the image's path with --layer, or that input with --input")


def describe_io(model) -> dict:
    """For a manifest: which input is the image, what the others were held at, which output was read
    (``--input``, ``--input-values``, ``--output``); empty for a one-input, one-output model."""
    inputs, outputs = _defined_inputs(model), list(getattr(model, "outputs", None) or [])
    out: dict = {}
    try:
        if len(inputs) > 1:
            names = [_input_name(t) for t in inputs]
            image = image_input_index(model)
            plan = plan_for(model)
            out["image_input"] = names[image]
            out["held_inputs"] = {n: (f"values from {plan.values_file}" if i in plan.held else "zeros")
                                  for i, n in enumerate(names) if i != image}
        if len(outputs) > 1:
            out["output"] = producer(outputs[output_index(model)]).name
    except CnnvizError:
        pass  # not chosen yet: the command that needs it says so
    return out


def leading_scaler(model):
    """The ``Rescaling``/``Normalization`` layer the image input goes into first, if any."""
    try:
        t = model.inputs[image_input_index(model)]
    except CnnvizError:
        return None
    if isinstance(model, keras.Sequential):
        first = model.layers[0] if model.layers else None
    else:
        layer = producer(t)
        nodes = [n.operation for n in outbound_nodes(layer)]
        first = nodes[0] if len(nodes) == 1 else None
    if type(first).__name__ in ("Rescaling", "Normalization"):
        return first
    return None
