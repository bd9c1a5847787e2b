"""Build (or resume) an atlas: one dataset pass for every unfinished layer, then per layer the filter
visualisations, pictures and pages, each layer's state written atomically as it finishes.

A layer is finished when ``<root>/<layer>/layer.json`` holds the current settings key; a re-run with the
same settings skips it, a Ctrl-C keeps it. The dataset pass's results are kept in ``<root>/.state/`` so an
interrupted visualisation phase does not repeat the pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ... import checks
from ...version import __version__
from ...errors import CnnvizError
from ...output.files import atomic_write, encode_png
from . import site
from .pictures import example_thumb, shows_crop, weights_image
from .records import FilterRecord, records_from_scan

Progress = Callable[[str, int, int], None]  # (phase: "data" | "filters", done, total)


@dataclass
class AtlasSettings:
    """What the pages depend on (the resume key): the same settings give the same site."""

    model: str
    data: str | None = None
    filters_per_layer: int = 32
    top_k: int = 8
    seed: int = 0
    steps: int | None = None
    size: int | None = None
    weights: str | None = None
    preprocess: str | None = None
    diversity: int = 3  # extra pictures per filter on its page (0: none)

    def key(self, described: dict, count: int) -> str:
        blob = json.dumps([vars(self), described, count, __version__], sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]

    def model_args(self) -> str:
        extra = [f"--weights {shlex.quote(self.weights)}"] if self.weights else []
        extra += [f"--preprocess {self.preprocess}"] if self.preprocess else []
        return " ".join(extra)


@dataclass
class AtlasResult:
    root: Path
    index: Path
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """In a notebook: a link to the site and what was built (the site itself is a folder of pages)."""
        from html import escape

        done = f"built {', '.join(self.built)}" if self.built else "nothing new to build"
        skipped = f"; kept {', '.join(self.skipped)} (already built)" if self.skipped else ""
        return (f'<p>atlas: <a href="{escape(str(self.index))}" target="_blank">{escape(str(self.index))}</a> '
                f"({escape(done + skipped)})</p>")


def atlas_root(out: str | Path, model: str) -> Path:
    stem = Path(model).stem if str(model).endswith((".keras", ".h5", ".hdf5")) else str(model).lower()
    return Path(out) / f"atlas-{site.slug(stem)}"


def check_root(root: Path, overwrite: bool, create: bool = True) -> None:
    """Refuse to write into a folder that is not an atlas (unless ``overwrite``); create it (after the data
    pass, so that a failed pass leaves no empty folder). No TensorFlow."""
    if root.exists() and not root.is_dir():
        raise CnnvizError(f"{str(root)!r} exists and is not a folder; choose another --out")
    if root.is_dir() and any(root.iterdir()) and not (root / "atlas.json").exists() and not overwrite:
        raise CnnvizError(f"{str(root)!r} exists and is not a cnnviz atlas; pass --overwrite or choose another --out")
    parent = next((q for q in (root, *root.parents) if q.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CnnvizError(f"cannot write into {str(parent)!r}; choose another --out")
    if not create:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CnnvizError(f"cannot create {str(root)!r}: {exc.strerror or exc}") from None


def _json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def select_layers(loaded, spec: str) -> list[tuple]:
    """``all-conv`` (every 2-D conv layer) or comma-separated names, each checked to be a conv layer."""
    from ..filters import check_conv_layer
    from ...models import conv_layers

    if spec.strip() == "all-conv":
        paths = [p for p in conv_layers(loaded.model) if len(p[-1].output.shape) == 4 and "Transpose" not in type(p[-1]).__name__]
        if not paths:
            raise CnnvizError(f"{loaded.name} has no 2-D convolutional layer; the atlas shows conv filters")
        return paths
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise CnnvizError("--layers is empty; give names such as conv1,conv2 or all-conv")
    if not conv_layers(loaded.model):
        raise CnnvizError(f"{loaded.name} has no convolutional layer; the atlas shows conv filters")
    return [check_conv_layer(loaded, n) for n in names]


def build_atlas(loaded, root: str | Path, layers: str, settings: AtlasSettings, *, command: str = "",
                overwrite: bool = False, batch_size: int = 32, progress: Progress | None = None,
                echo: Callable[[str], None] = lambda s: None) -> AtlasResult:
    """Write (or complete) the atlas site in ``root``; returns what was built and skipped."""

    from ..filters import visualize_filters
    from ...models import feature_model, layer_name
    from ...models.receptive_field import receptive_field
    from ...models.summary import layer_rows
    from .data import open_data
    from .topk import scan_layers

    root = Path(root)
    if settings.top_k < 1 or settings.filters_per_layer < 1:
        raise CnnvizError("--top-k and --filters-per-layer must be at least 1")
    checks.atlas_diversity(settings.diversity)
    paths = select_layers(loaded, layers)
    names = [layer_name(p) for p in paths]
    hw = loaded.image_size(settings.size)
    fields = {n: receptive_field(loaded.model, p, hw) for p, n in zip(paths, names)}  # refused before any work
    source = open_data(settings.data, hw[0], hw[1], loaded.channels, model_name=loaded.name)
    key = settings.key(loaded.describe(), source.count)
    check_root(root, overwrite, create=False)
    meta = _read(root / "atlas.json")
    if meta and meta.get("key") != key and not overwrite:
        raise CnnvizError(f"{str(root)!r} holds an atlas built with other settings; pass --overwrite to rebuild it "
                          f"or choose another --out")
    result = AtlasResult(root, root / "index.html", notes=source.notes)

    def state_path(name: str) -> Path:
        return root / site.slug(name) / "layer.json"

    # finished layers are skipped (resume); --overwrite recomputes everything
    done = set() if overwrite else {n for n in names if (_read(state_path(n)) or {}).get("key") == key}
    todo = [p for p, n in zip(paths, names) if n not in done]
    result.skipped = [n for n in names if n in done]
    shown = {n: min(settings.filters_per_layer, int(p[-1].output.shape[-1])) for p, n in zip(paths, names)}

    # the dataset pass: one forward pass per batch for every layer still to do that has no saved scan
    scans: dict[str, list[FilterRecord]] = {}
    need = []
    for p in todo:
        n = layer_name(p)
        saved = _read(root / ".state" / f"scan-{site.slug(n)}.json")
        if saved and saved.get("key") == key and not overwrite:
            scans[n] = [FilterRecord.from_json(r) for r in saved["records"]]
        else:
            need.append(p)
    raw = {}
    if need:
        model = feature_model(loaded.model, need, size=hw)
        report = (lambda d, t: progress("data", d, t)) if progress else None
        raw = scan_layers(model, loaded.preprocess, [layer_name(p) for p in need], source, settings.top_k, batch_size, report)
    check_root(root, overwrite)  # created only now: a failed pass leaves no empty folder
    _json(root / "atlas.json", {"key": key, "settings": vars(settings), "layers": names})
    if need:
        for p in need:
            n = layer_name(p)
            recs = records_from_scan(n, raw[n], fields[n], hw, list(range(shown[n])))
            _json(root / ".state" / f"scan-{site.slug(n)}.json", {"key": key, "records": [r.to_json() for r in recs]})
            scans[n] = recs
    result.notes = list(source.notes)

    rows = layer_rows(loaded.model)[0]
    by_name = {r.name: r for r in rows}
    info = {"model": loaded.name, "layers": names, "command": command or f"cnnviz atlas {settings.model}",
            "data": source.name, "count": source.count, "untrained": loaded.untrained,
            "settings": {"top-k": settings.top_k, "filters per layer": settings.filters_per_layer, "seed": settings.seed,
                         "diversity pictures per filter": settings.diversity,
                         "input size": f"{hw[0]}x{hw[1]}", "weights": loaded.weights, "preprocess": loaded.preprocess,
                         "cnnviz": __version__}}
    site.write_css(root)

    total = sum(shown[layer_name(p)] for p in todo)
    finished = 0
    for p in todo:
        n = layer_name(p)
        count = shown[n]

        def tick(d: int, t: int, base: int = finished, count: int = count) -> None:
            if progress:
                progress("filters", base + int(count * d / max(t, 1)), total)

        vis = visualize_filters(loaded, n, list(range(count)), size=settings.size, steps=settings.steps,
                                seed=settings.seed, progress=tick)
        div = None
        if settings.diversity:  # K more pictures per filter, pushed apart; part of the same resumable step
            div = visualize_filters(loaded, n, list(range(count)), size=settings.size, steps=settings.steps,
                                    seed=settings.seed, diversity=settings.diversity)
            if div.partial:
                raise KeyboardInterrupt
        field_ = fields[n]
        recs = scans[n]
        wanted = sorted({e.image for r in recs for e in r.examples})
        kernel, first = _kernel(loaded, p), _is_first_conv(loaded, p)
        _write_pictures(root / site.slug(n) / "img", recs, vis.images, dict(zip(wanted, source.images(wanted))), kernel, first,
                        div.images if div is not None else None, settings.diversity)
        row = by_name.get(n)
        weights_note = None
        if kernel is not None and weights_image(kernel[..., 0], first) is not None:
            weights_note = (f"{kernel.shape[0]}x{kernel.shape[1]} kernel on {kernel.shape[2]} input channel{'s' if kernel.shape[2] > 1 else ''}"
                            + (" (as a colour image, 0 = grey)" if first and kernel.shape[2] == 3 else
                               "; blue negative, white 0, red positive, one scale per filter"))
        state = {"key": key, "model": loaded.name, "layer": n, "kind": type(p[-1]).__name__,
                 "shape": list(row.output_shape if row else ()), "params": row.params if row else 0,
                 "filters": vis_count(p), "field": {"size": list(field_.size), "jump": list(field_.jump)},
                 "crop": shows_crop(field_.size, hw), "data": source.name, "count": source.count,
                 "labels": {str(i): str(source.file(i)) for i in wanted if source.file(i) is not None},
                 "weights": weights_note, "records": [r.to_json() for r in recs], "vis": vis.records(),
                 "diversity": settings.diversity, "untrained": loaded.untrained,
                 "commands": _commands(loaded, settings, n, hw)}
        for k in range(len(recs)):
            site.write_filter(root, state, k)
        _json(state_path(n), state)  # the layer is finished once this lands
        finished += count
        result.built.append(n)
        echo(f"finished {n}")
        _write_pages(root, info, rows, names, state_path, key)
    _write_pages(root, info, rows, names, state_path, key, filter_pages=True)
    return result


def _kernel(loaded, path):
    """The layer's kernel (kh, kw, in, filters) as numpy, channels in RGB order; None for depthwise/separable."""
    import numpy as np

    kernel = getattr(path[-1], "kernel", None)
    if kernel is None or len(kernel.shape) != 4 or kernel.shape[-1] != vis_count(path):
        return None
    kernel = np.asarray(kernel.numpy())
    if loaded.preprocess == "caffe" and kernel.shape[2] == 3:
        kernel = kernel[:, :, ::-1]  # caffe models take BGR: show the first layer's kernels in RGB
    return kernel


