"""`cnnviz edges` and `cnnviz kernels`: classic edge kernels and what a first layer learned."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import (ModelArg, ModelOpt, OutOpt, OverwriteOpt, UnsafeOpt, WeightsOpt, _load, _manifest, _model_stem, _note,
                  _stem, _written, app, command)


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
    from .. import checks
    from ..methods.edges import BORDERS, edge_filter, gallery, resolve_kernel
    from ..inputs.images import bundled_cat, read_image
    from ..methods.kernels_classic import gallery_kernels
    from ..output.files import check_folder, plan_output, save_result
    from ..results import GalleryResult

    checks.choice(border, tuple(BORDERS), "--border")
    checks.image_file(image)
    if not gallery_:
        resolve_kernel(kernel)  # validate before reading/writing anything
    check_folder(out)
    source = image or bundled_cat()
    label = str(image) if image else "the bundled cat photo"
    pixels = read_image(source)
    istem = Path(source).stem
    if gallery_:
        paths = plan_output(out, _stem("gallery", istem), overwrite)
        res = GalleryResult(pixels, gallery(pixels, border), gallery_kernels(), border, str(source))
        save_result(paths, res.render(), _manifest("edges", None, **res.record()))
        _written(paths.png, paths.manifest)
        return
    kstem = Path(kernel).stem if Path(kernel).suffix else kernel
    paths = plan_output(out, _stem("edges", istem, kstem, "rgb" if per_channel else ""), overwrite)
    res = edge_filter(pixels, kernel, per_channel=per_channel, border=border)
    if res.dtype != "float64":
        _note(f"this backend/device has no float64 convolution; the responses are {res.dtype}")
    save_result(paths, res.render(pixels, label),
                _manifest("edges", None, input=str(source), per_channel=per_channel, border=border, **res.record()))
    _written(paths.png, paths.manifest)


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
    from .. import checks
    from ..output.files import check_folder

    model = checks.one_model(model_, model_opt)
    checks.model_spec(model)
    check_folder(out)

    from ..methods.kernels import learned_kernels
    from ..output.files import plan_output, save_result

    loaded = _load(model, include_top=False, weights=weights, preprocess=None, unsafe=unsafe)
    res = learned_kernels(loaded, layer)
    paths = plan_output(out, _stem("kernels", _model_stem(model), res.layer.replace("/", "-")), overwrite)
    save_result(paths, res.render(loaded.name), _manifest("kernels", loaded, **res.record()))
    shown = " (tiles and matches use the sum over input channels)" if res.channel_sums else ""
    typer.echo(f"{res.layer}: {res.weights.shape[-1]} kernels{shown}; nearest classic kernels "
               f"(cosine >= {res.record()['match_cosine']:g}): {res.summary()}")
    _written(paths.png, paths.manifest)
