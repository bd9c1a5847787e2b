"""A model's class scores as a function of pixels: logits, probabilities, names, top-k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backends.runtime import forward
from ..inputs.labels import resolve_class
from ..inputs.preprocessing import to_model_input
from .loading import LoadedModel
from .submodels import logits_model


@dataclass
class Prediction:
    index: int
    name: str
    probability: float


class Classifier:
    """A model's logits as a function of pixels, with class names and top-k predictions."""

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded
        self.model, self.num_classes = logits_model(loaded)
        names = loaded.class_names
        self.names = tuple(names) if names and len(names) == self.num_classes else None

    def resolve(self, spec: str | int) -> int:
        return resolve_class(spec, self.names, self.num_classes)

    def name(self, index: int) -> str:
        return self.names[index] if self.names else str(index)

    def probabilities(self, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
        out = []
        for b in range(0, len(images), batch_size):
            x = to_model_input(np.asarray(images[b : b + batch_size], "float32"), self.loaded.preprocess)
            logits = forward(self.model, x)[0].astype("float64")
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            out.append(p / p.sum(axis=1, keepdims=True))
        return np.concatenate(out)

    def top(self, probs: np.ndarray, k: int = 5) -> list[Prediction]:
        order = np.argsort(-probs)[:k]
        return [Prediction(int(i), self.name(int(i)), float(probs[i])) for i in order]


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
