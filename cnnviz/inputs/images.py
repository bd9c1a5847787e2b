"""Reading and resizing image files (OpenCV). No TensorFlow here."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import CnnvizError
from ..pixels import luma
from .fitting import Fit, fit_image, resize  # noqa: F401 (resize: re-exported, the one resampling)


def bundled_cat() -> Path:
    """Path of the bundled cat photo (scikit-image's 'chelsea', CC0)."""
    return Path(str(resources.files("cnnviz").joinpath("data/chelsea.png")))


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3) or grey (H, W, 1)."""
    import cv2

    p = Path(path)
    if not p.is_file():
        raise CnnvizError(f"image file {str(p)!r} does not exist")
    data = np.fromfile(str(p), dtype="uint8")
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise CnnvizError(f"{str(p)!r} is not a readable image (PNG, JPEG, BMP, TIFF... expected)")
    if img.dtype != np.uint8:
        img = (img / max(1.0, float(np.iinfo(img.dtype).max if img.dtype.kind in "ui" else img.max())) * 255).astype("uint8")
    if img.ndim == 2:
        return img[..., None]
    if img.shape[-1] == 4:
        img = img[..., :3]
    return img[..., ::-1].copy()  # BGR -> RGB


def fit_channels(image: np.ndarray, channels: int) -> tuple[np.ndarray, str | None]:
    """Convert an image to the model's channel count; returns (image, note-for-the-user or None)."""
    have = image.shape[-1]
    if have == channels:
        return image, None
    if have == 3 and channels == 1:
        return np.rint(luma(image))[..., None].astype(image.dtype), "converted the RGB image to grey for this 1-channel model"
    if have == 1 and channels == 3:
        return np.repeat(image, 3, axis=-1), "converted the grey image to RGB (3 equal channels) for this RGB model"
    raise CnnvizError(f"the image has {have} channels but the model takes {channels}")


@dataclass
class Photo:
    """An image file fitted to a model: ``pixels`` (what the model is fed), ``original`` (the whole photo
    at the model's channel count), ``fit`` (which part went where), notes and the manifest's record."""

    pixels: np.ndarray
    original: np.ndarray
    fit: Fit
    notes: list[str]
    record: dict


def fit_photo(image: np.ndarray, height: int, width: int, channels: int, source: str, fit: str = "crop") -> Photo:
    """Convert ``image``'s channels and fit it to ``height`` x ``width`` by ``fit``
    (:func:`cnnviz.inputs.fitting.fit_image`: the one convention of every command and of the API)."""
    h0, w0, c0 = image.shape
    image, note = fit_channels(image, channels)
    notes = [note] if note else []
    pixels, how = fit_image(image, height, width, fit)
    if how.note():
        notes.append(how.note())
    record = {"input": source, "input_size": [w0, h0], "input_channels": c0,
              "fed_size": [int(pixels.shape[1]), int(pixels.shape[0])], **how.record(), "input_changes": notes}
    return Photo(pixels, image, how, notes, record)


def load_photo(path: str | Path | None, height: int, width: int, channels: int, fit: str = "crop") -> Photo:
    """Read (default: the bundled cat) and :func:`fit_photo`."""
    source = bundled_cat() if path is None else Path(path)
    return fit_photo(read_image(source), height, width, channels, str(source), fit)


def load_input(path: str | Path | None, height: int | None, width: int | None, channels: int,
               fit: str = "crop") -> tuple[np.ndarray, list[str], dict]:
    """:func:`load_photo` as (uint8 image, notes for the user, the manifest's record of the input);
    without ``height``/``width`` the image keeps its size."""
    if not (height and width):
        image = read_image(bundled_cat() if path is None else Path(path))
        height, width, fit = image.shape[0], image.shape[1], "squash"
    photo = load_photo(path, height, width, channels, fit)
    return photo.pixels, photo.notes, photo.record


def as_array(image) -> tuple[np.ndarray, list[str]]:
    """A numpy array or PIL image as uint8 (H, W, C), with a note when values were rescaled: float
    images in [0, 1] (what ``x / 255`` gives) are taken as fractions of 255, others as 0-255 values."""
    notes: list[str] = []
    if hasattr(image, "convert") and hasattr(image, "mode"):  # a PIL image
        image = np.asarray(image.convert("L" if image.mode in ("L", "1", "I", "F") else "RGB"))
    a = np.asarray(image)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4) or a.dtype.kind not in "uif" or a.size == 0:
        raise CnnvizError(f"an image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) numbers; got shape {a.shape} {a.dtype}")
    a = a[..., :3]
    if a.dtype == np.uint8:
        return a.copy(), notes
    a = a.astype("float64")
    if not np.isfinite(a).all():
        raise CnnvizError("the image holds NaN or infinite values")
    if a.dtype.kind == "f" and a.min() >= 0.0 and a.max() <= 1.0:
        a = a * 255.0
        notes.append("the float image is in [0, 1]: read as fractions of 255")
    elif a.min() < 0.0 or a.max() > 255.0:
        notes.append(f"the image's values run {a.min():.3g}..{a.max():.3g}: clipped to 0-255")
    return np.clip(np.rint(a), 0, 255).astype("uint8"), notes


def expand_image_specs(specs) -> list[Path]:
    """Image arguments -> files: a folder gives its images (sorted), a glob its matches, a file itself;
    one line for an empty folder, a pattern matching nothing, or two inputs of the same name."""
    import glob

    from ..checks import IMAGE_SUFFIXES

    found: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            files = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES and q.is_file())
            if not files:
                raise CnnvizError(f"folder {str(spec)!r} holds no image ({', '.join(IMAGE_SUFFIXES)})")
            found += files
        elif any(ch in str(spec) for ch in "*?[") and not p.exists():
            files = sorted(Path(q) for q in glob.glob(str(spec)) if Path(q).is_file())
            if not files:
                raise CnnvizError(f"no file matches {str(spec)!r}; check the pattern (quote it so the shell does not expand it)")
            found += files
        else:
            found.append(p)
    stems = [q.stem for q in found]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise CnnvizError(f"several inputs are named {twice[0]!r}; outputs are named after the image, so give them distinct names")
    return list(dict.fromkeys(found))
