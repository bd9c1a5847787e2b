"""`cnnviz demo`: the main job on the bundled LeNet, offline."""

from __future__ import annotations


import typer

from .app import SeedOpt, Shared, app, command, shared


@app.command()
@command
@shared("out", "overwrite")
def demo(
    seed: int = SeedOpt,
    opts: Shared = None,
) -> None:
    """The main job on the bundled LeNet, offline: every kind of grid, then OUT/index.html."""
    from ..api.common import progress_bar
    from ..demo import plan_demo, run_demo

    plan_demo(opts.out, opts.overwrite)
    with progress_bar(True, "cnnviz demo (LeNet)") as update:
        index = run_demo(opts.out, overwrite=opts.overwrite, seed=seed, progress=update, echo=lambda s: None)
    typer.echo(f"wrote {index}  (open it in a browser)")
