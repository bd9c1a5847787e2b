"""RISE (Petsiuk et al. 2018; xplique's ``Rise``): the class probability of many randomly masked copies,
each credited to the pixels its mask kept. Gradient-free, like occlusion, but with smooth random masks
of a coarse grid instead of one sliding window."""

from __future__ import annotations

import numpy as np

from ...models.heads import Score
from ...errors import CnnvizError
from ...inputs.preprocessing import to_model_input
from .base import Method

GRID = 7  # cells per side, the paper's and xplique's default
KEEP = 0.5  # probability that a cell is kept


def rise_masks(n: int, hw: tuple[int, int], rng: np.random.Generator, grid: int = GRID, keep: float = KEEP) -> np.ndarray:
    """(n, H, W) soft masks in [0, 1]: a random binary ``grid`` x ``grid`` pattern, upsampled bilinearly to
    ``grid + 1`` cells and cropped at a random shift within one cell (Petsiuk et al., sec. 3.2)."""
    import cv2

    h, w = hw
    ch, cw = -(-h // grid), -(-w // grid)
    out = np.empty((n, h, w), "float32")
    for i in range(n):
        cells = (rng.random((grid, grid)) < keep).astype("float32")
        up = cv2.resize(cells, ((grid + 1) * cw, (grid + 1) * ch), interpolation=cv2.INTER_LINEAR)
        dy, dx = rng.integers(0, ch), rng.integers(0, cw)
        out[i] = up[dy : dy + h, dx : dx + w]
    return out


class RISE(Method):
    """sum_i (p_i - mean p) * M_i / (n * keep), p_i = p(class | x masked by M_i towards ``baseline``, black by
    default). Petsiuk's sum_i p_i M_i carries a large constant (a confident model keeps p near 1 under
    most masks) plus the noise of how often each pixel happened to be kept; subtracting the mean score
    removes both and leaves the covariance of score and mask, the part that says where the class is."""

    name = "rise"

    def __init__(self, subject, masks: int = 1000, seed: int = 0, baseline: np.ndarray | None = None, batch_size: int = 32):
        super().__init__(subject)
        if masks < 1:
            raise CnnvizError(f"RISE needs at least 1 mask, got {masks}")
        self.masks, self.seed, self.baseline, self.batch_size = masks, seed, baseline, batch_size

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        inputs = np.asarray(inputs, "float32")
        score = self.subject.score(target)
        hw = inputs.shape[1:3]
        if self.baseline is None:
            base = to_model_input(np.zeros((1,) + inputs.shape[1:], "float32"), self.subject.loaded.preprocess)[0]
        else:
            base = np.asarray(self.baseline, "float32")
        out = []
        for x in inputs:
            rng = np.random.default_rng(self.seed)
            total, kept, psum = np.zeros(hw, "float64"), np.zeros(hw, "float64"), 0.0
            for b in range(0, self.masks, self.batch_size):
                m = rise_masks(min(self.batch_size, self.masks - b), hw, rng)
                p = self.subject.probability((base + m[..., None] * (x - base)).astype("float32"), score)
                total += np.tensordot(p, m, axes=1)
                kept += m.sum(axis=0)
                psum += float(p.sum())
            out.append((total - psum / self.masks * kept) / (self.masks * KEEP))
        self.info.update(masks=self.masks, grid=GRID)
        return np.stack(out).astype("float32")
