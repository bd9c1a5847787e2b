"""Pictures of the atlas pages (numpy in, uint8 RGB or SVG text out): example thumbnails with the receptive
field, incoming weights, activation histograms. No TensorFlow here."""

from __future__ import annotations

import html

import numpy as np

from ...pixels import colormap, symmetric01, to_rgb, upscale_nearest

THUMB = 96
#: An example shows at least this share of the image's shorter side around the unit, so that a small field
#: (a first layer's 3x3) is seen in context, outlined; a field at least this wide is shown as the crop under it.
CONTEXT_SHARE = 1 / 3
BOX_COLOUR = (230, 40, 40)


def shows_crop(field_size: tuple[float, float], image_hw: tuple[int, int]) -> bool:
    return min(field_size) >= min(image_hw) * CONTEXT_SHARE


def example_thumb(image: np.ndarray, box: tuple[int, int, int, int], size: int = THUMB) -> np.ndarray:
    """The pixels under ``box`` (y0, x0, y1, x1), widened to at least a third of the image around its centre
    (the box then outlined), enlarged to about ``size`` px."""
    img = to_rgb(image)
    h, w = img.shape[:2]
    y0, x0, y1, x1 = box
    side = max(1, round(min(h, w) * CONTEXT_SHARE))
    wy0, wy1 = _widen(y0, y1, side, h)
    wx0, wx1 = _widen(x0, x1, side, w)
    window = img[wy0:wy1, wx0:wx1]
    big = _enlarge(window, size)
    if (wy0, wx0, wy1, wx1) == (y0, x0, y1, x1):
        return big
    sy, sx = big.shape[0] / window.shape[0], big.shape[1] / window.shape[1]
    out = big.copy()
    t = max(2, round(big.shape[0] / 40))
    ya, xa = round((y0 - wy0) * sy), round((x0 - wx0) * sx)
    yb, xb = round((y1 - wy0) * sy), round((x1 - wx0) * sx)
    ya, xa, yb, xb = max(0, ya - t), max(0, xa - t), min(out.shape[0], yb + t), min(out.shape[1], xb + t)  # outside the field
    for sl in ((slice(ya, ya + t), slice(xa, xb)), (slice(yb - t, yb), slice(xa, xb)),
               (slice(ya, yb), slice(xa, xa + t)), (slice(ya, yb), slice(xb - t, xb))):
        out[sl] = BOX_COLOUR
    return out


def _widen(a: int, b: int, side: int, n: int) -> tuple[int, int]:
    """The interval [a, b) widened about its centre to at least ``side`` pixels, kept inside [0, n)."""
    if b - a >= side:
        return a, b
    lo = max(0, min(n - side, (a + b - side) // 2))
    return lo, min(n, lo + side)


def _enlarge(img: np.ndarray, size: int) -> np.ndarray:
    from ...inputs.images import resize

    h, w = img.shape[:2]
    factor = size // max(h, w)
    if factor >= 2:
        return upscale_nearest(img, factor)
    return resize(img, max(1, round(h * size / max(h, w))), max(1, round(w * size / max(h, w))))


def weights_image(kernel: np.ndarray, first_layer: bool) -> np.ndarray | None:
    """Incoming weights ``(kh, kw, cin)`` of one filter: on the first layer of an RGB model the kernel as a
    colour image; otherwise one signed (blue-white-red, 0 = white) tile per input channel. None when there
    are too many weights to read (over 64 input channels)."""
    kh, kw, cin = kernel.shape
    if first_layer and cin == 3:
        return upscale_nearest((symmetric01(kernel) * 255).round().astype("uint8"), max(1, 96 // max(kh, kw)))
    if cin > 64:
        return None
    f = max(2, (96 if cin == 1 else 40) // max(kh, kw))
    tiles = colormap(symmetric01(kernel).transpose(2, 0, 1), "bwr")  # one colour scale for the whole filter
    cols = min(cin, 8)
    rows = -(-cin // cols)
    th, tw = kh * f, kw * f
    out = np.full((rows * (th + 2) + 2, cols * (tw + 2) + 2, 3), 255, "uint8")
    for c in range(cin):
        r, q = divmod(c, cols)
        out[2 + r * (th + 2) : 2 + r * (th + 2) + th, 2 + q * (tw + 2) : 2 + q * (tw + 2) + tw] = upscale_nearest(tiles[c], f)
    return out


def histogram_svg(edges: list[float], counts: list[int], title: str, width: int = 420, height: int = 150) -> str:
    """An inline SVG bar chart of a histogram with its range and peak count labelled."""
    counts = list(counts)
    if not counts:
        return '<p class="muted">no data</p>'
    top = max(max(counts), 1)
    pad_l, pad_b, pad_t = 34, 22, 8
    pw, ph = width - pad_l - 6, height - pad_b - pad_t
    bw = pw / len(counts)
    bars = "".join(
        f'<rect x="{pad_l + k * bw:.1f}" y="{pad_t + ph - ph * c / top:.1f}" width="{max(bw - 1, 1):.1f}" '
        f'height="{ph * c / top:.1f}"><title>{edges[k]:.3g} to {edges[k + 1]:.3g}: {c}</title></rect>'
        for k, c in enumerate(counts))
    y_axis = pad_t + ph
    return (f'<svg class="hist" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>'
            f'<g fill="#4a78b5">{bars}</g>'
            f'<line x1="{pad_l}" y1="{y_axis}" x2="{width - 6}" y2="{y_axis}" stroke="#555"/>'
            f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{y_axis}" stroke="#555"/>'
            f'<text x="{pad_l}" y="{height - 6}" font-size="11">{edges[0]:.3g}</text>'
            f'<text x="{width - 6}" y="{height - 6}" font-size="11" text-anchor="end">{edges[-1]:.3g}</text>'
            f'<text x="{pad_l - 4}" y="{pad_t + 10}" font-size="11" text-anchor="end">{top}</text>'
            f'<text x="{pad_l - 4}" y="{y_axis}" font-size="11" text-anchor="end">0</text></svg>')
