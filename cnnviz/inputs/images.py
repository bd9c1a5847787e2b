"""Reading and resizing image files (OpenCV). No TensorFlow here."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import CnnvizError
from ..pixels import luma
from .fitting import Fit, fit_image


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


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize (H, W, C) to (height, width, C): area averaging when shrinking, bilinear when growing."""
    import cv2

    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    interp = cv2.INTER_AREA if height * width < h * w else cv2.INTER_LINEAR
    out = cv2.resize(image, (width, height), interpolation=interp)
    return out.reshape(height, width, image.shape[-1])


@dataclass
class Photo:
    """An image file fitted to a model: ``pixels`` (what the model is fed), ``original`` (the whole photo
    at the model's channel count), ``fit`` (which part went where), notes and the manifest's record."""

    pixels: np.ndarray
    original: np.ndarray
    fit: Fit
    notes: list[str]
    record: dict


def load_photo(path: str | Path | None, height: int, width: int, channels: int, fit: str = "crop") -> Photo:
    """Read (default: the bundled cat), convert channels and fit to ``height`` x ``width`` by ``fit``
    (:func:`cnnviz.inputs.fitting.fit_image`: the one convention of every command)."""
    source = bundled_cat() if path is None else Path(path)
    image = read_image(source)
    h0, w0, c0 = image.shape
    image, note = fit_channels(image, channels)
    notes = [note] if note else []
    pixels, how = fit_image(image, height, width, fit)
    if how.note():
        notes.append(how.note())
    record = {"input": str(source), "input_size": [w0, h0], "input_channels": c0,
              "fed_size": [int(pixels.shape[1]), int(pixels.shape[0])], **how.record(), "input_changes": notes}
    return Photo(pixels, image, how, notes, record)


def load_input(path: str | Path | None, height: int | None, width: int | None, channels: int,
               fit: str = "crop") -> tuple[np.ndarray, list[str], dict]:
    """:func:`load_photo` as (uint8 image, notes for the user, the manifest's record of the input);
    without ``height``/``width`` the image keeps its size."""
    if not (height and width):
        image = read_image(bundled_cat() if path is None else Path(path))
        height, width, fit = image.shape[0], image.shape[1], "squash"
    photo = load_photo(path, height, width, channels, fit)
    return photo.pixels, photo.notes, photo.record


def load_for_model(path: str | Path | None, height: int, width: int, channels: int,
                   fit: str = "crop") -> tuple[np.ndarray, list[str]]:
    """Read (default: the bundled cat), convert channels and fit; returns (uint8 image, notes)."""
    image, notes, _ = load_input(path, height, width, channels, fit)
    return image, notes
