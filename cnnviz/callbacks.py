"""Keras callbacks that let a notebook user watch a model learn.

``model.fit(..., callbacks=[cv.callbacks.FilterSnapshots("conv1", every=1, folder="snaps")])`` writes,
every ``every`` epochs, one figure (``filters_conv1_epoch003.png``) made by the same library function
as the matching command (:func:`~cnnviz.methods.filters.visualize_filters`,
:func:`~cnnviz.methods.activations.activation_maps`, :func:`~cnnviz.methods.cam.class_heatmap`), a JSON
manifest listing every snapshot with its numbers, an animated GIF of the series when training ends,
and, given ``tensorboard_dir``, the same figures and numbers to TensorBoard.

A snapshot must not change training: it runs in inference mode on the current weights, its own
randomness comes from explicit seeds, and the global random streams that shuffling and dropout draw
from are saved before it and restored after it (:func:`~cnnviz.backends.runtime.preserved_random_state`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .backends.runtime import keras, preserved_random_state
from .errors import CnnvizError
from .inputs.preprocessing import check_mode
from .models import LoadedModel
from .output.files import check_folder, save_gif, save_png, write_manifest
from .output.tensorboard import TensorBoardLog
from .results import ModelRef


def _loaded(model, preprocess: str | None = None, class_names: Sequence[str] | None = None) -> LoadedModel:
    """The model being trained, fed as ``cnnviz.load`` feeds a model object (its current weights, not a
    copy): pixels/255 unless it scales its own input or ``preprocess`` says otherwise."""
    from .models import wrap_model

    loaded = wrap_model(model, preprocess=preprocess, labels=class_names)
    loaded.weights = "current (training)"
    return loaded


class Snapshots(keras.callbacks.Callback):
    """Every ``every`` epochs, one figure and its numbers; a series of PNGs, a manifest, a GIF.

    Subclasses say how to make one snapshot (:meth:`snapshot`) and may check the model before the
    first epoch (:meth:`check`). Epochs are counted from 1 across ``fit`` calls (a second ``fit``
    without ``initial_epoch`` continues the count instead of overwriting the first series).
    ``preprocess``: how the model takes 0-255 pixels (default as ``cnnviz.load``: ``unit``, i.e. x/255,
    unless the model scales its own input with a leading Rescaling/Normalization layer).
    ``about``: what the manifest should say about the run (command, data, seed...). ``at_start``:
    also a snapshot "epoch 0" of the weights before the first epoch (the GIF then starts from them).
    """

    def __init__(self, name: str, folder: str | Path = "snapshots", every: int = 1, *, overwrite: bool = False,
                 gif: bool = True, ms_per_frame: int = 700, tensorboard_dir: str | Path | None = None,
                 preprocess: str | None = None, class_names: Sequence[str] | None = None, about: dict | None = None,
                 at_start: bool = False):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise CnnvizError(f"every={every!r}: give a whole number of epochs, at least 1")
        if preprocess is not None:
            check_mode(preprocess)
        self.name, self.every, self.gif, self.ms_per_frame = name, every, gif, ms_per_frame
        self.preprocess, self.class_names, self.about = preprocess, class_names, dict(about or {})
        self.fed_as = preprocess  # what the snapshots feed the model: known once it is (on_train_begin)
        self.at_start = at_start
        self.folder = check_folder(folder)
        if not overwrite:
            self._refuse_existing()
        self.tensorboard = TensorBoardLog(tensorboard_dir) if tensorboard_dir is not None else None
        self.snapshots: list[dict] = []
        self._seen, self._offset = 0, None

    # ------------------------------------------------------------------ what a subclass says

    def snapshot(self, loaded: LoadedModel, epoch: int) -> tuple[np.ndarray, dict]:
        """(figure uint8 H x W x 3 whose title says the epoch, numbers for the manifest)."""
        raise NotImplementedError

    def check(self, loaded: LoadedModel) -> None:
        """Refuse (CnnvizError) a model this snapshot cannot be made of, before training starts."""

    def describe(self) -> dict:
        """What the manifest says about every snapshot of the series (layer, method, ...)."""
        return {}

    def scalars(self, numbers: dict) -> dict[str, float]:
        """The numbers to plot in TensorBoard, by tag."""
        return {}

    # ------------------------------------------------------------------ the series

    @property
    def manifest_path(self) -> Path:
        return self.folder / f"{self.name}.json"

    @property
    def gif_path(self) -> Path:
        return self.folder / f"{self.name}.gif"

    def _refuse_existing(self) -> None:
        clash = sorted(self.folder.glob(f"{self.name}_epoch*.png")) if self.folder.is_dir() else []
        clash += [p for p in (self.manifest_path, self.gif_path) if p.exists()]
        if clash:
            raise CnnvizError(f"{str(clash[0])!r} already exists; pass overwrite=True (--overwrite) or choose another folder")

    def on_train_begin(self, logs=None) -> None:
        self._offset = None
        loaded = _loaded(self.model, self.preprocess, self.class_names)
        self.fed_as = loaded.preprocess  # what the snapshots feed the model (recorded in the manifest)
        self.check(loaded)
        if self.at_start and self._seen == 0 and not self.snapshots:
            self._take(0, {})

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self._offset is None:  # first epoch of this fit: continue the count of an earlier fit
            self._offset = max(0, self._seen - epoch)
        number = epoch + self._offset + 1
        self._seen = number
        if number % self.every == 0:
            self._take(number, logs or {})

    def _take(self, number: int, logs: dict) -> None:
        """Snapshot ``number`` (0: the weights before training) to PNG, manifest and TensorBoard."""
        with preserved_random_state():
            figure, numbers = self.snapshot(_loaded(self.model, self.preprocess, self.class_names), number)
        path = self.folder / f"{self.name}_epoch{number:03d}.png"
        try:
            save_png(path, figure)
        except OSError as exc:
            raise CnnvizError(f"cannot write {str(path)!r} ({exc.strerror or exc}); choose another folder") from None
        metrics = {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}
        self.snapshots.append({"epoch": number, "file": path.name, **numbers, "logs": metrics})
        write_manifest(self.manifest_path, self.record())  # after every snapshot: an interrupted run keeps a valid one
        if self.tensorboard is not None:
            self.tensorboard.add(number, {self.name: figure}, {f"{self.name}/{k}": v for k, v in self.scalars(numbers).items()})

    def on_train_end(self, logs=None) -> None:
        if self.gif and self.snapshots:
            save_gif(self.gif_path, [_read_png(self.folder / s["file"]) for s in self.snapshots], self.ms_per_frame)
            write_manifest(self.manifest_path, self.record())

    def record(self) -> dict:
        gif = self.gif_path.name if self.gif and self.gif_path.exists() else None
        return {"callback": type(self).__name__, "series": self.name, **self.describe(), "every": self.every,
                "preprocess": self.fed_as, **({"training": self.about} if self.about else {}),
                "gif": gif, "snapshots": self.snapshots}


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _stack(figures: Sequence[np.ndarray]) -> np.ndarray:
    """Figures one above the other on white (one per fixed image)."""
    if len(figures) == 1:
        return figures[0]
    w = max(f.shape[1] for f in figures)
    rows = [np.pad(f, ((0, 6), (0, w - f.shape[1]), (0, 0)), constant_values=255) for f in figures]
    return np.concatenate(rows)[:-6]


def _images(images) -> list[np.ndarray]:
    """Fixed images as a list of (H, W, C) pixel arrays (0-255)."""
    arr = np.asarray(images)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (1, 3, 4) and arr.shape[0] > 4):
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or len(arr) == 0:
        raise CnnvizError(f"images: give one image (H, W, C) or a batch (N, H, W, C) of 0-255 pixels, not shape {arr.shape}")
    return [a for a in arr]


def _epoch_title(loaded: LoadedModel, epoch: int) -> str:
    return f"{loaded.name} · epoch {epoch}" + (" (before training)" if epoch == 0 else "")


class FilterSnapshots(Snapshots):
    """The input each filter of ``layer`` responds to most (``cnnviz filters``), every N epochs;
    the manifest lists each filter's activation on its picture."""

    def __init__(self, layer: str, every: int = 1, folder: str | Path = "snapshots", *, filters: Sequence[int] | None = None,
                 steps: int | None = None, size: int | None = None, seed: int = 0, method: str = "smooth",
                 param: str | None = None, precision: str = "auto", **kwargs):
        super().__init__(kwargs.pop("name", f"filters_{layer}"), folder, every, **kwargs)
        self.layer, self.filters, self.steps, self.size = layer, list(filters) if filters else None, steps, size
        self.seed, self.method, self.param, self.precision = seed, method, param, precision

    def check(self, loaded: LoadedModel) -> None:
        from .methods.filters import check_conv_layer

        check_conv_layer(loaded, self.layer)

    def describe(self) -> dict:
        return {"layer": self.layer, "method": self.method, "seed": self.seed,
                "numbers": "activation = the filter's mean activation on its picture"}

    def snapshot(self, loaded: LoadedModel, epoch: int) -> tuple[np.ndarray, dict]:
        from .methods.filters import visualize_filters

        r = visualize_filters(loaded, self.layer, self.filters, steps=self.steps, size=self.size, seed=self.seed,
                              method=self.method, param=self.param, precision=self.precision)
        r.model = ModelRef(_epoch_title(loaded, epoch))
        return r.figure(), {"alive": int(np.sum(r.alive)), "filters": r.records()}

    def scalars(self, numbers: dict) -> dict[str, float]:
        return {f"filter{t['filter']}": t["activation"] for t in numbers["filters"]}


