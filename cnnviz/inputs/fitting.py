"""Fitting a photo to a model's input, one convention for every command, and mapping results back.

Fixed-size ImageNet models were trained on centre crops of photos resized by their short side, so
that is the default (``crop``); a model that takes any size is fed the whole photo at its own aspect
(``keep``). A :class:`Fit` remembers which part of the photo the model saw, so a heatmap computed on
the fed image can be drawn on the whole original photo (:meth:`Fit.to_original`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .. import checks
from ..errors import CnnvizError

WORDS = {
    "crop": "short side resized, centre cropped",
    "pad": "resized to fit, padded with black",
    "squash": "stretched (aspect not kept)",
    "keep": "resized, aspect kept",
}


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize (H, W, C) to (height, width, C): area averaging when shrinking, bilinear when growing."""
    import cv2

    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    interp = cv2.INTER_AREA if height * width < h * w else cv2.INTER_LINEAR
    out = cv2.resize(image, (width, height), interpolation=interp)
    return out.reshape(height, width, image.shape[-1])



@dataclass(frozen=True)
class Fit:
    """How a photo of ``original`` (h, w) became the fed image of ``fed`` (h, w): the photo's ``window``
    (y0, x0, y1, x1, original pixels) lands on ``placed`` (y0, x0, y1, x1, fed pixels)."""

    mode: str
    original: tuple[int, int]
    fed: tuple[int, int]
    window: tuple[int, int, int, int]
    placed: tuple[int, int, int, int]

    def record(self) -> dict:
        y0, x0, y1, x1 = self.window
        return {"fit": self.mode, "fit_means": WORDS[self.mode], "window": [x0, y0, x1, y1],
                "window_is": "the part of the original photo the model saw (x0, y0, x1, y1)"}

    def note(self) -> str | None:
        if self.original == self.fed:
            return None
        (h0, w0), (h, w) = self.original, self.fed
        other = "|".join(m for m in checks.FIT_MODES if m not in (self.mode, "keep"))  # keep: any-size models only
        return f"fitted the {w0}x{h0} image to {w}x{h}: {WORDS[self.mode]} (--fit {self.mode}; --fit {other} to change)"

    def caption(self) -> str:
        """For a subtitle: how the photo was fitted, and what the dimmed part means."""
        unseen = "; dimmed: not seen by the model" if self.window != (0, 0, *self.original) else ""
        return f"--fit {self.mode}: {WORDS[self.mode]}{unseen}"

    def to_original(self, fed_map: np.ndarray, outside: float = 0.0) -> np.ndarray:
        """A map over the fed image (H, W[, C]) -> over the whole original photo; ``outside`` where
        the model saw nothing of the photo (cropped away)."""
        m = np.asarray(fed_map, "float32")
        flat = m.ndim == 2
        m = m[..., None] if flat else m
        py0, px0, py1, px1 = self.placed
        y0, x0, y1, x1 = self.window
        out = np.full((*self.original, m.shape[-1]), outside, "float32")
        out[y0:y1, x0:x1] = resize(np.ascontiguousarray(m[py0:py1, px0:px1]), y1 - y0, x1 - x0)
        return out[..., 0] if flat else out

    def seen(self) -> np.ndarray:
        """(H0, W0) bool: the pixels of the original photo the model saw."""
        mask = np.zeros(self.original, bool)
        y0, x0, y1, x1 = self.window
        mask[y0:y1, x0:x1] = True
        return mask


def fed_size(original: tuple[int, int], height: int, width: int, mode: str) -> tuple[int, int]:
    """The fed (h, w): ``keep`` gives the short side ``min(height, width)`` at the photo's aspect."""
    if mode != "keep":
        return height, width
    h0, w0 = original
    scale = min(height, width) / min(h0, w0)
    return max(1, round(h0 * scale)), max(1, round(w0 * scale))


def fit_image(image: np.ndarray, height: int, width: int, mode: str = "crop") -> tuple[np.ndarray, Fit]:
    """Fit ``image`` (H, W, C) to ``height`` x ``width`` by ``mode`` (see :data:`cnnviz.checks.FIT_MODES`)."""
    checks.choice(mode, checks.FIT_MODES, "--fit")
    h0, w0 = image.shape[:2]
    h, w = fed_size((h0, w0), height, width, mode)
    whole = (0, 0, h0, w0)
    if mode in ("squash", "keep"):
        return resize(image, h, w), Fit(mode, (h0, w0), (h, w), whole, (0, 0, h, w))
    if mode == "crop":
        ch, cw = min(h0, max(1, round(w0 * h / w))), min(w0, max(1, round(h0 * w / h)))
        y0, x0 = (h0 - ch) // 2, (w0 - cw) // 2
        window = (y0, x0, y0 + ch, x0 + cw)
        return resize(image[y0:y0 + ch, x0:x0 + cw], h, w), Fit(mode, (h0, w0), (h, w), window, (0, 0, h, w))
    scale = min(h / h0, w / w0)
    ih, iw = max(1, min(h, round(h0 * scale))), max(1, min(w, round(w0 * scale)))
    py, px = (h - ih) // 2, (w - iw) // 2
    out = np.zeros((h, w, image.shape[-1]), image.dtype)
    out[py:py + ih, px:px + iw] = resize(image, ih, iw)
    return out, Fit(mode, (h0, w0), (h, w), whole, (py, px, py + ih, px + iw))


def default_fit(fixed: bool, fit: str | None = None) -> str:
    """``fit``, else ``crop`` for a fixed-size model and ``keep`` for one that takes any size."""
    if fit is None:
        return "crop" if fixed else "keep"
    checks.choice(fit, checks.FIT_MODES, "--fit")
    if fit == "keep" and fixed:
        raise CnnvizError("--fit keep needs a model that takes any size; this one has a fixed input: use crop, pad or squash")
    return fit


def shade_unseen(photo: np.ndarray, fit: Fit, keep: float = 0.35) -> np.ndarray:
    """The photo with what the model did not see dimmed towards white (uint8)."""
    out = np.asarray(photo, "float32").copy()
    unseen = ~fit.seen()
    out[unseen] = 255.0 - (255.0 - out[unseen]) * keep
    return np.clip(np.rint(out), 0, 255).astype("uint8")


def onto_photo(results: Sequence, fit: Fit, original: np.ndarray) -> tuple[np.ndarray, list]:
    """Heatmaps computed on the fed image, drawn on the whole original photo: each result's ``heat``
    mapped back through ``fit`` (0 where the model saw nothing), and the photo with what the model
    did not see dimmed. ``raw`` stays at the fed image's resolution (it is what the model saw)."""
    return shade_unseen(original, fit), [replace(r, heat=fit.to_original(r.heat)) for r in results]
