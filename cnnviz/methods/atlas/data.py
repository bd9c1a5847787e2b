"""Data sets for the atlas's dataset examples, streamed in batches: a folder of images, an ``.npz`` with ``x``,
a folder of MNIST-format IDX files, or the bundled digits/photo. No TensorFlow here.

A folder of 50,000 images is read one batch at a time (only the file names are held); an uncompressed IDX file
is memory-mapped. ``image(i)`` reads one image again for the example thumbnails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ...checks import IMAGE_SUFFIXES
from ...errors import CnnvizError

#: Crops of the bundled cat photo that stand in for "the bundled photos" of RGB models: (top, left, side) as
#: shares of the photo's height; deterministic, so a resumed run sees the same data.
_CAT_CROPS = tuple((t, l, s) for s in (1.0, 0.7, 0.5) for t in (0.0, 0.3 * (1.0 - s)) for l in (0.0, 0.25, 0.5))


@dataclass
class DataSource:
    """``count`` images, each delivered as uint8 (H, W, C) at the model's input size and channel count."""

    name: str
    count: int
    height: int
    width: int
    channels: int
    _read: object = field(repr=False)  # callable(indices) -> list of raw uint8 (h, w, c) images
    _labels: list[str] | None = field(default=None, repr=False)  # per-image names (files) or None
    notes: list[str] = field(default_factory=list)
    _converted: int = 0

    def label(self, i: int) -> str:
        """A human name for image ``i``: its file name, or its index in the array."""
        return self._labels[i] if self._labels else f"#{i}"

    def file(self, i: int) -> Path | None:
        """The image file of item ``i`` when the source is a folder of images (for reproducing commands)."""
        return Path(self._labels[i]) if self._labels else None

    def images(self, indices) -> np.ndarray:
        raw = self._read(list(indices))
        return np.stack([self._fit(img) for img in raw]) if raw else np.zeros((0, self.height, self.width, self.channels), "uint8")

    def image(self, i: int) -> np.ndarray:
        return self.images([i])[0]

    def batches(self, batch_size: int, start: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """``(first index, uint8 batch)`` over the whole set."""
        for b in range(start, self.count, batch_size):
            yield b, self.images(range(b, min(b + batch_size, self.count)))

    def _fit(self, img: np.ndarray) -> np.ndarray:
        from ...inputs.images import fit_channels

        img = np.asarray(img)
        if img.ndim == 2:
            img = img[..., None]
        if img.dtype != np.uint8:
            img = np.clip(np.rint(img * (255.0 if img.max() <= 1.0 else 1.0)), 0, 255).astype("uint8")
        if img.shape[-1] != self.channels:
            img, note = fit_channels(img, self.channels)
            if note and not self._converted:
                self.notes.append(f"{self.name}: {note.replace('the RGB image', 'RGB images').replace('the grey image', 'grey images')}")
            self._converted += 1
        return center_fit(img, self.height, self.width)


def center_fit(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Short side resized, centre cropped: ``--fit crop``, the convention every command shares."""
    from ...inputs.fitting import fit_image

    return fit_image(img, height, width, "crop")[0]


def check_data_path(spec: str | Path) -> Path:
    """Cheap checks before any model is loaded: the path exists and holds something the atlas reads."""
    p = Path(spec)
    if not p.exists():
        raise CnnvizError(f"--data {str(p)!r} does not exist; give a folder of png/jpg images, an .npz with x, or a folder of MNIST IDX files")
    if p.is_dir():
        files, idx = _folder_listing(p)
        if not files and not idx:
            raise CnnvizError(f"--data folder {str(p)!r} holds no png/jpg images and no MNIST IDX files")
        return p
    if p.suffix.lower() != ".npz":
        raise CnnvizError(f"--data {str(p)!r} is neither a folder nor an .npz file; give a folder of png/jpg images, an .npz with x, or a folder of IDX files")
    return p


def open_data(spec: str | Path | None, height: int, width: int, channels: int, *, model_name: str = "") -> DataSource:
    """The data set for ``--data`` (None: bundled digits for 1-channel models, crops of the bundled photo else)."""
    if spec is None:
        return _bundled(height, width, channels, model_name)
    p = check_data_path(spec)
    if p.is_dir():
        files, idx = _folder_listing(p)
        return _files(p, files, height, width, channels) if files else _idx(p, idx, height, width, channels)
    return _npz(p, height, width, channels)


def _folder_listing(folder: Path) -> tuple[list[Path], list[Path]]:
    try:
        entries = sorted(q for q in folder.iterdir() if q.is_file() and not q.name.startswith("."))
    except OSError as exc:
        raise CnnvizError(f"cannot list --data folder {str(folder)!r}: {exc.strerror or exc}") from None
    files = [q for q in entries if q.suffix.lower() in IMAGE_SUFFIXES]
    idx = [q for q in entries if "images" in q.name and ("idx" in q.name or "ubyte" in q.name)]
    return files, idx


def _read_file(path: Path) -> np.ndarray:
    from ...inputs.images import read_image

    try:
        return read_image(path)
    except CnnvizError:
        raise CnnvizError(f"cannot read image {str(path)!r} in --data (not a valid PNG/JPEG); remove or replace it") from None
    except OSError as exc:
        raise CnnvizError(f"cannot read image {str(path)!r} in --data: {exc.strerror or exc}") from None


def _files(folder: Path, files: list[Path], height: int, width: int, channels: int) -> DataSource:
    return DataSource(str(folder), len(files), height, width, channels,
                      lambda idx: [_read_file(files[i]) for i in idx], [str(f) for f in files])


def _npz(path: Path, height: int, width: int, channels: int) -> DataSource:
    try:
        with np.load(str(path)) as data:
            if "x" not in data.files:
                raise CnnvizError(f"{str(path)!r} has arrays {sorted(data.files)}; the atlas needs 'x' (images)")
            x = data["x"]
    except (OSError, ValueError) as exc:
        raise CnnvizError(f"cannot read --data {str(path)!r} as .npz: {str(exc).splitlines()[0]}") from None
    if x.ndim not in (3, 4) or len(x) == 0 or (x.ndim == 4 and x.shape[-1] not in (1, 3, 4)):
        raise CnnvizError(f"{str(path)!r}: x must be (N, H, W) or (N, H, W, 1|3) images, got {x.shape}")
    if x.ndim == 4 and x.shape[-1] == 4:
        x = x[..., :3]
    return DataSource(str(path), len(x), height, width, channels, lambda idx: [x[i] for i in idx])


def _idx(folder: Path, files: list[Path], height: int, width: int, channels: int) -> DataSource:
    """Every ``*images*`` IDX file of the folder, in name order (uncompressed ones memory-mapped)."""
    from ...inputs.datasets import read_idx

    arrays = []
    for f in files:
        if f.suffix == ".gz":
            arrays.append(read_idx(f))
            continue
        with open(f, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[:3] != b"\x00\x00\x08":
                raise CnnvizError(f"{str(f)!r} is not an unsigned-byte IDX file")
            dims = [int.from_bytes(fh.read(4), "big") for _ in range(head[3])]
        try:
            arrays.append(np.memmap(f, dtype="uint8", mode="r", offset=4 + 4 * len(dims), shape=tuple(dims)))
        except ValueError:
            raise CnnvizError(f"{str(f)!r} is truncated: it should hold {int(np.prod(dims))} values") from None
    bounds = np.cumsum([0] + [len(a) for a in arrays])

    def read(idx):
        out = []
        for i in idx:
            k = int(np.searchsorted(bounds, i, side="right") - 1)
            out.append(np.asarray(arrays[k][i - bounds[k]]))
        return out

    return DataSource(str(folder), int(bounds[-1]), height, width, channels, read)


def _bundled(height: int, width: int, channels: int, model_name: str) -> DataSource:
    if channels == 1:
        from ...models.lenet import sample_digits

        x, _ = sample_digits()
        return DataSource("bundled digits", len(x), height, width, channels, lambda idx: [x[i] for i in idx])
    from ...inputs.images import bundled_cat, read_image

    cat = read_image(bundled_cat())
    h, w = cat.shape[:2]

    def crop(i: int) -> np.ndarray:
        t, l, s = _CAT_CROPS[i]
        side = round(h * s)
        y0, x0 = round(t * h), round(l * (w - side))
        return cat[y0 : y0 + side, x0 : x0 + side]

    src = DataSource("bundled photo (crops of the cat)", len(_CAT_CROPS), height, width, channels,
                     lambda idx: [crop(i) for i in idx])
    src.notes.append(f"no --data: using {len(_CAT_CROPS)} crops of the bundled cat photo as data; pass --data FOLDER for real dataset examples")
    return src
