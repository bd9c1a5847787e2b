"""`cnnviz filters`: the pattern each filter of a conv layer responds to."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import (EXIT_INTERRUPTED, InputOpt, InputValuesOpt, BatchSizeOpt, DiversityOpt, ParamOpt, ModelArg, ModelOpt, OutOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt,
                  WeightsOpt, _fail, _load, _manifest, _model_stem, _note, _stem, _written, app, command, progress_bar)


@app.command()
@command
def filters(
    model_: Optional[str] = ModelArg,
    layer: str = typer.Option(..., "--layer", "-l", help="Conv layer: name, nested name or alias (conv5_1)."),
    filters_: Optional[str] = typer.Option(None, "--filters", help="Filters to render: 0-63 or 3,7,12 (default: all, or the first 16 of a bigger layer)."),
    top: Optional[int] = typer.Option(None, "--top", help="Keep the N strongest live filters of those scanned."),
    scan: Optional[int] = typer.Option(None, "--scan", help="How many filters to scan for --top (default 2x top)."),
    size: Optional[int] = typer.Option(None, "--size", help="Image size (default 128 for ImageNet models, the model's own when fixed)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Gradient steps (default: 28 fourier, 30 pixel, 20 classic)."),
    method: str = typer.Option("smooth", "--method", help="smooth (default, regularised) or classic (the Keras-blog recipe)."),
    param: Optional[str] = ParamOpt,
    diversity: int = DiversityOpt,
    seed: int = SeedOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", metavar="DIR", help="Also write each image alone as DIR/filter_<index>.png."),
    cols: Optional[int] = typer.Option(None, "--cols", help="Grid columns (default: near-square)."),
    batch_size: Optional[int] = BatchSizeOpt,
    precision: str = typer.Option("auto", "--precision", help="Gradient steps in float32 or bfloat16 (auto: bf16 where the CPU has it natively)."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    input_name: Optional[str] = InputOpt,
    input_values: Optional[Path] = InputValuesOpt,
    unsafe: bool = UnsafeOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Render the pattern each filter of a conv layer responds to (gradient ascent on the input)."""
    from .. import checks
    from ..output.files import check_folder

    model = checks.one_model(model_, model_opt)
    checks.model_spec(model)
    checks.choice(method, checks.FILTER_METHODS, "--method")
    checks.choice(precision, checks.PRECISIONS, "--precision")
    for value, flag in ((steps, "--steps"), (batch_size, "--batch-size"), (top, "--top"), (scan, "--scan"), (size, "--size"), (cols, "--cols")):
        checks.at_least(value, 1, flag)
    if preprocess is not None:
        checks.choice(preprocess, checks.PREPROCESS_MODES, "--preprocess")
    checks.image_options(param, diversity, method)
    check_folder(out)
    if tiles:
        check_folder(tiles)

    from ..methods.filters import check_conv_layer, filter_count, resolve_param, visualize_filters
    from ..models import layer_name
    from ..output.files import plan_output, plan_tiles, save_result, save_tiles
    from ..selection import parse_indices

    loaded = _load(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe,
                   input_name=input_name, input_values=input_values)
    path = check_conv_layer(loaded, layer)
    count = filter_count(path[-1])  # output channels: right for Conv, depthwise and transposed layers
    name = layer_name(path)
    chosen = parse_indices(filters_, count) if filters_ else None
    if chosen is None and top is None and count > checks.BIG_LAYER:
        chosen = list(range(checks.BIG_LAYER))
        _note(f"{name} has {count} filters; rendering the first {checks.BIG_LAYER} "
              f"(--filters 0-{count - 1} for all, or --top N for the strongest)")
    loaded.image_size(size)  # validate before any work
    resolve_param(method, param)  # checks it; visualize_filters chooses the default for the input size
    stem = _stem("filters", _model_stem(model), name.replace("/", "-"), method,
                 "pixel" if method != "classic" and param == "pixel" else "")
    paths = plan_output(out, stem, overwrite)
    partial_paths = plan_output(out, stem + "_partial", True)
    if tiles:  # check before the work: every filter that could be written (all scanned ones with --top)
        wanted = chosen or range(count if top is None else (scan or min(count, 2 * top)))
        plan_tiles(tiles, [f"filter_{i}" + (f"_{k}" if diversity > 1 else "") for i in wanted for k in range(diversity)], overwrite)
    with progress_bar(f"filters of {name}") as update:
        result = visualize_filters(loaded, layer, chosen, top=top, scan=scan, size=size, steps=steps, seed=seed,
                                   method=method, batch_size=batch_size, precision=precision, progress=update,
                                   note=_note, param=param, diversity=diversity)
    target = partial_paths if result.partial else paths
    save_result(target, result.render(loaded.name, cols), _manifest("filters", loaded, **result.record()))
    if tiles:
        suffix = [f"_{n % diversity}" if diversity > 1 else "" for n in range(len(result.indices))]
        save_tiles([tiles / f"filter_{i}{x}.png" for i, x in zip(result.indices, suffix)], list(result.images))
    per = result.seconds / max(1, len(result.indices))
    line = f"{int(result.alive.sum())} of {len(result.indices)} filters alive; {per:.2f} s per filter on this CPU"
    if len(result.indices) < count and top is None:
        line += f" (all {count} would take about {per * count / 60:.1f} min)"
    typer.echo(line)
    _written(target.png, target.manifest)
    if tiles:
        typer.echo(f"wrote {len(result.indices)} tiles to {tiles}")
    if result.partial:
        _fail(f"interrupted: wrote the {len(result.indices)} filters that finished as {target.png.name} (marked partial)",
              EXIT_INTERRUPTED)
