"""What a method explains: a model's head value (logits before softmax/sigmoid, or a regression's
value) as a function of its (preprocessed) input, read through a :class:`Score`, and for layer-based
methods one conv layer's maps from the same forward pass and where its units look."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...backends.runtime import keras
from ...errors import CnnvizError
from ...models import Classifier, LoadedModel, conv_layers, layer_name, resolve_layer
from ...models.heads import Score
from ...models.model_io import check_fed_by_image, fed_by_image
from ...models.submodels import head_model, signal_layer
from .placement import stretched_centres

EPS = 1e-8


@dataclass
class Subject:
    loaded: LoadedModel
    classifier: Classifier
    image_hw: tuple[int, int]
    layer: str | None = None  # qualified name of the layer for layer-based methods
    layer_model: object = None  # model input -> [head value, layer maps], one graph
    centres: tuple[np.ndarray, np.ndarray] | None = None  # input coordinates of the layer's units (y, x)
    placement: str | None = None  # "receptive-field" or "stretched" (when the field is not defined)

    layer_reason: str = ""  # why this layer (the default: where the last conv's signal is read)

    @property
    def logits(self):
        """image -> head value (logits before softmax/sigmoid; a regression's value)."""
        return self.classifier.head_model

    @property
    def num_classes(self) -> int:
        return self.classifier.num_classes

    def forward(self, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Head values (float64) for a batch of model inputs, in chunks."""
        out = [keras.ops.convert_to_numpy(self.logits(x[b : b + batch_size], training=False))
               for b in range(0, len(x), batch_size)]
        return np.concatenate(out).astype("float64")

    def layer_forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(head values, layer maps) for a batch of model inputs."""
        logits, maps = self.layer_model(x, training=False)
        return keras.ops.convert_to_numpy(logits), keras.ops.convert_to_numpy(maps)


    def score(self, target: Score | int) -> Score:
        """``target`` as a :class:`Score` (a plain class index is the class's score)."""
        return target if isinstance(target, Score) else self.classifier.score(int(target))

    def probability(self, x: np.ndarray, score: Score) -> np.ndarray:
        """(batch,) probability of the score's class for model inputs; its value where there is no class
        (a regression, a user's function)."""
        values = self.forward(x)
        if score.cls is None:
            return score.values(values)
        return self.classifier.head.probabilities(values)[:, score.cls]


def probabilities(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def class_score(target: int, batch: int, num_classes: int):
    """``score(logits) -> (batch,)``: the logit of ``target`` (a one-hot product, so it runs on every backend)."""
    onehot = np.zeros((batch, num_classes), "float32")
    onehot[:, int(target)] = 1.0

    def score(logits):
        return keras.ops.sum(keras.ops.multiply(logits, keras.ops.convert_to_tensor(onehot)), axis=1)

    return score


def conv_path(loaded: LoadedModel, layer: str | None, method: str = "this method") -> tuple[tuple, str]:
    """``(layer path, why)`` for a layer-based method: ``layer`` (must have a spatial output), or where
    the last conv's signal is read: after its nonlinearity (BatchNorm -> ReLU, PReLU...), by the same
    rule as "responds" (:func:`cnnviz.models.submodels.signal_layer`)."""
    if layer is None:
        convs = [p for p in conv_layers(loaded.model) if len(p[-1].output.shape) == 4 and fed_by_image(loaded.model, p)]
        if not convs:
            raise CnnvizError(f"{method} needs a conv layer and {loaded.name} has none; "
                              f"use saliency, smoothgrad, integrated-gradients or occlusion")
        return signal_layer(loaded.model, convs[-1])
    path = resolve_layer(loaded.model, layer)
    if len(path[-1].output.shape) != 4:
        convs = conv_layers(loaded.model)
        hint = f" such as {layer_name(convs[-1])}" if convs else ""
        raise CnnvizError(f"layer {layer_name(path)!r} has no spatial output; {method} needs a conv layer{hint}")
    return path, "given with --layer"


def make_subject(loaded: LoadedModel, image_hw: tuple[int, int], *, layer: str | None = None, needs_layer: bool = False,
                 classifier: Classifier | None = None, method: str = "this method") -> Subject:
    clf = classifier or Classifier(loaded)
    subject = Subject(loaded, clf, (int(image_hw[0]), int(image_hw[1])))
    if not needs_layer:
        return subject
    from ...models.receptive_field import receptive_field

    path, subject.layer_reason = conv_path(loaded, layer, method)
    check_fed_by_image(loaded.model, path)
    subject.layer = layer_name(path)
    subject.layer_model, _ = head_model(loaded, extra=[path])
    try:
        field = receptive_field(loaded.model, path, subject.image_hw)
        cy, cx = field.centres()
        subject.centres, subject.placement = (np.asarray(cy), np.asarray(cx)), "receptive-field"
    except CnnvizError:
        subject.centres, subject.placement = None, "stretched"
    return subject


def place_layer_maps(subject: Subject, maps: np.ndarray) -> np.ndarray:
    """(B, h, w) layer maps -> (B, H, W) on the input by receptive-field centres (stretched if undefined)."""
    from .placement import place

    h, w = maps.shape[-2:]
    centres = subject.centres
    if centres is None or len(centres[0]) != h or len(centres[1]) != w:
        subject.placement = "stretched"
        centres = (stretched_centres(h, subject.image_hw[0]), stretched_centres(w, subject.image_hw[1]))
    return place(maps, centres[0], centres[1], subject.image_hw)