class ActivationSnapshots(Snapshots):
    """The feature maps of ``layer`` for fixed ``images`` (``cnnviz activations``), every N epochs;
    the manifest lists each channel's mean per image."""

    def __init__(self, layer: str, images, every: int = 1, folder: str | Path = "snapshots", *, sort: str = "index",
                 limit: int | None = None, scale: str = "layer", **kwargs):
        from .methods.activations import check_order

        super().__init__(kwargs.pop("name", f"activations_{layer}"), folder, every, **kwargs)
        check_order(sort, limit)
        self.layer, self.images, self.sort, self.limit, self.scale = layer, _images(images), sort, limit, scale

    def check(self, loaded: LoadedModel) -> None:
        from .methods.activations import resolve_spatial

        resolve_spatial(loaded, [self.layer])
        _check_size(loaded, self.images)

    def describe(self) -> dict:
        return {"layer": self.layer, "images": len(self.images), "numbers": "channel_means = each channel's mean activation"}

    def snapshot(self, loaded: LoadedModel, epoch: int) -> tuple[np.ndarray, dict]:
        from .methods.activations import activation_maps, channel_order
        from .results.activations import ActivationsResult

        figures, per_image = [], []
        for i, image in enumerate(self.images):
            (name, maps), = activation_maps(loaded, image, [self.layer]).items()
            order = channel_order(maps, self.sort, self.limit)
            result = ActivationsResult(name, maps, order, self.sort, self.scale, f"image {i}", image=image,
                                       model=ModelRef(_epoch_title(loaded, epoch)))
            figures.append(result.figure())
            per_image.append({"image": i, "channel_means": [float(m) for m in maps.reshape(-1, maps.shape[-1]).mean(0)]})
        return _stack(figures), {"images": per_image}

    def scalars(self, numbers: dict) -> dict[str, float]:
        return {f"image{d['image']}/channel{c}": m for d in numbers["images"] for c, m in enumerate(d["channel_means"])}


