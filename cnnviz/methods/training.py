"""Train the LeNet of the tutorials (``cnnviz train lenet``), reproducibly, and report held-out accuracy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..inputs.datasets import Split
from ..errors import CnnvizError


@dataclass
class TrainResult:
    model: object
    test_accuracy: float
    train_accuracy: float
    epochs: int
    n_train: int
    n_test: int


def train_lenet(
    data: Split,
    *,
    epochs: int = 20,
    seed: int = 0,
    batch_size: int = 64,
    progress: Callable[[int, int, dict], None] | None = None,
    callbacks: Sequence | None = None,
) -> TrainResult:
    """Train LeNet (Adam, sparse cross-entropy, light shift augmentation) on ``data``.

    ``progress(epoch, epochs, logs)`` is called after every epoch. ``callbacks``: Keras callbacks
    given to every epoch's ``fit`` (e.g. :class:`cnnviz.callbacks.FilterSnapshots`; the epoch they
    see counts from 0 across the whole run, and ``on_train_end`` runs after each epoch).
    """
    from ..backends.runtime import deterministic, keras, seed_everything
    from ..models.lenet import build_lenet

    if epochs < 1:
        raise CnnvizError("--epochs must be at least 1")
    seed_everything(seed)
    deterministic()
    num_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
    model = build_lenet(data.x_train.shape[1:], num_classes)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = data.x_train.astype("float32") / 255.0
    xt = data.x_test.astype("float32") / 255.0
    rng = np.random.default_rng(seed)

    class _Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if progress:
                progress(epoch + 1, epochs, dict(logs or {}))

    for epoch in range(epochs):
        shifted = _random_shift(x, rng, max_shift=2) if epoch < epochs - 2 else x
        model.fit(shifted, data.y_train, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch,
                  verbose=0, shuffle=True, callbacks=[*(callbacks or ()), _Report()])
    _, test_acc = model.evaluate(xt, data.y_test, verbose=0)
    _, train_acc = model.evaluate(x, data.y_train, verbose=0)
    return TrainResult(model, float(test_acc), float(train_acc), epochs, len(x), len(xt))


def _random_shift(x: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Shift each image by up to ``max_shift`` pixels (zero fill): cheap augmentation for 8k digits."""
    out = np.zeros_like(x)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(x), 2))
    h, w = x.shape[1:3]
    for i, (dy, dx) in enumerate(shifts):
        ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
        xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
        out[i, yd, xd] = x[i, ys, xs]
    return out


def check_model_path(path: str | Path, overwrite: bool = False) -> Path:
    """Check (before training) that a .keras model can be written to ``path``."""
    p = Path(path)
    if p.suffix != ".keras":
        raise CnnvizError(f"--out {str(p)!r}: the model is saved in Keras format; use a name ending in .keras")
    for q in (p, p.with_suffix(".json")):  # the model and its manifest
        if q.exists() and not overwrite:
            raise CnnvizError(f"{str(q)!r} already exists; pass --overwrite to replace it")
    from ..output.files import check_folder

    check_folder(p.parent)  # not created until the model is saved: a failed run leaves no empty folder
    return p


def save_model_atomic(model, path: str | Path, overwrite: bool = False) -> Path:
    """Save a Keras model to ``path`` (.keras) through a temporary file in the same folder."""
    from ..output.files import atomic_target

    p = check_model_path(path, overwrite)
    with atomic_target(p, suffix=".keras") as tmp:
        model.save(str(tmp))
    return p
