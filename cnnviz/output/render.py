"""Results -> captioned grid images (numpy in, uint8 RGB out). No TensorFlow here.

The CLI and ``cnnviz demo`` draw every PNG through these functions; ``cnnviz.plotting`` draws the
same results with matplotlib for notebooks.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .layout import hstack_panels, make_grid
from ..pixels import colormap, grey, normalize01, orientation_rgb, overlay, symmetric01, to_rgb, to_uint8, upscale_nearest


def filters_grid(indices: Sequence[int], images: np.ndarray, activations: Sequence[float], alive: Sequence[bool], cols: int | None = None) -> np.ndarray:
    captions = [f"#{i}  act {a:.3g}" if ok else f"#{i}  dead (act {a:.3g})" for i, a, ok in zip(indices, activations, alive)]
    return make_grid(list(images), captions, cols=cols)


def fool_grid(images: np.ndarray, captions: Sequence[str], cols: int | None = None) -> np.ndarray:
    return make_grid(list(images), list(captions), cols=cols)


def fmt_p(p: float) -> str:
    """A probability as people read it: 0.9731, 0.0002, 3.1e-06; never "1.00000" for 0.999996."""
    p = float(p)
    if p >= 0.99995:
        return "> 0.9999" if p < 1.0 else "1"
    if p < 0.0001:
        return "0" if p <= 0.0 else f"{p:.1e}"
    return f"{p:.4f}"


def top5_lines(preds: Sequence, k: int = 5) -> list[str]:
    """``class: p`` lines (the class name first, then a colon: "5: 0.0002" cannot read as 0.00025)."""
    return [f"{p.name}: {fmt_p(p.probability)}" for p in list(preds)[:k]]


def top5_caption(title: str, preds: Sequence, k: int = 5) -> str:
    return "\n".join([title] + top5_lines(preds, k))


def adversarial_panel(original: np.ndarray, adversarial: np.ndarray, before: Sequence, after: Sequence, linf: float, l2: float) -> np.ndarray:
    delta = adversarial.astype("float64") - original.astype("float64")
    amplified = to_uint8(symmetric01(delta) * 255.0)
    return hstack_panels(
        [original, adversarial, amplified],
        [top5_caption("original", before), top5_caption("adversarial", after),
         f"perturbation (amplified)\nL-inf {linf:.1f}  L2 {l2:.1f}\n(pixel units, 0-255)"],
    )


def activation_tiles(maps: np.ndarray, order: Sequence[int], scale: str = "layer", cmap: str = "viridis") -> list[np.ndarray]:
    """Colour-mapped channels; ``scale="layer"``: one scale for all (comparable; its top is the
    layer's 99.5th percentile so that one extreme channel does not darken the rest), ``"channel"``:
    each channel its own."""
    lo = min(0.0, float(maps.min())) if maps.size else 0.0
    hi = float(np.percentile(maps, 99.5)) if maps.size else 0.0
    tiles = []
    for c in order:
        m = maps[..., c]
        v = normalize01(m) if scale == "channel" else normalize01(m, lo, hi)
        tiles.append(colormap(v, cmap))
    return tiles


def activations_panel(image: np.ndarray, layer: str, maps: np.ndarray, order: Sequence[int], scale: str = "layer") -> np.ndarray:
    c = maps.shape[-1]
    tiles = activation_tiles(maps, order, scale)
    captions = [f"ch {i}  max {maps[..., i].max():.3g}" for i in order]
    grid = make_grid(tiles, captions, min_tile=64)
    title = f"{layer}: {len(order)} of {c} channels ({'one scale' if scale == 'layer' else 'each channel scaled'})"
    return side_by_side(image, grid, title)


def side_by_side(image: np.ndarray, grid: np.ndarray, title: str = "") -> np.ndarray:
    """Input image (enlarged to ~1/3 of the grid height) to the left of the grid, titles below."""
    side = max(128, min(grid.shape[0] // 2, 320))
    factor = max(1, side // max(image.shape[:2]))
    img = upscale_nearest(to_rgb(to_uint8(image)), factor)
    h = max(img.shape[0], grid.shape[0])
    pad = lambda a: np.pad(a, ((0, h - a.shape[0]), (0, 0), (0, 0)), constant_values=255)  # noqa: E731
    joined = np.concatenate([pad(img), np.full((h, 8, 3), 255, "uint8"), pad(grid)], axis=1)
    return make_grid([joined], [f"input (left) | {title}"], cols=1, min_tile=0) if title else joined


def cam_panel(image: np.ndarray, heat: np.ndarray, method: str, class_name: str, probability: float) -> np.ndarray:
    title = f"{class_name} (p={probability:.3f})"
    return hstack_panels(
        [image, colormap(heat, "jet"), overlay(to_rgb(image), heat)],
        [f"image\n{title}", f"{method}\nred = supports the class", "overlay"],
    )


def edges_panel(image: np.ndarray, result) -> np.ndarray:
    def show(a):  # signed response, grey at zero; per-channel responses stay in colour
        return to_uint8(symmetric01(a) * 255.0)

    panels = [image, show(result.vertical)]
    titles = ["input", f"{result.kernel} V\n(vertical edges)"]
    if result.horizontal is not None:
        mag = result.magnitude if result.magnitude.ndim == 2 else result.magnitude.max(axis=-1)
        panels += [show(result.horizontal), to_uint8(normalize01(mag, 0.0, float(np.percentile(mag, 99.5))) * 255.0),
                   orientation_rgb(result.angle, result.magnitude)]
        titles += [f"{result.kernel} H\n(horizontal edges)", "gradient magnitude", "orientation\n(hue = direction)"]
    return hstack_panels(panels, titles)


def kernel_caption(name: str, k: np.ndarray) -> str:
    rows = ["[" + ",  ".join(f"{v:g}" if float(v).is_integer() else f"{v:.3g}" for v in row) + "]" for row in k]
    return "\n".join([name] + rows)


def gallery_grid(image: np.ndarray, responses: dict, kernels: dict) -> np.ndarray:
    tiles = [to_uint8(grey(image))]
    captions = ["input (grey)\n\n\n"]
    for name, resp in responses.items():
        signed = (kernels[name] < 0).any()
        tiles.append(to_uint8((symmetric01(resp) if signed else normalize01(resp)) * 255.0))
        captions.append(kernel_caption(name, kernels[name]))
    return make_grid(tiles, captions, cols=4, min_tile=0)


def kernels_grid(weights: np.ndarray, matches: Sequence[tuple[str, float]], min_tile: int = 96) -> np.ndarray:
    """One tile per output filter: RGB for 3 input channels, else the sum over input channels."""
    tiles, captions = [], []
    for o in range(weights.shape[-1]):
        w = weights[:, :, :, o]
        if w.shape[-1] == 3:
            tile = to_uint8(symmetric01(w) * 255.0)
        else:
            tile = to_uint8(symmetric01(w.sum(axis=-1)) * 255.0)
        tiles.append(tile)
        name, cos = matches[o]
        captions.append(f"#{o}  ~ {name}\ncosine {cos:.2f}")
    return make_grid(tiles, captions, min_tile=min_tile)
