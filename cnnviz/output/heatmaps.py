"""Attribution panels: the image and one heatmap per method side by side, each titled with its
faithfulness scores, and a colour bar. numpy + Pillow; no TensorFlow.

The heat is drawn as colour whose opacity grows with the heat over a grey copy of the image, so the
image's own colours never pass for heat and cold regions stay readable.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..pixels import colormap, luma, to_rgb, to_uint8
from .layout import CAPTION_FONT_SIZE, caption_font, hstack_panels

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


def within_centres(heat: np.ndarray, span: Sequence[float] | None, grid: Sequence[int] | None = None) -> tuple[np.ndarray, bool]:
    """``heat`` with the band beyond a layer's outermost unit centres set to 0 where that band is wider than
    one unit spacing (the placement only holds the edge units' values there: on LeNet's conv2, centres
    4.5-22.5 px, 2 px apart, the held border band outshone the digit), and whether any pixel was blanked.
    A band within one spacing is what any upsampling holds (EfficientNet-Lite0's last layer: centres 31-223
    px, 32 apart, each unit seeing the whole image) and is drawn. ``span`` = (first y, last y, first x,
    last x) centre, ``grid`` = (units along y, along x), from the method's info."""
    if not span:
        return heat, False
    h, w = heat.shape
    gy, gx = (grid or (2, 2))[:2]
    jy = (span[1] - span[0]) / max(gy - 1, 1)
    jx = (span[3] - span[2]) / max(gx - 1, 1)
    y0, y1 = (span[0] if span[0] > jy else 0), (span[1] if h - 1 - span[1] > jy else h - 1)
    x0, x1 = (span[2] if span[2] > jx else 0), (span[3] if w - 1 - span[3] > jx else w - 1)
    ys, xs = np.arange(h)[:, None], np.arange(w)[None, :]
    inside = (ys >= np.floor(y0)) & (ys <= np.ceil(y1)) & (xs >= np.floor(x0)) & (xs <= np.ceil(x1))
    return np.where(inside, heat, 0.0), not inside.all()


def colorbar(height: int, cmap: str = CMAP, labels: Sequence[str] = ("1 = map max", "0.5", "0")) -> np.ndarray:
    """A vertical colour bar ``height`` px tall with labels at top, middle and bottom (drawn at full size)."""
    from PIL import Image, ImageDraw

    font = caption_font()
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


def verdict(method: dict, reference: dict) -> str:
    """In words, how a heatmap's scores compare with the reference's (lower deletion, higher insertion = better)."""
    better = [method["deletion_auc"] < reference["deletion_auc"], method["insertion_auc"] > reference["insertion_auc"]]
    if all(better):
        return "more faithful than random smooth maps"
    if not any(better):
        return "no better than random smooth maps"
    return "mixed: better on " + ("deletion" if better[0] else "insertion") + " only"


def _scores_lines(f: dict | None, reference: dict | None) -> list[str]:
    if not f:
        return []
    lines = [f"deletion {f['deletion_auc']:.3g}  insertion {f['insertion_auc']:.3g}"]
    if reference:
        lines.append(verdict(f, reference))
    return lines


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

    from .text import fmt_p

    first = [f"class {class_name!r}  p {fmt_p(probability)}"] if value_word == "p" else [class_name, f"value {probability:.4g}"]
    if random:
        side = random.get("patch", 1)
        first += ["lower deletion, higher insertion", "= more faithful; reference:", f"random smooth maps, {side}-px patches:",
                  f"deletion {random['deletion_auc']:.3g} insertion {random['insertion_auc']:.3g}"]
    panels, titles = [fit(image)], ["\n".join(first)]
    for r in results:
        name = r.method + (f" @ {r.layer}" if r.layer else "")
        lines = [name, *_scores_lines(r.faithfulness, random)]
        if r.info.get("signed_maps") and r.method in ("scorecam", "layercam"):
            lines.append("layer maps are signed: use the layer after its activation")
        if r.info.get("clip_percent"):
            lines.append(f"top {r.info['clip_percent']:g}% of heat mass clipped")
        if r.info.get("completeness_error") is not None:
            err = r.info["completeness_error"]
            lines.append(f"completeness error {100 * err:.1f}%" + (" (raise --steps)" if err > 0.05 else ""))
        heat, held = within_centres(r.heat, r.info.get("centres_span"), r.info.get("grid"))
        if held or r.info.get("blanked_beyond_centres"):
            g = r.info.get("grid") or ("?", "?")
            lines.append(f"{g[0]}x{g[1]} units: no heat drawn beyond the outer unit centres")
        panels.append(fit(heat_over_grey(image, heat)))
        titles.append("\n".join(l for l in lines if l))
    bar = colorbar(h)
    panels.append(bar)
    titles.append("heat (each map\nscaled to its max,\nor its clip point)")
    return hstack_panels(panels, titles, min_tile=0)


def sanity_panel(image: np.ndarray, heats: dict, rho: dict, stages: Sequence[str], flagged: Sequence[str]) -> np.ndarray:
    """The randomisation check as a grid: one row per method, the trained map then the map after each
    stage, captioned with its rank correlation to the trained map (near 0 = the map depends on the weights)."""
    from .layout import make_grid

    tiles, captions = [], []
    for method, maps in heats.items():
        for i, heat in enumerate(maps):
            tiles.append(heat_over_grey(image, heat))
            if i == 0:
                captions.append(f"{method}\ntrained" + ("\nFLAG: ignores weights" if method in flagged else ""))
            else:
                captions.append(f"{stages[i - 1].split(' (')[0]}\nrho {rho[method][i - 1]:+.2f}")
    return make_grid(tiles, captions, cols=len(stages) + 1, min_tile=MIN_TILE // 2)
