"""`cnnviz filters`: the pattern each filter of a conv layer responds to."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import (EXIT_INTERRUPTED, BatchSizeOpt, ClosenessOpt, DiversityOpt, FitOpt, ModelArg, ParamOpt, SeedOpt, Shared, app, command, fail,
                  saved, shared, written)


@app.command()
@command
@shared("out", "overwrite", "weights", "preprocess", "input_name", "input_values", "unsafe", "model_opt")
def filters(
    model_: Optional[str] = ModelArg,
    layer: str = typer.Option(..., "--layer", "-l", metavar="TEXT", help="Conv layer: name, nested name or alias (conv5_1)."),
    filters_: Optional[str] = typer.Option(None, "--filters", metavar="TEXT", help="Filters to render: 0-63 or 3,7,12 (default: all, or the first 16 of a bigger layer)."),
    top: Optional[int] = typer.Option(None, "--top", metavar="INTEGER", help="Keep the N strongest live filters of those scanned."),
    scan: Optional[int] = typer.Option(None, "--scan", metavar="INTEGER", help="How many filters to scan for --top (default 2x top)."),
    size: Optional[int] = typer.Option(None, "--size", metavar="INTEGER", help="Image size (default 128 for ImageNet models, the model's own when fixed)."),
    steps: Optional[int] = typer.Option(None, "--steps", metavar="INTEGER", help="Gradient steps (default: 15 fourier, 30 pixel, 20 classic)."),
    method: str = typer.Option("smooth", "--method", metavar="TEXT", help="smooth (default, regularised) or classic (the Keras-blog recipe)."),
    param: Optional[str] = ParamOpt,
    diversity: int = DiversityOpt,
    seed: int = SeedOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", metavar="DIR", help="Also write each image alone as DIR/filter_<index>.png."),
    cols: Optional[int] = typer.Option(None, "--cols", metavar="INTEGER", help="Grid columns (default: near-square)."),
    batch_size: Optional[int] = BatchSizeOpt,
    precision: str = typer.Option("auto", "--precision", metavar="TEXT", help="Gradient steps in float32 or bfloat16 (auto: bf16 where the CPU has it natively)."),
    image: Optional[Path] = typer.Option(None, "--image", metavar="IMAGE", help="Feature accentuation: start every picture from this photo and keep it close to it."),
    fit: Optional[str] = FitOpt,
    closeness: Optional[float] = ClosenessOpt,
    opts: Shared = None,
) -> None:
    """Render the pattern each filter of a conv layer responds to (gradient ascent on the input)."""
    from .. import api, checks

    result = api.filters(checks.one_model(model_, opts.model_opt), layer, filters_, top=top, scan=scan, size=size, steps=steps,
                         method=method, param=param, diversity=diversity, seed=seed, batch_size=batch_size,
                         precision=precision, cols=cols, tiles=tiles, image=image, fit=fit, closeness=closeness,
                         **opts.library())
    per = result.seconds / max(1, len(result.indices))
    line = f"{result.respond_phrase()}; {per:.2f} s per picture on this CPU"
    if len(set(result.indices)) < result.total_filters and not result.scanned:
        line += f" (all {result.total_filters} would take about {per * result.total_filters * result.diversity / 60:.1f} min)"
    typer.echo(line)
    written(*saved(opts.out, result))
    if tiles:
        typer.echo(f"wrote {len(result.indices)} tiles to {tiles}")
    if result.partial:
        fail(f"interrupted: wrote the {len(result.indices)} filters that finished as {result.stem}.png (marked partial)",
             EXIT_INTERRUPTED)
