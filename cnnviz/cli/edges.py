"""`cnnviz edges` and `cnnviz kernels`: classic edge kernels and what a first layer learned."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import ModelArg, Shared, app, command, saved, shared, written


@app.command()
@command
@shared("out", "overwrite")
def edges(
    image: Optional[Path] = typer.Argument(None, metavar="IMAGE", show_default=False, help="Image (default: the bundled cat photo)."),
    kernel: str = typer.Option("sobel", "--kernel", "-k", metavar="TEXT", help="sobel, prewitt, scharr, laplacian, blur, sharpen, emboss, outline, or a kernel FILE."),
    per_channel: bool = typer.Option(False, "--per-channel", metavar="", help="Filter each colour channel instead of the grey image."),
    gallery_: bool = typer.Option(False, "--gallery", metavar="", help="Apply every classic kernel side by side."),
    border: str = typer.Option("reflect101", "--border", metavar="TEXT", help="reflect101 (OpenCV's default), symmetric, replicate or zero."),
    opts: Shared = None,
) -> None:
    """Edge kernels (Sobel-style V and H) applied by a Keras Conv2D: input, V, H, magnitude, orientation."""
    from .. import api

    result = api.edges(image, kernel=kernel, per_channel=per_channel, gallery=gallery_, border=border, **opts.library())
    written(*saved(opts.out, result))


@app.command()
@command
@shared("out", "overwrite", "weights", "unsafe", "model_opt")
def kernels(
    model_: Optional[str] = ModelArg,
    layer: str = typer.Option("first-conv", "--layer", "-l", metavar="TEXT", help="Conv layer (default: the first)."),
    opts: Shared = None,
) -> None:
    """Learned kernels of a conv layer, each with the classic kernel it most resembles (or none)."""
    from .. import api, checks

    res = api.kernels(checks.one_model(model_, opts.model_opt), layer=layer, **opts.library())
    shown = " (tiles and matches use the sum over input channels)" if res.channel_sums else ""
    typer.echo(f"{res.layer}: {res.weights.shape[-1]} kernels{shown}; nearest classic kernels "
               f"(cosine >= {res.record()['match_cosine']:g}): {res.summary()}")
    written(*saved(opts.out, res))
