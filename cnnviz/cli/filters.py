"""`cnnviz filters`: the pattern each filter of a conv layer responds to."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import InputOpt, InputValuesOpt, OutOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt, WeightsOpt, _fail, _load, _model_stem, _stem, _written, app, command, progress_bar


@app.command()
@command
def filters(
    model: str = typer.Argument(..., help="Model name (vgg16, lenet, ...) or .keras/.h5 file."),
    layer: str = typer.Option(..., "--layer", "-l", help="Conv layer: name, nested name or alias (conv5_1)."),
    filters_: Optional[str] = typer.Option(None, "--filters", help="Filters to render: 0-63 or 3,7,12 (default: all)."),
    top: Optional[int] = typer.Option(None, "--top", help="Keep the N strongest live filters of those scanned."),
    scan: Optional[int] = typer.Option(None, "--scan", help="How many filters to scan for --top (default 2x top)."),
    size: Optional[int] = typer.Option(None, "--size", help="Image size (default 128 for ImageNet models, the model's own when fixed)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Gradient steps (default: 30 smooth, 20 classic)."),
    method: str = typer.Option("smooth", "--method", help="smooth (default, regularised) or classic (the Keras-blog recipe)."),
    seed: int = SeedOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", help="Also write each image alone as DIR/filter_<index>.png."),
    cols: Optional[int] = typer.Option(None, "--cols", help="Grid columns."),
    batch_size: int = typer.Option(16, "--batch-size", help="Filters optimised at once."),
    precision: str = typer.Option("auto", "--precision", help="Gradient steps in float32 or bfloat16 (auto: bf16 where the CPU has it natively)."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    input_name: Optional[str] = InputOpt,
    input_values: Optional[Path] = InputValuesOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Render the pattern each filter of a conv layer responds to (gradient ascent on the input)."""
    if steps is not None and steps < 1:
        _fail("--steps must be at least 1")
    if batch_size < 1:
        _fail("--batch-size must be at least 1")
    from ..engine import resolve_precision
    from ..filters import check_conv_layer, visualize_filters
    from ..output.files import plan_output, plan_tiles, save_result, save_tiles
    from ..models import layer_name
    from ..output.render import filters_grid
    from ..selection import parse_indices

    resolve_precision(precision)
    loaded = _load(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe, input_name=input_name, input_values=input_values)
    path = check_conv_layer(loaded, layer)
    count = int(path[-1].filters)
    chosen = parse_indices(filters_, count) if filters_ else None
    loaded.image_size(size)  # validate before any work
    name = layer_name(path)
    paths = plan_output(out, _stem("filters", _model_stem(model), name.replace("/", "-"), method), overwrite)
    if tiles:  # check before the work: every filter that could be written (all scanned ones with --top)
        plan_tiles(tiles, [f"filter_{i}" for i in (chosen or range(count if top is None else (scan or count)))], overwrite)
    with progress_bar(f"filters of {name}") as update:
        result = visualize_filters(loaded, layer, chosen, top=top, scan=scan, size=size, steps=steps, seed=seed,
                                   method=method, batch_size=batch_size, precision=precision, progress=update)
    tile_paths = [tiles / f"filter_{i}.png" for i in result.indices] if tiles else []  # checked above
    image = filters_grid(result.indices, result.images, result.activations, result.alive, cols)
    record = {"command": "filters", **loaded.describe(), "layer": name, "method": method, "precision": result.precision,
              "size": list(result.size),
              "steps": result.steps, "seed": seed, "seconds": round(result.seconds, 2),
              "measured": result.measured, "alive": int(result.alive.sum()), "count": len(result.indices), "scanned": result.scanned, "tiles": result.records()}
    save_result(paths, image, record)
    if tiles:
        save_tiles(tile_paths, list(result.images))
    typer.echo(f"{int(result.alive.sum())} of {len(result.indices)} filters alive; {result.seconds / len(result.indices):.2f} s per filter")
    _written(paths.png, paths.manifest)
    if tiles:
        typer.echo(f"wrote {len(tile_paths)} tiles to {tiles}")
