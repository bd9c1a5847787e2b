"""`cnnviz atlas`: a browsable static site of every filter with its visualisation and dataset examples."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from .app import SeedOpt, Shared, app, command, fail, shared


@app.command()
@command
@shared("out", "overwrite", "weights", "preprocess", "unsafe")
def atlas(
    model: str = typer.Argument(..., metavar="MODEL", help="Model name (lenet, vgg16, ...) or .keras/.h5 file."),
    data: Optional[Path] = typer.Option(None, "--data", metavar="PATH", help="Folder of png/jpg images, .npz with x, or folder of MNIST IDX files (default: bundled digits for 1-channel models, crops of the bundled photo else)."),
    layers: str = typer.Option("all-conv", "--layers", metavar="TEXT", help="Conv layers: L1,L2 or all-conv."),
    filters_per_layer: int = typer.Option(32, "--filters-per-layer", metavar="INTEGER", help="Show the first N filters of each layer."),
    top_k: int = typer.Option(8, "--top-k", metavar="INTEGER", help="Dataset examples kept per filter."),
    size: Optional[int] = typer.Option(None, "--size", metavar="INTEGER", help="Input size for models that take any size (data: the model's default; visualisations: 128)."),
    steps: Optional[int] = typer.Option(None, "--steps", metavar="INTEGER", help="Gradient steps per visualisation (default as `cnnviz filters`)."),
    batch_size: int = typer.Option(32, "--batch-size", metavar="INTEGER", help="Images per forward pass of the dataset pass."),
    diversity: int = typer.Option(3, "--diversity", metavar="INTEGER", help="Extra pictures per filter on its page, pushed apart (lucid's diversity); 0 for none."),
    seed: int = SeedOpt,
    opts: Shared = None,
) -> None:
    """Write OUT/atlas-MODEL/index.html: every layer, each conv filter's visualisation and top dataset examples.
    Resumable: re-running the same command skips finished layers; Ctrl-C keeps them."""
    from .. import api

    finished: list[str] = []
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["atlas"] else f"atlas {shlex.quote(model)}"
    try:
        result = api.atlas(model, data=data, layers=layers, filters_per_layer=filters_per_layer, top_k=top_k, size=size,
                           steps=steps, batch_size=batch_size, diversity=diversity, seed=seed, command=f"cnnviz {argv}",
                           echo=finished.append, **opts.library())
    except KeyboardInterrupt:
        kept = f"kept {len(finished)} finished layer(s) in {result_root(opts.out, model)}" if finished else "no layer had finished"
        fail(f"interrupted; {kept}; run the same command again to resume", 130)
    if result.skipped:
        typer.echo(f"skipped {len(result.skipped)} finished layer(s): {', '.join(result.skipped)}")
    typer.echo(f"wrote {result.index}  (open it in a browser)")


def result_root(out: Path, model: str) -> Path:
    from ..methods.atlas.build import atlas_root

    return atlas_root(out, model)
