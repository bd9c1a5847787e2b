"""The result of ``cnnviz kernels``: a conv layer's learned kernels, each with the classic kernel it
most resembles (or none, below a stated cosine)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..output.layout import beside, colorbar, make_grid, titled
from ..pixels import to_uint8
from .base import Shown, file_stem

#: Below this cosine similarity a kernel is reported as "no close match".
MATCH_COSINE = 0.7
#: A kernel whose largest |weight| is below this fraction of the layer's largest is reported as zero.
ZERO_FRACTION = 1e-3


@dataclass
class KernelResult(Shown):
    command: ClassVar[str] = "kernels"
    layer: str
    weights: np.ndarray  # (k, k, in, out), a copy
    matches: list[tuple[str, float]]  # per output filter: nearest classic kernel and cosine
    untrained: bool = False  # the model's weights are random: the figure says so

    @property
    def stem(self) -> str:
        return file_stem("kernels", self.model.stem, self.layer.replace("/", "-"))

    def figure(self) -> np.ndarray:
        return self.render(self.model.name)

    @property
    def channel_sums(self) -> bool:
        """True when a tile shows the sum over input channels (anything but an RGB first layer)."""
        return self.weights.shape[2] != 3

    def kinds(self) -> list[str]:
        """Per kernel: ``zero``, ``pointwise`` (1x1), ``match`` or ``no close match``."""
        w = self.weights
        top = float(np.abs(w).max()) if w.size else 0.0
        out = []
        for o, (_, cos) in enumerate(self.matches):
            if float(np.abs(w[..., o]).max()) <= ZERO_FRACTION * top or top == 0.0:
                out.append("zero")
            elif w.shape[0] == 1 and w.shape[1] == 1:
                out.append("pointwise")
            elif cos < MATCH_COSINE:
                out.append("no close match")
            else:
                out.append("match")
        return out

    def labels(self) -> list[str]:
        return [name if kind == "match" else kind for (name, _), kind in zip(self.matches, self.kinds())]

    def records(self) -> list[dict]:
        return [{"filter": i, "kind": kind, "nearest": n if kind == "match" else None, "cosine": c,
                 "nearest_below_threshold": n if kind == "no close match" else None}
                for i, ((n, c), kind) in enumerate(zip(self.matches, self.kinds()))]

    def record(self) -> dict:
        return {"layer": self.layer, "shape": list(self.weights.shape), "match_cosine": MATCH_COSINE, "untrained": self.untrained,
                "shown": "sum over input channels" if self.channel_sums else "RGB (the three input channels)",
                "tiles": self.records()}

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for label in self.labels():
            family = label.split()[0] if label not in ("no close match",) else label
            counts[family] = counts.get(family, 0) + 1
        return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))

    def render(self, model: str = "", min_tile: int = 96) -> np.ndarray:
        w = self.weights
        scale = float(np.abs(w).max()) + 1e-12  # one scale for the layer: tiles are comparable
        tiles, captions = [], []
        for o, ((name, cos), kind) in enumerate(zip(self.matches, self.kinds())):
            k = w[:, :, :, o] if not self.channel_sums else w[:, :, :, o].sum(axis=-1)
            s = scale if not self.channel_sums else float(np.abs(w.sum(axis=2)).max()) + 1e-12
            tiles.append(to_uint8((0.5 + 0.5 * k / s) * 255.0))
            if kind == "match":
                captions.append(f"#{o}  ~ {name}\ncosine {cos:.2f}")
            elif kind == "no close match":
                captions.append(f"#{o}  no close match\n(best {name}, {cos:.2f})")
            else:
                captions.append(f"#{o}  {kind}\n")
        grid = make_grid(tiles, captions, min_tile=min_tile)
        top = scale if not self.channel_sums else float(np.abs(w.sum(axis=2)).max())
        bar = colorbar(grid.shape[0], -top, top, None, "weight (grey = 0)")
        shown = ("RGB: each colour is one input channel's weights" if not self.channel_sums
                 else "each kernel's weights (one input channel)" if w.shape[2] == 1
                 else f"the sum over the {w.shape[2]} input channels of each kernel")
        count = f"{w.shape[-1]} kernel" + ("s" if w.shape[-1] != 1 else "")
        sub = (f"{count} of {w.shape[0]}x{w.shape[1]}; tiles show {shown}; grey = 0, one scale for the layer; "
               f"nearest classic kernel by cosine, 'no close match' below {MATCH_COSINE:g}")
        return titled(beside(grid, bar), f"{model} · learned kernels of {self.layer}", sub, untrained=self.untrained)
