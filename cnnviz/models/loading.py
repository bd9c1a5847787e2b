"""Load models by name (``lenet``, ``keras.applications``) or from a ``.keras``/``.h5`` file.

Nothing here changes the user's model once it is loaded.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..backends.runtime import keras
from ..errors import CnnvizError, first_line as _first_line
from ..inputs.labels import digit_classes, imagenet_classes
from ..inputs.preprocessing import check_mode
from .efficientnet_lite import NAMES as LITE_NAMES, find_variant
from .layers import iter_layers
from .lenet import bundled_path
from .weights import load_weights

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
MODEL_NAMES = ("lenet", *LITE_NAMES, *APPLICATIONS)


@dataclass
class LoadedModel:
    """A Keras model with what cnnviz needs to feed and show it."""

    model: "keras.Model"
    name: str
    preprocess: str
    default_size: int | None = None
    class_names: tuple[str, ...] | None = None
    weights: str = "built-in"
    #: things the user should know about how the model is fed or named (printed as ``note:`` lines)
    notes: list[str] = field(default_factory=list)
    #: how ``preprocess`` was chosen: by name, recognised from the layers, assumed, or --preprocess
    preprocess_assumed: str = ""
    preprocess_note: str = ""  # the note that says it (dropped when --preprocess overrides it)
    #: the --input/--input-values/--output choice made when it was loaded (cnnviz.models.model_io.IOPlan)
    io: object = None

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

    @property
    def untrained(self) -> bool:
        """True when the weights are a random initialisation (every figure then carries the mark)."""
        return self.weights.startswith("random")

    def fit_mode(self, fit: str | None = None) -> str:
        """``--fit``: the user's, else ``crop`` at a fixed input size (how such models were trained),
        ``keep`` (the photo's own aspect) for a model that takes any size."""
        from ..inputs.fitting import default_fit

        return default_fit(all(self.input_shape[:2]), fit)

    def photo(self, path: str | Path | None = None, size: int | None = None, fit: str | None = None):
        """An image file (default: the bundled cat) fitted to this model: a :class:`cnnviz.inputs.images.Photo`."""
        from ..inputs.images import load_photo

        h, w = self.image_size(size)
        return load_photo(path, h, w, self.channels, self.fit_mode(fit))

    def describe(self) -> dict:
        from .model_io import describe_io

        return {"model": self.name, "preprocess": self.preprocess, "preprocess_assumed": self.preprocess_assumed,
                "weights": self.weights, "untrained": self.untrained, **describe_io(self.model)}


def input_shape(model) -> tuple[int | None, int | None, int]:
    """(height, width, channels) of the image input (channels last whatever the model's layout);
    for several inputs, the chosen or only 4-D one (see :mod:`cnnviz.models.model_io`)."""
    from .model_io import image_shape

    return image_shape(model)


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
        loaded.preprocess_assumed = "unit: the bundled LeNet (trained on pixels / 255)"
        loaded.notes = [n for n in loaded.notes if n != loaded.preprocess_note]
        if weights not in (None, "imagenet", "built-in"):
            loaded.weights = load_weights(loaded.model, weights, include_top=include_top)
    elif find_variant(lower) is not None:
        loaded = _load_efficientnet_lite(lower, include_top, weights)
    elif key.endswith((".keras", ".h5", ".hdf5")) or Path(key).exists():
        loaded = _load_file(Path(key), unsafe=unsafe, name=Path(key).name)
        if weights not in (None, "imagenet", "built-in"):
            loaded.weights = load_weights(loaded.model, weights, include_top=include_top)
    else:
        near = difflib.get_close_matches(lower, MODEL_NAMES, n=3, cutoff=0.4)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise CnnvizError(
            f"unknown model {key!r}{hint}; give a name (lenet, efficientnet-lite0, vgg16, vgg19, ...) or a .keras/.h5 file"
        )
    if preprocess is not None:
        loaded.notes = [n for n in loaded.notes if n != loaded.preprocess_note]
        loaded.preprocess, loaded.preprocess_assumed = preprocess, f"{preprocess}: --preprocess"
    if labels is not None:
        _check_labels(loaded, tuple(labels))
        loaded.class_names = tuple(labels)
    elif loaded.class_names is None and class_count(loaded.model) == 1000:
        loaded.notes.append(f"{loaded.name} has 1000 outputs but no class names; if they are ImageNet's, pass --labels imagenet")
    return loaded


def class_count(model) -> int | None:
    """The width of the model's single (batch, classes) output, else None."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if outputs and len(outputs) == 1 and len(outputs[0].shape) == 2 and outputs[0].shape[-1]:
        return int(outputs[0].shape[-1])
    return None


def _check_labels(loaded: LoadedModel, labels: tuple[str, ...]) -> None:
    count = class_count(loaded.model)
    if count is not None and count != len(labels):
        what = "ImageNet's 1000 class names" if labels == imagenet_classes() else f"{len(labels)} class names"
        raise CnnvizError(f"{loaded.name} has {count} outputs but --labels gives {what}; give one name per output")


def _load_efficientnet_lite(name: str, include_top: bool, weights) -> LoadedModel:
    from . import efficientnet_lite

    variant = efficientnet_lite.variant(name)
    model, source = efficientnet_lite.load(include_top=include_top, weights=weights, spec=variant)
    classes = imagenet_classes() if include_top else None
    return LoadedModel(model, variant.name, "tf", None if include_top else variant.size, classes, source,
                       preprocess_assumed=f"tf: {variant.title} (by name)")


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
                f"use --weights FILE for a local weights file, the bundled lenet, or efficientnet-lite0 (an ImageNet classifier that needs no download)"
            ) from None
        raise CnnvizError(f"could not build {name}: {_first_line(exc)}") from None
    source = "imagenet" if weights == "imagenet" else "random (weights=None)"
    if local:
        source = load_weights(model, weights, include_top=include_top)
    classes = imagenet_classes() if include_top else None
    return LoadedModel(model, name, mode, None if include_top else size, classes, source,
                       preprocess_assumed=f"{mode}: keras.applications {ctor_name} (by name)")


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
    loaded = LoadedModel(model, name, "unit", None, None, "from the model file")
    _default_io(loaded)
    return loaded


def _default_io(loaded: LoadedModel) -> None:
    """Notes on how a model file will be fed: several inputs, and the preprocessing recognised from
    its structure (:mod:`cnnviz.models.families`: a leading Rescaling/Normalization layer means raw
    pixels, a keras.applications family its own scaling, else pixels / 255), said in one note."""
    from .families import recognise
    from .model_io import choose_input

    model = loaded.model
    try:
        if len(model.inputs) > 1:
            loaded.notes.extend(choose_input(model))
    except (CnnvizError, AttributeError, ValueError, TypeError):
        return  # refused (with the reason) when an image command needs the input
    try:
        input_shape(model)
    except CnnvizError:
        return  # no image input: nothing is fed pixels (image commands refuse it with the reason)
    assumption = recognise(model)
    loaded.preprocess, loaded.preprocess_assumed = assumption.mode, assumption.record()
    loaded.preprocess_note = assumption.note(loaded.name)
    loaded.notes.append(loaded.preprocess_note)


def wrap_model(model, *, name: str | None = None, preprocess: str | None = None,
               labels: Sequence[str] | None = None) -> LoadedModel:
    """A Keras model object (built or trained in the session) as a :class:`LoadedModel`, fed like a model
    file: the preprocessing recognised from its structure (pixels/255 when unknown, raw pixels when it
    scales its own input) unless ``preprocess`` says otherwise. The model is neither copied nor changed."""
    if not isinstance(model, keras.Model):
        raise CnnvizError(f"expected a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise CnnvizError(f"model {model.name!r} is not built yet; call it on data (or model.build(input_shape)) first")
    loaded = LoadedModel(model, name or model.name, "unit", None, None, "in memory (as given)")
    _default_io(loaded)
    if preprocess is not None:
        check_mode(preprocess)
        loaded.notes = [n for n in loaded.notes if n != loaded.preprocess_note]
        loaded.preprocess, loaded.preprocess_assumed = preprocess, f"{preprocess}: given"
    if labels is not None:
        _check_labels(loaded, tuple(labels))
        loaded.class_names = tuple(labels)
    return loaded
