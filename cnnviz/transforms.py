"""Random image transforms for robust optimisation, as per-image affine matrices (numpy only).

Each step, every image gets its own small random jitter / scale / rotation, drawn from its own
random stream, so that a batch of images gives exactly what each image would give alone. The
engine applies the matrices in-graph (bilinear, reflected borders) before the forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IDENTITY = np.array([1, 0, 0, 0, 1, 0, 0, 0], dtype="float32")


@dataclass(frozen=True)
class Transforms:
    """Ranges of the random transforms: ``jitter`` in pixels, ``scale`` (lo, hi), ``rotate`` in degrees."""

    jitter: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    rotate: float = 0.0

    @property
    def active(self) -> bool:
        return self.jitter > 0 or self.scale != (1.0, 1.0) or self.rotate > 0

    def sample(self, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
        """One projective-transform row (a0..a7, output->input mapping) for an image of this size."""
        dy, dx = rng.uniform(-self.jitter, self.jitter, size=2) if self.jitter else (0.0, 0.0)
        s = rng.uniform(*self.scale) if self.scale != (1.0, 1.0) else 1.0
        angle = np.deg2rad(rng.uniform(-self.rotate, self.rotate)) if self.rotate else 0.0
        return affine_row(height, width, s, angle, dy, dx)


def affine_row(height: int, width: int, scale: float, angle: float, dy: float, dx: float) -> np.ndarray:
    """Matrix mapping output (x, y) to input coordinates for a zoom by ``scale`` and rotation by
    ``angle`` about the image centre, followed by a shift of (dy, dx)."""
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    c, s = np.cos(angle) / scale, np.sin(angle) / scale
    a0, a1 = c, -s
    b0, b1 = s, c
    a2 = cx - a0 * cx - a1 * cy - dx
    b2 = cy - b0 * cx - b1 * cy - dy
    return np.array([a0, a1, a2, b0, b1, b2, 0.0, 0.0], dtype="float32")
