"""``cnnviz demo``: the main job on the bundled LeNet, offline, and an index.html that shows it all."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import CnnvizError
from .output.files import OutputPaths, _atomic_write, plan_output, save_result

#: (stem, what it shows) for every grid the demo writes, in page order.
DEMO_ITEMS = (
    ("demo_filters_conv1", "Filters of conv1 (6 filters, 3x3): the input pattern each filter responds to most."),
    ("demo_filters_conv2", "Filters of conv2 (16 filters, 5x5 on conv1's maps): oriented strokes and gratings."),
    ("demo_fool_digits", "Fooling images: noise that LeNet calls each digit with p >= 0.999 (checked on the saved pixels)."),
    ("demo_visualize_digits", "Class visualisation: the same objective with the filters' regularisers shows digit-like shapes."),
    ("demo_adversarial", "Adversarial example: a real digit nudged within an L-inf budget until LeNet changes its mind."),
    ("demo_activations_conv1", "Activation maps of conv1 for a sample digit (one colour scale for the layer)."),
    ("demo_activations_conv2", "Activation maps of conv2 for the same digit."),
    ("demo_gradcam", "Grad-CAM on conv2 for sample digits: where the evidence for the predicted digit lies."),
    ("demo_edges", "Sobel V and H kernels run by a Keras Conv2D on the bundled cat photo."),
    ("demo_gallery", "The classic 3x3 image kernels side by side, each with its weights."),
    ("demo_kernels", "LeNet's learned conv1 kernels, each with the classic kernel it most resembles."),
)


def plan_demo(out: str | Path, overwrite: bool = False) -> dict[str, OutputPaths]:
    """Check, before any work, that every demo file (and index.html) can be written."""
    out = Path(out)
    plans = {stem: plan_output(out, stem, overwrite) for stem, _ in DEMO_ITEMS}
    index_path = out / "index.html"
    if index_path.exists() and not overwrite:
        raise CnnvizError(f"{str(index_path)!r} already exists; pass --overwrite to replace it or --out DIR")
    atlas = out / "atlas-lenet"
    if atlas.exists() and not overwrite:
        raise CnnvizError(f"{str(atlas)!r} already exists; pass --overwrite to replace it or --out DIR")
    return plans


def run_demo(out: str | Path, *, overwrite: bool = False, seed: int = 0,
             progress: Callable[[int, int], None] | None = None, echo: Callable[[str], None] = print) -> Path:
    """Write every demo grid (PNG + JSON) and ``index.html`` into ``out``; returns the index path."""
    from .activations import activation_maps, channel_order
    from .cam import class_heatmap
    from .edges import edge_filter, gallery
    from .filters import visualize_filters
    from .models import Classifier
    from .fooling import adversarial, fool_from_noise
    from .image_files import bundled_cat, read_image, resize
    from .kernels import learned_kernels
    from .kernels_classic import gallery_kernels
    from .models.lenet import sample_digits
    from .models import load_model
    from .output.render import activations_panel, adversarial_panel, cam_panel, edges_panel, filters_grid, fool_grid, gallery_grid, kernels_grid

    plans = plan_demo(out, overwrite)
    index_path = Path(out) / "index.html"
    total = len(DEMO_ITEMS) + 1  # the grids, then the atlas
    done = 0

    def tick(stem: str) -> None:
        nonlocal done
        done += 1
        echo(f"wrote {plans[stem].png}")
        if progress:
            progress(done, total)

    loaded = load_model("lenet")
    clf = Classifier(loaded)
    digits, labels = sample_digits()
    base = {**loaded.describe(), "seed": seed}

    for layer in ("conv1", "conv2"):
        r = visualize_filters(loaded, layer, seed=seed)
        stem = f"demo_filters_{layer}"
        save_result(plans[stem], filters_grid(r.indices, r.images, r.activations, r.alive),
                    {"command": "filters", **base, "layer": layer, "method": r.method, "steps": r.steps,
                     "alive": int(r.alive.sum()), "count": len(r.indices), "tiles": r.records()})
        tick(stem)

    for method, stem in (("fool", "demo_fool_digits"), ("visualize", "demo_visualize_digits")):
        r = fool_from_noise(loaded, list(range(10)), seed=seed, method=method,
                            max_steps=300 if method == "fool" else 60, classifier=clf)
        captions = [f"{c}: p={p:.5f}" for c, p in zip(r.classes, r.probabilities)]
        save_result(plans[stem], fool_grid(r.images, captions, cols=5),
                    {"command": "fool", **base, "mode": method, "confidence": r.confidence, "tiles": r.records()})
        tick(stem)

    source, target = int(np.where(labels == 3)[0][0]), 8
    a = adversarial(loaded, digits[source], target, epsilon=64, classifier=clf)
    save_result(plans["demo_adversarial"], adversarial_panel(a.original, a.adversarial, a.before, a.after, a.linf, a.l2),
                {"command": "fool", **base, "mode": "adversarial", **a.record()})
    tick("demo_adversarial")

    maps = activation_maps(loaded, digits[0], ["conv1", "conv2"])
    for name, m in maps.items():
        stem = f"demo_activations_{name}"
        order = channel_order(m)
        flat = m.reshape(-1, m.shape[-1])
        save_result(plans[stem], activations_panel(digits[0], name, m, order),
                    {"command": "activations", **base, "layer": name, "input": "sample digit 0",
                     "channels": [{"channel": c, "mean": float(flat[:, c].mean()), "max": float(flat[:, c].max())} for c in order]})
        tick(stem)

    picks = [int(np.where(labels == d)[0][0]) for d in (0, 2, 4, 7)]
    panels, records = [], []
    for i in picks:
        h = class_heatmap(loaded, digits[i], classifier=clf)
        panels.append(cam_panel(digits[i], h.heat, "gradcam", h.class_name, h.probability))
        records.append({"sample": i, "class": h.class_index, "probability": h.probability, "layer": h.layer})
    stacked = np.concatenate([np.pad(p, ((0, 0), (0, max(q.shape[1] for q in panels) - p.shape[1]), (0, 0)), constant_values=255) for p in panels])
    save_result(plans["demo_gradcam"], stacked, {"command": "cam", **base, "method": "gradcam", "tiles": records})
    tick("demo_gradcam")

    cat = read_image(bundled_cat())
    cat = resize(cat, 225, 338)
    res = edge_filter(cat, "sobel")
    save_result(plans["demo_edges"], edges_panel(cat, res), {"command": "edges", "input": "bundled cat (resized to 338x225)", "kernel": "sobel"})
    tick("demo_edges")
    kernels = gallery_kernels()
    save_result(plans["demo_gallery"], gallery_grid(cat, gallery(cat), kernels),
                {"command": "edges", "mode": "gallery", "kernels": {k: v.tolist() for k, v in kernels.items()}})
    tick("demo_gallery")

    k = learned_kernels(loaded)
    save_result(plans["demo_kernels"], kernels_grid(k.weights, k.matches), {"command": "kernels", **base, "layer": k.layer, "tiles": k.records()})
    tick("demo_kernels")

    from .atlas import AtlasSettings, build_atlas

    atlas = build_atlas(loaded, Path(out) / "atlas-lenet", "all-conv", AtlasSettings("lenet", seed=seed),
                        command=f"cnnviz atlas lenet --seed {seed}", overwrite=overwrite)
    echo(f"wrote {atlas.index}")
    done += 1
    if progress:
        progress(done, total)

    write_index(index_path, [(plans[stem], caption) for stem, caption in DEMO_ITEMS],
                links=[("atlas-lenet/index.html", "LeNet atlas",
                        "Every filter of conv1 and conv2 with its visualisation, the bundled digits that excite it most "
                        "(with the receptive field of the strongest unit), its activation histogram and its weights "
                        "(`cnnviz atlas lenet`).")])
    return index_path


def write_index(path: Path, items: list[tuple[OutputPaths, str]], links: list[tuple[str, str, str]] = ()) -> Path:
    """A static page: every grid with its caption and settings (read from its manifest), then ``links``
    (href, title, caption) to the demo's sub-sites."""
    sections = []
    for paths, caption in items:
        if not paths.png.exists():
            continue
        settings = {}
        if paths.manifest.exists():
            data = json.loads(paths.manifest.read_text())
            settings = {k: v for k, v in data.items() if k not in ("tiles", "channels", "kernels", "image") and not isinstance(v, (list, dict))}
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in settings.items())
        sections.append(
            f'<section><h2>{html.escape(paths.png.stem)}</h2><p>{html.escape(caption)}</p>'
            f'<a href="{html.escape(paths.png.name)}"><img src="{html.escape(paths.png.name)}" alt="{html.escape(caption)}"></a>'
            f'<details><summary>settings</summary><table>{rows}</table>'
            f'<p><a href="{html.escape(paths.manifest.name)}">manifest (JSON)</a></p></details></section>')
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cnnviz demo</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
img{{max-width:100%;border:1px solid #ddd}}section{{margin-bottom:2.5em}}th{{text-align:left;padding-right:1em}}</style>
</head><body><h1>cnnviz demo: what the bundled LeNet learned</h1>
<p>Generated by <code>cnnviz demo</code>. Each image links to the full-size PNG; each has a JSON manifest.</p>
{''.join(sections)}
{''.join(f'<section><h2><a href="{html.escape(h)}">{html.escape(t)}</a></h2><p>{html.escape(c)}</p></section>' for h, t, c in links)}
</body></html>
"""
    _atomic_write(path, page.encode("utf-8"))
    return path
