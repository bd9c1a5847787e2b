"""``cnnviz.filters`` and ``cnnviz.fool``: pictures made by gradient ascent on the input."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .. import checks
from ..errors import CnnvizError
from .common import Note, check_folders, check_images, check_model, load_here, model_ref, picture, progress_bar, say, scoped


def _chosen(filters: str | Sequence[int] | None, count: int, name: str, top: int | None, note: Note | None) -> list[int] | None:
    """``filters`` as indices (``"0-63"``, ``"3,7,12"`` or a list); a big layer's first 16 by default."""
    from ..selection import parse_indices

    if filters is not None:
        return parse_indices(filters if isinstance(filters, str) else ",".join(str(int(i)) for i in filters), count)
    if top is None and count > checks.BIG_LAYER:
        if note:
            note(f"{name} has {count} filters; rendering the first {checks.BIG_LAYER} "
                 f"(--filters 0-{count - 1} for all, or --top N for the strongest)")
        return list(range(checks.BIG_LAYER))
    return None


@scoped
def filters(model: Any, layer: str, filters: str | Sequence[int] | None = None, *, top: int | None = None,
            scan: int | None = None, size: int | None = None, steps: int | None = None, method: str = "smooth",
            param: str | None = None, diversity: int = 1, seed: int = 0, batch_size: int | None = None,
            precision: str = "auto", cols: int | None = None, tiles: str | Path | None = None,
            out: str | Path | None = None, overwrite: bool = False, weights: Any = "imagenet",
            preprocess: str | None = None, input: str | int | None = None, input_values: str | Path | None = None,
            unsafe: bool = False, image: Any = None, fit: str | None = None, closeness: float | None = None,
            progress: Any = True, note: Note | None = say):
    """The picture each filter of conv ``layer`` responds to most (gradient ascent on the input), as a
    :class:`~cnnviz.results.FilterResult`. ``filters``: ``"0-63"``, ``"3,7,12"`` or a list (default: all,
    or the first 16 of a bigger layer); ``top``/``scan``: keep the ``top`` strongest of ``scan``;
    ``method``: ``smooth`` (regularised, default) or ``classic`` (the Keras blog's); ``param``:
    ``fourier``, ``maco`` or ``pixel``; ``diversity``: pictures per filter. ``out``: also save the PNG + manifest
    there (checked before the work); ``tiles``: each picture alone in that folder. ``image``: feature
    accentuation, each picture starts from this photo (fitted by ``fit``, default ``crop``) and is
    pulled back towards it with weight ``closeness`` (default ``ACCENT_CLOSENESS``)."""
    check_model(model)
    checks.choice(method, checks.FILTER_METHODS, "--method")
    image, fit, closeness = _accent_options(image, fit, closeness, method != "classic", "--method smooth")
    checks.choice(precision, checks.PRECISIONS, "--precision")
    for value, flag in ((steps, "--steps"), (batch_size, "--batch-size"), (top, "--top"), (scan, "--scan"),
                        (size, "--size"), (cols, "--cols")):
        checks.at_least(value, 1, flag)
    checks.image_options(param, diversity, method)
    check_folders(out, tiles)

    from ..methods.filters import check_conv_layer, filter_count, resolve_param, visualize_filters
    from ..models import layer_name
    from ..output.files import plan_output, plan_tiles
    from ..results import FilterResult
    from ..results.base import tile_name

    loaded = load_here(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe, input=input,
                  input_values=input_values, note=note)
    path = check_conv_layer(loaded, layer)
    count, name = filter_count(path[-1]), layer_name(path)  # output channels: right for Conv, depthwise, transposed
    chosen = _chosen(filters, count, name, top, note)
    loaded.image_size(size)  # validated before any work
    resolve_param(method, param)  # checks it; visualize_filters chooses the default for the input size
    ref = model_ref(loaded)
    if out is not None:
        plan_output(out, FilterResult.name_for(ref.stem, name, method, param), overwrite)
    if tiles is not None:  # every picture that could be written (all scanned ones with --top)
        wanted = chosen or range(count if top is None else (scan or min(count, 2 * top)))
        plan_tiles(tiles, [tile_name("filter", i, k, diversity) for i in wanted for k in range(diversity)], overwrite)
    shown = None if image is None else picture(image, loaded, size or _square(loaded), note=note, fit=fit)
    with progress_bar(progress, f"filters of {name}") as update:
        result = visualize_filters(loaded, layer, chosen, top=top, scan=scan, size=size, steps=steps, seed=seed,
                                   method=method, batch_size=batch_size, precision=precision, progress=update,
                                   note=note, param=param, diversity=diversity,
                                   image=None if shown is None else shown.pixels,
                                   **({} if closeness is None else {"closeness": closeness}))
    result.model, result.cols, result.total_filters, result.param_given = ref, cols, count, param is not None
    if shown is not None:
        result.extra = {**result.extra, **shown.record}
    if out is not None:
        result.save(out, overwrite=overwrite or result.partial)  # a partial grid replaces an earlier partial one
    if tiles is not None:
        result.save_tiles(tiles, overwrite=True)  # checked above
    return result