class HeatmapSnapshots(Snapshots):
    """Where fixed ``images`` support a class (``cnnviz cam``: Grad-CAM by default), every N epochs;
    ``classes``: one class per image (index or name; default: the predicted class at that epoch).
    The manifest lists the class and its probability per image."""

    def __init__(self, images, classes: Sequence[int | str] | None = None, every: int = 1,
                 folder: str | Path = "snapshots", *, method: str = "gradcam", layer: str | None = None, seed: int = 0,
                 **kwargs):
        from .methods.attribution.registry import spec

        super().__init__(kwargs.pop("name", method.replace("+", "p")), folder, every, **kwargs)
        spec(method)  # an unknown name is one line listing the registry's
        self.images, self.method, self.layer, self.seed = _images(images), method, layer, seed
        self.classes = list(classes) if classes is not None else [None] * len(self.images)
        if len(self.classes) != len(self.images):
            raise CnnvizError(f"classes: give one class per image ({len(self.images)}), not {len(self.classes)}")

    def check(self, loaded: LoadedModel) -> None:
        _check_size(loaded, self.images)

    def describe(self) -> dict:
        return {"method": self.method, "layer": self.layer, "images": len(self.images),
                "numbers": "probability = the model's probability of the class"}

    def snapshot(self, loaded: LoadedModel, epoch: int) -> tuple[np.ndarray, dict]:
        from .methods.cam import class_heatmap

        figures, per_image = [], []
        for i, (image, cls) in enumerate(zip(self.images, self.classes)):
            h = class_heatmap(loaded, image, cls, method=self.method, layer=self.layer, seed=self.seed)
            h.model, h.source = ModelRef(_epoch_title(loaded, epoch)), f"image {i}"
            figures.append(h.figure())
            per_image.append({"image": i, "class": h.class_index, "class_name": h.class_name,
                              "probability": float(h.probability), "layer": h.layer})
        return _stack(figures), {"images": per_image}

    def scalars(self, numbers: dict) -> dict[str, float]:
        return {f"image{d['image']}/probability": d["probability"] for d in numbers["images"]}


def _check_size(loaded: LoadedModel, images: list[np.ndarray]) -> None:
    h, w, c = loaded.input_shape
    for i, image in enumerate(images):
        if (h and image.shape[0] != h) or (w and image.shape[1] != w) or image.shape[2] != c:
            raise CnnvizError(f"image {i} is {'x'.join(map(str, image.shape))}; {loaded.name} takes "
                              f"{h or 'any'}x{w or 'any'}x{c}: resize the fixed images to the model's input")


def filter_series(layers: Sequence[str], folder: str | Path, every: int = 1, **kwargs) -> list[FilterSnapshots]:
    """One :class:`FilterSnapshots` per layer into one folder (``cnnviz train --snapshots``), every
    folder and file checked now, before training starts."""
    return [FilterSnapshots(layer, every, folder, **kwargs) for layer in layers]
