"""Attribution panels: the image and one heatmap per method side by side, each titled with its
faithfulness scores, and a colour bar. numpy + Pillow; no TensorFlow.

The heat is drawn as colour whose opacity grows with the heat over a grey copy of the image, so the
image's own colours never pass for heat and cold regions stay readable.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..pixels import colormap, luma, to_rgb, to_uint8
from .layout import CAPTION_FONT_SIZE, _font, hstack_panels

CMAP = "inferno"
MIN_TILE = 200


def heat_over_grey(image: np.ndarray, heat01: np.ndarray, cmap: str = CMAP, max_alpha: float = 0.85) -> np.ndarray:
    """RGB uint8: colour of ``heat01`` with opacity ``max_alpha * heat`` over the image in (lightened) grey."""
    grey = luma(to_rgb(to_uint8(image)))
    grey = 64.0 + 0.6 * grey  # lighter and lower in contrast, so heat reads on top of it
    base = np.repeat(grey[..., None], 3, axis=-1)
    heat = np.clip(np.asarray(heat01, "float64"), 0.0, 1.0)
    colour = colormap(heat, cmap).astype("float64")
    alpha = (max_alpha * heat)[..., None]
    return to_uint8((1.0 - alpha) * base + alpha * colour)


def colorbar(height: int, cmap: str = CMAP, labels: Sequence[str] = ("1 = map max", "0.5", "0")) -> np.ndarray:
    """A vertical colour bar ``height`` px tall with labels at top, middle and bottom (drawn at full size)."""
    from PIL import Image, ImageDraw

    font = _font()
    bar_w, pad = 16, 6
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_w = int(max(scratch.textlength(t, font=font) for t in labels)) + 2
    canvas = np.full((height, pad + bar_w + 4 + text_w + pad, 3), 255, "uint8")
    ramp = np.linspace(1.0, 0.0, height - 2 * pad)[:, None].repeat(bar_w, axis=1)
    canvas[pad : height - pad, pad : pad + bar_w] = colormap(ramp, cmap)
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    ys = (pad, height // 2, height - pad)
    for y, t in zip(ys, labels):
        draw.line([(pad + bar_w, y), (pad + bar_w + 3, y)], fill=(20, 20, 20))
        draw.text((pad + bar_w + 5, max(0, min(height - CAPTION_FONT_SIZE - 2, y - CAPTION_FONT_SIZE // 2))), t,
                  fill=(20, 20, 20), font=font)
    return np.asarray(img)


def _scores_line(f: dict | None) -> str:
    return f"deletion {f['deletion_auc']:.3g}  insertion {f['insertion_auc']:.3g}" if f else ""


def attribution_panel(image: np.ndarray, class_name: str, probability: float, results: Sequence, random: dict | None,
                      value_word: str = "p") -> np.ndarray:
    """One row: the image (class, probability, random-order scores), one tile per method, a colour bar.
    ``value_word="value"``: ``class_name`` says what was explained (a regression) and ``probability`` is its value."""
    h = max(MIN_TILE, image.shape[0])
    factor = h / image.shape[0]
    def fit(a: np.ndarray) -> np.ndarray:  # enlarge to the row height now, so every tile keeps its aspect
        import cv2

        a = to_rgb(to_uint8(a))
        w = max(1, round(a.shape[1] * factor))
        interp = cv2.INTER_NEAREST if factor >= 1 else cv2.INTER_AREA
        return cv2.resize(a, (w, h), interpolation=interp) if a.shape[:2] != (h, w) else a

    from .render import fmt_p

    first = [f"class {class_name!r}  p {fmt_p(probability)}"] if value_word == "p" else [class_name, f"value {probability:.4g}"]
    if random:
        first += ["lower deletion, higher insertion", "= more faithful; random order:",
                  f"deletion {random['deletion_auc']:.3g} insertion {random['insertion_auc']:.3g}"]
    panels, titles = [fit(image)], ["\n".join(first)]
    for r in results:
        name = r.method + (f" @ {r.layer}" if r.layer else "")
        lines = [name, _scores_line(r.faithfulness)]
        if r.info.get("completeness_error") is not None:
            err = r.info["completeness_error"]
            lines.append(f"completeness error {100 * err:.1f}%" + (" (raise --steps)" if err > 0.05 else ""))
        panels.append(fit(heat_over_grey(image, r.heat)))
        titles.append("\n".join(l for l in lines if l))
    bar = colorbar(h)
    panels.append(bar)
    titles.append("heat (each map\nscaled to its max)")
    return hstack_panels(panels, titles, min_tile=0)
