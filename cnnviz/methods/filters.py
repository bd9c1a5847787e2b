"""Filter visualisation: for each filter of a conv layer, an input that maximises its mean activation.

Two methods, on one of two image parametrisations (:mod:`cnnviz.optvis.param`):

``smooth`` with ``param="fourier"`` (the default for inputs of 64 px and more)
    lucid's recipe: the image as scaled Fourier coefficients with decorrelated colour and a sigmoid
    onto [0, 255], Adam, lucid's standard transforms (pad, jitter, scale, rotate) per image, the
    filter's pre-activation mean over its strongest quarter of positions; the first steps see a
    half-size view (a quarter of the cost). A filter still silent on its saved picture is then
    *revived* (:func:`revive`): a few more Fourier steps from that picture, without transforms, on
    its single strongest position (marked ``*`` and listed in the manifest).
    ``diversity`` K renders K different pictures per filter (lucid's Gram-matrix diversity term).
``classic``
    The Keras-blog recipe: noise around grey, 20 steps of size 1 on RMS-normalised gradients of the
    filter's mean (post-ReLU) activation, then the std-0.1 display transform.
``smooth`` with ``param="pixel"`` (the default under 64 px: LeNet; see ``param_choice``)
    Maximises the filter's *pre-activation* averaged over its strongest quarter of positions (a
    filter that is dead at the start still gets a gradient, and a strong local response is found
    before a weak global one), coarse-to-fine over three octaves (73% of the steps at half size,
    where a step costs a quarter, lay down low-frequency structure; the last steps sharpen at full
    size), random jitter/scale/rotation each step, Gaussian-smoothed gradients, pixels kept inside
    [0, 255], and a final line search along contrast (the image as it is or scaled about grey by
    2.5, whichever activates the filter more; two forward passes). The tile is exactly the image
    the model saw. On VGG16 ``block5_conv1`` (trained conv
    stack, 128 px) this keeps 58 of the first 64 filters alive where the classic recipe keeps 16,
    at less than half the time per filter: see ``benchmarks/filters.py``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np

from ..backends.devices import check_batch_size, choose_batch_size, in_batches
from ..backends.distribution import data_parallel, padded
from ..optvis import Ascent, Stage, UpdateRule
from .. import checks
from ..errors import CnnvizError
from ..pixels import deprocess_classic, to_uint8
from ..models import LoadedModel, conv_layers, feature_model, is_conv, iter_layers, layer_name, resolve_layer
from ..models.submodels import response_model
from ..optvis.objectives import channel
from ..optvis.param import check_param
from ..optvis.transforms import Transforms
from ..results.filters import FilterResult  # noqa: F401 (re-exported): the result owns its record and figure
from .filter_measures import ALIVE_EPS, contrast_search, mean_activation
from .revive import REVIVE_STEPS, revive

METHODS = checks.FILTER_METHODS
#: Image size for models that take any size (the Keras blog's 128 px); fixed-size models use theirs.
DEFAULT_SIZE = 128


def check_conv_layer(loaded: LoadedModel, layer: str) -> tuple:
    """Resolve ``layer`` and insist that it is convolutional; say what to use otherwise."""
    path = resolve_layer(loaded.model, layer)
    target = path[-1]
    if is_conv(target):
        return path
    kind = type(target).__name__
    convs = [layer_name(p) for p in conv_layers(loaded.model)]  # in model order
    if "Pool" in kind:
        order = [name for name, _ in iter_layers(loaded.model)]
        earlier = [c for c in convs if order.index(c) < order.index(layer_name(path))]
        hint = f"use the conv layer before it: {earlier[-1]}" if earlier else f"conv layers: {', '.join(convs[:6])}"
        raise CnnvizError(f"layer {layer_name(path)!r} is a pooling layer ({kind}), it has no filters; {hint}")
    extra = "; for class outputs use `cnnviz fool`" if kind == "Dense" else ""
    listing = ", ".join(convs[:6]) + (" ..." if len(convs) > 6 else "")
    raise CnnvizError(f"layer {layer_name(path)!r} is {kind}, not convolutional; filters needs a conv layer ({listing or 'none in this model'}){extra}")


def filter_count(layer) -> int:
    """Output channels of a conv layer (a depthwise layer has no ``filters``: in x multiplier)."""
    return int(layer.filters) if getattr(layer, "filters", None) else int(layer.output.shape[-1])


#: Below this input side (px) the default method draws in pixels: the Fourier recipe is tuned for
#: 128-224 px ImageNet models; on LeNet's 28 px it gives saturated blobs, and every conv2 filter
#: responds more to the pixel recipe's strokes (1.2x to 4.2x, median 2.1x; conv1 1.3x to 1.5x).
SMALL_INPUT = 64


def resolve_param(method: str, param: str | None, size: tuple[int, int] | None = None, diversity: int = 1) -> str:
    """The parametrisation: the user's, else ``pixel`` for ``classic`` (the blog's recipe, exactly) and
    for inputs under ``SMALL_INPUT`` px, else ``fourier`` (see :func:`param_choice`)."""
    return param_choice(method, param, size, diversity)[0]


def param_choice(method: str, param: str | None, size: tuple[int, int] | None = None,
                 diversity: int = 1) -> tuple[str, str]:
    """(param, why): the reason is shown in the figure's subtitle and kept in the manifest."""
    if param is not None:
        check_param(param)
        if method == "classic" and param != "pixel":
            raise CnnvizError("--method classic is the Keras blog's pixel recipe; drop --param or use --param pixel")
        return param, f"--param {param} (chosen by the user)"
    if method == "classic":
        return "pixel", "pixel steps (the Keras blog's recipe)"
    if diversity > 1:
        return "fourier", "fourier (--diversity needs it)"
    if size is not None and min(size) < SMALL_INPUT:
        return "pixel", (f"pixel recipe: the {size[0]}x{size[1]} px input is under {SMALL_INPUT} px, where the "
                         f"Fourier recipe (tuned at 128-224 px) draws blobs; --param fourier for it")
    side = f"{size[0]}x{size[1]} px" if size is not None else "this"
    return "fourier", f"Fourier recipe for the {side} input (--param pixel for plain pixel steps)"


