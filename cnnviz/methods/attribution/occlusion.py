"""Occlusion (Zeiler & Fergus 2014): slide a window over the image, replace it by a baseline, and credit
each pixel with the average drop of the class logit over the windows that cover it (as Captum does)."""

from __future__ import annotations

import numpy as np

from ...errors import CnnvizError
from ...models.heads import Score
from .base import Method


def default_window(h: int, w: int) -> int:
    """About an eighth of the smaller side (4 px at 28, 28 px at 224), at least 1."""
    return max(1, round(min(h, w) / 8))


def _starts(n: int, size: int, stride: int) -> list[int]:
    starts = list(range(0, max(n - size, 0) + 1, stride))
    if starts[-1] + size < n:
        starts.append(n - size)  # cover the far edge too
    return starts


class Occlusion(Method):
    name = "occlusion"

    def __init__(self, subject, baseline: np.ndarray | None = None, window: int | None = None, stride: int | None = None,
                 batch_size: int = 32):
        super().__init__(subject)
        h, w = subject.image_hw
        self.window = window or default_window(h, w)
        self.stride = stride or max(1, self.window // 2)
        if self.window > min(h, w):
            raise CnnvizError(f"occlusion window {self.window} px is larger than the {w}x{h} input")
        self.baseline = baseline  # model-input space (H, W, C); None: zeros
        self.batch_size = batch_size

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        inputs = np.asarray(inputs, "float32")
        h, w = inputs.shape[1:3]
        k, s = self.window, self.stride
        boxes = [(y, x) for y in _starts(h, k, s) for x in _starts(w, k, s)]
        out = []
        score = self.subject.score(target)
        for x in inputs:
            x0 = np.zeros_like(x) if self.baseline is None else np.asarray(self.baseline, "float32")
            full = score.values(self.subject.forward(x[None]))[0]
            total, count = np.zeros((h, w)), np.zeros((h, w))
            for b in range(0, len(boxes), self.batch_size):
                chunk = boxes[b : b + self.batch_size]
                batch = np.repeat(x[None], len(chunk), axis=0)
                for i, (y0, x0_) in enumerate(chunk):
                    batch[i, y0 : y0 + k, x0_ : x0_ + k] = x0[y0 : y0 + k, x0_ : x0_ + k]
                drops = full - score.values(self.subject.forward(batch))
                for (y0, x0_), d in zip(chunk, drops):
                    total[y0 : y0 + k, x0_ : x0_ + k] += d
                    count[y0 : y0 + k, x0_ : x0_ + k] += 1
            out.append(total / np.maximum(count, 1))
        self.info.update(window=k, stride=s)
        return np.stack(out).astype("float32")
