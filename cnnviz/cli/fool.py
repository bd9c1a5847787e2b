"""`cnnviz fool`: class images from noise, class visualisations, adversarial examples."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import (EXIT_INTERRUPTED, EXIT_NOT_REACHED, BatchSizeOpt, ClosenessOpt, DiversityOpt, FitOpt, LabelsOpt, ModelArg, ParamOpt, SeedOpt, Shared, app,
                  command, fail, saved, shared, written)


@app.command()
@command
@shared("out", "overwrite", "weights", "preprocess", "input_name", "input_values", "output", "unsafe", "model_opt")
def fool(
    model_: Optional[str] = ModelArg,
    classes: List[str] = typer.Option(..., "--class", "-c", metavar="CLASS", help="Class index or name; repeat for several (optimised together)."),
    confidence: float = typer.Option(0.999, "--confidence", metavar="NUMBER", help="Stop when the saved image reaches this probability."),
    steps: Optional[int] = typer.Option(None, "--steps", metavar="INTEGER", help="Maximum gradient steps (default 300 for fool, the recipe's for visualize)."),
    method: str = typer.Option("fool", "--method", metavar="TEXT", help="fool (noise the model trusts) or visualize (regularised, see the class)."),
    image: Optional[Path] = typer.Option(None, "--image", metavar="IMAGE", help="Start from this photo: a targeted adversarial example (--method fool), or feature accentuation (--method visualize)."),
    epsilon: float = typer.Option(8.0, "--epsilon", metavar="NUMBER", help="L-inf budget for --image, in pixel units (0-255)."),
    labels: Optional[Path] = LabelsOpt,
    size: Optional[int] = typer.Option(None, "--size", metavar="INTEGER", help="Input size for models that take any size."),
    fit: Optional[str] = FitOpt,
    param: Optional[str] = ParamOpt,
    diversity: int = DiversityOpt,
    seed: int = SeedOpt,
    batch_size: Optional[int] = BatchSizeOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", metavar="DIR", help="Also write each image alone as DIR/class_<index>.png (DIR/adversarial_<class>.png with --image)."),
    cols: Optional[int] = typer.Option(None, "--cols", metavar="INTEGER", help="Grid columns (default: near-square)."),
    closeness: Optional[float] = ClosenessOpt,
    opts: Shared = None,
) -> None:
    """Make images the model assigns to a class with p >= --confidence (from noise, or from --image)."""
    from .. import api, checks
    from ..output.text import fmt_p

    res = api.fool(checks.one_model(model_, opts.model_opt), classes, confidence=confidence, steps=steps, method=method,
                   image=image, epsilon=epsilon, labels=labels, size=size, fit=fit, param=param, diversity=diversity, seed=seed,
                   batch_size=batch_size, cols=cols, tiles=tiles, closeness=closeness, **opts.library())
    if image is not None and method != "visualize":
        _adversarial_lines(res, epsilon, confidence, opts.out, tiles)
        return
    if tiles:
        typer.echo(f"wrote {len(res.images)} tiles to {tiles}")
    written(*saved(opts.out, res))
    for c, name, p, ok, s in zip(res.classes, res.names, res.probabilities, res.reached, res.steps):
        typer.echo(f"{name} (#{c}): p {fmt_p(p)} after {s} steps" + ("" if ok or method == "visualize" else "  NOT reached"))
    if res.partial:
        fail(f"interrupted: wrote the {len(res.classes)} pictures that finished as {res.stem}.png (marked partial)",
             EXIT_INTERRUPTED)
    if method == "fool" and not res.reached.all():
        typer.echo(f"not every class reached p>={confidence} in {res.extra['max_steps']} steps; try more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)


def _adversarial_lines(res, epsilon: float, confidence: float, out: Path, tiles: Optional[Path]) -> None:
    from ..output.text import fmt_p

    if tiles:
        typer.echo(f"wrote {Path(tiles) / (res.tiles()[0][0] + '.png')}")
    written(*saved(out, res))
    name = res.target_name
    if res.already:
        typer.echo(f"the image is already {name!r} (p {fmt_p(res.probability)} >= {confidence:g}); nothing to do")
    elif res.reached:
        typer.echo(f"the model now says {name!r} with p {fmt_p(res.probability)}; change L-inf {res.linf:.1f}, L2 {res.l2:.1f} (pixel units)")
    else:
        typer.echo(f"not reached: epsilon {epsilon:g} is not enough for p>={confidence}; best p({name}) {fmt_p(res.probability)} "
                   f"(L-inf {res.linf:.1f}). Try a larger --epsilon or more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)
