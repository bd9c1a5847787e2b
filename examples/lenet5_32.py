"""Tutorial 3: LeNet-5 for 32x32 input, drawn from the paper's diagram, with its parameter table.

    python examples/lenet5_32.py                      # table only
    python examples/lenet5_32.py --train mnist10k.npz # also train on 28x28 digits padded to 32x32

Conv 6@5x5 (valid) -> max-pool -> Conv 16@5x5 (valid) -> max-pool -> Dense 120 -> dropout -> 10.
"""

import argparse

import keras
import numpy as np

import cnnviz as cv
from cnnviz.inputs.datasets import load_dataset


def build() -> keras.Model:
    L = keras.layers
    inputs = keras.Input((32, 32, 1))
    x = L.Conv2D(6, 5, activation="relu", name="C1")(inputs)  # 28x28x6:  5*5*1*6 + 6   = 156
    x = L.MaxPooling2D(2, name="S2")(x)  # 14x14x6
    x = L.Conv2D(16, 5, activation="relu", name="C3")(x)  # 10x10x16: 5*5*6*16 + 16 = 2,416
    x = L.MaxPooling2D(2, name="S4")(x)  # 5x5x16 = 400
    x = L.Flatten()(x)
    x = L.Dense(120, activation="relu", name="C5")(x)  # 400*120 + 120 = 48,120
    x = L.Dropout(0.5)(x)
    return keras.Model(inputs, L.Dense(10, activation="softmax", name="output")(x), name="lenet5")  # 1,210


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default=None, help="dataset for a quick training run (mnist, .npz, IDX folder)")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    model = build()
    table = cv.layers(model)
    print(f"{'layer':8s} {'type':14s} {'output':20s} {'params':>8s}")
    for name, kind, shape, params, _ in table.rows:
        print(f"{name:8s} {kind:14s} {str(shape):20s} {params:>8,}")
    print(table.totals())
    assert table.total == 156 + 2416 + 48120 + 1210
    if args.train:
        s = load_dataset(args.train)
        pad = lambda x: np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0))) / 255.0  # noqa: E731
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(pad(s.x_train), s.y_train, epochs=args.epochs, batch_size=64, verbose=2)
        print(f"held-out accuracy: {model.evaluate(pad(s.x_test), s.y_test, verbose=0)[1]:.4f}")


if __name__ == "__main__":
    main()
