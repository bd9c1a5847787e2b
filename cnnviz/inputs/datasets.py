"""Digit-style datasets for training: keras.datasets.mnist, an .npz with x/y, or IDX files."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CnnvizError


@dataclass
class Split:
    """Images as uint8 (N, H, W, 1) and labels as int (N,), for training and held-out testing."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def check_dataset_spec(spec: str) -> str:
    """What can be checked before TensorFlow starts: a path exists and is a folder or an .npz file."""
    if spec == "mnist":
        return spec
    p = Path(spec)
    if not p.exists():
        raise CnnvizError(f"dataset {spec!r} not found; use 'mnist', an .npz file with x and y, or a folder of IDX files")
    if not p.is_dir() and p.suffix != ".npz":
        raise CnnvizError(f"{spec!r} is not a dataset cnnviz reads; use 'mnist', an .npz with x and y, or a folder of IDX files")
    return spec


def load_dataset(spec: str, holdout: float = 0.2) -> Split:
    """``mnist`` (downloads), an ``.npz`` (``x``/``y``; last ``holdout`` share held out unless it has
    ``x_test``/``y_test``), or a folder of MNIST-format IDX files (train-* and t10k-*)."""
    if spec == "mnist":
        return _keras_mnist()
    p = Path(spec)
    if not p.exists():
        raise CnnvizError(f"dataset {spec!r} not found; use 'mnist', an .npz file with x and y, or a folder of IDX files")
    if p.is_dir():
        return _idx_folder(p)
    if p.suffix == ".npz":
        return _npz(p, holdout)
    raise CnnvizError(f"{spec!r} is not a dataset cnnviz reads; use 'mnist', an .npz with x and y, or a folder of IDX files")


def _as_images(x: np.ndarray, where: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise CnnvizError(f"{where}: images must be (N, H, W) or (N, H, W, 1|3), got {x.shape}")
    if x.dtype != np.uint8:
        x = np.clip(np.rint(x * (255.0 if x.max() <= 1.0 else 1.0)), 0, 255).astype("uint8")
    return x


def _keras_mnist() -> Split:
    from ..backends.runtime import keras

    try:
        (xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
    except Exception as exc:
        from ..errors import first_line

        reason = first_line(exc, 400)
        if len(reason) > 90:  # cut at a word, never mid-word
            reason = reason[:90].rsplit(" ", 1)[0] + " ..."
        raise CnnvizError(
            f"could not download MNIST (offline? {reason}); pass --data FILE.npz (arrays x, y) or a folder of MNIST IDX files"
        ) from None
    return Split(_as_images(xtr, "mnist"), ytr.astype("int64"), _as_images(xte, "mnist"), yte.astype("int64"), "keras.datasets.mnist")


def _npz(path: Path, holdout: float) -> Split:
    try:
        data = np.load(str(path))
    except (OSError, ValueError) as exc:
        raise CnnvizError(f"cannot read {str(path)!r} as .npz: {exc}") from None
    with data:
        keys = set(data.files)
        if {"x_train", "y_train", "x_test", "y_test"} <= keys:
            return Split(_as_images(data["x_train"], str(path)), data["y_train"].astype("int64"),
                         _as_images(data["x_test"], str(path)), data["y_test"].astype("int64"), str(path))
        if not {"x", "y"} <= keys:
            raise CnnvizError(f"{str(path)!r} has arrays {sorted(keys)}; it needs 'x' (images) and 'y' (labels)")
        x, y = _as_images(data["x"], str(path)), np.asarray(data["y"]).astype("int64").reshape(-1)
    if len(x) != len(y):
        raise CnnvizError(f"{str(path)!r}: x has {len(x)} images but y has {len(y)} labels")
    n_test = int(round(len(x) * holdout))
    if not 0 < n_test < len(x):
        raise CnnvizError(f"{str(path)!r} is too small to hold out {holdout:.0%} for testing")
    return Split(x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:], f"{path} (last {n_test} held out)")


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped), as written for MNIST and Fashion-MNIST."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise CnnvizError(f"{str(path)!r} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype="uint8", offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise CnnvizError(f"{str(path)!r} is truncated: expected {int(np.prod(dims))} values, found {data.size}")
    return data.reshape(dims)


def _idx_folder(folder: Path) -> Split:
    def find(prefix: str, kind: str) -> Path:
        hits = sorted(p for p in folder.iterdir() if p.name.startswith(prefix) and kind in p.name)
        if not hits:
            raise CnnvizError(f"{str(folder)!r} has no {prefix}*{kind}* IDX file (MNIST layout: train-images-idx3-ubyte[.gz] ...)")
        return hits[0]

    xtr = read_idx(find("train", "images"))
    ytr = read_idx(find("train", "labels"))
    xte = read_idx(find("t10k", "images"))
    yte = read_idx(find("t10k", "labels"))
    return Split(_as_images(xtr, str(folder)), ytr.astype("int64"), _as_images(xte, str(folder)), yte.astype("int64"), str(folder))
