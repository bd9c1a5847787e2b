"""`cnnviz edges` and `cnnviz kernels`: classic edge kernels and what a first layer learned."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import OutOpt, OverwriteOpt, UnsafeOpt, WeightsOpt, _fail, _load, _model_stem, _stem, _written, app, command


@app.command()
@command
def edges(
    image: Optional[Path] = typer.Argument(None, help="Image (default: the bundled cat photo)."),
    kernel: str = typer.Option("sobel", "--kernel", "-k", help="sobel, prewitt, scharr, laplacian, blur, sharpen, emboss, outline, or a kernel FILE."),
    per_channel: bool = typer.Option(False, "--per-channel", help="Filter each colour channel instead of the grey image."),
    gallery_: bool = typer.Option(False, "--gallery", help="Apply every classic kernel side by side."),
    border: str = typer.Option("reflect101", "--border", help="reflect101 (OpenCV's default), symmetric, replicate or zero."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
) -> None:
    """Edge kernels (Sobel-style V and H) applied by a Keras Conv2D: input, V, H, magnitude, orientation."""
    from ..edges import BORDERS, edge_filter, gallery, resolve_kernel
    from ..output.files import plan_output, save_result
    from ..image_files import bundled_cat, read_image
    from ..kernels_classic import gallery_kernels
    from ..output.render import edges_panel, gallery_grid

    if border not in BORDERS:
        _fail(f"unknown --border {border!r}; use one of: {', '.join(BORDERS)}")
    source = image or bundled_cat()
    if not gallery_:
        resolve_kernel(kernel)  # validate before reading/writing anything
    pixels = read_image(source)
    istem = Path(source).stem
    if gallery_:
        paths = plan_output(out, _stem("gallery", istem), overwrite)
        kernels = gallery_kernels()
        responses = gallery(pixels, border)
        save_result(paths, gallery_grid(pixels, responses, kernels), {
            "command": "edges", "mode": "gallery", "input": str(source), "border": border,
            "kernels": {k: v.tolist() for k, v in kernels.items()}})
        _written(paths.png, paths.manifest)
        return
    kstem = Path(kernel).stem if Path(kernel).suffix else kernel
    paths = plan_output(out, _stem("edges", istem, kstem, "rgb" if per_channel else ""), overwrite)
    res = edge_filter(pixels, kernel, per_channel=per_channel, border=border)
    save_result(paths, edges_panel(pixels, res), {
        "command": "edges", "input": str(source), "kernel": kernel, "per_channel": per_channel, "border": border,
        "v_kernel": res.v_kernel.tolist(), "h_kernel": None if res.h_kernel is None else res.h_kernel.tolist()})
    _written(paths.png, paths.manifest)


@app.command()
@command
def kernels(
    model: str = typer.Argument("lenet", help="Model name or file."),
    layer: str = typer.Option("first-conv", "--layer", "-l", help="Conv layer (default: the first)."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Learned kernels of a conv layer, each with the classic kernel it most resembles."""
    from ..output.files import plan_output, save_result
    from ..kernels import learned_kernels
    from ..output.render import kernels_grid

    loaded = _load(model, include_top=False, weights=weights, preprocess=None, unsafe=unsafe)
    res = learned_kernels(loaded, layer)
    paths = plan_output(out, _stem("kernels", _model_stem(model), res.layer.replace("/", "-")), overwrite)
    save_result(paths, kernels_grid(res.weights, res.matches), {
        "command": "kernels", **loaded.describe(), "layer": res.layer, "shape": list(res.weights.shape), "tiles": res.records()})
    counts: dict[str, int] = {}
    for name, _ in res.matches:
        family = name.split()[0]
        counts[family] = counts.get(family, 0) + 1
    typer.echo(f"{res.layer}: {res.weights.shape[-1]} kernels; nearest classic kernels: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
    _written(paths.png, paths.manifest)