def _write_pictures(folder: Path, recs: list[FilterRecord], images, pixels: dict, kernel, first: bool,
                    diverse=None, k_div: int = 0) -> None:
    """Per filter: its visualisation, its example thumbnails, (when readable) its weights and (with
    ``diverse``, ``k_div`` consecutive pictures per filter) its diversity pictures ``div<f>_<j>.png``, as PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, rec in enumerate(recs):
        f = rec.index
        atomic_write(folder / f"vis{f}.png", encode_png(images[k]))
        for j in range(k_div if diverse is not None else 0):
            atomic_write(folder / f"div{f}_{j}.png", encode_png(diverse[k * k_div + j]))
        for r, ex in enumerate(rec.examples):
            atomic_write(folder / f"ex{f}_{r}.png", encode_png(example_thumb(pixels[ex.image], ex.box)))
        w = weights_image(kernel[..., f], first) if kernel is not None else None
        if w is not None:
            atomic_write(folder / f"w{f}.png", encode_png(w))


def _commands(loaded, settings: AtlasSettings, layer: str, hw: tuple[int, int]) -> dict[str, str]:
    """The commands that reproduce a filter's visualisation (append ``--filters i``) and an example's
    activation maps (replace ``{IMAGE}``)."""
    model, extra = shlex.quote(settings.model), settings.model_args()
    vis = [f"cnnviz filters {model} --layer {shlex.quote(layer)} --seed {settings.seed}",
           f"--size {settings.size}" if settings.size else "", f"--steps {settings.steps}" if settings.steps else "", extra]
    maps = [f"cnnviz activations {{IMAGE}} --model {model} --layer {shlex.quote(layer)}",
            f"--size {hw[0]}" if not all(loaded.input_shape[:2]) else "", extra]
    return {"filters": " ".join(x for x in vis if x), "activations": " ".join(x for x in maps if x)}


def vis_count(path) -> int:
    return int(path[-1].output.shape[-1])


def _is_first_conv(loaded, path) -> bool:
    from ...models import conv_layers

    convs = conv_layers(loaded.model)
    return bool(convs) and convs[0][-1] is path[-1]


def _write_pages(root: Path, info: dict, rows, names: list[str], state_path, key: str, filter_pages: bool = False) -> None:
    """Layer pages and the overview (with ``filter_pages`` the filter pages too) from the finished layers'
    states, linking only to what exists."""
    states = {n: s for n in names if (s := _read(state_path(n))) is not None and s.get("key") == key}
    order = [n for n in names if n in states]
    for k, n in enumerate(order):
        for j in range(len(states[n]["records"]) if filter_pages else 0):
            site.write_filter(root, states[n], j)
        site.write_layer(root, states[n], order[k - 1] if k > 0 else None, order[k + 1] if k + 1 < len(order) else None)
    site.write_overview(root, info, [{"name": r.name, "kind": r.kind, "shape": list(r.output_shape), "params": r.params,
                                      "conv": r.is_conv} for r in rows], states)
