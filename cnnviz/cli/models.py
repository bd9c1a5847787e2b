"""`cnnviz layers` and `cnnviz train`: look at a model, reproduce the bundled one."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import ModelArg, ModelOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt, _fail, _load, _written, app, command, progress_bar


@app.command()
@command
def layers(
    model_: Optional[str] = ModelArg,
    include_top: bool = typer.Option(True, "--top/--no-top", help="Include the classifier head (applications)."),
    weights: Optional[str] = typer.Option("none", "--weights", help="Weights for applications (default: none; the table needs no download)."),
    unsafe: bool = UnsafeOpt,
    preprocess: Optional[str] = PreprocessOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Table of layers: name, type, output shape, parameters; conv layers marked."""
    from .. import checks

    model = checks.one_model(model_, model_opt)
    checks.model_spec(model)
    from rich.console import Console
    from rich.table import Table

    from ..models.model_io import describe_inputs, describe_outputs
    from ..models.summary import layer_rows

    if preprocess is not None:
        checks.choice(preprocess, checks.PREPROCESS_MODES, "--preprocess")
    loaded = _load(model, include_top=include_top, weights=weights, preprocess=preprocess, unsafe=unsafe)
    rows, total, trainable = layer_rows(loaded.model)
    try:
        outputs = "; outputs " + "; ".join(describe_outputs(loaded.model)) if len(loaded.model.outputs) > 1 else ""
    except (AttributeError, ValueError):
        outputs = ""
    table = Table(title=f"{loaded.name}  (input {describe_inputs(loaded.model)}{outputs}, preprocess {loaded.preprocess})")
    for col, just in (("layer", "left"), ("type", "left"), ("output shape", "left"), ("params", "right"), ("", "left")):
        table.add_column(col, justify=just)
    for r in rows:
        table.add_row(r.name, r.kind, str(r.output_shape), f"{r.params:,}", "conv" if r.is_conv else "")
    Console(width=120).print(table)
    typer.echo(f"total parameters: {total:,}   trainable: {trainable:,}   non-trainable: {total - trainable:,}")
    from ..models.classifier import cat_predictions

    top = cat_predictions(loaded)
    if top is not None:  # the assumed preprocessing at work: a cat should come out as a cat
        random = " (random weights: meaningless)" if loaded.untrained else ""
        typer.echo(f"on the bundled cat, fed as preprocess {loaded.preprocess}{random}: "
                   + ", ".join(f"{p.name} {p.probability:.3f}" for p in top))


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
) -> None:
    """Train the tutorial LeNet (reproduces the bundled model) and report held-out accuracy."""
    if which != "lenet":
        _fail(f"cannot train {which!r}; cnnviz trains: lenet")
    if epochs < 1:
        _fail("--epochs must be at least 1")
    from ..inputs.datasets import check_dataset_spec
    from ..methods.training import check_model_path

    check_model_path(out, overwrite)
    check_dataset_spec(data)  # before TensorFlow starts

    from ..inputs.datasets import load_dataset
    from ..methods.training import save_model_atomic, train_lenet

    split = load_dataset(data)
    typer.echo(f"data: {split.source}: {len(split.x_train)} train, {len(split.x_test)} held out")
    with progress_bar("training LeNet (epochs)") as update:
        result = train_lenet(split, epochs=epochs, seed=seed, progress=lambda e, n, logs: update(e, n))
    path = save_model_atomic(result.model, out, overwrite=overwrite)
    typer.echo(f"held-out accuracy: {result.test_accuracy:.4f} ({result.n_test} images); train accuracy: {result.train_accuracy:.4f}")
    _written(path)
