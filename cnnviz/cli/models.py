"""`cnnviz layers` and `cnnviz train`: look at a model, reproduce the bundled one."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import ModelArg, SeedOpt, Shared, app, command, fail, saved, shared, written


@app.command()
@command
@shared("overwrite", "preprocess", "unsafe", "model_opt")
def layers(
    model_: Optional[str] = ModelArg,
    include_top: bool = typer.Option(True, "--top/--no-top", metavar="", help="Include the classifier head (applications)."),
    weights: Optional[str] = typer.Option("none", "--weights", metavar="TEXT", help="Weights for applications (default: none; the table needs no download)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="PATH", help="Also write the table as PNG + JSON manifest into this folder."),
    opts: Shared = None,
) -> None:
    """Table of layers: name, type, output shape, parameters; conv layers marked (also as PNG + JSON)."""
    from rich.console import Console
    from rich.table import Table

    from .. import api, checks
    from ..results.layers import COLUMNS

    res = api.layers(checks.one_model(model_, opts.model_opt), top=include_top, weights=weights, out=out, **opts.library())
    table = Table(title=res.heading())
    for col, just in zip(COLUMNS, ("left", "left", "left", "right", "left")):
        table.add_column(col, justify=just)
    for row in res.cells():
        table.add_row(*row)
    Console(width=120).print(table)
    typer.echo(res.totals())
    if res.cat:
        typer.echo(res.cat_line())
    if out is not None:
        written(*saved(out, res))


# --------------------------------------------------------------------- train


@app.command()
@command
@shared("overwrite")
def train(
    which: str = typer.Argument("lenet", metavar="WHAT", help="What to train (lenet)."),
    data: str = typer.Option("mnist", "--data", metavar="TEXT", help="'mnist' (download), an .npz with x/y, or a folder of IDX files."),
    epochs: int = typer.Option(20, "--epochs", metavar="INTEGER", help="Training epochs."),
    out: Path = typer.Option(Path("outputs/lenet.keras"), "--out", "-o", metavar="PATH", help="Where to save the model (.keras)."),
    seed: int = SeedOpt,
    snapshots: Optional[Path] = typer.Option(None, "--snapshots", metavar="PATH", help="Folder for filter pictures of conv1 and conv2 before and while training (PNG per snapshot, JSON manifest, GIF)."),
    snapshot_every: int = typer.Option(1, "--snapshot-every", metavar="INTEGER", help="With --snapshots: a snapshot every N epochs."),
    opts: Shared = None,
) -> None:
    """Train the tutorial LeNet (reproduces the bundled model) and report held-out accuracy."""
    if which != "lenet":
        fail(f"cannot train {which!r}; cnnviz trains: lenet")
    if epochs < 1:
        fail("--epochs must be at least 1")
    if snapshot_every < 1 or (snapshot_every != 1 and snapshots is None):
        fail("--snapshot-every must be at least 1" if snapshot_every < 1 else "--snapshot-every needs --snapshots DIR")
    from ..inputs.datasets import check_dataset_spec
    from ..methods.training import check_model_path

    check_model_path(out, opts.overwrite)
    check_dataset_spec(data)  # before TensorFlow starts

    from ..inputs.datasets import load_dataset
    from ..methods.training import save_model_atomic, train_lenet

    watch = []
    if snapshots is not None:
        from ..callbacks import filter_series

        watch = filter_series(["conv1", "conv2"], snapshots, snapshot_every, overwrite=opts.overwrite, preprocess="unit", at_start=True,
                              about={"command": "train lenet", "data": data, "epochs": epochs, "seed": seed})
    split = load_dataset(data)
    typer.echo(f"data: {split.source}: {len(split.x_train)} train, {len(split.x_test)} held out")
    from ..api.common import progress_bar

    with progress_bar(True, "training LeNet (epochs)") as update:
        result = train_lenet(split, epochs=epochs, seed=seed, progress=lambda e, n, logs: update(e, n), callbacks=watch)
    path = save_model_atomic(result.model, out, overwrite=opts.overwrite)
    from ..output.files import write_manifest

    manifest = write_manifest(Path(out).with_suffix(".json"), {
        "command": "train", "model": "lenet", "data": split.source, "epochs": epochs, "seed": seed,
        "n_train": result.n_train, "n_test": result.n_test, "test_accuracy": result.test_accuracy,
        "train_accuracy": result.train_accuracy, "file": Path(out).name, "snapshots": str(snapshots) if snapshots else None})
    typer.echo(f"held-out accuracy: {result.test_accuracy:.4f} ({result.n_test} images); train accuracy: {result.train_accuracy:.4f}")
    written(path, manifest)
    for series in watch:
        written(series.manifest_path)
