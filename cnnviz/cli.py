"""The ``cnnviz`` command line: thin typer commands over the library.

Nothing here imports TensorFlow at module level, so ``cnnviz --help`` and ``--version`` are fast.
Domain errors (:class:`cnnviz.errors.CnnvizError`) become one line on stderr and exit status 1;
a run that finished but missed its target (a fooling image below the confidence) exits 3.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, List, Optional

import typer

from . import __version__
from .errors import CnnvizError

app = typer.Typer(
    name="cnnviz",
    help="See what a Keras CNN has learned: filters, fooling images, activations, heatmaps, edge kernels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_ERROR = 1
EXIT_NOT_REACHED = 3

OutOpt = typer.Option(Path("outputs"), "--out", "-o", help="Output folder.")
OverwriteOpt = typer.Option(False, "--overwrite", help="Replace existing output files.")
WeightsOpt = typer.Option(None, "--weights", help="Weights: a local file, 'imagenet' (download) or 'none' (random init).")
PreprocessOpt = typer.Option(None, "--preprocess", help="Input convention: none|unit|caffe|tf|torch (default: the model's own).")
UnsafeOpt = typer.Option(False, "--unsafe", help="Allow Lambda layers (arbitrary code) in model files you trust.")
SeedOpt = typer.Option(0, "--seed", help="Random seed (same seed, same images).")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cnnviz {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """cnnviz: see inside Keras convolutional networks."""


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def command(fn: Callable) -> Callable:
    """Turn domain errors into one line and an exit status; Ctrl-C leaves no partial file."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CnnvizError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written", 130)
        except PermissionError as exc:
            _fail(f"permission denied: {exc.filename or exc}")

    return wrapper


def _note(text: str) -> None:
    typer.echo(f"note: {text}", err=True)


