"""``cnnviz.activations`` and ``cnnviz.cam``: what a layer computes on an image, and where an image
supports a class."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .. import checks
from ..errors import CnnvizError
from .common import Note, check_folders, check_images, check_model, load_here, model_ref, one_or_many, picture, progress_bar, say, scoped


@scoped
def activations(model: Any, image: Any = None, layers: str | Sequence[str] | None = None, *, all_conv: bool = False,
                max: int | None = None, sort: str = "index", scale: str = "layer", size: int | None = None,
                fit: str | None = None, out: str | Path | None = None, overwrite: bool = False, weights: Any = "imagenet",
                preprocess: str | None = None, input: str | int | None = None, input_values: str | Path | None = None,
                unsafe: bool = False, note: Note | None = say):
    """Every channel's feature map of ``layers`` (one name or a list; ``all_conv`` for every conv layer)
    for one image (default: a sample digit for 1-channel models, else the bundled cat), in one forward
    pass. ``max``: only the N strongest channels by ``sort`` (index, mean, max); ``scale``: ``layer`` (one
    colour scale, comparable) or ``channel``; ``fit``: how a photo meets the input (``crop``, ``pad``,
    ``squash``, ``keep``; default: crop at a fixed input size, the photo's aspect otherwise). An :class:`~cnnviz.results.ActivationsResult`, or
    :class:`~cnnviz.results.Results` (one per layer) for a list or ``all_conv``."""
    check_model(model)
    checks.choice(scale, checks.SCALES, "--scale")
    checks.choice(sort, checks.SORTS, "--sort")
    checks.at_least(max, 1, "--max")
    checks.at_least(size, 1, "--size")
    if fit is not None:
        checks.choice(fit, checks.FIT_MODES, "--fit")
    names = [layers] if isinstance(layers, str) else list(layers or [])
    if not names and not all_conv:
        raise CnnvizError("give at least one --layer (or --all-conv)")
    image = check_images(image)[0]
    check_folders(out)

    from ..methods.activations import activation_maps, channel_order, resolve_spatial
    from ..models import layer_name
    from ..results import ActivationsResult

    loaded = load_here(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe, input=input,
                  input_values=input_values, note=note)
    shown = picture(image, loaded, size, note=note, fit=fit)
    paths = resolve_spatial(loaded, names, all_conv)
    ref = model_ref(loaded)
    results = [ActivationsResult(layer_name(p), None, [], sort, scale, shown.label, loaded.untrained, shown.shown(), shown.stem,
                                 model=ref, extra=shown.record) for p in paths]
    if out is not None:
        for r in results:
            r.plan(out, overwrite)
    maps = activation_maps(loaded, shown.pixels, [r.layer for r in results])
    for r in results:
        r.maps = maps[r.layer]
        r.order = channel_order(r.maps, sort, max)
        if out is not None:
            r.save(out, overwrite)
    return one_or_many(results, all_conv or not isinstance(layers, str))


@scoped
def cam(model: Any, images: Any = None, *, target: str | int | None = None, method: str | Sequence[str] = "gradcam",
        layer: str | None = None, noise_samples: int | None = None, noise_level: float = 0.15, baseline: str = "black",
        steps: int | None = None, faithfulness_steps: int = 32, heatmaps: bool = False, clip: float | None = None,
        score_cam_channels: int = 128, rise_masks: int = 1000, sanity: bool = False, sanity_stages: int = 4, labels: Any = None,
        size: int | None = None, fit: str | None = None, seed: int = 0, out: str | Path | None = None, overwrite: bool = False,
        weights: Any = "imagenet", preprocess: str | None = None, input: str | int | None = None,
        input_values: str | Path | None = None, output: str | int | None = None, unsafe: bool = False,
        progress: Any = True, note: Note | None = say):
    """Where each image supports class ``target`` (index or name; default: the predicted class), by one
    attribution ``method`` or several side by side, each scored for faithfulness (deletion / insertion
    against random smooth maps, ``faithfulness_steps`` points; 0 skips). ``clip``: percent of heat mass
    drawn saturated (default 2 for pixel-gradient maps); ``score_cam_channels``: Faster Score-CAM's N
    (0: all); ``rise_masks``; ``sanity``: also the model-randomisation check over ``sanity_stages``. ``images``: an array, PIL image,
    file, folder or glob, or a list of them, fitted by ``fit`` as in :func:`activations` (the maps are drawn
    back onto the whole photo). A :class:`~cnnviz.results.CamResult`, or
    :class:`~cnnviz.results.Results` (one per image) for a list, folder or glob."""
    from ..methods.attribution.options import Options, check_options
    from ..methods.attribution.registry import METHODS

    check_model(model)
    checks.at_least(size, 1, "--size")
    if fit is not None:
        checks.choice(fit, checks.FIT_MODES, "--fit")
    names = list(dict.fromkeys([method] if isinstance(method, str) else list(method or ["gradcam"])))
    options = Options(layer=layer, noise_samples=noise_samples, noise_level=noise_level, baseline=baseline, ig_steps=steps,
                      seed=seed, faithfulness_steps=faithfulness_steps, clip_percent=clip,
                      score_cam_channels=score_cam_channels or None, rise_masks=rise_masks)
    check_options(names, options)
    checks.at_least(sanity_stages, 1, "--sanity-stages")
    if noise_samples and all(not METHODS[m].gradient for m in names):
        raise CnnvizError(f"--noise-samples applies to gradient methods; {', '.join(names)} take no gradients")
    many = isinstance(images, (list, tuple)) or (isinstance(images, (str, Path)) and
                                                  (Path(images).is_dir() or any(ch in str(images) for ch in "*?[")))
    files = check_images(images)
    check_folders(out)
    loaded = load_here(model, include_top=True, weights=weights, preprocess=preprocess, unsafe=unsafe, labels=labels,
                  input=input, input_values=input_values, output=output, note=note)
    results = _explain(loaded, files, target, names, options, (size, fit), heatmaps, out, overwrite, progress, note,
                       sanity_stages if sanity else 0)
    return one_or_many(results, many)


def _settings(names: list[str], options, sanity: int = 0) -> dict:
    """The options that shaped the maps, for the manifest and the figure's subtitle."""
    from ..methods.attribution.registry import METHODS

    shown: dict = {}
    if options.noise_samples and any(METHODS[m].gradient for m in names):
        shown.update(noise_samples=options.noise_samples, noise_level=options.noise_level)
    if any(METHODS[m].name in ("integrated-gradients", "occlusion") for m in names):
        shown["baseline"] = options.baseline
    if "integrated-gradients" in names and options.ig_steps:
        shown["ig_steps"] = options.ig_steps
    if options.clip_percent is not None:
        shown["clip"] = options.clip_percent
    if "scorecam" in names:
        shown["score_cam_channels"] = options.score_cam_channels or "all"
    if "rise" in names:
        shown["rise_masks"] = options.rise_masks
    if sanity:
        shown.update(sanity=True, sanity_stages=sanity)
    return shown


def _explain(loaded, files, target, names, options, sizing, heatmaps, out, overwrite, progress, note, sanity) -> list:
    from ..methods.attribution.baselines import baseline_pixels
    from ..methods.attribution.explain import Explainer
    from ..methods.attribution.registry import METHODS
    from ..models import Classifier
    from ..results import CamResult

    clf = Classifier(loaded)
    if target is not None and not callable(target):
        clf.score(target)  # an unknown class or target is one line before any work
    shown = [picture(f, loaded, sizing[0], i if len(files) > 1 else None, note, sizing[1]) for i, f in enumerate(files)]
    explainers: dict = {}  # one per fed size (the photo's own aspect for a model of any size)
    if any(METHODS[m].name in ("integrated-gradients", "occlusion") for m in names):
        for s in shown:
            baseline_pixels(options.baseline, s.pixels, options.seed)  # a baseline file of the wrong size fails now
    skipped = [m for m in names if options.noise_samples and not METHODS[m].gradient]
    if skipped and note:
        note(f"--noise-samples applies to gradient methods; {', '.join(skipped)} run without noise")
    ref, settings = model_ref(loaded), _settings(names, options, sanity)
    results = [CamResult(s.pixels, None, names, options.faithfulness_steps, str(s.record["input"]), s.stem,
                         None if target is None else str(target), heatmaps, options.seed, settings, loaded.untrained,
                         s.original, s.fit, model=ref, extra=s.record)
               for s in shown]
    if out is not None:
        for r in results:
            r.plan(out, overwrite)  # the PNG, the manifest, and the raw maps and sanity figure asked for
    per = len(names) + (1 if options.faithfulness_steps else 0)
    with progress_bar(progress, "attribution") as tick:
        for n, r in enumerate(results):
            hw = r.image.shape[:2]
            if hw not in explainers:
                explainers[hw] = Explainer(loaded, names, hw, options, clf)
            r.explanation = explainers[hw].explain(r.image, target, progress=(lambda d, t, n=n: tick(n * per + d, len(results) * per))
                                              if tick else None)
            for m in r.explanation.results:
                err = m.info.get("completeness_error")
                if err is not None and err > 0.05 and note:
                    note(f"{r.source}: integrated gradients' completeness error is {100 * err:.0f}% (over 5%); raise --steps")
            if sanity:
                from ..methods.attribution.sanity import randomisation_check

                r.sanity = randomisation_check(loaded, names, r.image, options=options, class_index=r.class_index,
                                               stages=sanity, seed=options.seed, classifier=clf)
            if out is not None:
                r.save(out, overwrite)
    return results
