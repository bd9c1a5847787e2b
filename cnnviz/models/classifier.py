"""A model's class scores as a function of pixels: head value, probabilities, names, top-k."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..backends.runtime import forward
from ..inputs.labels import resolve_class
from ..inputs.preprocessing import to_model_input
from .heads import Head, Score, make_score
from .loading import LoadedModel
from .submodels import head_model


@dataclass
class Prediction:
    index: int
    name: str
    probability: float


class TopK(NamedTuple):
    """Top classes of a batch: ``ids`` (n, k) class indices and their ``probabilities`` (n, k)."""

    ids: np.ndarray
    probabilities: np.ndarray


class Classifier:
    """A model's head (softmax, logits, sigmoid or regression) as a function of pixels, with class
    names and top-k predictions. ``head_model`` gives the value before the final softmax/sigmoid;
    ``model`` the class logits for fool/visualize (built on first use; a regression has none)."""

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded
        self.head_model, self.head = head_model(loaded)
        self.num_classes = self.head.classes
        names = loaded.class_names
        self.names = tuple(names) if names and len(names) == self.num_classes else None
        self._model = None

    @property
    def model(self):
        """image -> class logits (a single sigmoid unit as two-class logits); refuses a regression."""
        if self._model is None:
            from .submodels import logits_model

            self._model, _ = logits_model(self.loaded)
        return self._model

    def resolve(self, spec: str | int) -> int:
        return resolve_class(spec, self.names, self.num_classes)

    def name(self, index: int) -> str:
        return self.names[index] if self.names else str(index)

    def score(self, target, predicted: int = 0) -> Score:
        """The :class:`Score` for ``target`` (see :func:`cnnviz.models.heads.make_score`)."""
        return make_score(self.head, target, self.resolve, predicted, self.name)

    def values(self, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Head values (float64, before softmax/sigmoid) for pixel images."""
        out = []
        for b in range(0, len(images), batch_size):
            x = to_model_input(np.asarray(images[b : b + batch_size], "float32"), self.loaded.preprocess)
            out.append(forward(self.head_model, x)[0].astype("float64"))
        return np.concatenate(out)

    def probabilities(self, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """(n, classes) probabilities (softmax; sigmoid per unit; [1 - p, p] for one sigmoid unit);
        a regression's values as they are."""
        return self.head.probabilities(self.values(images, batch_size))

    def fitted(self, images: np.ndarray, fit: str | None = None) -> np.ndarray:
        """A batch of pixel pictures (n, H, W, C), any size, fitted to the model's input the way every
        command fits a photo (``--fit``; ``crop`` for a fixed-size model): float32 (n, h, w, C)."""
        from ..errors import CnnvizError
        from ..inputs.fitting import fit_image

        batch = np.asarray(images)
        channels = self.loaded.channels
        if batch.ndim != 4 or batch.shape[-1] != channels or not np.issubdtype(batch.dtype, np.number):
            raise CnnvizError(f"expected a batch of pictures (n, height, width, {channels}) of 0-255 pixels, "
                              f"got an array of shape {batch.shape} ({batch.dtype})")
        h, w = self.loaded.image_size()
        mode = self.loaded.fit_mode(fit)
        # resized as given (uint8 pictures as uint8, like every photo a command fits), then made float
        fitted = [fit_image(np.ascontiguousarray(p), h, w, mode)[0] for p in batch]
        return np.stack(fitted).astype("float32") if fitted else np.zeros((0, h, w, channels), "float32")

    def classify(self, images: np.ndarray, k: int = 5, fit: str | None = None, batch_size: int = 32) -> TopK:
        """Top-``k`` classes of every picture in a batch (n, H, W, C) of 0-255 pixels, fitted to the
        model's own input size: (ids, probabilities), each (n, k), most probable first."""
        probs = self.probabilities(self.fitted(images, fit), batch_size)
        k = max(1, min(int(k), probs.shape[1]))
        ids = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return TopK(ids, np.take_along_axis(probs, ids, axis=1))

    def top(self, probs: np.ndarray, k: int = 5) -> list[Prediction]:
        if not self.head.is_classifier:
            return []
        order = np.argsort(-probs)[:k]
        return [Prediction(int(i), self.name(int(i)), float(probs[i])) for i in order]


def classify(model: LoadedModel | str, images: np.ndarray, k: int = 5, fit: str | None = None,
             batch_size: int = 32) -> TopK:
    """Top-``k`` ImageNet (or the model's own) classes of a batch of 0-255 pictures (n, H, W, C), each
    fitted to ``model``'s input size by ``fit`` (default ``crop``, as every command fits a photo).
    ``model``: a :class:`LoadedModel` or a name (``efficientnet-lite1``...; loaded with its head).
    Lets pictures made on one network be judged by another that took no part in making them."""
    from .loading import load_model

    loaded = load_model(model, include_top=True) if isinstance(model, str) else model
    return Classifier(loaded).classify(images, k, fit, batch_size)


def cat_predictions(loaded: LoadedModel, k: int = 3) -> list[Prediction] | None:
    """The top ``k`` on the bundled cat photo, fed with the model's (assumed) preprocessing: a wrong
    input scale shows at once as a cat that is not a cat. None for a model with no class head or a
    grey input (LeNet's digits say nothing about a cat)."""
    from ..errors import CnnvizError
    from .loading import class_count

    try:
        if class_count(loaded.model) is None or loaded.channels != 3:
            return None
        pixels = loaded.photo().pixels  # fitted as every command fits it
    except CnnvizError:  # no image input (sequences, several inputs undecided): nothing to show
        return None
    clf = Classifier(loaded)
    return clf.top(clf.probabilities(pixels[None])[0], k)


__all__ = ["Classifier", "Head", "Prediction", "Score", "TopK", "classify"]
