"""``render``: one entry point from (model, objective, recipe) to pictures.

It builds the feature model from the layers the objective reads (``"logits"`` means the class
scores; other names are layers of the model), takes the parametrisation, transforms, update rule
and schedule from the recipe (:mod:`cnnviz.optvis.recipes`), and runs
:class:`~cnnviz.optvis.ascent.Ascent` over the batches of :func:`~cnnviz.optvis.driver.drive`.
Filters, class pictures, fooling images and new objectives all come through here; the methods add
their own measuring and file handling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import param as P
from .ascent import Ascent, Stage
from .driver import Batch, drive
from .objectives import Objective
from .objectives import diversity as diversity_term
from .recipes import (  # noqa: F401 (re-exported: where they were)
    CLASS_STEPS,
    FOURIER_DECAY,
    FOURIER_LR,
    FOURIER_STEPS,
    LOW_SHARE,
    Recipe,
    fourier_stages,
)

#: Weight of the diversity term relative to each image's own objective value (see ``render``).
DIVERSITY_WEIGHT = 0.5


@dataclass
class Rendered:
    """Pictures (float pixels 0-255, before 8-bit rounding) for ``targets[i]``; with diversity K,
    ``group[i]`` says which of the K pictures of its target image i is; ``taken[i]``: the steps its
    batch ran (fewer than ``steps`` when a stop check ended it)."""

    pixels: np.ndarray
    targets: list[int]
    group: list[int]
    scores: np.ndarray
    steps: int
    seconds: float
    ascent_seconds: float
    precision: str
    stages: list[Stage] = field(default_factory=list)
    partial: bool = False  # interrupted (Ctrl-C): only the targets whose batch finished
    taken: list[int] = field(default_factory=list)


def feature_model_for(loaded, layers: Sequence[str], preactivation: bool = False):
    """(keras model, output names) for the layers an objective reads; ``"logits"`` = class scores."""
    from ..models import feature_model, logits_model, resolve_layer

    names = [n for n in dict.fromkeys(layers) if n != "pixels"]
    paths = {n: resolve_layer(loaded.model, n) for n in names if n != "logits"}
    if "logits" in names:
        model, _ = logits_model(loaded, extra=list(paths.values()))
        return model, ["logits", *paths]
    model = feature_model(loaded.model, list(paths.values()), preactivation=preactivation)
    return model, list(paths)


def render(
    model,
    objective: Objective,
    recipe: Recipe,
    targets: Sequence[int],
    *,
    size: tuple[int, int] | None = None,
    diversity: int = 1,
    diversity_layer: str | None = None,
    preactivation: bool = False,
    seed: int = 0,
    batch_size: int = 16,
    precision: str = "float32",
    start: np.ndarray | None = None,
    anchor: np.ndarray | None = None,
    closeness: float = 0.0,
    stop: Callable[[np.ndarray, np.ndarray, list[int]], bool] | None = None,
    check_every: int = 5,
    progress: Callable[[int, int], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> Rendered:
    """Optimise one picture per target with ``recipe`` (a :mod:`~cnnviz.optvis.recipes` object) on
    ``model`` (a loaded model or a plain ``keras.Model``). ``diversity`` K: K per target, pushed apart
    by lucid's diversity term on ``diversity_layer`` (default the objective's first layer, or the last
    conv layer for class objectives). Batches go through :func:`~cnnviz.optvis.driver.drive` (devices,
    picture ``k`` of target ``t`` seeded ``[seed, t, k]``, out-of-memory halving said through ``note``,
    Ctrl-C keeping what finished: ``partial``). Returns float pixels; the caller rounds and measures
    them. ``start``: float pixels (one per output picture) to go on from instead of noise;
    ``stop(pixels, scores, rows)``, asked every ``check_every`` steps with the rows (positions in
    the output) of the batch, ends the batch early when it returns True. ``precision``: of the steps,
    unless the recipe fixes it. ``anchor`` (H, W, C float pixels) with ``closeness`` > 0: feature
    accentuation; each picture starts from the anchor (unless ``start`` says otherwise) and is pulled
    back towards it (see :meth:`~cnnviz.optvis.ascent.Ascent`)."""
    loaded = _loaded(model)
    targets = [int(t) for t in targets]
    _check(recipe, targets, diversity, start)
    size = tuple(size or loaded.image_size(None))
    stages = recipe.schedule(size, all(loaded.input_shape[:2]))
    ascent = _ascent(loaded, objective, recipe, size, diversity, diversity_layer, preactivation, precision,
                     anchor, closeness)
    per_image = sum(s.steps for s in stages)
    began, spent = time.perf_counter(), [0.0]

    def optimise(batch: Batch) -> list[tuple]:
        rows = batch.positions
        x0 = _first(ascent, start, anchor, rows, batch.rngs, stages[0].size if isinstance(ascent.param, P.Pixel) else size,
                    loaded.channels)
        ends = None if stop is None else (lambda x, s: stop(x, s, rows))
        t0 = time.perf_counter()
        x, s, taken = ascent.run(x0, batch.targets, stages, batch.rngs, progress=batch.report, size=size, stop=ends,
                                 check_every=check_every)
        spent[0] += time.perf_counter() - t0
        return [(img, score, taken) for img, score in zip(_resized(x, size), s)]

    made = drive(targets, optimise, seed=seed, batch_size=batch_size, steps=per_image, copies=diversity,
                 progress=progress, note=note)
    out = made.outputs
    return Rendered(np.stack([o[0] for o in out]), made.targets, made.copies, np.asarray([o[1] for o in out]),
                    per_image, time.perf_counter() - began, spent[0], ascent.precision, stages, made.partial,
                    [o[2] for o in out])


def _first(ascent: Ascent, start, anchor, rows: list[int], rngs, size: tuple[int, int], channels: int) -> np.ndarray:
    """A batch's starting parameters: noise from each picture's own generator, else its ``start``
    pixels (or the ``anchor`` photo for every picture) in the recipe's parametrisation."""
    if start is None and anchor is None:
        return np.stack([ascent.param.init(r, size[0], size[1], channels) for r in rngs])
    x0 = np.stack([start[p] for p in rows] if start is not None else [anchor] * len(rows)).astype("float32")
    return x0 if isinstance(ascent.param, P.Pixel) else ascent.param.invert(x0)


