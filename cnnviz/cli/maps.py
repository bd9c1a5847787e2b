"""`cnnviz activations` and `cnnviz cam`: feature maps and class heatmaps for an image."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..methods.attribution.registry import METHODS as _REGISTRY
from .app import (InputOpt, InputValuesOpt, LabelsOpt, OutputOpt, ModelOpt, OutOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt, WeightsOpt, _fail, _load, _manifest,
                  _model_stem, _note, _stem, _written, app, command, progress_bar)

InputsArg = typer.Argument(None, metavar="MODEL|IMAGE", show_default=False,
                           help="Model (default lenet; or --model) and image (default: a sample digit for lenet, else the "
                                "bundled cat), in either order.")
SizeOpt = typer.Option(None, "--size", help="Input size for models that take any size (default: the model's own or 224).")


def _early(inputs, model_opt, preprocess, out) -> tuple[str, Optional[Path]]:
    """Everything that can be checked before Keras loads: the model spec, the image file, options."""
    from .. import checks
    from ..inputs.images import read_image
    from ..output.files import check_folder

    model, image = checks.model_and_image(inputs, model_opt)
    checks.model_spec(model)
    if image is not None:
        checks.image_file(image)
        read_image(image)  # decodable
    if preprocess is not None:
        checks.choice(preprocess, checks.PREPROCESS_MODES, "--preprocess")
    check_folder(out)
    return model, Path(image) if image else None


def _input_image(image: Optional[Path], loaded, size: Optional[int]):
    """(pixels, manifest record of the input, file-name stem, notes)."""
    from ..inputs.images import load_input
    from ..models.lenet import sample_digits

    h, w = loaded.image_size(size)
    if image is None and loaded.name == "lenet":
        x, _ = sample_digits()
        return x[0], {"input": "sample digit 0 (bundled MNIST sample)"}, "digit0", []
    pixels, notes, record = load_input(image, h, w, loaded.channels)
    if image is None:
        record["input"] = "bundled cat photo (chelsea.png)"
    return pixels, record, Path(image).stem if image else "chelsea", notes


@app.command()
@command
def activations(
    inputs: Optional[List[str]] = InputsArg,
    layers_: Optional[List[str]] = typer.Option(None, "--layer", "-l", help="Layer(s) to show; repeat for several."),
    all_conv: bool = typer.Option(False, "--all-conv", help="Every conv layer."),
    max_: Optional[int] = typer.Option(None, "--max", help="Show only the N strongest channels (with --sort)."),
    sort: str = typer.Option("index", "--sort", help="index, mean or max."),
    scale: str = typer.Option("layer", "--scale", help="layer: one colour scale per layer; channel: each channel its own."),
    size: Optional[int] = SizeOpt,
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    input_name: Optional[str] = InputOpt,
    input_values: Optional[Path] = InputValuesOpt,
    unsafe: bool = UnsafeOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Feature maps of every channel of the given layers for one image (one forward pass)."""
    from .. import checks
    from ..errors import CnnvizError

    checks.choice(scale, checks.SCALES, "--scale")
    checks.choice(sort, checks.SORTS, "--sort")
    checks.at_least(max_, 1, "--max")
    checks.at_least(size, 1, "--size")
    if not layers_ and not all_conv:
        raise CnnvizError("give at least one --layer (or --all-conv)")
    model, image = _early(inputs, model_opt, preprocess, out)

    from ..methods.activations import activation_maps, channel_order, resolve_spatial
    from ..models import layer_name
    from ..output.files import plan_output, save_result
    from ..results import ActivationsResult

    loaded = _load(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe,
                   input_name=input_name, input_values=input_values)
    pixels, source, istem, notes = _input_image(image, loaded, size)
    for n in notes:
        _note(n)
    paths_ = resolve_spatial(loaded, layers_, all_conv)
    plans = {layer_name(p): plan_output(out, _stem("activations", _model_stem(model), istem, layer_name(p).replace("/", "-")), overwrite) for p in paths_}
    maps = activation_maps(loaded, pixels, [layer_name(p) for p in paths_])
    for name, m in maps.items():
        res = ActivationsResult(name, m, channel_order(m, sort, max_), sort, scale, source["input"])
        save_result(plans[name], res.render(pixels, loaded.name), _manifest("activations", loaded, **{**res.record(), **source}))
        _written(plans[name].png, plans[name].manifest)


