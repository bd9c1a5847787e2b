"""The result of ``cnnviz activations``: the feature maps of one layer for one image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from ..output.layout import beside, colorbar, make_grid, titled
from ..pixels import colormap, normalize01, to_rgb, to_uint8, upscale_nearest
from .base import Shown, file_stem


@dataclass
class ActivationsResult(Shown):
    """Every channel's feature map of one layer for one image (``maps``: H x W x C, float)."""

    command: ClassVar[str] = "activations"
    layer: str
    maps: np.ndarray  # (H, W, C)
    order: list[int]
    sort: str = "index"
    scale: str = "layer"
    source: str = ""
    untrained: bool = False  # the model's weights are random: the figure says so
    image: np.ndarray | None = None  # the input as fed (uint8), drawn beside the maps
    input_stem: str = "image"

    @property
    def key(self) -> str:
        return self.layer

    @property
    def stem(self) -> str:
        return file_stem("activations", self.model.stem, self.input_stem, self.layer.replace("/", "-"))

    def figure(self) -> np.ndarray:
        image = self.image if self.image is not None else np.zeros((8, 8, 1), "uint8")
        return self.render(image, self.model.name)

    def record(self) -> dict:
        flat = self.maps.reshape(-1, self.maps.shape[-1])
        return {"input": self.source, "layer": self.layer, "sort": self.sort, "scale": self.scale, "untrained": self.untrained,
                "shape": list(self.maps.shape),
                "channels": [{"channel": int(c), "mean": float(flat[:, c].mean()), "max": float(flat[:, c].max())}
                             for c in self.order]}

    def scale_range(self) -> tuple[float, float]:
        """The colour scale of ``scale="layer"``: 0 (or the minimum) to the layer's 99.5th percentile."""
        m = self.maps
        return (min(0.0, float(m.min())), float(np.percentile(m, 99.5))) if m.size else (0.0, 0.0)

    def render(self, image: np.ndarray, model: str = "") -> np.ndarray:
        m = self.maps
        tiles = activation_tiles(m, self.order, self.scale)
        grid = make_grid(tiles, [f"ch {i}: {m[..., i].max():.3g}" for i in self.order], min_tile=64)
        if self.scale == "layer":
            lo, hi = self.scale_range()
            grid = beside(grid, colorbar(min(grid.shape[0], 400), lo, hi, "viridis", "activation (top: 99.5th pct)"))
            how = "one colour scale for the layer"
        else:
            grid = beside(grid, colorbar(min(grid.shape[0], 400), 0.0, 1.0, "viridis", "each channel: min to max",
                                         ticks=[(1.0, "max"), (0.0, "min")]))
            how = "each channel scaled to its own min-max"
        title = f"{model} · activations of {self.layer} · {len(self.order)} of {m.shape[-1]} channels"
        sub = f"input: {self.source or 'image'} (left); {how}; sorted by {self.sort}; caption = channel: its maximum"
        return titled(side_by_side(image, grid), title, sub, untrained=self.untrained)


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


def side_by_side(image: np.ndarray, grid: np.ndarray, title: str = "") -> np.ndarray:
    """Input image (enlarged to ~1/3 of the grid height) to the left of the grid, titles below."""
    side = max(128, min(grid.shape[0] // 2, 320))
    factor = max(1, side // max(image.shape[:2]))
    img = upscale_nearest(to_rgb(to_uint8(image)), factor)
    h = max(img.shape[0], grid.shape[0])
    pad = lambda a: np.pad(a, ((0, h - a.shape[0]), (0, 0), (0, 0)), constant_values=255)  # noqa: E731
    joined = np.concatenate([pad(img), np.full((h, 8, 3), 255, "uint8"), pad(grid)], axis=1)
    return make_grid([joined], [f"input (left) | {title}"], cols=1, min_tile=0) if title else joined
