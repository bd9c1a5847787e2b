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

from ..backends.devices import check_batch_size, choose_batch_size
from ..optvis import Stage
from .. import checks
from ..errors import CnnvizError
from ..pixels import deprocess_classic, rms_change, to_uint8
from ..models import LoadedModel, conv_layers, is_conv, iter_layers, layer_name, resolve_layer
from ..models.submodels import response_model
from ..optvis.objectives import channel
from ..optvis.param import check_param
from ..optvis.recipes import ACCENT_CLOSENESS, Classic, Fourier, Maco, recipe
from ..optvis.render import render
from ..results.filters import FilterResult  # noqa: F401 (re-exported): the result owns its record and figure
from .filter_measures import ALIVE_EPS, contrast_search, mean_activation
from .revive import revive

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
    """The steps of the recipe ``method``/``param`` names (see :func:`cnnviz.optvis.recipes.recipe`)."""
    return recipe(method, param).steps


def stages(method: str, size: tuple[int, int], steps: int, fixed: bool, param: str = "pixel") -> list[Stage]:
    """The schedule of the recipe ``method``/``param`` names, for ``steps`` steps at ``size``."""
    return recipe(method, param, steps).schedule(size, fixed)


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
    image: np.ndarray | None = None,
    closeness: float = ACCENT_CLOSENESS,
) -> FilterResult:
    """Render filters of ``layer``. ``filters``: indices (default: all, or the first ``scan`` when
    ``top`` is given). ``top``: keep the ``top`` strongest live filters of those scanned.
    ``precision``: of the gradient steps of the default method (``auto``: bf16 where the CPU has it
    natively; ``classic`` always runs in float32, as the blog did). Reported activations are always
    measured in float32. ``batch_size``: filters optimised at once (default: from free device memory,
    16 on a CPU); a batch that runs out of device memory is retried smaller, said through ``note``.
    ``param``: ``fourier`` (default) or ``pixel``; ``diversity`` K: K pictures per filter (fourier),
    consecutive in the result. Picture k of filter i starts from ``default_rng([seed, i, k])``.
    ``image`` (H, W, C pixels at ``size``): feature accentuation, every picture starts from this photo
    (Fourier, unless ``param`` says otherwise) and is pulled back towards it with weight ``closeness``."""
    checks.choice(method, METHODS, "--method")  # the same checks the CLI runs before Keras loads
    checks.image_options(param, diversity, method)
    path = check_conv_layer(loaded, layer)
    check_batch_size(batch_size)
    if size is None and not all(loaded.input_shape[:2]):
        size = DEFAULT_SIZE
    hw = loaded.image_size(size)
    param, why = accent_choice(method, param, closeness) if image is not None else param_choice(method, param, hw, diversity)
    chosen = recipe(method, param, steps)
    if chosen.steps < 1:
        raise CnnvizError("--steps must be at least 1")
    indices = _indices(path, filters, top, scan)
    name = layer_name(path)
    measure_model, measured = response_model(loaded.model, path)  # "responds": after the nonlinearity
    start = time.perf_counter()
    batch_size = choose_batch_size(measure_model, hw, len(indices) * diversity, batch_size)
    r = render(loaded, channel(name) if method == "classic" else channel(name, top=FOURIER_TOP), chosen, indices,
               size=hw, seed=seed, precision=precision, diversity=diversity, preactivation=method != "classic",
               batch_size=batch_size, progress=progress, note=note, closeness=closeness,
               anchor=None if image is None else np.asarray(image, "float32"))
    images, acts, revived, spent = _measured(loaded, name, measure_model, r, chosen, batch_size, progress, note)
    result = FilterResult(name, list(r.targets), images, acts, acts > ALIVE_EPS, method, hw, chosen.steps, seed,
                          time.perf_counter() - start, r.ascent_seconds + spent, r.precision, param=param,
                          diversity=diversity, partial=r.partial, measured=measured, revived=revived, recipe=why,
                          untrained=loaded.untrained)
    if image is not None:
        _with_photo(result, image, closeness, measure_model, loaded.preprocess)
    return _strongest(result, top, indices)


def accent_choice(method: str, param: str | None, closeness: float) -> tuple[str, str]:
    """(param, why) of a feature accentuation: Fourier unless told (it can hold the photo exactly)."""
    if method == "classic":
        raise CnnvizError("accentuating a photo (--image) needs --method smooth (the default), not classic")
    param = param or "fourier"
    return param, f"feature accentuation of a photo ({param}, closeness {closeness:g})"


