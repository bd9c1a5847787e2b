"""`cnnviz edges` and `cnnviz kernels`: classic edge kernels and what a first layer learned."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import ModelArg, ModelOpt, OutOpt, OverwriteOpt, UnsafeOpt, WeightsOpt, _note, _saved, _weights, _written, app, command


@app.command()
@command
def edges(
    image: Optional[Path] = typer.Argument(None, metavar="IMAGE", show_default=False, help="Image (default: the bundled cat photo)."),
    kernel: str = typer.Option("sobel", "--kernel", "-k", help="sobel, prewitt, scharr, laplacian, blur, sharpen, emboss, outline, or a kernel FILE."),
    per_channel: bool = typer.Option(False, "--per-channel", help="Filter each colour channel instead of the grey image."),
    gallery_: bool = typer.Option(False, "--gallery", help="Apply every classic kernel side by side."),
    border: str = typer.Option("reflect101", "--border", help="reflect101 (OpenCV's default), symmetric, replicate or zero."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
) -> None:
    """Edge kernels (Sobel-style V and H) applied by a Keras Conv2D: input, V, H, magnitude, orientation."""
    from .. import api

    result = api.edges(image, kernel=kernel, per_channel=per_channel, gallery=gallery_, border=border, out=out,
                       overwrite=overwrite, note=_note)
    _written(*_saved(out, result))


@app.command()
@command
def kernels(
    model_: Optional[str] = ModelArg,
    layer: str = typer.Option("first-conv", "--layer", "-l", help="Conv layer (default: the first)."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    unsafe: bool = UnsafeOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Learned kernels of a conv layer, each with the classic kernel it most resembles (or none)."""
    from .. import api, checks

    model = checks.one_model(model_, model_opt)
    res = api.kernels(model, layer=layer, weights=_weights(weights), unsafe=unsafe, out=out, overwrite=overwrite, note=_note)
    shown = " (tiles and matches use the sum over input channels)" if res.channel_sums else ""
    typer.echo(f"{res.layer}: {res.weights.shape[-1]} kernels{shown}; nearest classic kernels "
               f"(cosine >= {res.record()['match_cosine']:g}): {res.summary()}")
    _written(*_saved(out, res))