def _expand_images(specs: Optional[List[str]]) -> list[Optional[Path]]:
    """IMAGE arguments -> files: a folder gives its images (sorted), a glob its matches; checked before TF loads."""
    import glob

    if not specs:
        return [None]
    found: list[Optional[Path]] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            files = sorted(q for q in p.iterdir() if q.suffix.lower() in _IMAGE_SUFFIXES and q.is_file())
            if not files:
                _fail(f"folder {spec!r} holds no image ({', '.join(_IMAGE_SUFFIXES)})")
            found += files
        elif any(ch in spec for ch in "*?[") and not p.exists():
            files = sorted(Path(q) for q in glob.glob(spec) if Path(q).is_file())
            if not files:
                _fail(f"no file matches {spec!r}; check the pattern (quote it so the shell does not expand it)")
            found += files
        else:
            found.append(p)
    stems = [q.stem for q in found if q is not None]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        _fail(f"several inputs are named {twice[0]!r}; outputs are named after the image, so give them distinct names")
    return list(dict.fromkeys(found))


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
_METHOD_NAMES = ", ".join(_REGISTRY)


@app.command()
@command
def cam(
    inputs: Optional[List[str]] = typer.Argument(None, metavar="MODEL|IMAGE...", show_default=False,
                                                 help="Model (default lenet; or --model) and input images, folders or quoted globs "
                                                      "(default: a sample digit for lenet, else the bundled cat), in any order."),
    class_: Optional[str] = typer.Option(None, "--class", "-c", help="Class index or name (default: the predicted class); a sigmoid "
                                         "head: the unit (one unit: 0 = evidence against, 1 = for)."),
    target: str | None = typer.Option(None, "--target", help="For a regression output: value (explain its increase) or -value "
                                         "(its decrease); value:K for unit K (default: value)."),
    layer: Optional[str] = typer.Option(None, "--layer", "-l", help="Conv layer for the layer-based methods (default: where the last "
                                        "conv's signal is read, after its BatchNorm/ReLU; nested: base/conv)."),
    methods: Optional[List[str]] = typer.Option(None, "--method", help=f"Attribution method; repeat to compare several side by side. One of: {_METHOD_NAMES} (default gradcam)."),
    noise_samples: Optional[int] = typer.Option(None, "--noise-samples", help="Average every gradient method over N noisy copies (SmoothGrad-style; smoothgrad itself: 25)."),
    noise_level: float = typer.Option(0.15, "--noise-level", help="Noise sigma as a fraction of the input's value range."),
    baseline: str = typer.Option("black", "--baseline", help="Baseline for integrated-gradients and occlusion: black, blur, noise, or an image file of the input size."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Integrated-gradients steps (default 64: completeness error < 1% on lenet)."),
    faithfulness_steps: int = typer.Option(32, "--faithfulness-steps", help="Points on the deletion/insertion curves (0: skip the scores)."),
    heatmaps: bool = typer.Option(False, "--heatmaps", help="Also write each raw heatmap as float32 .npy at input resolution."),
    labels: Optional[Path] = LabelsOpt,
    size: Optional[int] = SizeOpt,
    seed: int = SeedOpt,
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    input_name: Optional[str] = InputOpt,
    input_values: Optional[Path] = InputValuesOpt,
    output: Optional[str] = OutputOpt,
    unsafe: bool = UnsafeOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Class heatmaps: one panel per image, methods side by side, each scored by deletion/insertion."""
    from .. import checks
    from ..methods.attribution.options import Options, check_options
    from ..output.files import check_folder

    model, images = checks.model_and_images(inputs, model_opt)
    checks.model_spec(model)
    checks.at_least(size, 1, "--size")
    checks.labels_option(labels)
    if preprocess is not None:
        checks.choice(preprocess, checks.PREPROCESS_MODES, "--preprocess")
    check_folder(out)

    if target is not None and class_ is not None:
        _fail("give --class (a class) or --target (a regression's value), not both")
    if target is not None and target.split(":")[0] not in ("value", "-value"):
        _fail(f"--target {target!r}: use value, -value or value:K (for a class, use --class)")
    names = list(dict.fromkeys(methods or ["gradcam"]))
    options = Options(layer=layer, noise_samples=noise_samples, noise_level=noise_level, baseline=baseline, ig_steps=steps,
                      seed=seed, faithfulness_steps=faithfulness_steps)
    check_options(names, options)
    files = _expand_images(images)
    for f in files:
        if f is not None:
            checks.image_file(f)
    if noise_samples and all(not _REGISTRY[m].gradient for m in names):
        _fail(f"--noise-samples applies to gradient methods; {', '.join(names)} take no gradients")

    import numpy as np

    from ..methods.attribution.explain import Explainer
    from ..models import Classifier
    from ..output.files import atomic_target, plan_output, save_result
    from ..output.heatmaps import attribution_panel
    from ..output.layout import titled
    from ..output.render import fmt_p

    loaded = _load(model, include_top=True, weights=weights, preprocess=preprocess, unsafe=unsafe, labels=labels, input_name=input_name, input_values=input_values, output=output)
    clf = Classifier(loaded)
    if class_ is not None:
        clf.resolve(class_)
    inputs = []
    for f in files:
        pixels, src, istem, notes = _input_image(f, loaded, size)
        for n in notes:
            _note(f"{src['input']}: {n}")
        inputs.append((pixels, src, istem))
    explainer = Explainer(loaded, names, inputs[0][0].shape[:2], options, clf)
    if any(_REGISTRY[m].name in ("integrated-gradients", "occlusion") for m in names):
        from ..methods.attribution.baselines import baseline_pixels

        for pixels, _, _ in inputs:
            baseline_pixels(baseline, pixels, seed)  # a baseline file of the wrong size fails before any output
    mpart = "-".join(m.replace("++", "pp") for m in names)
    which = class_ if target is None else target
    plans = []
    for pixels, source, istem in inputs:
        paths = plan_output(out, _stem("cam", _model_stem(model), istem, mpart, which), overwrite)
        npys = {m: out / (_stem("heatmap", _model_stem(model), istem, m.replace("++", "pp"), which) + ".npy") for m in names} if heatmaps else {}
        for p in npys.values():
            if p.exists() and not overwrite:
                _fail(f"{str(p)!r} already exists; pass --overwrite to replace it or --out DIR")
        plans.append((paths, npys))
    skipped = [m for m in names if noise_samples and not _REGISTRY[m].gradient]
    if skipped:
        _note(f"--noise-samples applies to gradient methods; {', '.join(skipped)} run without noise")
    with progress_bar("attribution") as tick:
        for n, ((pixels, source, istem), (paths, npys)) in enumerate(zip(inputs, plans)):
            per = len(names) + (1 if faithfulness_steps and target is None and clf.head.is_classifier else 0)
            ex = explainer.explain(pixels, which, progress=lambda d, t, n=n: tick(n * per + d, len(inputs) * per))
            rand = ex.random
            for r in ex.results:
                if r.method in npys:
                    with atomic_target(npys[r.method]) as tmp, open(tmp, "wb") as fh:
                        np.save(fh, r.raw.astype("float32"))
            record = {"command": "cam", **loaded.describe(), **source, "method": names[0], "layer": ex.results[0].layer,
                      "layer_reason": ex.results[0].info.get("layer_reason"), **ex.record(),
                      "class": ex.class_index, "class_name": ex.class_name, ("probability" if ex.value_word == "p" else "value"): ex.probability,
                      "top5": [vars(p) for p in ex.top5],
                      "faithfulness": None if rand is None else {
                          "metric": "area under the class probability as pixels are deleted (to black) / inserted (onto a blurred copy) in the heatmap's order (RISE)",
                          "steps": faithfulness_steps, "random_order": rand},
                      "methods": [{"method": r.method, **_jsonable_info(r.info), **(r.faithfulness or {}),
                                   "heatmap": str(npys[r.method]) if r.method in npys else None} for r in ex.results]}
            panel = attribution_panel(pixels, ex.class_name, ex.probability, ex.results, rand, ex.value_word)
            where = f" on {ex.results[0].layer}" if ex.results[0].layer else ""
            what = f"class {ex.class_name} (p {fmt_p(ex.probability)})" if ex.value_word == "p" else f"{ex.class_name} (value {ex.probability:.4g})"
            title = f"{loaded.name} · {', '.join(names)}{where} · {what}"
            supports = "the class" if ex.value_word == "p" else ("the value's decrease" if ex.score.sign < 0 else "the value's increase")
            save_result(paths, titled(panel, title, f"input: {source['input']}; where the image supports {supports}"), record)
            for r in ex.results:
                score = "" if r.faithfulness is None else (f"; deletion {r.faithfulness['deletion_auc']:.3f}, insertion {r.faithfulness['insertion_auc']:.3f}"
                                                           f" (random order {rand['deletion_auc']:.3f}, {rand['insertion_auc']:.3f})")
                typer.echo(f"{r.method}: " + (f"class {ex.class_name!r} (#{ex.class_index}, p {fmt_p(ex.probability)})" if ex.value_word == "p"
                                              else f"{ex.class_name} (value {ex.probability:.4g})")
                           + (f" on layer {r.layer}" if r.layer else "") + score)
            for r in ex.results:
                err = r.info.get("completeness_error")
                if err is not None and err > 0.05:
                    _note(f"{source['input']}: integrated gradients' completeness error is {100 * err:.0f}% (over 5%); raise --steps")
            _written(paths.png, paths.manifest, *[npys[m] for m in names if m in npys])


def _jsonable_info(info: dict) -> dict:
    return {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool, type(None)))}