@scoped
def fool(model: Any, classes: Any, *, confidence: float = 0.999, steps: int | None = None, method: str = "fool",
         image: Any = None, epsilon: float = 8.0, labels: Any = None, size: int | None = None, fit: str | None = None,
         param: str | None = None,
         diversity: int = 1, seed: int = 0, batch_size: int | None = None, cols: int | None = None,
         tiles: str | Path | None = None, out: str | Path | None = None, overwrite: bool = False,
         weights: Any = "imagenet", preprocess: str | None = None, input: str | int | None = None,
         input_values: str | Path | None = None, output: str | int | None = None, unsafe: bool = False,
         closeness: float | None = None, progress: Any = True, note: Note | None = say):
    """Images the model assigns to ``classes`` (an index or name, or a list) with p >= ``confidence``:
    from noise (``method="fool"``), a regularised class visualisation (``method="visualize"``), or, with
    ``image``, a targeted adversarial example within ``epsilon`` pixel units (one class); ``image`` with
    ``method="visualize"``: feature accentuation, the photo pushed towards each class while pulled back
    towards itself with weight ``closeness``. Returns a :class:`~cnnviz.results.FoolResult` or an
    :class:`~cnnviz.results.AdversarialResult`."""
    check_model(model)
    classes = [str(c) if not isinstance(c, int) else c for c in (classes if isinstance(classes, (list, tuple)) else [classes])]
    if not classes:
        raise CnnvizError("give at least one class (--class K)")
    checks.confidence(confidence)
    for value, flag in ((steps, "--steps"), (batch_size, "--batch-size"), (size, "--size"), (cols, "--cols")):
        checks.at_least(value, 1, flag)
    checks.choice(method, checks.FOOL_METHODS, "--method")
    accent = method == "visualize" and image is not None
    if accent:
        image, fit, closeness = _accent_options(image, fit, closeness, True, "")
    elif closeness is not None:
        raise CnnvizError("--closeness shapes feature accentuation: use it with --method visualize --image PHOTO")
    if image is not None and not accent:
        if len(classes) != 1:
            raise CnnvizError("--image takes exactly one --class (the target)")
        if not epsilon > 0:
            raise CnnvizError(f"--epsilon {epsilon} must be positive (pixel units of 0-255, e.g. 8)")
        image = check_images(image)[0]
    if fit is not None:
        checks.choice(fit, checks.FIT_MODES, "--fit")
    checks.image_options(param, diversity)
    if method != "visualize" and (param is not None or diversity != 1):
        raise CnnvizError("--param and --diversity shape --method visualize; --method fool works on pixels")
    check_folders(out, tiles)
    loaded = load_here(model, include_top=True, weights=weights, preprocess=preprocess, unsafe=unsafe, labels=labels,
                  input=input, input_values=input_values, output=output, note=note)
    if image is not None and not accent:
        return _adversarial(loaded, image, classes[0], confidence, steps or 300, epsilon, (size, fit), seed, tiles, out,
                            overwrite, progress, note)
    shown = picture(image, loaded, size or _square(loaded), note=note, fit=fit) if accent else None
    return _from_noise(loaded, classes, confidence, steps, method, size, param, diversity, seed, batch_size, cols, tiles,
                       out, overwrite, progress, note, (shown, closeness))


