"""The result of ``cnnviz fool`` from noise: one image per class, with the model's verdict on its
saved 8-bit pixels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..output.layout import make_grid, titled
from ..output.render import fmt_p, top5_lines


@dataclass
class FoolResult:
    """Generated images (uint8, the saved pixels) with the model's verdict on those very pixels."""

    classes: list[int]
    images: np.ndarray
    probabilities: np.ndarray
    reached: np.ndarray
    steps: list[int]
    top5: list[list]
    confidence: float
    method: str
    seed: int
    seconds: float
    param: str = "pixel"
    diversity: int = 1
    untrained: bool = False  # the model's weights are random: the figure says so

    def records(self) -> list[dict]:
        return [{"class": c, "probability": float(p), "reached": bool(r), "steps": s,
                 "top5": [vars(t) for t in top]}
                for c, p, r, s, top in zip(self.classes, self.probabilities, self.reached, self.steps, self.top5)]

    def record(self) -> dict:
        return {"mode": self.method, "param": self.param, "diversity": self.diversity, "confidence": self.confidence, "seed": self.seed,
                "seconds": round(self.seconds, 2), "reached": int(np.sum(self.reached)),
                "verified_on": "the saved 8-bit pixels", "untrained": self.untrained, "tiles": self.records()}

    def captions(self, names: Sequence[str] | None = None, top: int = 5) -> list[str]:
        out = []
        for k, (c, p, ok, preds) in enumerate(zip(self.classes, self.probabilities, self.reached, self.top5)):
            name = names[k] if names else str(c)
            head = f"{name} (#{c}): p {fmt_p(p)}" if name != str(c) else f"class {c}: p {fmt_p(p)}"
            if self.method == "fool" and not ok:
                head += "  NOT reached"
            out.append("\n".join([head] + (top5_lines(preds[:top]) if top else [])))
        return out

    def render(self, model: str = "", names: Sequence[str] | None = None, cols: int | None = None, top: int = 5) -> np.ndarray:
        grid = make_grid(list(self.images), self.captions(names, top), cols=cols)
        what = "fooling images (noise the model trusts)" if self.method == "fool" else "class visualisation"
        sub = (f"p = the model's probability for the class on the saved 8-bit image; target p >= {self.confidence:g}; "
               f"{int(np.sum(self.reached))} of {len(self.classes)} reached; seed {self.seed}")
        if top:
            sub += "; below: the model's top 5 (class: p)"
        return titled(grid, f"{model} · {what}", sub, untrained=self.untrained)
