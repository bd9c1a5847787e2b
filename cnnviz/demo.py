"""``cnnviz demo``: the main job on the bundled LeNet, offline, and an index.html that shows it all."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import CnnvizError
from .inputs.images import bundled_cat, read_image, resize
from .output.files import OutputPaths, atomic_write, plan_output, save_result

#: (stem, title, what it shows, the command that reproduces it) for every figure, in page order.
DEMO_ITEMS = (
    ("demo_filters_conv1", "What each conv1 filter looks for",
     ("Filters of conv1 (6 filters, 3x3): the input each filter responds to most: fine oriented stripes and "
      "light or dark dot textures (pixel recipe, the default for 28 px inputs)."),
     "cnnviz filters lenet --layer conv1"),
    ("demo_filters_conv2", "What each conv2 filter looks for",
     ("Filters of conv2 (16 filters, 5x5 on conv1's maps): the input each filter responds to most: "
      "strokes and stripe gratings, each at its own orientation (pixel recipe, the default for 28 px inputs; "
      "every filter responds 1.2x to 4.2x more than to the Fourier recipe's blobs)."),
     "cnnviz filters lenet --layer conv2"),
    ("demo_fool_digits", "Fooling images: noise LeNet trusts",
     "Noise that LeNet calls each digit with p >= 0.999 (checked on the saved 8-bit pixels).",
     "cnnviz fool lenet -c 0 -c 1 -c 2 -c 3 -c 4 -c 5 -c 6 -c 7 -c 8 -c 9"),
    ("demo_visualize_digits", "Class visualisation: what LeNet thinks each digit looks like",
     "The same class objective with the filters' regularisers (jitter, blur) shows digit-like shapes.",
     "cnnviz fool lenet --method visualize --steps 60 -c 0 -c 1 -c 2 -c 3 -c 4 -c 5 -c 6 -c 7 -c 8 -c 9"),
    ("demo_adversarial", "An adversarial example: a 3 that LeNet reads as 8",
     "A real digit nudged within an L-inf budget of 64 pixel units until LeNet changes its mind.",
     "cnnviz fool lenet --image samples/three.png -c 8 --epsilon 64"),
    ("demo_activations_conv1", "conv1's feature maps for one digit",
     "Activation maps of conv1 for a sample digit (one colour scale for the layer).",
     "cnnviz activations lenet samples/digit0.png --layer conv1"),
    ("demo_activations_conv2", "conv2's feature maps for the same digit",
     "Activation maps of conv2 for the same digit.",
     "cnnviz activations lenet samples/digit0.png --layer conv2"),
    ("demo_gradcam", "Grad-CAM: where the evidence for each digit lies",
     "Grad-CAM on conv2 for four sample digits, scored by deletion and insertion against a random order.",
     "cnnviz cam lenet samples/digit0.png samples/digit2.png samples/digit4.png samples/digit7.png"),
    ("demo_edges", "Sobel edges computed by a Keras Conv2D",
     "Sobel V and H kernels run by a Keras Conv2D on the bundled cat photo.",
     "cnnviz edges --kernel sobel"),
    ("demo_gallery", "The classic 3x3 kernels side by side",
     "Each classic kernel on the grey cat photo, with its weights.",
     "cnnviz edges --gallery"),
    ("demo_kernels", "LeNet's learned conv1 kernels",
     "Each learned kernel beside the classic kernel it most resembles (cosine similarity).",
     "cnnviz kernels lenet"),
)

#: The sample digits the demo writes to ``samples/`` (name -> digit) so that its commands can be run again.
SAMPLES = {"three": 3, "digit0": 0, "digit2": 2, "digit4": 4, "digit7": 7}

#: Words the captions use, explained once on the page.
GLOSSARY = (
    ("act", "the filter's mean activation on the very image shown (what the image was optimised to raise)."),
    ("alive / dead", "a filter is alive when its image makes it respond (act > 0); dead when nothing found does."),
    ("p", "the model's probability for a class, measured on the saved 8-bit PNG, not on the float image."),
    ("cosine", "similarity of a learned kernel with a classic one: 1 = the same shape up to scale, 0 = unrelated."),
)


def plan_demo(out: str | Path, overwrite: bool = False) -> dict[str, OutputPaths]:
    """Check, before any work, that every demo file (and index.html) can be written."""
    out = Path(out)
    plans = {item[0]: plan_output(out, item[0], overwrite) for item in DEMO_ITEMS}
    index_path = out / "index.html"
    if index_path.exists() and not overwrite:
        raise CnnvizError(f"{str(index_path)!r} already exists; pass --overwrite to replace it or --out DIR")
    for name in SAMPLES:
        if (out / "samples" / f"{name}.png").exists() and not overwrite:
            raise CnnvizError(f"{str(out / 'samples' / name)!r}.png already exists; pass --overwrite to replace it or --out DIR")
    atlas = out / "atlas-lenet"
    if atlas.exists() and not overwrite:
        raise CnnvizError(f"{str(atlas)!r} already exists; pass --overwrite to replace it or --out DIR")
    return plans


def run_demo(out: str | Path, *, overwrite: bool = False, seed: int = 0,
             progress: Callable[[int, int], None] | None = None, echo: Callable[[str], None] = print) -> Path:
    """Write every demo figure (PNG + JSON, each made by the public function its command calls), the
    sample digits the commands use (``samples/``), the LeNet atlas and ``index.html`` into ``out``."""
    from . import api
    from .models.lenet import sample_digits
    from .output.files import save_png
    from .output.layout import titled

    plans = plan_demo(out, overwrite)
    out = Path(out)
    total, done = len(DEMO_ITEMS) + 1, [0]  # the figures, then the atlas

    def save(stem: str, result, figure: np.ndarray | None = None, record: dict | None = None) -> None:
        save_result(plans[stem], result.figure() if figure is None else figure, record or result.manifest())
        echo(f"wrote {plans[stem].png}")
        done[0] += 1
        if progress:
            progress(done[0], total)

    quiet = {"progress": False, "note": None}
    lenet = api.load("lenet", note=None)
    digits, labels = sample_digits()
    samples = {name: save_png(out / "samples" / f"{name}.png", digits[int(np.where(labels == d)[0][0])])
               for name, d in SAMPLES.items()}
    for layer in ("conv1", "conv2"):
        save(f"demo_filters_{layer}", api.filters(lenet, layer, seed=seed, **quiet))
    for method, stem in (("fool", "demo_fool_digits"), ("visualize", "demo_visualize_digits")):
        r = api.fool(lenet, list(range(10)), method=method, steps=300 if method == "fool" else 60, seed=seed, cols=5, **quiet)
        r.top = 0  # ten classes: the grid shows each class's own p, not ten top-5 lists
        save(stem, r)
    save("demo_adversarial", api.fool(lenet, 8, image=samples["three"], epsilon=64, seed=seed, **quiet))
    acts = api.activations(lenet, samples["digit0"], ["conv1", "conv2"], note=None)
    for r in acts:
        save(f"demo_activations_{r.layer}", r)
    cams = api.cam(lenet, [samples[f"digit{d}"] for d in (0, 2, 4, 7)], seed=seed, **quiet)
    save("demo_gradcam", cams, titled(cams.figure(), "lenet · Grad-CAM for four sample digits"),
         {"command": "cam", **cams[0].model.info, "method": "gradcam", "seed": seed, "tiles": [r.manifest() for r in cams]})
    cat = resize(read_image(bundled_cat()), 225, 338)
    edges = api.edges(cat, note=None)
    edges.source, edges.extra = "the bundled cat photo (resized to 338x225)", {"input": "bundled cat photo", "input_changes": ["resized to 338x225"]}
    save("demo_edges", edges)
    grid = api.edges(cat, gallery=True, note=None)
    grid.source = "the bundled cat photo (resized to 338x225)"
    save("demo_gallery", grid)
    save("demo_kernels", api.kernels(lenet, note=None))

    atlas = api.atlas(lenet, out, seed=seed, overwrite=overwrite, command=f"cnnviz atlas lenet --seed {seed}", **quiet)
    echo(f"wrote {atlas.index}")
    if progress:
        progress(total, total)
    index_path = out / "index.html"
    write_index(index_path, [(plans[stem], title, text, command.replace("samples/", f"{out}/samples/"))
                             for stem, title, text, command in DEMO_ITEMS],
                links=[("atlas-lenet/index.html", "LeNet atlas",
                        "Every filter of conv1 and conv2 with its visualisation, the bundled digits that excite it most "
                        "(with the receptive field of the strongest unit), its activation histogram and its weights "
                        f"(cnnviz atlas lenet --seed {seed}).")])
    return index_path


def _rounded(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return "x".join(str(v) for v in value) if len(value) == 2 else ", ".join(map(str, value))
    return str(value)


def write_index(path: Path, items: list[tuple], links: list[tuple[str, str, str]] = ()) -> Path:
    """A static page: every figure with its title, what it shows, the command that reproduces it
    and its settings (read from its manifest, rounded), then ``links`` (href, title, caption) to the
    demo's sub-sites."""
    esc = html.escape
    sections = []
    for paths, title, caption, *rest in items:
        if not paths.png.exists():
            continue
        settings = {}
        if paths.manifest.exists():
            data = json.loads(paths.manifest.read_text())
            settings = {k: v for k, v in data.items()
                        if k not in ("tiles", "channels", "kernels", "image", "display", "top5_before", "top5_after", "top5")
                        and not isinstance(v, dict) and not (isinstance(v, list) and len(v) > 4) and v not in (None, [], "")}
        rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(_rounded(v))}</td></tr>" for k, v in settings.items())
        cmd = f"<p class=cmd>Reproduce: <code>{esc(rest[0])}</code></p>" if rest else ""
        sections.append(
            f'<section><h2>{esc(title)}</h2><p>{esc(caption)}</p>{cmd}'
            f'<a href="{esc(paths.png.name)}"><img src="{esc(paths.png.name)}" alt="{esc(title)}"></a>'
            f'<details><summary>settings</summary><table>{rows}</table>'
            f'<p><a href="{esc(paths.manifest.name)}">manifest (JSON)</a></p></details></section>')
    glossary = "".join(f"<li><b>{esc(w)}</b>: {esc(t)}</li>" for w, t in GLOSSARY)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cnnviz demo</title>
<style>body{{font-family:sans-serif;max-width:1500px;margin:2em auto;padding:0 1em;color:#222}}
img{{max-width:100%;border:1px solid #ddd}}section{{margin-bottom:2.5em}}th{{text-align:left;padding-right:1em}}
code{{background:#f3f3f3;padding:0 .3em}}.cmd{{color:#555}}</style>
</head><body><h1>cnnviz demo: what the bundled LeNet learned</h1>
<p>Generated by <code>cnnviz demo</code>. Each image links to the full-size PNG; each has a JSON manifest with every number shown.</p>
<p>Words in the captions:</p><ul>{glossary}</ul>
{''.join(sections)}
{''.join(f'<section><h2><a href="{esc(h)}">{esc(t)}</a></h2><p>{esc(c)}</p></section>' for h, t, c in links)}
</body></html>
"""
    atomic_write(path, page.encode("utf-8"))
    return path
