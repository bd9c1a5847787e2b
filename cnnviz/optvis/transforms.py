"""Random image transforms for robust optimisation (transformation robustness, as in lucid).

A transform list such as :data:`STANDARD` (lucid's standard set) is sampled per image and per step
from that image's own random stream (numpy), so a batch gives exactly what each image would give
alone. Padding is a fixed border; jitter, scale and rotation compose into one affine matrix per image,
which the engine applies in-graph (``keras.ops.image.affine_transform``, bilinear) before the forward
pass. The numpy side here imports nothing heavy; :func:`apply` uses ``keras.ops``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

IDENTITY = np.array([1, 0, 0, 0, 1, 0, 0, 0], dtype="float32")


@dataclass(frozen=True)
class Pad:
    """A border of ``width`` pixels of grey (``value``, 0-255) or ``mode="reflect"``."""

    width: int
    value: float = 127.5
    mode: str = "constant"


@dataclass(frozen=True)
class Jitter:
    """A random shift of up to ``pixels`` in each direction (integer steps, as lucid)."""

    pixels: int

    def matrix(self, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        dy, dx = rng.integers(-self.pixels, self.pixels + 1, size=2)
        return _shift(float(dy), float(dx))


@dataclass(frozen=True)
class Scale:
    """A zoom about the centre by a factor drawn from ``factors``."""

    factors: tuple[float, ...]

    def matrix(self, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        return _about_centre(np.diag([float(rng.choice(self.factors))] * 2 + [1.0]), h, w)


@dataclass(frozen=True)
class Rotate:
    """A rotation about the centre by an angle (degrees) drawn from ``angles``."""

    angles: tuple[float, ...]

    def matrix(self, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        a = np.deg2rad(float(rng.choice(self.angles)))
        c, s = np.cos(a), np.sin(a)
        return _about_centre(np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]), h, w)


@dataclass(frozen=True)
class Crop:
    """A random square crop, resized back to the full image: MACO's (Fel et al. 2023) views. Its side
    is a share of the image's drawn from ``boxes`` (lo, hi); its centre is the image's plus a normal
    offset of ``spread`` (a share of the side), kept so that the box stays inside the image."""

    boxes: tuple[float, float] = (0.5, 1.0)
    spread: float = 0.15

    def matrix(self, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        b = float(rng.uniform(*self.boxes))
        cy, cx = np.clip(0.5 + rng.normal(0.0, self.spread, size=2), b / 2, 1 - b / 2)
        zoom = np.diag([1.0 / b, 1.0 / b, 1.0])
        return _shift((h - 1) / 2.0, (w - 1) / 2.0) @ zoom @ _shift(-cy * (h - 1), -cx * (w - 1))


#: lucid's ``transform.standard_transforms``: pad 12, jitter 8, scale 0.9-1.1, rotate +-10 deg, jitter 4.
STANDARD: tuple = (Pad(12), Jitter(8), Scale(tuple(1 + (i - 5) / 50 for i in range(11))),
                   Rotate(tuple(range(-10, 11)) + (0,) * 5), Jitter(4))
NONE: tuple = ()


def standard(size: tuple[int, int] | int) -> tuple:
    """lucid's standard set with its pixel amounts (pad, jitters) scaled to an image of ``size``
    (lucid's values are for 224 px; at least 1 pixel each)."""
    k = max(size if isinstance(size, int) else max(size), 1) / 224.0
    px = lambda v: max(1, int(round(v * k)))
    return (Pad(px(12)), Jitter(px(8)), STANDARD[2], STANDARD[3], Jitter(px(4)))


def _shift(dy: float, dx: float) -> np.ndarray:
    """Forward map (x, y) -> (x + dx, y + dy) in homogeneous (x, y, 1) coordinates."""
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _about_centre(m: np.ndarray, h: int, w: int) -> np.ndarray:
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    return _shift(cy, cx) @ m @ _shift(-cy, -cx)


def padding(transforms: Sequence) -> int:
    return int(sum(t.width for t in transforms if isinstance(t, Pad)))


def sample(transforms: Sequence, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """One affine row (a0..a7, output -> input coordinates, as ``affine_transform`` takes it) for an
    image of h x w (after padding): the forward maps of the list composed in order, then inverted."""
    forward = np.eye(3)
    for t in transforms:
        if hasattr(t, "matrix"):
            forward = t.matrix(rng, h, w) @ forward
    inv = np.linalg.inv(forward)
    inv = inv / inv[2, 2]
    return np.array([inv[0, 0], inv[0, 1], inv[0, 2], inv[1, 0], inv[1, 1], inv[1, 2], 0.0, 0.0], "float32")


def apply(images: Any, transforms: Sequence, matrices: Any) -> Any:
    """Pad ``images`` (B, H, W, C; keras tensors) as the list says, then warp each image by its row
    of ``matrices`` (B, 8), bilinear, borders reflected."""
    from keras import ops

    pads = [t for t in transforms if isinstance(t, Pad)]
    x = images
    for p in pads:
        widths = [[0, 0], [p.width, p.width], [p.width, p.width], [0, 0]]
        x = ops.pad(x, widths, mode="reflect") if p.mode == "reflect" else ops.pad(x, widths, constant_values=p.value)
    if any(hasattr(t, "matrix") for t in transforms):
        x = ops.image.affine_transform(x, matrices, interpolation="bilinear", fill_mode="reflect")
    return x


@dataclass(frozen=True)
class Transforms:
    """The ranges of the earlier, continuous transforms (``smooth`` filters): ``jitter`` in pixels,
    ``scale`` (lo, hi), ``rotate`` in degrees; kept for code written against it."""

    jitter: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    rotate: float = 0.0

    @property
    def active(self) -> bool:
        return self.jitter > 0 or self.scale != (1.0, 1.0) or self.rotate > 0

    def matrix(self, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        row = self.sample(rng, h, w)
        inv = np.array([row[0:3], row[3:6], [0.0, 0.0, 1.0]], dtype="float64")
        return np.linalg.inv(inv)

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


def as_list(transforms) -> tuple:
    """Accept a list of transforms, the older :class:`Transforms`, or None."""
    if transforms is None:
        return ()
    if isinstance(transforms, Transforms):
        return (transforms,) if transforms.active else ()
    return tuple(transforms)
