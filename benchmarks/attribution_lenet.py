"""Benchmark: attribution methods on the bundled LeNet, scored by faithfulness, and receptive-field
placement against an edge-to-edge stretch.

Prints, over N MNIST digits (each explained for its predicted class):
  * per method: mean deletion AUC (lower = better) and insertion AUC (higher = better) with the same
    for the reference (random smooth maps) measured in the same run, and seconds per image;
  * for the layer-based methods: the share of heat on stroke pixels when the conv2 map is placed by
    receptive field vs stretched edge to edge, beside the stroke's share of the image (chance level).

    python benchmarks/attribution_lenet.py             # 100 digits from /work/shared/data/mnist10k.npz if present
    python benchmarks/attribution_lenet.py --n 20 --data bundled
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def digits(source: str, n: int) -> np.ndarray:
    path = Path("/work/shared/data/mnist10k.npz")
    if source == "mnist10k" and path.is_file():
        with np.load(path) as d:
            return d["x"][-n:][..., None]  # the held-out end of the file
    from cnnviz.models.lenet import sample_digits

    return sample_digits()[0][:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--data", choices=["mnist10k", "bundled"], default="mnist10k")
    ap.add_argument("--faithfulness-steps", type=int, default=32)
    args = ap.parse_args()

    from cnnviz.methods.attribution import METHODS
    from cnnviz.methods.attribution.explain import Explainer, Options
    from cnnviz.methods.attribution.placement import place, stretched_centres
    from cnnviz.models import load_model

    lenet = load_model("lenet")
    xs = digits(args.data, args.n)
    names = list(METHODS)
    explainers = {m: Explainer(lenet, [m], (28, 28), Options(faithfulness_steps=args.faithfulness_steps)) for m in names}
    stats = {m: {"del": [], "ins": [], "sec": [], "rf": [], "stretch": []} for m in names}
    rand_del, rand_ins, stroke_share = [], [], []
    for x in xs:
        stroke = x[..., 0] > 0.5 * x.max()
        stroke_share.append(stroke.mean())
        for m in names:
            t = time.perf_counter()
            ex = explainers[m].explain(x)
            stats[m]["sec"].append(time.perf_counter() - t)
            r = ex.results[0]
            stats[m]["del"].append(r.faithfulness["deletion_auc"])
            stats[m]["ins"].append(r.faithfulness["insertion_auc"])
            if m == names[0]:
                rand_del.append(ex.random["deletion_auc"])
                rand_ins.append(ex.random["insertion_auc"])
            if "completeness_error" in r.info:
                stats[m].setdefault("complete", []).append(r.info["completeness_error"])
            if r.layer_raw is not None:
                h, w = r.layer_raw.shape
                flat = np.maximum(place(r.layer_raw[None], stretched_centres(h, 28), stretched_centres(w, 28), (28, 28))[0], 0)
                stats[m]["rf"].append(r.heat[stroke].sum() / (r.heat.sum() + 1e-8))
                stats[m]["stretch"].append(flat[stroke].sum() / (flat.sum() + 1e-8))
    print(f"LeNet, {len(xs)} digits ({args.data}), {args.faithfulness_steps} faithfulness steps; times include the scores")
    print(f"reference (random smooth maps): deletion {np.mean(rand_del):.3f}  insertion {np.mean(rand_ins):.3f}")
    print(f"{'method':22s} {'deletion':>9s} {'insertion':>9s} {'del/ref':>10s} {'s/image':>8s} {'stroke share RF':>16s} {'stretched':>10s}")
    for m in names:
        s = stats[m]
        rf = f"{np.mean(s['rf']):16.3f} {np.mean(s['stretch']):10.3f}" if s["rf"] else ""
        print(f"{m:22s} {np.mean(s['del']):9.3f} {np.mean(s['ins']):9.3f} {np.mean(s['del']) / np.mean(rand_del):10.2f} "
              f"{np.mean(s['sec']):8.3f} {rf}")
    print(f"stroke share of the image (chance level): {np.mean(stroke_share):.3f}")
    c = stats["integrated-gradients"].get("complete", [])
    if c:
        print(f"integrated gradients (black baseline, default steps): completeness error mean {100 * np.mean(c):.2f}%, "
              f"max {100 * np.max(c):.2f}%")


if __name__ == "__main__":
    main()
