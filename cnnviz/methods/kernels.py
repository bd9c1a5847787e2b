"""Learned kernels of a conv layer, and the classic kernel each one most resembles."""

from __future__ import annotations

import numpy as np

from ..errors import CnnvizError
from .kernels_classic import nearest_template
from ..models import LoadedModel, conv_layers, layer_name, resolve_layer, is_conv
from ..results.kernels import KernelResult  # noqa: F401 (re-exported)


def learned_kernels(loaded: LoadedModel, layer: str = "first-conv") -> KernelResult:
    """Copy the kernels of a conv layer (default: the first) and match each with classic kernels
    (on the sum over input channels: the luminance response for RGB layers)."""
    if not conv_layers(loaded.model):
        raise CnnvizError(f"{loaded.name} has no convolutional layer; kernels needs a model with Conv2D layers")
    path = resolve_layer(loaded.model, layer)
    target = path[-1]
    if not is_conv(target) or type(target).__name__ != "Conv2D":
        conv2d = [p for p in conv_layers(loaded.model) if type(p[-1]).__name__ == "Conv2D"]
        hint = f"such as {layer_name(conv2d[0])}" if conv2d else f"and {loaded.name} has none"
        raise CnnvizError(f"layer {layer_name(path)!r} is {type(target).__name__}; kernels needs a Conv2D layer {hint}")
    w = np.array(target.kernel.numpy(), dtype="float64")  # a copy: the model is not touched
    matches = [nearest_template(w[:, :, :, o].sum(axis=2)) for o in range(w.shape[-1])]
    return KernelResult(layer_name(path), w, matches, untrained=loaded.untrained)
