"""Grid layout and captions (numpy and Pillow; no TensorFlow).

Geometry (exact, tested): with ``cols`` columns, ``rows`` rows, tiles of ``th x tw`` (after integer
upscaling), ``margin`` pixels and a caption band of ``caption_height`` pixels under every tile
(0 when there are no captions)::

    width  = cols * tw + (cols + 1) * margin
    height = rows * (th + caption_height) + (rows + 1) * margin
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import CnnvizError
from ..pixels import to_rgb, to_uint8, upscale_nearest

BACKGROUND = 255
CAPTION_FONT_SIZE = 11


def _font(size: int = CAPTION_FONT_SIZE):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def caption_height(lines: int = 1, size: int = CAPTION_FONT_SIZE) -> int:
    return lines * (size + 3) + 2


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """(rows, cols) for n tiles: near-square unless ``cols`` is given."""
    if n <= 0:
        raise CnnvizError("nothing to lay out: the grid has no tiles")
    cols = cols or math.ceil(math.sqrt(n))
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def make_grid(
    tiles: Sequence[np.ndarray],
    captions: Sequence[str] | None = None,
    cols: int | None = None,
    margin: int = 4,
    min_tile: int = 96,
) -> np.ndarray:
    """Lay tiles (uint8, grey or RGB, all the same size) out as an RGB uint8 grid.

    Small tiles are enlarged by an integer nearest-neighbour factor to at least ``min_tile`` pixels
    so that they stay crisp and the captions fit. A caption may hold several lines (``\\n``).
    """
    if not len(tiles):
        raise CnnvizError("nothing to lay out: the grid has no tiles")
    shapes = {t.shape[:2] for t in tiles}
    if len(shapes) != 1:
        raise CnnvizError(f"grid tiles differ in size: {sorted(shapes)}")
    th0, tw0 = shapes.pop()
    factor = max(1, math.ceil(min_tile / max(th0, tw0))) if min_tile else 1
    th, tw = th0 * factor, tw0 * factor
    rows, cols = grid_shape(len(tiles), cols)
    lines = max((c.count("\n") + 1 for c in captions), default=0) if captions else 0
    cap_h = caption_height(lines) if lines else 0
    width = cols * tw + (cols + 1) * margin
    height = rows * (th + cap_h) + (rows + 1) * margin
    canvas = np.full((height, width, 3), BACKGROUND, dtype="uint8")
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y = margin + r * (th + cap_h + margin)
        x = margin + c * (tw + margin)
        canvas[y : y + th, x : x + tw] = upscale_nearest(to_rgb(to_uint8(tile)), factor)
    if cap_h:
        canvas = _draw_captions(canvas, captions, rows, cols, th, tw, cap_h, margin)
    return canvas


def _draw_captions(canvas, captions, rows, cols, th, tw, cap_h, margin) -> np.ndarray:
    from PIL import Image, ImageDraw

    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    font = _font()
    for i, text in enumerate(captions):
        r, c = divmod(i, cols)
        y = margin + r * (th + cap_h + margin) + th + 1
        x = margin + c * (tw + margin)
        for k, line in enumerate(text.split("\n")):
            while line and draw.textlength(line, font=font) > tw:
                line = line[:-1]
            draw.text((x + 1, y + k * (CAPTION_FONT_SIZE + 3)), line, fill=(20, 20, 20), font=font)
    return np.asarray(img)


def hstack_panels(panels: Sequence[np.ndarray], titles: Sequence[str], margin: int = 6, min_tile: int = 160) -> np.ndarray:
    """A one-row panel [a | b | c] with a title under each image (all images resized to one height)."""
    import cv2

    h = max(max(p.shape[0] for p in panels), min_tile)
    tiles = []
    for p in panels:
        p = to_rgb(to_uint8(p))
        w = max(1, round(p.shape[1] * h / p.shape[0]))
        interp = cv2.INTER_NEAREST if p.shape[0] < h else cv2.INTER_AREA
        tiles.append(cv2.resize(p, (w, h), interpolation=interp) if p.shape[:2] != (h, w) else p)
    width = max(t.shape[1] for t in tiles)
    padded = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0)), constant_values=BACKGROUND) for t in tiles]
    return make_grid(padded, titles, cols=len(padded), margin=margin, min_tile=0)
