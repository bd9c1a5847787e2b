"""``cnnviz.atlas``: a browsable static site of every conv filter with its picture and the dataset
images that excite it most (OpenAI Microscope's idea, offline)."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import checks
from ..errors import CnnvizError
from .common import Note, check_folders, check_model, is_spec, load_here, progress_bar, say, scoped

PhaseProgress = Callable[[str, int, int], None]


@contextmanager
def phase_bars(progress: Any) -> Iterator[PhaseProgress | None]:
    """One bar per phase (the dataset pass, then the filters), each as :func:`progress_bar` draws it."""
    if callable(progress) or not progress:
        yield progress or None
        return
    labels = {"data": "dataset pass (images)", "filters": "visualisation (filters)"}
    with ExitStack() as bars_open:
        bars: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in bars:
                bars[phase] = bars_open.enter_context(progress_bar(True, labels.get(phase, phase)))
            bars[phase](done, total)

        yield update


@scoped
def atlas(model: Any, out: str | Path = "outputs", *, data: str | Path | None = None, layers: str = "all-conv",
          filters_per_layer: int = 32, top_k: int = 8, size: int | None = None, steps: int | None = None,
          batch_size: int = 32, diversity: int = 3, seed: int = 0, overwrite: bool = False, weights: Any = "imagenet",
          preprocess: str | None = None, unsafe: bool = False, command: str | None = None, progress: Any = True,
          note: Note | None = say, echo: Callable[[str], None] = lambda s: None):
    """Write ``out/atlas-<model>/index.html``: every conv layer, each filter's picture beside the ``top_k``
    dataset images that excite it most (``data``: a folder of images, an ``.npz`` with ``x``, MNIST IDX
    files; default: bundled digits for 1-channel models, crops of the bundled photo else). Resumable:
    the same call skips finished layers. Returns the :class:`~cnnviz.methods.atlas.build.AtlasResult`."""
    check_model(model)
    for value, flag in ((top_k, "--top-k"), (filters_per_layer, "--filters-per-layer"), (batch_size, "--batch-size")):
        checks.at_least(value, 1, flag)
    checks.at_least(steps, 1, "--steps")
    checks.atlas_diversity(diversity)
    if not [n for n in layers.split(",") if n.strip()]:
        raise CnnvizError("--layers is empty; give names such as conv1,conv2 or all-conv")
    from ..methods.atlas.build import AtlasSettings, atlas_root, build_atlas, check_root
    from ..methods.atlas.data import check_data_path

    if data is not None:
        check_data_path(data)
    check_folders(out)
    name = str(model) if is_spec(model) else getattr(model, "name", "model")
    root = atlas_root(out, name)
    check_root(root, overwrite, create=False)
    loaded = load_here(model, include_top=False, weights=weights, preprocess=preprocess, unsafe=unsafe, note=note)
    settings = AtlasSettings(name, str(data) if data else None, filters_per_layer, top_k, seed, steps, size,
                             None if weights == "imagenet" else str(weights), preprocess, diversity)
    with phase_bars(progress) as update:
        result = build_atlas(loaded, root, layers, settings, command=command or f"cnnviz atlas {name}", overwrite=overwrite,
                             batch_size=batch_size, progress=update, echo=echo)
    for text in result.notes if note else ():
        note(text)
    return result
