"""Tutorial 1: LeNet on MNIST, trained and visualised (the classic Keras LeNet tutorial).

    python examples/lenet_mnist.py                      # keras.datasets.mnist (needs internet)
    python examples/lenet_mnist.py --data mnist10k.npz  # offline: an .npz with x and y

Trains LeNet, prints the parameter table and held-out accuracy, then writes its conv filters, learned
kernels and a fooling image per digit into outputs/examples/.
"""

import argparse
from pathlib import Path

from cnnviz.inputs.datasets import load_dataset
from cnnviz.methods.filters import visualize_filters
from cnnviz.methods.fooling import fool_from_noise
from cnnviz.output.files import save_png
from cnnviz.methods.kernels import learned_kernels
from cnnviz.models import LoadedModel
from cnnviz.inputs.labels import digit_classes
from cnnviz.output.render import filters_grid, fool_grid, kernels_grid
from cnnviz.models.summary import layer_rows
from cnnviz.methods.training import train_lenet


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("outputs/examples"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    split = load_dataset(args.data)
    result = train_lenet(split, epochs=args.epochs, progress=lambda e, n, logs: print(f"epoch {e}/{n}: {logs.get('accuracy', 0):.4f}"))
    rows, total, _ = layer_rows(result.model)
    for r in rows:
        print(f"{r.name:12s} {r.kind:14s} {str(r.output_shape):20s} {r.params:>8,}")
    print(f"total {total:,} parameters; held-out accuracy {result.test_accuracy:.4f} on {result.n_test} images")

    lenet = LoadedModel(result.model, "lenet (this run)", "unit", None, digit_classes(), "trained here")
    for layer in ("conv1", "conv2"):
        f = visualize_filters(lenet, layer)
        save_png(args.out / f"lenet_filters_{layer}.png", filters_grid(f.indices, f.images, f.activations, f.alive))
    k = learned_kernels(lenet)
    save_png(args.out / "lenet_kernels.png", kernels_grid(k.weights, k.matches))
    fool = fool_from_noise(lenet, list(range(10)))
    save_png(args.out / "lenet_fool.png", fool_grid(fool.images, [f"{c}: p={p:.4f}" for c, p in zip(fool.classes, fool.probabilities)], cols=5))
    print(f"wrote {args.out}/lenet_*.png")


if __name__ == "__main__":
    main()