@contextmanager
def progress_bar(label: str):
    """Yields a ``callback(done, total)`` that drives a rich progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _weights(value: Optional[str]):
    if value is None:
        return "imagenet"
    if value.lower() in ("none", "random"):
        return None
    return value


def _load(spec: str, *, include_top: bool, weights: Optional[str], preprocess: Optional[str], unsafe: bool, labels: Optional[Path] = None):
    from .labels import read_labels_file
    from .models import load_model

    names = read_labels_file(labels) if labels else None
    return load_model(spec, include_top=include_top, weights=_weights(weights), preprocess=preprocess, unsafe=unsafe, labels=names)


def _stem(*parts: object) -> str:
    text = "_".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-")


def _model_stem(spec: str) -> str:
    return Path(spec).stem if spec.endswith((".keras", ".h5", ".hdf5")) else spec.lower()


def _written(*paths: Path) -> None:
    for p in paths:
        typer.echo(f"wrote {p}")


# --------------------------------------------------------------------- layers


@app.command()
@command
def layers(
    model: str = typer.Argument(..., help="Model name (lenet, vgg16, ...) or .keras/.h5 file."),
    include_top: bool = typer.Option(True, "--top/--no-top", help="Include the classifier head (applications)."),
    weights: Optional[str] = typer.Option("none", "--weights", help="Weights for applications (default: none; the table needs no download)."),
    unsafe: bool = UnsafeOpt,
) -> None:
    """Table of layers: name, type, output shape, parameters; conv layers marked."""
    from rich.console import Console
    from rich.table import Table

    from .summary import layer_rows

    loaded = _load(model, include_top=include_top, weights=weights, preprocess=None, unsafe=unsafe)
    rows, total, trainable = layer_rows(loaded.model)
    table = Table(title=f"{loaded.name}  (input {loaded.input_shape}, preprocess {loaded.preprocess})")
    for col, just in (("layer", "left"), ("type", "left"), ("output shape", "left"), ("params", "right"), ("", "left")):
        table.add_column(col, justify=just)
    for r in rows:
        table.add_row(r.name, r.kind, str(r.output_shape), f"{r.params:,}", "conv" if r.is_conv else "")
    Console(width=120).print(table)
    typer.echo(f"total parameters: {total:,}   trainable: {trainable:,}   non-trainable: {total - trainable:,}")


# --------------------------------------------------------------------- train


@app.command()
@command
def train(
    which: str = typer.Argument("lenet", help="What to train (lenet)."),
    data: str = typer.Option("mnist", "--data", help="'mnist' (download), an .npz with x/y, or a folder of IDX files."),
    epochs: int = typer.Option(20, "--epochs"),
    out: Path = typer.Option(Path("outputs/lenet.keras"), "--out", "-o", help="Where to save the model (.keras)."),
    seed: int = SeedOpt,
    overwrite: bool = OverwriteOpt,
) -> None:
    """Train the tutorial LeNet (reproduces the bundled model) and report held-out accuracy."""
    if which != "lenet":
        _fail(f"cannot train {which!r}; cnnviz trains: lenet")
    if epochs < 1:
        _fail("--epochs must be at least 1")
    from .datasets import load_dataset
    from .training import check_model_path, save_model_atomic, train_lenet

    check_model_path(out, overwrite)

    split = load_dataset(data)
    typer.echo(f"data: {split.source}: {len(split.x_train)} train, {len(split.x_test)} held out")
    with progress_bar("training LeNet (epochs)") as update:
        result = train_lenet(split, epochs=epochs, seed=seed, progress=lambda e, n, logs: update(e, n))
    path = save_model_atomic(result.model, out, overwrite=overwrite)
    typer.echo(f"held-out accuracy: {result.test_accuracy:.4f} ({result.n_test} images); train accuracy: {result.train_accuracy:.4f}")
    _written(path)


# --------------------------------------------------------------------- filters


@app.command()
@command
def filters(
    model: str = typer.Argument(..., help="Model name (vgg16, lenet, ...) or .keras/.h5 file."),
    layer: str = typer.Option(..., "--layer", "-l", help="Conv layer: name, nested name or alias (conv5_1)."),
    filters_: Optional[str] = typer.Option(None, "--filters", help="Filters to render: 0-63 or 3,7,12 (default: all)."),
    top: Optional[int] = typer.Option(None, "--top", help="Keep the N strongest live filters of those scanned."),
    scan: Optional[int] = typer.Option(None, "--scan", help="How many filters to scan for --top (default 2x top)."),
    size: Optional[int] = typer.Option(None, "--size", help="Image size (default 128 for ImageNet models, the model's own when fixed)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Gradient steps (default: 30 smooth, 20 classic)."),
    method: str = typer.Option("smooth", "--method", help="smooth (default, regularised) or classic (the Keras-blog recipe)."),
    seed: int = SeedOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", help="Also write each image alone as DIR/filter_<index>.png."),
    cols: Optional[int] = typer.Option(None, "--cols", help="Grid columns."),
    batch_size: int = typer.Option(16, "--batch-size", help="Filters optimised at once."),
    precision: str = typer.Option("auto", "--precision", help="Gradient steps in float32 or bfloat16 (auto: bf16 where the CPU has it natively)."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Render the pattern each filter of a conv layer responds to (gradient ascent on the input)."""
    if steps is not None and steps < 1:
        _fail("--steps must be at least 1")
    if batch_size < 1:
        _fail("--batch-size must be at least 1")
    from .engine import resolve_precision
    from .filters import check_conv_layer, visualize_filters
    from .grid import plan_output, plan_tiles, save_result, save_tiles
    from .models import layer_name
    from .render import filters_grid
    from .selection import parse_indices

    resolve_precision(precision)
    loaded = _load(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe)
    path = check_conv_layer(loaded, layer)
    count = int(path[-1].filters)
    chosen = parse_indices(filters_, count) if filters_ else None
    loaded.image_size(size)  # validate before any work
    name = layer_name(path)
    paths = plan_output(out, _stem("filters", _model_stem(model), name.replace("/", "-"), method), overwrite)
    if tiles:  # check before the work: every filter that could be written (all scanned ones with --top)
        plan_tiles(tiles, [f"filter_{i}" for i in (chosen or range(count if top is None else (scan or count)))], overwrite)
    with progress_bar(f"filters of {name}") as update:
        result = visualize_filters(loaded, layer, chosen, top=top, scan=scan, size=size, steps=steps, seed=seed,
                                   method=method, batch_size=batch_size, precision=precision, progress=update)
    tile_paths = [tiles / f"filter_{i}.png" for i in result.indices] if tiles else []  # checked above
    image = filters_grid(result.indices, result.images, result.activations, result.alive, cols)
    record = {"command": "filters", **loaded.describe(), "layer": name, "method": method, "precision": result.precision,
              "size": list(result.size),
              "steps": result.steps, "seed": seed, "seconds": round(result.seconds, 2),
              "alive": int(result.alive.sum()), "count": len(result.indices), "scanned": result.scanned, "tiles": result.records()}
    save_result(paths, image, record)
    if tiles:
        save_tiles(tile_paths, list(result.images))
    typer.echo(f"{int(result.alive.sum())} of {len(result.indices)} filters alive; {result.seconds / len(result.indices):.2f} s per filter")
    _written(paths.png, paths.manifest)
    if tiles:
        typer.echo(f"wrote {len(tile_paths)} tiles to {tiles}")


