"""`cnnviz activations` and `cnnviz cam`: feature maps and class heatmaps for an image."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..methods.attribution.registry import METHODS as _REGISTRY
from .app import FitOpt, LabelsOpt, SeedOpt, Shared, app, command, saved, shared, written

InputsArg = typer.Argument(None, metavar="MODEL|IMAGE", show_default=False,
                           help="Model (default lenet; or --model) and image (default: a sample digit for lenet, else the "
                                "bundled cat), in either order.")
SizeOpt = typer.Option(None, "--size", metavar="INTEGER", help="Input size for models that take any size (default: the model's own or 224).")


@app.command()
@command
@shared("out", "overwrite", "weights", "preprocess", "input_name", "input_values", "unsafe", "model_opt")
def activations(
    inputs: Optional[List[str]] = InputsArg,
    layers_: Optional[List[str]] = typer.Option(None, "--layer", "-l", metavar="LAYER", help="Layer(s) to show; repeat for several."),
    all_conv: bool = typer.Option(False, "--all-conv", metavar="", help="Every conv layer."),
    max_: Optional[int] = typer.Option(None, "--max", metavar="INTEGER", help="Show only the N strongest channels (with --sort)."),
    sort: str = typer.Option("index", "--sort", metavar="TEXT", help="index, mean or max."),
    scale: str = typer.Option("layer", "--scale", metavar="TEXT", help="layer: one colour scale per layer; channel: each channel its own."),
    size: Optional[int] = SizeOpt,
    fit: Optional[str] = FitOpt,
    opts: Shared = None,
) -> None:
    """Feature maps of every channel of the given layers for one image (one forward pass)."""
    from .. import api, checks

    model, image = checks.model_and_image(inputs, opts.model_opt)
    results = api.activations(model, image, list(layers_ or []), all_conv=all_conv, max=max_, sort=sort, scale=scale,
                              size=size, fit=fit, **opts.library())
    for r in results:
        written(*saved(opts.out, r))


_METHOD_NAMES = ", ".join(_REGISTRY)


@app.command()
@command
@shared("out", "overwrite", "weights", "preprocess", "input_name", "input_values", "output", "unsafe", "model_opt")
def cam(
    inputs: Optional[List[str]] = typer.Argument(None, metavar="MODEL|IMAGE...", show_default=False,
                                                 help="Model (default lenet; or --model) and input images, folders or quoted globs "
                                                      "(default: a sample digit for lenet, else the bundled cat), in any order."),
    class_: Optional[str] = typer.Option(None, "--class", "-c", metavar="TEXT", help="Class index or name (default: the predicted class); a sigmoid "
                                         "head: the unit (one unit: 0 = evidence against, 1 = for)."),
    target_: Optional[str] = typer.Option(None, "--target", metavar="TEXT", help="For a regression output: value (explain its increase) or -value "
                                          "(its decrease); value:K for unit K (default: value)."),
    layer: Optional[str] = typer.Option(None, "--layer", "-l", metavar="TEXT", help="Conv layer for the layer-based methods (default: where the last "
                                        "conv's signal is read, after its BatchNorm/ReLU; nested: base/conv)."),
    methods: Optional[List[str]] = typer.Option(None, "--method", metavar="METHOD", help=f"Attribution method; repeat to compare several side by side. One of: {_METHOD_NAMES} (default gradcam)."),
    noise_samples: Optional[int] = typer.Option(None, "--noise-samples", metavar="INTEGER", help="Average every gradient method over N noisy copies (SmoothGrad-style; smoothgrad itself: 25)."),
    noise_level: float = typer.Option(0.15, "--noise-level", metavar="NUMBER", help="Noise sigma as a fraction of the input's value range."),
    baseline: str = typer.Option("black", "--baseline", metavar="TEXT", help="Baseline for integrated-gradients and occlusion: black, blur, noise, or an image file of the input size."),
    steps: Optional[int] = typer.Option(None, "--steps", metavar="INTEGER", help="Integrated-gradients steps (default 64: completeness error < 1% on lenet)."),
    faithfulness_steps: int = typer.Option(32, "--faithfulness-steps", metavar="INTEGER", help="Points on the deletion/insertion curves (0: skip the scores)."),
    heatmaps: bool = typer.Option(False, "--heatmaps", metavar="", help="Also write each raw heatmap as float32 .npy at input resolution."),
    clip: Optional[float] = typer.Option(None, "--clip", metavar="PERCENT", help="Percent of each map's heat mass drawn saturated (Captum's outlier_perc; default 2 for pixel-gradient maps, 0 for the rest). The .npy stays unclipped."),
    score_cam_channels: int = typer.Option(128, "--score-cam-channels", metavar="INTEGER", help="Score-CAM: mask with the N channels of largest spatial variance (Faster Score-CAM); 0: every channel."),
    rise_masks: int = typer.Option(1000, "--rise-masks", metavar="INTEGER", help="RISE: number of random masks."),
    sanity: bool = typer.Option(False, "--sanity", metavar="", help="Also run the model-randomisation check (Adebayo 2018): re-initialise layers top down, report how much each map changes, flag maps that ignore the weights."),
    sanity_stages: int = typer.Option(4, "--sanity-stages", metavar="INTEGER", help="Cumulative randomisation stages of --sanity (after the top layer alone)."),
    labels: Optional[Path] = LabelsOpt,
    size: Optional[int] = SizeOpt,
    fit: Optional[str] = FitOpt,
    seed: int = SeedOpt,
    opts: Shared = None,
) -> None:
    """Class heatmaps: one panel per image, methods side by side, each scored by deletion/insertion."""
    from .. import api, checks

    model, images = checks.model_and_images(inputs, opts.model_opt)
    results = api.cam(model, images or None, target=_target(class_, target_), method=list(methods or ["gradcam"]), layer=layer,
                      noise_samples=noise_samples, noise_level=noise_level, baseline=baseline, steps=steps,
                      faithfulness_steps=faithfulness_steps, heatmaps=heatmaps, clip=clip, score_cam_channels=score_cam_channels,
                      rise_masks=rise_masks, sanity=sanity, sanity_stages=sanity_stages, labels=labels, size=size, fit=fit, seed=seed,
                      **opts.library())
    for r in results if isinstance(results, list) else [results]:
        for line in r.lines():
            typer.echo(line)
        written(*saved(opts.out, r), *[Path(opts.out) / n for n in r.extra_files()])


def _target(class_: Optional[str], target: Optional[str]) -> Optional[str]:
    """``--class`` (a class or sigmoid unit) or ``--target`` (a regression's value): the one ``target``."""
    if class_ is not None and target is not None:
        from ..errors import CnnvizError

        raise CnnvizError("give --class (a class or sigmoid unit) or --target (a regression's value), not both")
    return class_ if class_ is not None else target
