"""The result of ``cnnviz cam``: where an image supports a class (Grad-CAM, Grad-CAM++, SmoothGrad)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..output.layout import beside, colorbar, hstack_panels, titled
from ..output.render import fmt_p, top5_lines
from ..pixels import colormap, overlay, to_rgb

NAMES = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "smoothgrad": "SmoothGrad"}


@dataclass
class Heatmap:
    heat: np.ndarray  # (H, W) in [0, 1] at input resolution
    raw: np.ndarray  # the method's map before upsampling and scaling
    class_index: int
    class_name: str
    probability: float
    method: str
    layer: str | None
    top5: list
    info: dict | None = None  # method-specific figures (e.g. integrated gradients' completeness)
    score: dict | None = None  # what was explained: head kind, unit, sign (cnnviz.models.heads.Score.record)

    def record(self) -> dict:
        return {"method": self.method, "layer": self.layer, "class": self.class_index, "class_name": self.class_name,
                "probability": self.probability, "raw_max": float(np.max(self.raw)) if np.size(self.raw) else 0.0,
                "top5": [vars(p) for p in self.top5], **(self.score or {}),
                **({"layer_reason": self.info["layer_reason"]} if self.info and self.info.get("layer_reason") else {})}

    def render(self, image: np.ndarray, model: str = "") -> np.ndarray:
        method = NAMES.get(self.method, self.method)
        panel = hstack_panels(
            [image, colormap(self.heat, "jet"), overlay(to_rgb(image), self.heat)],
            ["image\n" + "\n".join(top5_lines(self.top5, 3)),
             f"{method}\n" + ("red = most sensitive pixels" if self.method == "smoothgrad" else "red = supports the class"),
             "overlay"],
        )
        what = "|gradient| (1 = max)" if self.method == "smoothgrad" else "evidence (1 = max)"
        bar = colorbar(panel.shape[0], 0.0, 1.0, "jet", what)
        where = f" on {self.layer}" if self.layer else ""
        title = f"{model} · {method}{where} · class {self.class_name} (p {fmt_p(self.probability)})"
        sub = ("how strongly each pixel moves the class score (|input gradient|, mean over noisy copies); max = 1"
               if self.method == "smoothgrad" else "where the image supports the class (ReLU of gradient-weighted maps); max = 1")
        return titled(beside(panel, bar), title, sub)
