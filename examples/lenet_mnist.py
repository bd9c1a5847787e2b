"""Tutorial 1: LeNet on MNIST, trained and visualised (the classic Keras LeNet tutorial).

    python examples/lenet_mnist.py                      # keras.datasets.mnist (needs internet)
    python examples/lenet_mnist.py --data mnist10k.npz  # offline: an .npz with x and y

Trains LeNet, prints the parameter table and held-out accuracy, then writes its conv filters, learned
kernels and a fooling image per digit into outputs/examples/ (each a PNG + JSON manifest).
"""

import argparse
from pathlib import Path

import cnnviz as cv
from cnnviz.inputs.datasets import load_dataset
from cnnviz.inputs.labels import digit_classes
from cnnviz.methods.training import train_lenet


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("outputs/examples"))
    args = ap.parse_args()
    split = load_dataset(args.data)
    result = train_lenet(split, epochs=args.epochs, progress=lambda e, n, logs: print(f"epoch {e}/{n}: {logs.get('accuracy', 0):.4f}"))
    model = result.model
    print(cv.layers(model).totals(), f"; held-out accuracy {result.test_accuracy:.4f} on {result.n_test} images")
    lenet = cv.load(model, labels=digit_classes())
    for layer in ("conv1", "conv2"):
        cv.filters(lenet, layer).save(args.out, overwrite=True)
    cv.kernels(lenet).save(args.out, overwrite=True)
    cv.fool(lenet, list(range(10)), cols=5).save(args.out, overwrite=True)
    print(f"wrote {args.out}/")


if __name__ == "__main__":
    main()
