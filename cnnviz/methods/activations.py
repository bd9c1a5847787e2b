"""Activation maps: every channel of one or more layers for one input image (one forward pass)."""

from __future__ import annotations

import numpy as np

from .. import checks
from ..errors import CnnvizError
from ..models import LoadedModel, feature_model, iter_layers, layer_name, resolve_layer, conv_layers
from ..inputs.preprocessing import to_model_input

SORTS = checks.SORTS


def spatial_layers(loaded: LoadedModel) -> list[str]:
    """Names of the layers whose output is a feature map (batch, H, W, C)."""
    out = []
    for name, path in iter_layers(loaded.model):
        try:
            shape = path[-1].output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and type(path[-1]).__name__ != "InputLayer":
            out.append(name)
    return out


def resolve_spatial(loaded: LoadedModel, names: list[str] | None, all_conv: bool = False) -> list[tuple]:
    """Layer paths for ``names`` (or every conv layer), each checked to have feature maps."""
    if all_conv:
        paths = conv_layers(loaded.model)
        if not paths:
            raise CnnvizError(f"{loaded.name} has no convolutional layer")
        return paths
    if not names:
        raise CnnvizError("give at least one --layer (or --all-conv)")
    paths = []
    for name in names:
        path = resolve_layer(loaded.model, name)
        shape = path[-1].output.shape
        if len(shape) != 4:
            ok = ", ".join(spatial_layers(loaded)[:8])
            raise CnnvizError(f"layer {layer_name(path)!r} has no spatial output (shape {tuple(shape)}); layers with feature maps: {ok}")
        paths.append(path)
    return paths


def activation_maps(loaded: LoadedModel, image: np.ndarray, layers: list[str] | None = None,
                    *, all_conv: bool = False) -> dict[str, np.ndarray]:
    """``{layer: array (H, W, C)}`` for one uint8 image (H, W, C) already at the model's input size;
    one forward pass for all layers."""
    paths = resolve_spatial(loaded, layers, all_conv)
    h, w = image.shape[:2]
    model = feature_model(loaded.model, paths, size=(h, w))
    from ..backends.runtime import forward

    outs = forward(model, to_model_input(np.asarray(image, "float32")[None], loaded.preprocess))
    return {layer_name(p): o[0] for p, o in zip(paths, outs)}


def check_order(sort: str, limit: int | None) -> None:
    checks.choice(sort, SORTS, "--sort")
    checks.at_least(limit, 1, "--max")


def channel_order(maps: np.ndarray, sort: str = "index", limit: int | None = None) -> list[int]:
    """Channel indices sorted by ``index``, ``mean`` or ``max`` (strongest first), at most ``limit``."""
    check_order(sort, limit)
    c = maps.shape[-1]
    if sort == "index":
        order = list(range(c))
    else:
        stat = maps.reshape(-1, c).mean(0) if sort == "mean" else maps.reshape(-1, c).max(0)
        order = [int(i) for i in np.argsort(-stat, kind="stable")]
    return order[:limit] if limit else order