def _accent_options(image: Any, fit: str | None, closeness: float | None, allowed: bool, needs: str):
    """(image, fit, closeness) of a feature accentuation, checked before Keras loads."""
    if image is None:
        if closeness is not None:
            raise CnnvizError("--closeness shapes feature accentuation: give the photo with --image")
        return None, fit, None
    if not allowed:
        raise CnnvizError(f"accentuating a photo (--image) needs {needs}")
    from ..optvis.recipes import ACCENT_CLOSENESS

    closeness = ACCENT_CLOSENESS if closeness is None else float(closeness)
    if not closeness >= 0:
        raise CnnvizError(f"--closeness {closeness} must be 0 or more (0: no pull back towards the photo)")
    checks.choice(fit or "crop", checks.FIT_MODES, "--fit")
    return check_images(image)[0], fit or "crop", closeness


def _square(loaded) -> int | None:
    """A side for a model that takes any size (an accentuated photo is square, as the pictures are)."""
    from ..methods.filters import DEFAULT_SIZE

    return None if all(loaded.input_shape[:2]) else DEFAULT_SIZE


def _from_noise(loaded, classes, confidence, steps, method, size, param, diversity, seed, batch_size, cols, tiles,
                out, overwrite, progress, note, accent=(None, None)):
    from ..methods.fooling import fool_from_noise
    from ..models import Classifier
    from ..optvis.recipes import recipe
    from ..output.files import plan_output, plan_tiles
    from ..results import FoolResult
    from ..results.base import tile_name

    from ..methods.fooling import default_param

    shown, closeness = accent
    own = default_param(loaded, size, shown is not None) if method == "visualize" else "pixel"
    if steps is None:  # the recipe's own: 128 steps for a class picture, 300 pixel steps otherwise
        steps = recipe(method, param or own).steps
    clf = Classifier(loaded)
    clf.model  # noqa: B018 - a regression output (no classes) is refused here, before any work
    targets = [clf.resolve(c) for c in classes]
    ref = model_ref(loaded)
    if out is not None:
        plan_output(out, FoolResult.name_for(ref.stem, method, targets), overwrite)
    if tiles is not None:
        plan_tiles(tiles, [tile_name("class", c, k, diversity) for c in targets for k in range(diversity)], overwrite)
    with progress_bar(progress, f"{method}: {len(targets)} class(es)") as update:
        result = fool_from_noise(loaded, targets, confidence=confidence, max_steps=steps, seed=seed, size=size,
                                 method=method, progress=update, classifier=clf, batch_size=batch_size, note=note,
                                 param=param, diversity=diversity, image=None if shown is None else shown.pixels,
                                 **({} if closeness is None else {"closeness": closeness}))
    result.model, result.cols, result.extra = ref, cols, {"max_steps": steps, **({} if shown is None else shown.record)}
    result.names = [clf.name(c) for c in result.classes]
    if out is not None:
        result.save(out, overwrite=overwrite or result.partial)  # a partial grid replaces an earlier partial one
    if tiles is not None:
        result.save_tiles(tiles, overwrite=True)  # checked above
    return result


def _adversarial(loaded, image, target, confidence, steps, epsilon, sizing, seed, tiles, out, overwrite, progress, note):
    from ..methods.fooling import adversarial
    from ..models import Classifier
    from ..output.files import plan_output, plan_tiles
    from ..results import AdversarialResult

    clf = Classifier(loaded)
    clf.model  # noqa: B018 - a regression output (no classes) is refused here, before any work
    k = clf.resolve(target)
    shown = picture(image, loaded, sizing[0], note=note, fit=sizing[1])
    ref = model_ref(loaded)
    if out is not None:
        for reached in (True, False):
            plan_output(out, AdversarialResult.name_for(ref.stem, shown.stem, k, reached), overwrite)
    if tiles is not None:
        plan_tiles(tiles, [f"adversarial_{k}"], overwrite)
    with progress_bar(progress, f"adversarial -> {clf.name(k)}") as update:
        result = adversarial(loaded, shown.pixels, k, epsilon=epsilon, confidence=confidence, max_steps=steps,
                             progress=update, classifier=clf)
    result.model, result.target_name, result.confidence, result.input_stem = ref, clf.name(k), confidence, shown.stem
    result.extra = {"mode": "adversarial", **shown.record, "confidence": confidence, "seed": seed}
    if out is not None:
        result.save(out, overwrite)
    if tiles is not None:
        result.save_tiles(tiles, overwrite=True)
    return result
