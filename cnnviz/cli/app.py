"""The typer app and what every command shares: options, error handling, progress, loading.

Nothing here imports TensorFlow at module level, so ``cnnviz --help`` and ``--version`` are fast.
Exit status: 0 done; 1 a problem with the request or its files (one ``error:`` line); 2 a usage
error found by the argument parser (unknown option, missing value); 3 the run finished but missed its
target (a fooling image below the confidence); 4 an internal error (a bug: one line, and the
traceback with ``cnnviz --debug``); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from pathlib import Path
from types import SimpleNamespace
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


ModelArg = typer.Argument(None, metavar="MODEL", show_default=False,
                          help="Model: lenet (bundled, the default), a keras.applications name such as vgg16, or a .keras/.h5 file.")
SeedOpt = typer.Option(0, "--seed", metavar="INTEGER", help="Random seed (same seed, same images).")
BatchSizeOpt = typer.Option(None, "--batch-size", metavar="INTEGER",
                            help="Images optimised at once (default: what fits in free GPU memory; 16 on a CPU).")
ParamOpt = typer.Option(None, "--param", metavar="TEXT", help="Image parametrisation: fourier (lucid's; default from 64 px), maco (phase only under a photo's 1/f magnitude) or pixel (default under 64 px).")
DiversityOpt = typer.Option(1, "--diversity", metavar="INTEGER", help="Pictures per filter/class, pushed apart (lucid's diversity); 1 for one.")
FitOpt = typer.Option(None, "--fit", metavar="crop|pad|squash|keep",
                      help="How a photo meets the model's input: crop (short side resized, centre cropped; default at a fixed "
                           "input size), pad (letterboxed in black), squash (stretched), keep (aspect kept; default for models of any size).")
ClosenessOpt = typer.Option(None, "--closeness", metavar="NUMBER",
                            help="Feature accentuation (--image): how strongly each picture is pulled back towards the photo "
                                 "(default 1: at an RMS change of 20 grey levels the pull equals the objective; 0: none).")
LabelsOpt = typer.Option(None, "--labels", metavar="PATH", help="Class names: 'imagenet' (for any 1000-output model) or a file with one name per line.")

#: Options that several commands share, declared once: Python name -> (type, option, the public function's
#: keyword). A command lists the ones it takes with :func:`shared` and reads them as ``opts.<name>``.
SHARED: dict[str, tuple[object, object, str]] = {
    "out": (Path, typer.Option(Path("outputs"), "--out", "-o", metavar="PATH", help="Output folder."), "out"),
    "overwrite": (bool, typer.Option(False, "--overwrite", metavar="", help="Replace existing output files."), "overwrite"),
    "weights": (Optional[str], typer.Option(None, "--weights", metavar="TEXT", help="Weights: a local file, 'imagenet' (download) or 'none' (random init)."), "weights"),
    "preprocess": (Optional[str], typer.Option(None, "--preprocess", metavar="TEXT", help="Input convention: none|unit|caffe|tf|torch|bgr (bgr: raw 0-255 BGR, no mean; default: the model's own)."), "preprocess"),
    "input_name": (Optional[str], typer.Option(None, "--input", metavar="TEXT", help="For models with several inputs: the image input's name or index (default: the only 4-D one)."), "input"),
    "input_values": (Optional[Path], typer.Option(None, "--input-values", metavar="PATH", help="An .npz of values (keyed by input name) for the model's other inputs (default: zeros)."), "input_values"),
    "output": (Optional[str], typer.Option(None, "--output", metavar="TEXT", help="For models with several outputs: the class output's layer name or index (default: the only classifier-like one)."), "output"),
    "unsafe": (bool, typer.Option(False, "--unsafe", metavar="", help="Allow Lambda layers (arbitrary code) in model files you trust."), "unsafe"),
    "model_opt": (Optional[str], typer.Option(None, "--model", "-m", metavar="MODEL", help="The same as MODEL: either form works."), "model"),
}


class Shared(SimpleNamespace):
    """The shared options a command was given (``opts.out``, ``opts.weights``...)."""

    def library(self) -> dict:
        """Them as the public function's keyword arguments (``--weights`` absent: ImageNet's, for names),
        with the CLI's ``note:`` lines; ``--model`` is resolved by the command itself."""
        kwargs = {SHARED[name][2]: value for name, value in vars(self).items() if name != "model_opt"}
        if "weights" in kwargs:
            kwargs["weights"] = "imagenet" if kwargs["weights"] is None else kwargs["weights"]
        return {**kwargs, "note": note}


