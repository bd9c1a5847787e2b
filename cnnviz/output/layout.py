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


def caption_font(size: int = CAPTION_FONT_SIZE):
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
    if captions:
        captions = [wrap_text(c, tw) for c in captions]
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
    font = caption_font()
    for i, text in enumerate(captions):
        r, c = divmod(i, cols)
        y = margin + r * (th + cap_h + margin) + th + 1
        x = margin + c * (tw + margin)
        for k, line in enumerate(text.split("\n")):  # already wrapped to the tile width
            draw.text((x + 1, y + k * (CAPTION_FONT_SIZE + 3)), line, fill=(20, 20, 20), font=font)
    return np.asarray(img)


def _text_width(text: str, size: int = CAPTION_FONT_SIZE) -> float:
    return caption_font(size).getlength(text)


def wrap_text(text: str, width: int, size: int = CAPTION_FONT_SIZE) -> str:
    """Wrap every line of ``text`` at spaces (or anywhere, for one long word) to fit ``width`` pixels,
    so that a caption is never cut."""
    out: list[str] = []
    for line in text.split("\n"):
        current = ""
        for word in line.split(" "):
            trial = f"{current} {word}" if current else word
            if _text_width(trial, size) <= width - 2 or not current and not word:
                current = trial
                continue
            if current:
                out.append(current)
            current = word
            while _text_width(current, size) > width - 2 and len(current) > 1:  # one word wider than the tile
                cut = len(current)
                while cut > 1 and _text_width(current[:cut], size) > width - 2:
                    cut -= 1
                out.append(current[:cut])
                current = current[cut:]
        out.append(current)
    return "\n".join(out)


TITLE_FONT_SIZE = 15
#: The one phrase on every figure of a model with random (untrained) weights, in a red band under the title:
#: such a figure shows the architecture at initialisation, which is easily mistaken for a result.
UNTRAINED_MARK = "UNTRAINED: random weights, not a trained model; nothing here was learned"
UNTRAINED_RED = (200, 0, 0)


def titled(image: np.ndarray, title: str, subtitle: str = "", margin: int = 6, untrained: bool = False) -> np.ndarray:
    """``image`` with a title band on top (wrapped to the image width): every PNG says what it shows.
    ``untrained``: add :data:`UNTRAINED_MARK` in a red band (the model's weights are random)."""
    from PIL import Image, ImageDraw

    image = to_rgb(to_uint8(image))
    width = max(image.shape[1], 360)
    if image.shape[1] < width:
        image = np.pad(image, ((0, 0), (0, width - image.shape[1]), (0, 0)), constant_values=BACKGROUND)
    head = wrap_text(title, width - 2 * margin, TITLE_FONT_SIZE).split("\n")
    sub = wrap_text(subtitle, width - 2 * margin).split("\n") if subtitle else []
    band_h = margin + len(head) * (TITLE_FONT_SIZE + 4) + len(sub) * (CAPTION_FONT_SIZE + 3) + margin
    band = Image.new("RGB", (width, band_h), (BACKGROUND,) * 3)
    draw = ImageDraw.Draw(band)
    y = margin
    for line in head:
        draw.text((margin, y), line, fill=(0, 0, 0), font=caption_font(TITLE_FONT_SIZE))
        y += TITLE_FONT_SIZE + 4
    for line in sub:
        draw.text((margin, y), line, fill=(70, 70, 70), font=caption_font())
        y += CAPTION_FONT_SIZE + 3
    parts = [np.asarray(band), image]
    if untrained:
        parts.insert(1, untrained_band(width, margin))
    return np.concatenate(parts, axis=0)


def untrained_band(width: int, margin: int = 6) -> np.ndarray:
    """White :data:`UNTRAINED_MARK` on red, as wide as the figure."""
    from PIL import Image, ImageDraw

    lines = wrap_text(UNTRAINED_MARK, width - 2 * margin, TITLE_FONT_SIZE).split("\n")
    band = Image.new("RGB", (width, 2 * margin + len(lines) * (TITLE_FONT_SIZE + 4)), UNTRAINED_RED)
    draw = ImageDraw.Draw(band)
    for k, line in enumerate(lines):
        draw.text((margin, margin + k * (TITLE_FONT_SIZE + 4)), line, fill=(255, 255, 255), font=caption_font(TITLE_FONT_SIZE))
    return np.asarray(band)