def default_steps(method: str, param: str = "pixel") -> int:
    if param == "fourier":
        return FILTER_STEPS
    return 20 if method == "classic" else 30


def stages(method: str, size: tuple[int, int], steps: int, fixed: bool) -> list[Stage]:
    """The octave schedule: classic is ``steps`` plain steps of 1 pixel at full size."""
    if method == "classic":
        return [Stage(size, steps, 1.0, 0.0)]
    if fixed or min(size) < 48 or steps < 3:
        # fixed-size input (LeNet): one size; large steps first, then fine ones
        first = max(1, steps // 2)
        out = [Stage(size, first, 10.0, 0.5)]
        return out + ([Stage(size, steps - first, 4.0, 0.0)] if steps > first else [])
    h, w = size
    n1 = max(1, round(steps * 22 / 30))
    n2 = max(1, round(steps * 6 / 30))
    n3 = max(1, steps - n1 - n2)
    return [Stage((h // 2, w // 2), n1, 4.0, 0.5),
            Stage((round(h * 0.7), round(w * 0.7)), n2, 3.0, 0.5),
            Stage((h, w), n3, 2.0, 0.0)]


def pixel_transforms(method: str, size: tuple[int, int]) -> Transforms:
    if method == "classic":
        return Transforms()
    return Transforms(jitter=max(1.0, min(size) / 32), scale=(0.95, 1.05), rotate=5.0)


def visualize_filters(
    loaded: LoadedModel,
    layer: str,
    filters: list[int] | None = None,
    *,
    top: int | None = None,
    scan: int | None = None,
    size: int | None = None,
    steps: int | None = None,
    seed: int = 0,
    method: str = "smooth",
    batch_size: int | None = None,
    precision: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    note: Callable[[str], None] | None = None,
    param: str | None = None,
    diversity: int = 1,
) -> FilterResult:
    """Render filters of ``layer``. ``filters``: indices (default: all, or the first ``scan`` when
    ``top`` is given). ``top``: keep the ``top`` strongest live filters of those scanned.
    ``precision``: of the gradient steps of the default method (``auto``: bf16 where the CPU has it
    natively; ``classic`` always runs in float32, as the blog did). Reported activations are always
    measured in float32. ``batch_size``: filters optimised at once (default: from free device memory,
    16 on a CPU); a batch that runs out of device memory is retried smaller, said through ``note``.
    ``param``: ``fourier`` (default) or ``pixel``; ``diversity`` K: K pictures per filter (fourier),
    consecutive in the result."""
    checks.choice(method, METHODS, "--method")  # the same checks the CLI runs before Keras loads
    checks.image_options(param, diversity, method)
    path = check_conv_layer(loaded, layer)
    count = filter_count(path[-1])
    check_batch_size(batch_size)
    if size is None and not all(loaded.input_shape[:2]):
        size = DEFAULT_SIZE
    hw = loaded.image_size(size)
    param, why = param_choice(method, param, hw, diversity)
    steps = default_steps(method, param) if steps is None else steps
    if steps < 1:
        raise CnnvizError("--steps must be at least 1")
    if top is not None:
        if top < 1:
            raise CnnvizError("--top must be at least 1")
        if scan is None and top > count:
            raise CnnvizError(f"--top {top} is more than the {count} filters of {layer_name(path)}; use --top {count} or fewer")
        scan = scan or min(count, max(top * 2, top))
        if scan > count:
            raise CnnvizError(f"--scan {scan} is more than the {count} filters of {layer_name(path)}")
        if top > scan:
            raise CnnvizError(f"--top {top} is more than --scan {scan}")
        indices = list(filters) if filters else list(range(scan))
    else:
        indices = list(filters) if filters else list(range(count))
    bad = [i for i in indices if not 0 <= i < count]
    if bad:
        raise CnnvizError(f"filter {bad[0]} is out of range: {layer_name(path)} has {count} filters (0-{count - 1})")

    h0, w0, channels = loaded.input_shape
    fixed = bool(h0 and w0)
    name = layer_name(path)
    pre = method != "classic"
    optimise_model = feature_model(loaded.model, [path], preactivation=pre)
    measure_model, measured = response_model(loaded.model, path)  # "responds": after the nonlinearity
    if param == "fourier":
        return replace(_fourier_filters(loaded, name, indices, measure_model, hw, steps, seed, batch_size, precision,
                                        diversity, top, progress, note, measured), recipe=why)
    objective = channel(name) if method == "classic" else channel(name, top=0.25)
    ascent = Ascent(optimise_model, [name], objective, loaded.preprocess,
                    pixel_transforms(method, hw), UpdateRule(clip=method != "classic"),
                    precision="float32" if method == "classic" else precision)
    schedule = stages(method, hw, steps, fixed)
    per_filter = sum(s.steps for s in schedule)
    total = per_filter * len(indices)
    start = time.perf_counter()
    batch_size = choose_batch_size(optimise_model, hw, len(indices), batch_size)
    done, ascent_seconds = [0], [0.0]
    images: list[np.ndarray] = []  # grows batch by batch: Ctrl-C keeps the filters that finished

    def run(batch: list[int]) -> list[np.ndarray]:
        n = len(batch)
        batch = padded(batch, devices_)  # a multiple of the devices (repeats, dropped below)
        rngs = [np.random.default_rng([seed, i]) for i in batch]
        h, w = schedule[0].size
        x0 = np.stack([128.0 + r.uniform(-10, 10, size=(h, w, channels)) for r in rngs]).astype("float32")
        report = (lambda d, t, base=done[0] * per_filter, n=n: progress(base + d * n, total)) if progress else None
        bounds = (-np.inf, np.inf) if method == "classic" else (0.0, 255.0)
        t0 = time.perf_counter()
        x, _, _ = ascent.run(x0, np.asarray(batch), schedule, rngs, bounds=bounds, progress=report)
        ascent_seconds[0] += time.perf_counter() - t0
        done[0] += n
        made = [deprocess_classic(img) if method == "classic" else to_uint8(img) for img in x[:n]]
        images.extend(made)
        return made

    partial = False
    try:
        with data_parallel() as devices_:
            in_batches(indices, -(-batch_size // devices_) * devices_, run, note)
    except KeyboardInterrupt:
        if not images:
            raise
        partial, indices = True, indices[: len(images)]
    ascent_seconds = ascent_seconds[0]
    images = np.stack(images)
    if method == "classic":
        seconds = time.perf_counter() - start
        acts = mean_activation(measure_model, images, indices, loaded.preprocess)
    else:
        images, acts = contrast_search(measure_model, images, indices, loaded.preprocess)
        seconds = time.perf_counter() - start
    alive = acts > ALIVE_EPS
    result = FilterResult(name, indices, images, acts, alive, method, hw, steps, seed, seconds, ascent_seconds,
                          ascent.precision, partial=partial, measured=measured, param=param, recipe=why,
                          untrained=loaded.untrained)
    return _strongest(result, top, indices)


def _strongest(result: FilterResult, top: int | None, scanned: list[int]) -> FilterResult:
    """With ``top``: the ``top`` strongest live filters of ``result``, ``scanned`` recorded as such."""
    if top is None:
        return result
    order = sorted(range(len(result.indices)), key=lambda k: (not result.alive[k], -result.activations[k]))[:top]
    return replace(result, indices=[result.indices[k] for k in order], images=result.images[order],
                   activations=result.activations[order], alive=result.alive[order], scanned=list(scanned),
                   revived=None if result.revived is None else result.revived[order])


#: The Fourier filters' objective: the pre-activation mean over this share of the strongest positions.
FOURIER_TOP = 0.25
#: The Fourier filter recipe: steps, Adam step, and the share of steps that see a half-size view
#: (tuned on VGG16 block5_conv1 in benchmarks/filters.py: as many alive as 28 steps at 0.06, about half the cost).
FILTER_STEPS = 15
FILTER_LR = 0.08
FILTER_LOW = 0.8


def fourier_filter_stages(hw: tuple[int, int], steps: int, fixed: bool) -> list:
    from ..optvis.render import fourier_stages

    return fourier_stages(hw, steps, FILTER_LR, fixed, FILTER_LOW)


def _fourier_filters(loaded, name, indices, measure_model, hw, steps, seed, batch_size, precision, diversity, top,
                     progress, note=None, measured: str = "") -> FilterResult:
    from ..optvis.render import render

    start = time.perf_counter()
    batch_size = choose_batch_size(measure_model, hw, len(indices) * diversity, batch_size)
    stages = fourier_filter_stages(hw, steps, fixed=all(loaded.input_shape[:2]))
    r = render(loaded, channel(name, top=FOURIER_TOP), indices, param="fourier", size=hw, stages=stages, seed=seed,
               batch_size=batch_size, precision=precision, diversity=diversity, preactivation=True, progress=progress, note=note)
    images = to_uint8(r.pixels)
    acts = mean_activation(measure_model, images, r.targets, loaded.preprocess)
    ascent_seconds = r.ascent_seconds
    revived = None
    dead = np.flatnonzero(acts <= ALIVE_EPS)
    if len(dead) and not r.partial:
        main = r.steps * len(r.targets)  # the bar goes on through the revive steps
        more = (lambda d, t: progress(main + d, main + t)) if progress else None
        images, acts, revived, spent = revive(loaded, name, measure_model, r.pixels, images, acts, r.targets, dead,
                                              hw, batch_size, precision, note, more)
        if progress:
            end = main + REVIVE_STEPS * len(dead)
            progress(end, end)  # a revive that settled early: the bar ends full
        ascent_seconds += spent
    seconds = time.perf_counter() - start
    alive = acts > ALIVE_EPS
    shown = list(r.targets)
    result = FilterResult(name, shown, images, acts, alive, "smooth", hw, steps, seed, seconds, ascent_seconds, r.precision,
                          param="fourier", diversity=diversity, partial=r.partial, measured=measured, revived=revived,
                          untrained=loaded.untrained)
    return _strongest(result, top, indices)
