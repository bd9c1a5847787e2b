"""`cnnviz activations` and `cnnviz cam`: feature maps and class heatmaps for an image."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import OutOpt, OverwriteOpt, PreprocessOpt, SeedOpt, UnsafeOpt, WeightsOpt, _fail, _load, _model_stem, _note, _stem, _written, app, command


def _input_image(image: Optional[Path], loaded, size: Optional[int]):
    from ..image_files import load_for_model
    from ..models.lenet import sample_digits

    h, w = loaded.image_size(size)
    if image is None and loaded.name == "lenet":
        x, _ = sample_digits()
        return x[0], "sample digit 0", "digit0", []
    pixels, notes = load_for_model(image, h, w, loaded.channels)
    return pixels, str(image) if image else "bundled cat", Path(image).stem if image else "chelsea", notes


@app.command()
@command
def activations(
    image: Optional[Path] = typer.Argument(None, help="Input image (default: a sample digit for lenet, else the bundled cat)."),
    model: str = typer.Option("lenet", "--model", "-m"),
    layers_: Optional[List[str]] = typer.Option(None, "--layer", "-l", help="Layer(s) to show; repeat for several."),
    all_conv: bool = typer.Option(False, "--all-conv", help="Every conv layer."),
    max_: Optional[int] = typer.Option(None, "--max", help="Show only the N strongest channels (with --sort)."),
    sort: str = typer.Option("index", "--sort", help="index, mean or max."),
    scale: str = typer.Option("layer", "--scale", help="layer: one colour scale per layer; channel: each channel its own."),
    size: Optional[int] = typer.Option(None, "--size"),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Feature maps of every channel of the given layers for one image (one forward pass)."""
    from ..activations import activation_maps, channel_order, check_order, resolve_spatial
    from ..output.files import plan_output, save_result
    from ..models import layer_name
    from ..output.render import activations_panel

    if scale not in ("layer", "channel"):
        _fail(f"unknown --scale {scale!r}; use layer or channel")
    check_order(sort, max_)
    loaded = _load(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe)
    pixels, source, istem, notes = _input_image(image, loaded, size)
    for n in notes:
        _note(n)
    paths_ = resolve_spatial(loaded, layers_, all_conv)
    plans = {layer_name(p): plan_output(out, _stem("activations", _model_stem(model), istem, layer_name(p).replace("/", "-")), overwrite) for p in paths_}
    maps = activation_maps(loaded, pixels, [layer_name(p) for p in paths_])
    for name, m in maps.items():
        order = channel_order(m, sort, max_)
        flat = m.reshape(-1, m.shape[-1])
        record = {"command": "activations", **loaded.describe(), "input": source, "layer": name, "sort": sort,
                  "scale": scale, "shape": list(m.shape),
                  "channels": [{"channel": int(c), "mean": float(flat[:, c].mean()), "max": float(flat[:, c].max())} for c in order]}
        save_result(plans[name], activations_panel(pixels, name, m, order, scale), record)
        _written(plans[name].png, plans[name].manifest)


@app.command()
@command
def cam(
    image: Optional[Path] = typer.Argument(None, help="Input image (default: a sample digit for lenet, else the bundled cat)."),
    model: str = typer.Option("lenet", "--model", "-m"),
    class_: Optional[str] = typer.Option(None, "--class", "-c", help="Class index or name (default: the predicted class)."),
    layer: Optional[str] = typer.Option(None, "--layer", "-l", help="Conv layer for Grad-CAM (default: the last conv)."),
    method: str = typer.Option("gradcam", "--method", help="gradcam, gradcam++ or smoothgrad."),
    labels: Optional[Path] = typer.Option(None, "--labels"),
    size: Optional[int] = typer.Option(None, "--size"),
    seed: int = SeedOpt,
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Class heatmap over the image: the image, the heatmap and their overlay side by side."""
    from ..cam import METHODS, class_heatmap
    from ..models import Classifier
    from ..output.files import plan_output, save_result
    from ..output.render import cam_panel

    if method not in METHODS:
        _fail(f"unknown --method {method!r}; use one of: {', '.join(METHODS)}")
    loaded = _load(model, include_top=True, weights=weights, preprocess=preprocess, unsafe=unsafe, labels=labels)
    clf = Classifier(loaded)
    if class_ is not None:
        clf.resolve(class_)
    pixels, source, istem, notes = _input_image(image, loaded, size)
    for n in notes:
        _note(n)
    paths = plan_output(out, _stem("cam", _model_stem(model), istem, method.replace("+", "pp"), class_), overwrite)
    res = class_heatmap(loaded, pixels, class_, method=method, layer=layer, seed=seed, classifier=clf)
    save_result(paths, cam_panel(pixels, res.heat, method, res.class_name, res.probability), {
        "command": "cam", **loaded.describe(), "input": source, "method": method, "layer": res.layer,
        "class": res.class_index, "class_name": res.class_name, "probability": res.probability,
        "top5": [vars(p) for p in res.top5]})
    typer.echo(f"{method}: class {res.class_name!r} (#{res.class_index}, p={res.probability:.4f})" + (f" on layer {res.layer}" if res.layer else ""))
    _written(paths.png, paths.manifest)
