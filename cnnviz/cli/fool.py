"""`cnnviz fool`: class images from noise, class visualisations, adversarial examples."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import InputOpt, InputValuesOpt, OutputOpt, LabelsOpt, EXIT_NOT_REACHED, OutOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt, WeightsOpt, _fail, _load, _model_stem, _note, _stem, _written, app, command, progress_bar


@app.command()
@command
def fool(
    classes: List[str] = typer.Option(..., "--class", "-c", help="Class index or name; repeat for several (optimised together)."),
    model: str = typer.Option("vgg16", "--model", "-m", help="Classifier: vgg16 (ImageNet head), lenet, or a model file."),
    confidence: float = typer.Option(0.999, "--confidence", help="Stop when the saved image reaches this probability."),
    steps: int = typer.Option(300, "--steps", help="Maximum gradient steps."),
    method: str = typer.Option("fool", "--method", help="fool (noise the model trusts) or visualize (regularised, see the class)."),
    image: Optional[Path] = typer.Option(None, "--image", help="Start from this image: targeted adversarial example."),
    epsilon: float = typer.Option(8.0, "--epsilon", help="L-inf budget for --image, in pixel units (0-255)."),
    labels: Optional[Path] = LabelsOpt,
    size: Optional[int] = typer.Option(None, "--size", help="Input size for models that take any size."),
    seed: int = SeedOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", help="Also write each image alone as DIR/class_<index>.png."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    input_name: Optional[str] = InputOpt,
    input_values: Optional[Path] = InputValuesOpt,
    output: Optional[str] = OutputOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Make images the model assigns to a class with p >= --confidence (from noise, or from --image)."""
    from ..models import Classifier
    from ..fooling import adversarial, check_confidence, fool_from_noise
    from ..output.files import plan_output, plan_tiles, save_result, save_tiles
    from ..image_files import load_for_model
    from ..output.render import adversarial_panel, fool_grid

    check_confidence(confidence)
    if steps < 1:
        _fail("--steps must be at least 1")
    if image is not None and len(classes) != 1:
        _fail("--image takes exactly one --class (the target)")
    loaded = _load(model, include_top=True, weights=weights, preprocess=preprocess, unsafe=unsafe, labels=labels, input_name=input_name, input_values=input_values, output=output)
    clf = Classifier(loaded)
    targets = [clf.resolve(c) for c in classes]
    mstem = _model_stem(model)
    if image is not None:
        h, w = loaded.image_size(size)
        pixels, notes = load_for_model(image, h, w, loaded.channels)
        for n in notes:
            _note(n)
        paths = plan_output(out, _stem("adversarial", mstem, Path(image).stem, "to", targets[0]), overwrite)
        with progress_bar(f"adversarial -> {clf.name(targets[0])}") as update:
            res = adversarial(loaded, pixels, targets[0], epsilon=epsilon, confidence=confidence, max_steps=steps,
                              progress=update, classifier=clf)
        panel = adversarial_panel(res.original, res.adversarial, res.before, res.after, res.linf, res.l2)
        save_result(paths, panel, {"command": "fool", "mode": "adversarial", **loaded.describe(), "image": str(image),
                                   "confidence": confidence, "seed": seed, **res.record()})
        _written(paths.png, paths.manifest)
        name = clf.name(res.target)
        if res.reached:
            typer.echo(f"the model now says {name!r} with p={res.probability:.5f}; change L-inf {res.linf:.1f}, L2 {res.l2:.1f} (pixel units)")
            return
        typer.echo(f"not reached: epsilon {epsilon:g} is not enough for p>={confidence}; best p({name})={res.probability:.5f} "
                   f"(L-inf {res.linf:.1f}). Try a larger --epsilon or more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)
    paths = plan_output(out, _stem("fool", mstem, method, "-".join(str(t) for t in targets)), overwrite)
    tile_paths = plan_tiles(tiles, [f"class_{c}" for c in targets], overwrite) if tiles else []
    with progress_bar(f"{method}: {len(targets)} class(es)") as update:
        res = fool_from_noise(loaded, targets, confidence=confidence, max_steps=steps, seed=seed, size=size,
                              method=method, progress=update, classifier=clf)
    captions = [f"{clf.name(c)} (#{c}): p={p:.5f}\n" + "\n".join(f"{t.probability:.4f} {t.name}" for t in top[:5])
                for c, p, top in zip(res.classes, res.probabilities, res.top5)]
    save_result(paths, fool_grid(res.images, captions), {
        "command": "fool", "mode": method, **loaded.describe(), "confidence": confidence, "max_steps": steps,
        "seed": seed, "seconds": round(res.seconds, 2), "tiles": res.records()})
    if tiles:
        save_tiles(tile_paths, list(res.images))
        typer.echo(f"wrote {len(tile_paths)} tiles to {tiles}")
    _written(paths.png, paths.manifest)
    for c, p, ok, s in zip(res.classes, res.probabilities, res.reached, res.steps):
        typer.echo(f"{clf.name(c)} (#{c}): p={p:.5f} after {s} steps" + ("" if ok or method == "visualize" else "  NOT reached"))
    if method == "fool" and not res.reached.all():
        typer.echo(f"not every class reached p>={confidence} in {steps} steps; try more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)
