"""The result of ``cnnviz activations``: the feature maps of one layer for one image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..output.layout import beside, colorbar, make_grid, titled
from ..output.render import activation_tiles, side_by_side


@dataclass
class ActivationsResult:
    layer: str
    maps: np.ndarray  # (H, W, C)
    order: list[int]
    sort: str = "index"
    scale: str = "layer"
    source: str = ""
    untrained: bool = False  # the model's weights are random: the figure says so

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
