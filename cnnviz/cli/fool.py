"""`cnnviz fool`: class images from noise, class visualisations, adversarial examples."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import (EXIT_NOT_REACHED, InputOpt, InputValuesOpt, LabelsOpt, OutputOpt, BatchSizeOpt, DiversityOpt, ParamOpt, ModelArg, ModelOpt, OutOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt,
                  WeightsOpt, _load, _manifest, _model_stem, _note, _stem, _written, app, command, progress_bar)


@app.command()
@command
def fool(
    model_: Optional[str] = ModelArg,
    classes: List[str] = typer.Option(..., "--class", "-c", help="Class index or name; repeat for several (optimised together)."),
    confidence: float = typer.Option(0.999, "--confidence", help="Stop when the saved image reaches this probability."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Maximum gradient steps (default 300 for fool, the recipe's for visualize)."),
    method: str = typer.Option("fool", "--method", help="fool (noise the model trusts) or visualize (regularised, see the class)."),
    image: Optional[Path] = typer.Option(None, "--image", metavar="IMAGE", help="Start from this image: targeted adversarial example."),
    epsilon: float = typer.Option(8.0, "--epsilon", help="L-inf budget for --image, in pixel units (0-255)."),
    labels: Optional[Path] = LabelsOpt,
    size: Optional[int] = typer.Option(None, "--size", help="Input size for models that take any size."),
    param: Optional[str] = ParamOpt,
    diversity: int = DiversityOpt,
    seed: int = SeedOpt,
    batch_size: Optional[int] = BatchSizeOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", metavar="DIR", help="Also write each image alone as DIR/class_<index>.png (DIR/adversarial_<class>.png with --image)."),
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
    """Make images the model assigns to a class with p >= --confidence (from noise, or from --image)."""
    from .. import checks
    from ..output.files import check_folder

    model = checks.one_model(model_, model_opt)
    checks.model_spec(model)
    checks.confidence(confidence)
    checks.at_least(steps, 1, "--steps")
    checks.at_least(batch_size, 1, "--batch-size")
    checks.at_least(size, 1, "--size")
    checks.choice(method, checks.FOOL_METHODS, "--method")
    if preprocess is not None:
        checks.choice(preprocess, checks.PREPROCESS_MODES, "--preprocess")
    if image is not None:
        from ..errors import CnnvizError

        if len(classes) != 1:
            raise CnnvizError("--image takes exactly one --class (the target)")
        if not epsilon > 0:
            raise CnnvizError(f"--epsilon {epsilon} must be positive (pixel units of 0-255, e.g. 8)")
        checks.image_file(image)
        from ..inputs.images import read_image

        read_image(image)  # decodable, before Keras starts
    checks.labels_option(labels)
    checks.image_options(param, diversity)
    if method != "visualize" and (param is not None or diversity != 1):
        from ..errors import CnnvizError

        raise CnnvizError("--param and --diversity shape --method visualize; fool and --image work on pixels")
    check_folder(out)
    if tiles:
        check_folder(tiles)

    from ..methods.fooling import adversarial, fool_from_noise
    from ..inputs.images import load_input
    from ..models import Classifier
    from ..output.files import plan_output, plan_tiles, save_result, save_tiles
    from ..output.render import fmt_p

    if steps is None:
        from ..optvis.render import CLASS_STEPS

        steps = CLASS_STEPS if method == "visualize" and param != "pixel" else 300
    loaded = _load(model, include_top=True, weights=weights, preprocess=preprocess, unsafe=unsafe, labels=labels,
                   input_name=input_name, input_values=input_values, output=output)
    clf = Classifier(loaded)
    clf.model  # noqa: B018 - a regression output (no classes) is refused here, before any progress bar
    targets = [clf.resolve(c) for c in classes]
    mstem = _model_stem(model)
    if image is not None:
        h, w = loaded.image_size(size)
        pixels, notes, source = load_input(image, h, w, loaded.channels)
        for n in notes:
            _note(n)
        stem = _stem("adversarial", mstem, Path(image).stem, "to", targets[0])
        paths, failed = plan_output(out, stem, overwrite), plan_output(out, stem + "_not-reached", overwrite)
        tile_paths = plan_tiles(tiles, [f"adversarial_{targets[0]}"], overwrite) if tiles else []
        with progress_bar(f"adversarial -> {clf.name(targets[0])}") as update:
            res = adversarial(loaded, pixels, targets[0], epsilon=epsilon, confidence=confidence, max_steps=steps,
                              progress=update, classifier=clf)
        name = clf.name(res.target)
        target = paths if res.reached else failed
        save_result(target, res.render(loaded.name, name, confidence),
                    _manifest("fool", loaded, mode="adversarial", **source, confidence=confidence, seed=seed, **res.record()))
        if tiles:
            save_tiles(tile_paths, [res.adversarial])
            typer.echo(f"wrote {tile_paths[0]}")
        _written(target.png, target.manifest)
        if res.already:
            typer.echo(f"the image is already {name!r} (p {fmt_p(res.probability)} >= {confidence:g}); nothing to do")
            return
        if res.reached:
            typer.echo(f"the model now says {name!r} with p {fmt_p(res.probability)}; change L-inf {res.linf:.1f}, L2 {res.l2:.1f} (pixel units)")
            return
        typer.echo(f"not reached: epsilon {epsilon:g} is not enough for p>={confidence}; best p({name}) {fmt_p(res.probability)} "
                   f"(L-inf {res.linf:.1f}). Try a larger --epsilon or more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)
    paths = plan_output(out, _stem("fool", mstem, method, "-".join(str(t) for t in targets)), overwrite)
    tile_names = [f"class_{c}" + (f"_{k}" if diversity > 1 else "") for c in targets for k in range(diversity)]
    tile_paths = plan_tiles(tiles, tile_names, overwrite) if tiles else []
    with progress_bar(f"{method}: {len(targets)} class(es)") as update:
        res = fool_from_noise(loaded, targets, confidence=confidence, max_steps=steps, seed=seed, size=size,
                              method=method, progress=update, classifier=clf,
                              batch_size=batch_size, note=_note, param=param, diversity=diversity)
    names = [clf.name(c) for c in res.classes]
    save_result(paths, res.render(loaded.name, names), _manifest("fool", loaded, max_steps=steps, **res.record()))
    if tiles:
        save_tiles(tile_paths, list(res.images))
        typer.echo(f"wrote {len(tile_paths)} tiles to {tiles}")
    _written(paths.png, paths.manifest)
    for c, p, ok, s in zip(res.classes, res.probabilities, res.reached, res.steps):
        typer.echo(f"{clf.name(c)} (#{c}): p {fmt_p(p)} after {s} steps" + ("" if ok or method == "visualize" else "  NOT reached"))
    if method == "fool" and not res.reached.all():
        typer.echo(f"not every class reached p>={confidence} in {steps} steps; try more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)