def _loaded(model):
    """A loaded model as it is; a plain ``keras.Model`` wrapped (as ``cnnviz.filters`` would)."""
    if hasattr(model, "preprocess") and hasattr(model, "input_shape") and hasattr(model, "model"):
        return model
    from ..models import wrap_model

    return wrap_model(model)


def _check(recipe: Recipe, targets: list[int], diversity: int, start: np.ndarray | None) -> None:
    from ..errors import CnnvizError
    from .recipes import Recipe as RecipeType

    if not isinstance(recipe, RecipeType):
        raise CnnvizError(f"render takes a recipe object (cnnviz.optvis.recipes: Fourier(), Pixel(), ...), "
                          f"got {type(recipe).__name__}")
    if diversity < 1:
        raise CnnvizError(f"--diversity {diversity} must be at least 1 (the number of pictures per filter/class)")
    if start is not None and len(start) != len(targets) * diversity:
        raise ValueError(f"start has {len(start)} pictures for {len(targets) * diversity} outputs")


def _ascent(loaded, objective: Objective, recipe: Recipe, size, diversity: int, diversity_layer: str | None,
            preactivation: bool, precision: str, anchor: np.ndarray | None = None, closeness: float = 0.0) -> Ascent:
    """The engine for this objective (plus the diversity term) and recipe."""
    layers = list(objective.layers)
    if diversity > 1:
        if diversity_layer is None:
            own = [n for n in layers if n not in ("logits", "pixels")]
            diversity_layer = own[0] if own else _last_conv(loaded)
        objective = _with_diversity(objective, diversity_term(diversity_layer), DIVERSITY_WEIGHT)
        layers.append(diversity_layer)
    model, names = feature_model_for(loaded, layers, preactivation)
    return Ascent(model, names, objective, loaded.preprocess, recipe.transforms_for(size), recipe.rule,
                  recipe.precision or precision, param=recipe.parametrisation(), anchor=anchor, closeness=closeness,
                  views=recipe.views if diversity == 1 else 1)


def _resized(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pictures at ``size`` (a pixel schedule may end at another size)."""
    if x.shape[1:3] == tuple(size):
        return x
    from keras import ops

    return ops.convert_to_numpy(ops.image.resize(x, size, interpolation="bilinear"))


def _with_diversity(objective: Objective, term: Objective, weight: float) -> Objective:
    """``score - weight * |score| * similarity`` per image, ``|score|`` held constant in the gradient:
    the penalty scales with the objective (a logit of 10 or a filter mean of 500 alike), where
    lucid's fixed weight 1e2 would have to be re-tuned per model."""

    def score(acts, targets):
        from keras import ops

        own = objective(acts, targets)
        return own - weight * ops.abs(ops.stop_gradient(own)) * term(acts, targets)

    return Objective(score, objective.layers + term.layers, f"{objective.description} - {weight:g}|.| * {term.description}")


def _last_conv(loaded) -> str:
    from ..models import conv_layers, layer_name

    convs = conv_layers(loaded.model)
    if not convs:
        from ..errors import CnnvizError

        raise CnnvizError(f"--diversity needs a conv layer to compare pictures by; {loaded.name} has none")
    return layer_name(convs[-1])
