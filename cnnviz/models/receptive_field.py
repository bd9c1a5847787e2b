"""Where a unit of a layer looks in the input: receptive-field size, stride (jump) and centre of each unit.

Composes the layers from the input to the target with the standard recurrence (Araujo et al., "Computing
Receptive Fields of Convolutional Neural Networks", Distill 2019), per spatial axis::

    k' = dilation * (kernel - 1) + 1
    jump_out  = jump_in * stride
    size_out  = size_in + (k' - 1) * jump_in
    start_out = start_in + ((k' - 1) / 2 - pad_before) * jump_in

with pixel ``i`` of the input centred at coordinate ``i``. Padding ``same`` depends on the input size
(TensorFlow pads ``max((ceil(n / s) - 1) * s + k' - n, 0)`` in all, the smaller half before), so the
field is computed for a given input size. Where branches meet (Add, Concatenate), the widest field is
kept. Unit ``i`` of the target is centred at ``start + i * jump``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..backends.runtime import keras
from ..errors import CnnvizError
from .graph import producer, inbound_nodes

Pair = tuple[float, float]


@dataclass(frozen=True)
class ReceptiveField:
    """Per axis (y, x): field ``size`` in pixels, ``jump`` between neighbouring units, ``start`` = centre
    of unit 0 (input pixel coordinates), and the layer's output ``shape`` (h, w) for this input size."""

    size: Pair
    jump: Pair
    start: Pair
    shape: tuple[int, int]

    def centres(self) -> tuple[list[float], list[float]]:
        """Centre coordinates of the units along y and along x."""
        return ([self.start[0] + i * self.jump[0] for i in range(self.shape[0])],
                [self.start[1] + j * self.jump[1] for j in range(self.shape[1])])

    def box(self, i: int, j: int, image_hw: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        """Pixel box ``(y0, x0, y1, x1)`` (end exclusive) seen by unit (i, j), clipped to the image."""
        cy, cx = self.start[0] + i * self.jump[0], self.start[1] + j * self.jump[1]
        y0, y1 = math.ceil(cy - (self.size[0] - 1) / 2 - 1e-9), math.floor(cy + (self.size[0] - 1) / 2 + 1e-9) + 1
        x0, x1 = math.ceil(cx - (self.size[1] - 1) / 2 - 1e-9), math.floor(cx + (self.size[1] - 1) / 2 + 1e-9) + 1
        if image_hw is not None:
            y0, x0 = max(0, y0), max(0, x0)
            y1, x1 = min(image_hw[0], y1), min(image_hw[1], x1)
        return y0, x0, y1, x1


_IDENTITY_SHAPE = ("BatchNormalization", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Dropout",
                   "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "Rescaling", "Normalization", "Add",
                   "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "LayerNormalization",
                   "GroupNormalization", "InputLayer", "Identity", "ActivityRegularization", "Lambda")


def _pair(value, default: int) -> tuple[int, int]:
    if value is None:
        return default, default
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    return (int(value[0]), int(value[1])) if len(value) >= 2 else (int(value[0]), int(value[0]))


def _window(field: ReceptiveField, kernel, strides, padding: str, dilation=(1, 1)) -> ReceptiveField:
    size, jump, start, shape = list(field.size), list(field.jump), list(field.start), list(field.shape)
    for a in range(2):
        k = dilation[a] * (kernel[a] - 1) + 1
        s, n = strides[a], field.shape[a]
        if padding == "same":
            out = math.ceil(n / s)
            before = max((out - 1) * s + k - n, 0) // 2
        else:
            out = (n - k) // s + 1
            before = 0
        start[a] = field.start[a] + ((k - 1) / 2 - before) * field.jump[a]
        size[a] = field.size[a] + (k - 1) * field.jump[a]
        jump[a] = field.jump[a] * s
        shape[a] = out
    return ReceptiveField(tuple(size), tuple(jump), tuple(start), tuple(shape))


def _layer_field(layer, fields: list[ReceptiveField]) -> ReceptiveField | None:
    """The field after ``layer`` given the fields of its inputs; None when the output is not spatial."""
    if isinstance(layer, keras.Model):
        return _model_field(layer, fields)
    kind = type(layer).__name__
    field = max(fields, key=lambda f: f.size[0] * f.size[1])
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        raise CnnvizError(f"layer {layer.name!r} is channels_first; receptive fields are computed for channels_last models")
    if hasattr(layer, "kernel_size") and len(tuple(layer.kernel_size)) == 2:
        if "Transpose" in kind:
            raise CnnvizError(f"layer {layer.name!r} ({kind}) upsamples; its receptive field is not defined here")
        return _window(field, _pair(layer.kernel_size, 1), _pair(layer.strides, 1), layer.padding,
                       _pair(getattr(layer, "dilation_rate", 1), 1))
    if hasattr(layer, "pool_size") and "Global" not in kind:
        pool = _pair(layer.pool_size, 2)
        return _window(field, pool, _pair(layer.strides or pool, 1), layer.padding)
    if kind == "ZeroPadding2D":
        (top, bottom), (left, right) = layer.padding
        return ReceptiveField(field.size, field.jump,
                              (field.start[0] - top * field.jump[0], field.start[1] - left * field.jump[1]),
                              (field.shape[0] + top + bottom, field.shape[1] + left + right))
    if kind == "Cropping2D":
        (top, bottom), (left, right) = layer.cropping
        return ReceptiveField(field.size, field.jump,
                              (field.start[0] + top * field.jump[0], field.start[1] + left * field.jump[1]),
                              (field.shape[0] - top - bottom, field.shape[1] - left - right))
    if kind in _IDENTITY_SHAPE:
        return field
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):
        shape = ()
    if len(shape) == 4 and "Global" not in kind and kind not in ("Reshape", "Flatten", "Permute"):
        return field  # an elementwise layer of another name (a custom activation, say): same grid
    return None  # Flatten, Dense, global pooling, reshapes: no spatial map any more


