"""``render``: one entry point from (model, objective) to pictures.

It builds the feature model from the layers the objective reads (``"logits"`` means the class
scores; other names are layers of the model), the parametrisation, the transforms and the update
rule, and runs :class:`~cnnviz.optvis.ascent.Ascent` over batches. Filters, class pictures and new
objectives all come through here; the methods add their own measuring and file handling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import param as P
from . import transforms as T
from .objectives import Objective
from .objectives import diversity as diversity_term
from .ascent import Ascent, Stage, UpdateRule

#: The Fourier recipe's defaults (tuned in benchmarks/legibility.py).
FOURIER_LR = 0.06
FOURIER_STEPS = 28
FOURIER_DECAY = 1.3
#: Steps of a class picture (``fool --method visualize``).
CLASS_STEPS = 128
#: Weight of the diversity term relative to each image's own objective value (see ``render``).
DIVERSITY_WEIGHT = 0.5


@dataclass
class Rendered:
    """Pictures (float pixels 0-255, before 8-bit rounding) for ``targets[i]``; with diversity K,
    ``group[i]`` says which of the K pictures of its target image i is."""

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


LOW_SHARE = 0.86


def fourier_stages(size: tuple[int, int], steps: int, lr: float, fixed: bool, low: float | None = None) -> list[Stage]:
    """Feed the model a half-size view for the first ``low`` share of the steps (a quarter of the cost
    each; the Fourier image keeps its full resolution and is resampled in the step), then full size.
    A fixed-size model always sees its own size, so it gets one stage."""
    if fixed or steps < 4 or min(size) < 64:
        return [Stage(size, steps, lr)]
    n1 = int(round(steps * (LOW_SHARE if low is None else low)))
    return [Stage((size[0] // 2, size[1] // 2), n1, lr), Stage(size, steps - n1, lr)]


def feature_model_for(loaded, layers: Sequence[str], preactivation: bool = False):
    """(keras model, output names) for the layers an objective reads; ``"logits"`` = class scores."""
    from ..models import feature_model, layer_name, logits_model, resolve_layer

    names = [n for n in dict.fromkeys(layers) if n != "pixels"]
    paths = {n: resolve_layer(loaded.model, n) for n in names if n != "logits"}
    if "logits" in names:
        model, _ = logits_model(loaded, extra=list(paths.values()))
        return model, ["logits", *paths]
    model = feature_model(loaded.model, list(paths.values()), preactivation=preactivation)
    del layer_name
    return model, list(paths)


def render(
    loaded,
    objective: Objective,
    targets: Sequence[int],
    *,
    param: str = "fourier",
    size: tuple[int, int] | None = None,
    steps: int | None = None,
    lr: float | None = None,
    decay: float | None = None,
    transforms: Any = None,
    stages: Sequence[Stage] | None = None,
    rule: UpdateRule | None = None,
    diversity: int = 1,
    diversity_layer: str | None = None,
    diversity_weight: float = DIVERSITY_WEIGHT,
    preactivation: bool = False,
    seed: int = 0,
    batch_size: int = 16,
    precision: str = "float32",
    bounds: tuple = (0.0, 255.0),
    start: np.ndarray | None = None,
    stop: Callable[[np.ndarray, np.ndarray, list[int]], bool] | None = None,
    check_every: int = 5,
    progress: Callable[[int, int], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> Rendered:
    """Optimise one picture per target (``diversity`` K: K per target, pushed apart by lucid's
    diversity term on ``diversity_layer``, default the objective's first layer, or the last conv
    layer for class objectives). ``param``: ``fourier`` (Adam) or ``pixel`` (RMS-normalised steps
    unless ``rule`` says otherwise). ``transforms``: default lucid's standard set scaled to ``size``.
    Batches are split over the visible devices, halved when a device runs out of memory (said through
    ``note``), and Ctrl-C keeps the batches that finished (``partial``). Returns float pixels; the
    caller rounds and measures them. ``start``: float pixels (one per output picture) to go on from
    instead of noise; ``stop(pixels, scores, rows)``, asked every ``check_every`` steps with the rows
    (positions in the output) of the batch, ends the batch early when it returns True."""
    from ..errors import CnnvizError

    P.check_param(param)
    steps = FOURIER_STEPS if steps is None else steps
    lr = FOURIER_LR if lr is None else lr
    decay = FOURIER_DECAY if decay is None else decay
    if diversity < 1:
        raise CnnvizError(f"--diversity {diversity} must be at least 1 (the number of pictures per filter/class)")
    fixed = all(loaded.input_shape[:2])
    size = tuple(size or loaded.image_size(None))
    objective_all = objective
    layers = list(objective.layers)
    if diversity > 1:
        if diversity_layer is None:
            own = [n for n in layers if n not in ("logits", "pixels")]
            diversity_layer = own[0] if own else _last_conv(loaded)
        objective_all = _with_diversity(objective, diversity_term(diversity_layer), diversity_weight)
        layers.append(diversity_layer)
    model, names = feature_model_for(loaded, layers, preactivation)
    transforms = T.standard(size) if transforms is None else transforms
    par = P.make(param, clip=True, decay=decay)
    if rule is None:
        rule = UpdateRule("adam", clip=False) if param == "fourier" else UpdateRule("rms", clip=True)
    if stages is None:
        stages = fourier_stages(size, steps, lr, fixed) if param == "fourier" else [Stage(size, steps, lr)]
    ascent = Ascent(model, names, objective_all, loaded.preprocess, transforms, rule, precision, param=par)
    from ..backends.devices import in_batches
    from ..backends.distribution import data_parallel, padded

    targets = [int(t) for t in targets]
    if start is not None and len(start) != len(targets) * diversity:
        raise ValueError(f"start has {len(start)} pictures for {len(targets) * diversity} outputs")
    groups = list(range(len(targets)))  # positions; a target's K diversity pictures stay in one batch
    per = max(1, batch_size // diversity)
    per_image = sum(s.steps for s in stages)
    total = per_image * len(groups) * diversity
    began = time.perf_counter()
    asc_seconds, done, made = [0.0], [0], []
    channels = loaded.channels

    def run(batch_groups: list[int]) -> list[tuple]:
        n = len(batch_groups) * diversity
        rows = [(g, k) for g in padded(batch_groups, devices) for k in range(diversity)]
        batch = [(targets[g], k) for g, k in rows]
        rngs = [np.random.default_rng([seed, t, k]) for t, k in batch]
        h0, w0 = stages[0].size if param == "pixel" else size
        if start is None:
            x0 = np.stack([par.init(r, h0, w0, channels) for r in rngs])
        else:
            x0 = np.stack([start[g * diversity + k] for g, k in rows]).astype("float32")
            x0 = x0 if param == "pixel" else par.invert(x0)
        ends = None if stop is None else (lambda x, s, at=[g * diversity + k for g, k in rows]: stop(x, s, at))
        report = (lambda d, _t, base=done[0] * per_image, n=n: progress(base + d * n, total)) if progress else None
        t0 = time.perf_counter()
        x, s, _ = ascent.run(x0, np.asarray([t for t, _ in batch]), stages, rngs, bounds=bounds,
                             progress=report, size=size, stop=ends, check_every=check_every)
        asc_seconds[0] += time.perf_counter() - t0
        if x.shape[1:3] != tuple(size):
            from keras import ops

            x = ops.convert_to_numpy(ops.image.resize(x, size, interpolation="bilinear"))
        done[0] += n
        out = list(zip(batch[:n], x[:n], s[:n]))
        made.extend(out)
        return out

    partial = False
    try:
        with data_parallel() as devices:
            in_batches(groups, -(-per // devices) * devices, run, note)
    except KeyboardInterrupt:
        if not made:
            raise
        partial = True
    return Rendered(np.stack([m[1] for m in made]), [m[0][0] for m in made], [m[0][1] for m in made],
                    np.asarray([m[2] for m in made]), per_image, time.perf_counter() - began, asc_seconds[0],
                    ascent.precision, list(stages), partial)


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
