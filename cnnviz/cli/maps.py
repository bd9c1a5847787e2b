"""`cnnviz activations` and `cnnviz cam`: feature maps and class heatmaps for an image."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..methods.attribution.registry import METHODS as _REGISTRY
from .app import (InputOpt, InputValuesOpt, LabelsOpt, ModelOpt, OutOpt, OutputOpt, OverwriteOpt, PreprocessOpt, SeedOpt,
                  UnsafeOpt, WeightsOpt, _note, _saved, _weights, _written, app, command)

InputsArg = typer.Argument(None, metavar="MODEL|IMAGE", show_default=False,
                           help="Model (default lenet; or --model) and image (default: a sample digit for lenet, else the "
                                "bundled cat), in either order.")
SizeOpt = typer.Option(None, "--size", help="Input size for models that take any size (default: the model's own or 224).")


@app.command()
@command
def activations(
    inputs: Optional[List[str]] = InputsArg,
    layers_: Optional[List[str]] = typer.Option(None, "--layer", "-l", metavar="LAYER", help="Layer(s) to show; repeat for several."),
    all_conv: bool = typer.Option(False, "--all-conv", help="Every conv layer."),
    max_: Optional[int] = typer.Option(None, "--max", help="Show only the N strongest channels (with --sort)."),
    sort: str = typer.Option("index", "--sort", help="index, mean or max."),
    scale: str = typer.Option("layer", "--scale", help="layer: one colour scale per layer; channel: each channel its own."),
    size: Optional[int] = SizeOpt,
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    input_name: Optional[str] = InputOpt,
    input_values: Optional[Path] = InputValuesOpt,
    unsafe: bool = UnsafeOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Feature maps of every channel of the given layers for one image (one forward pass)."""
    from .. import api, checks

    model, image = checks.model_and_image(inputs, model_opt)
    results = api.activations(model, image, list(layers_ or []), all_conv=all_conv, max=max_, sort=sort, scale=scale,
                              size=size, out=out, overwrite=overwrite, weights=_weights(weights), preprocess=preprocess,
                              input=input_name, input_values=input_values, unsafe=unsafe, note=_note)
    for r in results:
        _written(*_saved(out, r))


_METHOD_NAMES = ", ".join(_REGISTRY)


@app.command()
@command
def cam(
    inputs: Optional[List[str]] = typer.Argument(None, metavar="MODEL|IMAGE...", show_default=False,
                                                 help="Model (default lenet; or --model) and input images, folders or quoted globs "
                                                      "(default: a sample digit for lenet, else the bundled cat), in any order."),
    class_: Optional[str] = typer.Option(None, "--class", "-c", help="Class index or name (default: the predicted class)."),
    layer: Optional[str] = typer.Option(None, "--layer", "-l", help="Conv layer for the layer-based methods (default: the last conv; nested: base/conv)."),
    methods: Optional[List[str]] = typer.Option(None, "--method", metavar="METHOD", help=f"Attribution method; repeat to compare several side by side. One of: {_METHOD_NAMES} (default gradcam)."),
    noise_samples: Optional[int] = typer.Option(None, "--noise-samples", help="Average every gradient method over N noisy copies (SmoothGrad-style; smoothgrad itself: 25)."),
    noise_level: float = typer.Option(0.15, "--noise-level", help="Noise sigma as a fraction of the input's value range."),
    baseline: str = typer.Option("black", "--baseline", help="Baseline for integrated-gradients and occlusion: black, blur, noise, or an image file of the input size."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Integrated-gradients steps (default 64: completeness error < 1% on lenet)."),
    faithfulness_steps: int = typer.Option(32, "--faithfulness-steps", help="Points on the deletion/insertion curves (0: skip the scores)."),
    heatmaps: bool = typer.Option(False, "--heatmaps", help="Also write each raw heatmap as float32 .npy at input resolution."),
    labels: Optional[Path] = LabelsOpt,
    size: Optional[int] = SizeOpt,
    seed: int = SeedOpt,
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    input_name: Optional[str] = InputOpt,
    input_values: Optional[Path] = InputValuesOpt,
    output: Optional[str] = OutputOpt,
    unsafe: bool = UnsafeOpt,
    model_opt: Optional[str] = ModelOpt,
) -> None:
    """Class heatmaps: one panel per image, methods side by side, each scored by deletion/insertion."""
    from .. import api, checks

    model, images = checks.model_and_images(inputs, model_opt)
    results = api.cam(model, images or None, target=class_, method=list(methods or ["gradcam"]), layer=layer,
                      noise_samples=noise_samples, noise_level=noise_level, baseline=baseline, steps=steps,
                      faithfulness_steps=faithfulness_steps, heatmaps=heatmaps, labels=labels, size=size, seed=seed, out=out,
                      overwrite=overwrite, weights=_weights(weights), preprocess=preprocess, input=input_name,
                      input_values=input_values, output=output, unsafe=unsafe, note=_note)
    for r in results if isinstance(results, list) else [results]:
        for line in r.lines():
            typer.echo(line)
        _written(*_saved(out, r), *[Path(out) / n for n in (r.npy_names().values() if heatmaps else ())])