def _with_photo(result: FilterResult, image: np.ndarray, closeness: float, measure_model, preprocess: str) -> None:
    """An accentuation's photo on its result: the photo, the pull's weight, how far each picture moved
    from the photo, and each filter's own activation on the photo."""
    result.source, result.closeness = np.asarray(image, "uint8"), float(closeness)
    result.changes = rms_change(result.images, result.source)
    result.source_activations = mean_activation(measure_model, result.source[None].repeat(len(result.indices), 0),
                                                list(result.indices), preprocess)


def _indices(path: tuple, filters: list[int] | None, top: int | None, scan: int | None) -> list[int]:
    """The filters to render: ``filters`` (default all, or the first ``scan`` with ``top``), checked."""
    count, name = filter_count(path[-1]), layer_name(path)
    if top is not None:
        if top < 1:
            raise CnnvizError("--top must be at least 1")
        if scan is None and top > count:
            raise CnnvizError(f"--top {top} is more than the {count} filters of {name}; use --top {count} or fewer")
        scan = scan or min(count, max(top * 2, top))
        if scan > count:
            raise CnnvizError(f"--scan {scan} is more than the {count} filters of {name}")
        if top > scan:
            raise CnnvizError(f"--top {top} is more than --scan {scan}")
    indices = list(filters) if filters else list(range(count if top is None else scan))
    bad = [i for i in indices if not 0 <= i < count]
    if bad:
        raise CnnvizError(f"filter {bad[0]} is out of range: {name} has {count} filters (0-{count - 1})")
    return indices


def _measured(loaded, name, measure_model, r, chosen, batch_size, progress, note):
    """(8-bit pictures, activations, revived or None, extra ascent seconds) as each recipe measures:
    classic the blog's display transform; pixel the contrast search; Fourier the revive pass."""
    if isinstance(chosen, Classic):
        images = np.stack([deprocess_classic(x) for x in r.pixels])
        return images, mean_activation(measure_model, images, r.targets, loaded.preprocess), None, 0.0
    images = to_uint8(r.pixels)
    if not isinstance(chosen, (Fourier, Maco)):
        return (*contrast_search(measure_model, images, r.targets, loaded.preprocess), None, 0.0)
    acts = mean_activation(measure_model, images, r.targets, loaded.preprocess)
    dead = np.flatnonzero(acts <= ALIVE_EPS)
    if not len(dead) or r.partial or getattr(chosen, "revive", None) is None:
        return images, acts, None, 0.0
    main = r.steps * len(r.targets)  # the bar goes on through the revive steps
    more = (lambda d, t: progress(main + d, main + t)) if progress else None
    hw = tuple(r.pixels.shape[1:3])
    images, acts, revived, spent = revive(loaded, name, measure_model, r.pixels, images, acts, r.targets, dead,
                                          hw, batch_size, r.precision, note, more, chosen)
    if progress:
        end = main + chosen.revive.steps * len(dead)
        progress(end, end)  # a revive that settled early: the bar ends full
    return images, acts, revived, spent


def _strongest(result: FilterResult, top: int | None, scanned: list[int]) -> FilterResult:
    """With ``top``: the ``top`` strongest live filters of ``result``, ``scanned`` recorded as such."""
    if top is None:
        return result
    order = sorted(range(len(result.indices)), key=lambda k: (not result.alive[k], -result.activations[k]))[:top]
    return replace(result, indices=[result.indices[k] for k in order], images=result.images[order],
                   activations=result.activations[order], alive=result.alive[order], scanned=list(scanned),
                   revived=None if result.revived is None else result.revived[order],
                   source_activations=None if result.source_activations is None else result.source_activations[order],
                   changes=None if result.changes is None else result.changes[order])


#: The filters' objective (pixel and Fourier recipes): the pre-activation mean over this share of the
#: strongest positions.
FOURIER_TOP = 0.25


def fourier_filter_stages(hw: tuple[int, int], steps: int, fixed: bool) -> list:
    """The Fourier filter recipe's schedule (kept for benchmarks/filters.py)."""
    return stages("smooth", hw, steps, fixed, "fourier")
