"""The classic 3x3 image kernels, with their textbook weights (numpy only).

Convention: kernels are applied by cross-correlation (what ``Conv2D``, ``cv2.filter2D`` and
``cv2.Sobel`` compute). The "vertical-edge" kernel V responds to vertical edges (a change along x);
H = V transposed responds to horizontal edges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CnnvizError

SOBEL_V = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float64")
PREWITT_V = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype="float64")
SCHARR_V = np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]], dtype="float64")
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype="float64")
BLUR = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype="float64") / 16.0
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype="float64")
EMBOSS = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype="float64")
OUTLINE = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype="float64")

#: Edge pairs (V, H) by name; single kernels by name.
EDGE_PAIRS = {"sobel": SOBEL_V, "prewitt": PREWITT_V, "scharr": SCHARR_V}
SINGLE = {"laplacian": LAPLACIAN, "blur": BLUR, "sharpen": SHARPEN, "emboss": EMBOSS, "outline": OUTLINE}
NAMES = tuple(EDGE_PAIRS) + tuple(SINGLE)


def gallery_kernels() -> dict[str, np.ndarray]:
    """The gallery, in display order."""
    out: dict[str, np.ndarray] = {}
    for name, v in EDGE_PAIRS.items():
        out[f"{name} V"] = v
        out[f"{name} H"] = v.T.copy()
    out.update(SINGLE)
    return out


def load_kernel_file(path: str | Path) -> np.ndarray:
    """A square 2-D numeric kernel from a .npy file or a text file (rows of numbers)."""
    p = Path(path)
    if not p.is_file():
        raise CnnvizError(f"unknown kernel {str(path)!r}; use one of: {', '.join(NAMES)}, or a kernel FILE")
    try:
        k = np.load(str(p)) if p.suffix == ".npy" else np.loadtxt(str(p), delimiter="," if "," in p.read_text() else None, ndmin=2)
    except (ValueError, OSError) as exc:
        raise CnnvizError(f"kernel file {str(p)!r} is not a numeric array: {str(exc).splitlines()[0][:100]}") from None
    k = np.asarray(k, dtype="float64")
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0 or not np.isfinite(k).all():
        raise CnnvizError(f"kernel file {str(p)!r} holds shape {k.shape}; a kernel must be a square 2-D array of odd size (3x3, 5x5...)")
    return k


def ring_rotate(k: np.ndarray, steps: int) -> np.ndarray:
    """Rotate a 3x3 kernel by ``steps`` x 45 degrees (moving its outer ring; the centre stays)."""
    idx = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    vals = [k[i] for i in idx]
    out = k.copy()
    for n, pos in enumerate(idx):
        out[pos] = vals[(n - steps) % 8]
    return out


def templates() -> dict[str, np.ndarray]:
    """Sobel and Prewitt at 8 orientations, Laplacian and blur (both signs): what learned 3x3
    kernels are compared with."""
    out: dict[str, np.ndarray] = {}
    for name, v in (("sobel", SOBEL_V), ("prewitt", PREWITT_V)):
        for r in range(8):
            out[f"{name} {r * 45}°"] = ring_rotate(v, r)
    out["laplacian"] = LAPLACIAN
    out["-laplacian"] = -LAPLACIAN
    out["blur"] = BLUR
    out["-blur"] = -BLUR
    return out


def nearest_template(kernel: np.ndarray) -> tuple[str, float]:
    """(name, cosine similarity) of the classic kernel most similar to a learned 2-D kernel
    (resized to 3x3 by area averaging when larger)."""
    k = np.asarray(kernel, dtype="float64")
    if k.shape != (3, 3):
        import cv2

        k = cv2.resize(k, (3, 3), interpolation=cv2.INTER_AREA)
    best, score = "", -2.0
    norm = np.linalg.norm(k) + 1e-12
    for name, t in templates().items():
        c = float((k * t).sum() / (norm * (np.linalg.norm(t) + 1e-12)))
        if c > score:
            best, score = name, c
    return best, score
