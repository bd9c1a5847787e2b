"""`cnnviz atlas`: a browsable static site of every filter with its visualisation and dataset examples."""

from __future__ import annotations

import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from .. import checks
from .app import OutOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt, WeightsOpt, _fail, _load, _note, app, command


@contextmanager
def _two_bars():
    """A rich progress display with one bar (and ETA) per phase: the dataset pass, then the filters."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        tasks: dict[str, int] = {}
        labels = {"data": "dataset pass (images)", "filters": "visualisation (filters)"}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


@app.command()
@command
def atlas(
    model: str = typer.Argument(..., help="Model name (lenet, vgg16, ...) or .keras/.h5 file."),
    data: Optional[Path] = typer.Option(None, "--data", help="Folder of png/jpg images, .npz with x, or folder of MNIST IDX files (default: bundled digits for 1-channel models, crops of the bundled photo else)."),
    layers: str = typer.Option("all-conv", "--layers", help="Conv layers: L1,L2 or all-conv."),
    filters_per_layer: int = typer.Option(32, "--filters-per-layer", help="Show the first N filters of each layer."),
    top_k: int = typer.Option(8, "--top-k", help="Dataset examples kept per filter."),
    size: Optional[int] = typer.Option(None, "--size", help="Input size for models that take any size (data: the model's default; visualisations: 128)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Gradient steps per visualisation (default as `cnnviz filters`)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Images per forward pass of the dataset pass."),
    diversity: int = typer.Option(3, "--diversity", help="Extra pictures per filter on its page, pushed apart (lucid's diversity); 0 for none."),
    seed: int = SeedOpt,
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Write OUT/atlas-MODEL/index.html: every layer, each conv filter's visualisation and top dataset examples.
    Resumable: re-running the same command skips finished layers; Ctrl-C keeps them."""
    for value, flag in ((top_k, "--top-k"), (filters_per_layer, "--filters-per-layer"), (batch_size, "--batch-size")):
        if value < 1:
            _fail(f"{flag} must be at least 1")
    if steps is not None and steps < 1:
        _fail("--steps must be at least 1")
    checks.atlas_diversity(diversity)
    if not [n for n in layers.split(",") if n.strip()]:
        _fail("--layers is empty; give names such as conv1,conv2 or all-conv")
    from ..methods.atlas.build import AtlasSettings, atlas_root, build_atlas, check_root
    from ..methods.atlas.data import check_data_path

    if data is not None:
        check_data_path(data)
    root = atlas_root(out, model)
    check_root(root, overwrite, create=False)
    loaded = _load(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe)
    settings = AtlasSettings(model, str(data) if data else None, filters_per_layer, top_k, seed, steps, size, weights, preprocess,
                             diversity)
    finished: list[str] = []
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["atlas"] else f"atlas {shlex.quote(model)}"
    try:
        with _two_bars() as update:
            result = build_atlas(loaded, root, layers, settings, command=f"cnnviz {argv}", overwrite=overwrite,
                                 batch_size=batch_size, progress=update, echo=finished.append)
    except KeyboardInterrupt:
        kept = f"kept {len(finished)} finished layer(s) in {root}" if finished else "no layer had finished"
        _fail(f"interrupted; {kept}; run the same command again to resume", 130)
    for n in result.notes:
        _note(n)
    if result.skipped:
        typer.echo(f"skipped {len(result.skipped)} finished layer(s): {', '.join(result.skipped)}")
    typer.echo(f"wrote {result.index}  (open it in a browser)")