def _inbound(layer, known: dict[int, object]):
    """The layers feeding ``layer`` in the graph whose layers are ``known``."""
    for node in inbound_nodes(layer):
        parents = [producer(t) for t in node.input_tensors]
        if all(id(p) in known for p in parents):
            return parents
    return None


def _model_field(model, fields: list[ReceptiveField], stop=None, found=None) -> ReceptiveField | None:
    """Field of ``model``'s output given its input field; records each layer's field in ``found``."""
    found = {} if found is None else found
    if isinstance(model, keras.Sequential):
        field = fields[0]
        for layer in model.layers:
            field = _layer_field(layer, [field]) if not isinstance(layer, keras.Model) else _model_field(layer, [field], stop, found)
            found[id(layer)] = field
            if field is None or (stop is not None and id(stop) in found):
                return field
        return field
    known: dict[int, object] = {}
    for op, f in zip([producer(t) for t in model.inputs], fields):
        known[id(op)] = f
    for op in model.operations:
        if id(op) in known:
            continue
        parents = _inbound(op, known)
        if parents is None:
            continue
        if not parents:  # an input layer no field was given for: not the image
            known[id(op)] = None
            continue
        ins = [known[id(p)] for p in parents]
        if any(f is None for f in ins):
            known[id(op)] = None
        elif isinstance(op, keras.Model):
            known[id(op)] = _model_field(op, ins, stop, found)
        else:
            known[id(op)] = _layer_field(op, ins)
        found[id(op)] = known[id(op)]
        if stop is not None and id(stop) in found:
            return known[id(op)]
    out = producer(model.outputs[0])
    return known.get(id(out))


def receptive_field(model, path: tuple, image_hw: tuple[int, int]) -> ReceptiveField:
    """The receptive field of the layer at ``path`` (from :func:`cnnviz.models.resolve_layer`) for an
    input of ``image_hw`` pixels."""
    from .model_io import image_input_index

    found: dict[int, ReceptiveField | None] = {}
    start = ReceptiveField((1.0, 1.0), (1.0, 1.0), (0.0, 0.0), (int(image_hw[0]), int(image_hw[1])))
    fields: list[ReceptiveField | None] = [start]
    if not isinstance(model, keras.Sequential) and len(model.inputs) > 1:
        # several inputs: the field starts at the image input; the others (held values) have none
        image = image_input_index(model)
        fields = [start if i == image else None for i in range(len(model.inputs))]
    _model_field(model, fields, stop=path[-1], found=found)
    field = found.get(id(path[-1]))
    if field is None:
        raise CnnvizError(f"layer {'/'.join(l.name for l in path)!r} has no spatial receptive field (its output is not a feature map)")
    return field