def shared(*names: str) -> Callable:
    """Give a command the shared options ``names`` (after its own), passed to it as one ``opts``."""

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn, eval_str=True)
        own = [p for name, p in sig.parameters.items() if name != "opts"]
        extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=SHARED[n][1], annotation=SHARED[n][0])
                 for n in names]

        @functools.wraps(fn)
        def wrapper(**kwargs):
            return fn(**{k: v for k, v in kwargs.items() if k not in names}, opts=Shared(**{n: kwargs[n] for n in names}))

        wrapper.__signature__ = sig.replace(parameters=own + extra)
        wrapper.__annotations__ = {p.name: p.annotation for p in own + extra}
        return wrapper

    return decorate


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        from ..backends.select import check, configured_from

        given = _given_backend(ctx)
        name, where = (check(given), "--backend") if given else configured_from()
        typer.echo(f"cnnviz {__version__} (Keras backend: {name}, from {where})")
        raise typer.Exit()


def _given_backend(ctx: typer.Context) -> Optional[str]:
    """``--backend`` as given on this command line, whichever of it and ``--version`` comes first."""
    args = list(ctx.params.get("backend") and ["--backend", ctx.params["backend"]] or sys.argv[1:])
    for i, a in enumerate(args):
        if a == "--backend" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--backend="):
            return a.split("=", 1)[1]
    return None


def _backend(value: Optional[str]) -> Optional[str]:
    from ..backends.select import select

    try:
        select(value)  # before any command imports Keras: an unknown or missing backend is one line
    except CnnvizError as exc:
        fail(str(exc))
    return value


@app.callback()
def main_options(
    backend: Optional[str] = typer.Option(
        None, "--backend", metavar="tensorflow|jax|torch", callback=_backend, is_eager=True,
        help="Keras backend (default: KERAS_BACKEND, else ~/.keras/keras.json, else tensorflow)."),
    version: bool = typer.Option(False, "--version", metavar="", callback=_version, is_eager=True, help="Show the version and exit."),
    debug: bool = typer.Option(False, "--debug", metavar="", help="On an internal error, print the full traceback."),
) -> None:
    """cnnviz: see inside Keras convolutional networks."""
    _STATE["debug"] = debug or _STATE["debug"]


def fail(message: str, code: int = EXIT_ERROR) -> None:
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
            note(f"keras: {line}" if "keras" in str(w.filename) else line)
    caught.clear()


def _guarded(fn: Callable, *args, **kwargs):
    """The body of :func:`command`: domain errors, Ctrl-C and bugs become one line and an exit code."""
    try:
        return fn(*args, **kwargs)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except CnnvizError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; nothing was written", EXIT_INTERRUPTED)
    except PermissionError as exc:
        fail(f"permission denied: {exc.filename or exc}")
    except MemoryError:
        fail("out of memory; try a smaller --size or --batch-size")
    except Exception as exc:  # a bug: one line, the traceback on request
        if _STATE["debug"]:
            import traceback

            traceback.print_exc(file=sys.stderr)
        from ..errors import first_line

        fail(f"internal error ({type(exc).__name__}: {first_line(exc, 160)}); "
              f"run `cnnviz --debug ...` for the traceback and report it", EXIT_INTERNAL)


def note(text: str) -> None:
    typer.echo(f"note: {text}", err=True)


def written(*paths: Path) -> None:
    for p in paths:
        typer.echo(f"wrote {p}")


def saved(out: Path, result) -> tuple[Path, Path]:
    """The two files ``result.save(out)`` wrote."""
    return Path(out) / f"{result.stem}.png", Path(out) / f"{result.stem}.json"


