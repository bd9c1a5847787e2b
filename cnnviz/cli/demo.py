"""`cnnviz demo`: the main job on the bundled LeNet, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import OutOpt, OverwriteOpt, SeedOpt, app, command


@app.command()
@command
def demo(
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    seed: int = SeedOpt,
) -> None:
    """The main job on the bundled LeNet, offline: every kind of grid, then OUT/index.html."""
    from ..api.common import progress_bar
    from ..demo import plan_demo, run_demo

    plan_demo(out, overwrite)
    with progress_bar(True, "cnnviz demo (LeNet)") as update:
        index = run_demo(out, overwrite=overwrite, seed=seed, progress=update, echo=lambda s: None)
    typer.echo(f"wrote {index}  (open it in a browser)")
