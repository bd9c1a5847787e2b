"""Tutorial 2: the Fashion-MNIST CNN (Conv 32-32-pool-64-64-pool-128-128-pool-Dense 128-10).

    python examples/fashion_mnist_cnn.py             # Debian's IDX files if present, else keras.datasets
    python examples/fashion_mnist_cnn.py --epochs 3  # quicker

Offline: `apt-get install dataset-fashion-mnist` (a Debian package) puts the IDX files in
/usr/share/datasets/fashion-mnist/. Expect about 0.90 test accuracy after ~10 epochs (a few minutes
per epoch on 2 CPU cores). Writes the model, its first-layer kernels and conv filters.
"""

import argparse
from pathlib import Path

import keras
import cnnviz as cv
from cnnviz.errors import CnnvizError
from cnnviz.inputs.datasets import load_dataset

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def build() -> keras.Model:
    L = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for i, width in enumerate((32, 64, 128)):
        x = L.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i + 1}_1")(x)
        x = L.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i + 1}_2")(x)
        x = L.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = L.Flatten()(x)
    x = L.Dense(128, activation="relu", name="fc")(x)
    x = L.Dropout(0.3)(x)
    return keras.Model(inputs, L.Dense(10, activation="softmax", name="predictions")(x), name="fashion_cnn")


def load() -> tuple:
    if DEBIAN.is_dir():
        s = load_dataset(str(DEBIAN))
        return s.x_train, s.y_train, s.x_test, s.y_test
    try:
        (xtr, ytr), (xte, yte) = keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # offline
        raise SystemExit(f"error: no Fashion-MNIST: install Debian's dataset-fashion-mnist or go online ({exc})")
    return xtr[..., None], ytr, xte[..., None], yte


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("outputs/examples/fashion"))
    args = ap.parse_args()
    xtr, ytr, xte, yte = load()
    keras.utils.set_random_seed(0)
    model = build()
    model.summary()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xtr / 255.0, ytr, epochs=args.epochs, batch_size=128, validation_split=0.1, verbose=2)
    _, acc = model.evaluate(xte / 255.0, yte, verbose=0)
    print(f"test accuracy: {acc:.4f}")
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "fashion_cnn.keras")
    cv.kernels(model).save(args.out, overwrite=True)
    cv.filters(model, "conv2_2", "0-15").save(args.out, overwrite=True)
    cv.cam(model, xte[:4], labels=CLASSES, method=["gradcam", "integrated-gradients"]).save(args.out, overwrite=True)
    print(f"wrote {args.out}/")


if __name__ == "__main__":
    try:
        main()
    except CnnvizError as exc:
        raise SystemExit(f"error: {exc}")