# --------------------------------------------------------------------- fool


@app.command()
@command
def fool(
    classes: List[str] = typer.Option(..., "--class", "-c", help="Class index or name; repeat for several (optimised together)."),
    model: str = typer.Option("vgg16", "--model", "-m", help="Classifier: vgg16 (ImageNet head), lenet, or a model file."),
    confidence: float = typer.Option(0.999, "--confidence", help="Stop when the saved image reaches this probability."),
    steps: int = typer.Option(300, "--steps", help="Maximum gradient steps."),
    method: str = typer.Option("fool", "--method", help="fool (noise the model trusts) or visualize (regularised, see the class)."),
    image: Optional[Path] = typer.Option(None, "--image", help="Start from this image: targeted adversarial example."),
    epsilon: float = typer.Option(8.0, "--epsilon", help="L-inf budget for --image, in pixel units (0-255)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Class names, one per line, for models without built-in names."),
    size: Optional[int] = typer.Option(None, "--size", help="Input size for models that take any size."),
    seed: int = SeedOpt,
    tiles: Optional[Path] = typer.Option(None, "--tiles", help="Also write each image alone as DIR/class_<index>.png."),
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    weights: Optional[str] = WeightsOpt,
    preprocess: Optional[str] = PreprocessOpt,
    unsafe: bool = UnsafeOpt,
) -> None:
    """Make images the model assigns to a class with p >= --confidence (from noise, or from --image)."""
    from .fooling import Classifier, adversarial, check_confidence, fool_from_noise
    from .grid import plan_output, plan_tiles, save_result, save_tiles
    from .images import load_for_model
    from .render import adversarial_panel, fool_grid

    check_confidence(confidence)
    if steps < 1:
        _fail("--steps must be at least 1")
    if image is not None and len(classes) != 1:
        _fail("--image takes exactly one --class (the target)")
    loaded = _load(model, include_top=True, weights=weights, preprocess=preprocess, unsafe=unsafe, labels=labels)
    clf = Classifier(loaded)
    targets = [clf.resolve(c) for c in classes]
    mstem = _model_stem(model)
    if image is not None:
        h, w = loaded.image_size(size)
        pixels, notes = load_for_model(image, h, w, loaded.channels)
        for n in notes:
            _note(n)
        paths = plan_output(out, _stem("adversarial", mstem, Path(image).stem, "to", targets[0]), overwrite)
        with progress_bar(f"adversarial -> {clf.name(targets[0])}") as update:
            res = adversarial(loaded, pixels, targets[0], epsilon=epsilon, confidence=confidence, max_steps=steps,
                              progress=update, classifier=clf)
        panel = adversarial_panel(res.original, res.adversarial, res.before, res.after, res.linf, res.l2)
        save_result(paths, panel, {"command": "fool", "mode": "adversarial", **loaded.describe(), "image": str(image),
                                   "confidence": confidence, "seed": seed, **res.record()})
        _written(paths.png, paths.manifest)
        name = clf.name(res.target)
        if res.reached:
            typer.echo(f"the model now says {name!r} with p={res.probability:.5f}; change L-inf {res.linf:.1f}, L2 {res.l2:.1f} (pixel units)")
            return
        typer.echo(f"not reached: epsilon {epsilon:g} is not enough for p>={confidence}; best p({name})={res.probability:.5f} "
                   f"(L-inf {res.linf:.1f}). Try a larger --epsilon or more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)
    paths = plan_output(out, _stem("fool", mstem, method, "-".join(str(t) for t in targets)), overwrite)
    tile_paths = plan_tiles(tiles, [f"class_{c}" for c in targets], overwrite) if tiles else []
    with progress_bar(f"{method}: {len(targets)} class(es)") as update:
        res = fool_from_noise(loaded, targets, confidence=confidence, max_steps=steps, seed=seed, size=size,
                              method=method, progress=update, classifier=clf)
    captions = [f"{clf.name(c)} (#{c}): p={p:.5f}\n" + "\n".join(f"{t.probability:.4f} {t.name}" for t in top[:5])
                for c, p, top in zip(res.classes, res.probabilities, res.top5)]
    save_result(paths, fool_grid(res.images, captions), {
        "command": "fool", "mode": method, **loaded.describe(), "confidence": confidence, "max_steps": steps,
        "seed": seed, "seconds": round(res.seconds, 2), "tiles": res.records()})
    if tiles:
        save_tiles(tile_paths, list(res.images))
        typer.echo(f"wrote {len(tile_paths)} tiles to {tiles}")
    _written(paths.png, paths.manifest)
    for c, p, ok, s in zip(res.classes, res.probabilities, res.reached, res.steps):
        typer.echo(f"{clf.name(c)} (#{c}): p={p:.5f} after {s} steps" + ("" if ok or method == "visualize" else "  NOT reached"))
    if method == "fool" and not res.reached.all():
        typer.echo(f"not every class reached p>={confidence} in {steps} steps; try more --steps", err=True)
        raise typer.Exit(EXIT_NOT_REACHED)


# --------------------------------------------------------------------- activations and cam


def _input_image(image: Optional[Path], loaded, size: Optional[int]):
    from .images import load_for_model
    from .lenet import sample_digits

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
    from .activations import activation_maps, channel_order, check_order, resolve_spatial
    from .grid import plan_output, save_result
    from .models import layer_name
    from .render import activations_panel

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
    from .cam import METHODS, class_heatmap
    from .fooling import Classifier
    from .grid import plan_output, save_result
    from .render import cam_panel

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


# --------------------------------------------------------------------- edges and kernels


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
    from .edges import BORDERS, edge_filter, gallery, resolve_kernel
    from .grid import plan_output, save_result
    from .images import bundled_cat, read_image
    from .kernels_classic import gallery_kernels
    from .render import edges_panel, gallery_grid

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
    from .grid import plan_output, save_result
    from .kernels import learned_kernels
    from .render import kernels_grid

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


# --------------------------------------------------------------------- demo


@app.command()
@command
def demo(
    out: Path = OutOpt,
    overwrite: bool = OverwriteOpt,
    seed: int = SeedOpt,
) -> None:
    """The main job on the bundled LeNet, offline: every kind of grid, then OUT/index.html."""
    from .demo import plan_demo, run_demo

    plan_demo(out, overwrite)
    with progress_bar("cnnviz demo (LeNet)") as update:
        index = run_demo(out, overwrite=overwrite, seed=seed, progress=update, echo=lambda s: None)
    typer.echo(f"wrote {index}  (open it in a browser)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
