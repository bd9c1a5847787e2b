"""The model-randomisation sanity check (Adebayo et al. 2018, "Sanity checks for saliency maps"):
re-initialise the model's layers from the top down, in cumulative stages, and measure how much each
method's map changes (Spearman rank correlation with the trained model's map, for the same class).
A map that barely changes when the weights it claims to explain are destroyed is an edge detector,
not an explanation: such a method is flagged.

Layers are re-initialised in a *copy* of the model by shuffling each of their weight tensors (every
value kept, their arrangement lost: BatchNorm variances stay positive and the scale stays the
trained one, which a fresh initialiser would change).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ...backends.runtime import keras
from ...errors import CnnvizError
from ...models import Classifier, LoadedModel
from .explain import Explainer
from .options import Options

#: A method whose map still ranks pixels like the trained model's (|rho| at or above this) after every
#: layer is randomised does not depend on the weights.
FLAG_RHO = 0.5
DEFAULT_STAGES = 4


@dataclasses.dataclass
class SanityReport:
    class_index: int
    stages: list[str]  # what had been randomised at each stage, top down
    rho: dict[str, list[float]]  # method -> rank correlation with the trained map, per stage
    maps: dict[str, list[np.ndarray]]  # method -> [trained map, map after each stage]
    flagged: list[str]

    def heats(self) -> dict[str, list[np.ndarray]]:
        """The maps as drawn heat in [0, 1] (each scaled on its own, outliers clipped as in the panel)."""
        from .scaling import default_clip, heat01

        return {m: [heat01(a, default_clip(m)) for a in maps] for m, maps in self.maps.items()}

    def record(self) -> dict:
        return {"check": "model randomisation (Adebayo et al. 2018): layers re-initialised top down, cumulative",
                "class": self.class_index, "stages": self.stages, "spearman": self.rho, "flag_at": FLAG_RHO,
                "flagged": self.flagged}


def weighted_layers(model) -> list:
    """Every layer with weights, nested models flattened, from the input to the output."""
    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out += weighted_layers(layer)
        elif layer.weights:
            out.append(layer)
    return out


def randomised_copy(model, top: int, seed: int):
    """A copy of ``model`` whose ``top`` last weighted layers have each weight tensor's values shuffled."""
    copy = keras.models.clone_model(model, recursive=True)
    copy.set_weights(model.get_weights())
    rng = np.random.default_rng(seed)
    layers = weighted_layers(copy)
    for layer in layers[len(layers) - top :]:
        layer.set_weights([rng.permutation(np.asarray(w).ravel()).reshape(np.shape(w)) for w in layer.get_weights()])
    return copy


def stage_sizes(n_layers: int, stages: int) -> list[int]:
    """How many top layers are randomised at each stage: the top layer alone, then even cumulative steps to all."""
    if stages < 1:
        raise CnnvizError(f"the sanity check needs at least 1 stage, got {stages}")
    sizes = [1] + [round(n_layers * (i + 1) / stages) for i in range(stages)]
    return sorted({max(1, min(n_layers, s)) for s in sizes})


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    a, b = np.asarray(a, "float64").ravel(), np.asarray(b, "float64").ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0  # a constant map ranks nothing
    return float(spearmanr(a, b).statistic)


def randomisation_check(loaded: LoadedModel, methods: Sequence[str], image: np.ndarray, *, options: Options | None = None,
                        class_index: int | None = None, stages: int = DEFAULT_STAGES, seed: int = 0,
                        classifier: Classifier | None = None) -> SanityReport:
    """Run ``methods`` on ``image`` with the trained model and after each randomisation stage."""
    opts = dataclasses.replace(options or Options(), faithfulness_steps=0)
    hw = np.asarray(image).shape[:2]
    trained = Explainer(loaded, methods, hw, opts, classifier).explain(image, class_index)
    k = trained.class_index
    layers = weighted_layers(loaded.model)
    if not layers:
        raise CnnvizError(f"{loaded.name} has no weights to randomise")
    maps = {r.method: [r.raw] for r in trained.results}
    rho = {r.method: [] for r in trained.results}
    labels = []
    for top in stage_sizes(len(layers), stages):
        copy = dataclasses.replace(loaded, model=randomised_copy(loaded.model, top, seed))
        ex = Explainer(copy, methods, hw, opts).explain(image, k)
        labels.append(f"top {top} of {len(layers)} layers (down to {layers[len(layers) - top].name})")
        for r in ex.results:
            maps[r.method].append(r.raw)
            rho[r.method].append(rank_correlation(maps[r.method][0], r.raw))
    flagged = [m for m, r in rho.items() if abs(r[-1]) >= FLAG_RHO]
    return SanityReport(k, labels, rho, maps, flagged)