def colorbar(height: int, lo: float, hi: float, cmap: str | None = "viridis", label: str = "", width: int = 16,
             ticks: Sequence[tuple[float, str]] | None = None) -> np.ndarray:
    """A vertical colour bar (``hi`` on top) with tick labels and a label, ``height`` pixels tall.
    ``cmap=None`` draws a grey ramp (black = ``lo``, white = ``hi``)."""
    from PIL import Image, ImageDraw

    from ..pixels import colormap

    height = max(int(height), 60)
    ramp = np.linspace(1.0, 0.0, height - 28)[:, None] * np.ones((1, width))
    bar = colormap(ramp, cmap) if cmap else np.repeat(to_uint8(ramp * 255.0)[..., None], 3, axis=-1)
    ticks = list(ticks) if ticks is not None else [(hi, f"{hi:.3g}"), ((lo + hi) / 2, f"{(lo + hi) / 2:.3g}"), (lo, f"{lo:.3g}")]
    text_w = int(max([_text_width(t) for _, t in ticks] + [_text_width(w) for w in label.split(" ")] + [10])) + 8
    canvas = Image.new("RGB", (width + text_w + 6, height), (BACKGROUND,) * 3)
    canvas.paste(Image.fromarray(bar), (2, 12))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((2, 12, 2 + width - 1, 12 + bar.shape[0] - 1), outline=(90, 90, 90))
    span = (hi - lo) or 1.0
    for value, text in ticks:
        y = 12 + round((hi - value) / span * (bar.shape[0] - 1))
        draw.line((2 + width, y, 6 + width, y), fill=(40, 40, 40))
        draw.text((8 + width, y - CAPTION_FONT_SIZE // 2 - 1), text, fill=(20, 20, 20), font=caption_font())
    if label:  # under the middle tick, wrapped
        lines = wrap_text(label, text_w - 4).split("\n")
        y0 = 12 + bar.shape[0] // 2 + CAPTION_FONT_SIZE + 2
        for k, line in enumerate(lines):
            if y0 + (k + 1) * (CAPTION_FONT_SIZE + 3) < height - 12:
                draw.text((8 + width, y0 + k * (CAPTION_FONT_SIZE + 3)), line, fill=(90, 90, 90), font=caption_font())
    return np.asarray(canvas)


def beside(image: np.ndarray, *extras: np.ndarray, gap: int = 6) -> np.ndarray:
    """``image`` with ``extras`` (colour bars, legends) to its right, top-aligned."""
    parts = [to_rgb(to_uint8(image))] + [to_rgb(to_uint8(e)) for e in extras]
    h = max(p.shape[0] for p in parts)
    out = []
    for k, p in enumerate(parts):
        if k:
            out.append(np.full((h, gap, 3), BACKGROUND, "uint8"))
        out.append(np.pad(p, ((0, h - p.shape[0]), (0, 0), (0, 0)), constant_values=BACKGROUND))
    return np.concatenate(out, axis=1)


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
    # each panel keeps its own width (a photo's aspect, a narrow colour bar), widened only to fit its title
    cells = []
    for t, title in zip(tiles, titles):
        need = int(max([_text_width(line) for line in title.split("\n")] + [0])) + 2
        t = np.pad(t, ((0, 0), (0, max(0, need - t.shape[1])), (0, 0)), constant_values=BACKGROUND)
        cells.append(make_grid([t], [title], cols=1, margin=0, min_tile=0))
    tall = max(c.shape[0] for c in cells)
    row = beside(*[np.pad(c, ((0, tall - c.shape[0]), (0, 0), (0, 0)), constant_values=BACKGROUND) for c in cells], gap=margin)
    return np.pad(row, ((margin, margin), (margin, margin), (0, 0)), constant_values=BACKGROUND)


def table_image(columns: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = (), margin: int = 8) -> np.ndarray:
    """A plain text table (header, rule, rows) as a uint8 RGB image; columns in ``right`` right-aligned."""
    from PIL import Image, ImageDraw

    font, line_h, gap = caption_font(), CAPTION_FONT_SIZE + 5, 18
    cells = [list(columns)] + [list(r) for r in rows]
    widths = [max(_text_width(str(r[i])) for r in cells) for i in range(len(columns))]
    width = int(sum(widths) + gap * (len(columns) - 1) + 2 * margin)
    height = int(line_h * len(cells) + 2 * margin + 4)
    canvas = Image.new("RGB", (max(width, 1), height), (BACKGROUND,) * 3)
    draw = ImageDraw.Draw(canvas)
    y = margin
    for n, row in enumerate(cells):
        x = margin
        for i, text in enumerate(row):
            dx = widths[i] - _text_width(str(text)) if i in right else 0
            draw.text((x + dx, y), str(text), fill=(0, 0, 0) if n else (40, 40, 120), font=font)
            x += widths[i] + gap
        y += line_h
        if n == 0:
            draw.line([(margin, y - 2), (width - margin, y - 2)], fill=(150, 150, 150))
            y += 4
    return np.asarray(canvas)
