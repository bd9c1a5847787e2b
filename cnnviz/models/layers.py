"""Layer lookup: walk nested models, resolve names and tutorial aliases, pick conv layers."""

from __future__ import annotations

import difflib
import re

from ..backends.runtime import keras
from ..errors import CnnvizError

CONV_TYPES = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose")


def iter_layers(model, prefix: tuple = ()):
    """Yield (qualified name, path) for every layer, descending into nested models."""
    for layer in model.layers:
        path = prefix + (layer,)
        yield "/".join(l.name for l in path), path
        if isinstance(layer, keras.Model):
            yield from iter_layers(layer, path)


_CAFFE_ALIAS = re.compile(r"^conv(\d)_(\d)$")
_ALIASES = {"pool1": "block1_pool", "pool2": "block2_pool", "pool3": "block3_pool", "pool4": "block4_pool",
            "pool5": "block5_pool", "fc6": "fc1", "fc7": "fc2", "fc8": "predictions"}


def _alias(name: str) -> str | None:
    m = _CAFFE_ALIAS.match(name)
    if m:
        return f"block{m.group(1)}_conv{m.group(2)}"
    return _ALIASES.get(name)


def is_conv(layer) -> bool:
    return type(layer).__name__ in CONV_TYPES


def conv_layers(model) -> list[tuple]:
    return [path for _, path in iter_layers(model) if is_conv(path[-1])]


def resolve_layer(model, name: str) -> tuple:
    """Find a layer by exact name, qualified nested name (``vgg16/block5_conv1``), Caffe alias
    (``conv5_1``), or ``first-conv`` / ``last-conv``. Returns the path of layers from the top model."""
    entries = list(iter_layers(model))
    if name in ("first-conv", "last-conv"):
        convs = conv_layers(model)
        if not convs:
            raise CnnvizError(f"model {model.name!r} has no convolutional layer")
        return convs[0] if name == "first-conv" else convs[-1]
    for candidate in (name, _alias(name)):
        if not candidate:
            continue
        exact = [p for q, p in entries if q == candidate]
        if exact:
            return exact[0]
        bare = [p for q, p in entries if p[-1].name == candidate]
        if len(bare) == 1:
            return bare[0]
        if len(bare) > 1:
            options = ", ".join("/".join(l.name for l in p) for p in bare)
            raise CnnvizError(f"layer name {candidate!r} is ambiguous; use one of: {options}")
    names = list(dict.fromkeys([q for q, _ in entries] + [p[-1].name for _, p in entries]))
    near = difflib.get_close_matches(name, names, n=4, cutoff=0.5)
    if not near:
        near = [p[-1].name for p in conv_layers(model)][:4]
    raise CnnvizError(f"unknown layer {name!r}; nearest: {', '.join(near) or 'none'}")


def layer_name(path: tuple) -> str:
    return "/".join(l.name for l in path)
