"""`cnnviz layers` and `cnnviz train`: look at a model, reproduce the bundled one."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import ModelArg, ModelOpt, OverwriteOpt, SeedOpt, UnsafeOpt, _fail, _note, _saved, _written, app, command


@app.command()
@command
def layers(
    model_: Optional[str] = ModelArg,
    include_top: bool = typer.Option(True, "--top/--no-top", help="Include the classifier head (applications)."),
    weights: Optional[str] = typer.Option("none", "--weights", help="Weights for applications (default: none; the table needs no download)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the table as PNG + JSON manifest into this folder."),
    overwrite: bool = OverwriteOpt,
    unsafe: bool = UnsafeOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Table of layers: name, type, output shape, parameters; conv layers marked (also as PNG + JSON)."""
    from rich.console import Console
    from rich.table import Table

    from .. import api, checks
    from ..results.layers import COLUMNS

    model = checks.one_model(model_, model_opt)
    res = api.layers(model, top=include_top, weights=weights, unsafe=unsafe, out=out, overwrite=overwrite, note=_note)
    table = Table(title=res.heading())
    for col, just in zip(COLUMNS, ("left", "left", "left", "right", "left")):
        table.add_column(col, justify=just)
    for row in res.cells():
        table.add_row(*row)
    Console(width=120).print(table)
    typer.echo(res.totals())
    if out is not None:
        _written(*_saved(out, res))


# --------------------------------------------------------------------- train


@app.command()
@command
def train(
    which: str = typer.Argument("lenet", help="What to train (lenet)."),
    data: str = typer.Option("mnist", "--data", help="'mnist' (download), an .npz with x/y, or a folder of IDX files."),
    epochs: int = typer.Option(20, "--epochs", help="Training epochs."),
    out: Path = typer.Option(Path("outputs/lenet.keras"), "--out", "-o", help="Where to save the model (.keras)."),
    seed: int = SeedOpt,
    overwrite: bool = OverwriteOpt,
    snapshots: Optional[Path] = typer.Option(None, "--snapshots", help="Folder for filter pictures of conv1 and conv2 before and while training (PNG per snapshot, JSON manifest, GIF)."),
    snapshot_every: int = typer.Option(1, "--snapshot-every", help="With --snapshots: a snapshot every N epochs."),
) -> None:
    """Train the tutorial LeNet (reproduces the bundled model) and report held-out accuracy."""
    if which != "lenet":
        _fail(f"cannot train {which!r}; cnnviz trains: lenet")
    if epochs < 1:
        _fail("--epochs must be at least 1")
    if snapshot_every < 1 or (snapshot_every != 1 and snapshots is None):
        _fail("--snapshot-every must be at least 1" if snapshot_every < 1 else "--snapshot-every needs --snapshots DIR")
    from ..inputs.datasets import check_dataset_spec
    from ..methods.training import check_model_path

    check_model_path(out, overwrite)
    check_dataset_spec(data)  # before TensorFlow starts

    from ..inputs.datasets import load_dataset
    from ..methods.training import save_model_atomic, train_lenet

    watch = []
    if snapshots is not None:
        from ..callbacks import filter_series

        watch = filter_series(["conv1", "conv2"], snapshots, snapshot_every, overwrite=overwrite, preprocess="unit", at_start=True,
                              about={"command": "train lenet", "data": data, "epochs": epochs, "seed": seed})
    split = load_dataset(data)
    typer.echo(f"data: {split.source}: {len(split.x_train)} train, {len(split.x_test)} held out")
    from ..api.common import progress_bar

    with progress_bar(True, "training LeNet (epochs)") as update:
        result = train_lenet(split, epochs=epochs, seed=seed, progress=lambda e, n, logs: update(e, n), callbacks=watch)
    path = save_model_atomic(result.model, out, overwrite=overwrite)
    typer.echo(f"held-out accuracy: {result.test_accuracy:.4f} ({result.n_test} images); train accuracy: {result.train_accuracy:.4f}")
    _written(path)
    for series in watch:
        _written(series.manifest_path)
