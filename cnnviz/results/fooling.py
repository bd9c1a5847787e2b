"""The result of ``cnnviz fool`` from noise: one image per class, with the model's verdict on its
saved 8-bit pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np

from ..output.layout import make_grid, titled
from ..output.text import fmt_p, top5_lines
from .base import Shown, file_stem, picture_tiles


@dataclass
class FoolResult(Shown):
    """Generated images (uint8, the saved pixels) with the model's verdict on those very pixels."""

    command: ClassVar[str] = "fool"
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
    names: list[str] = field(default_factory=list)  # class names, one per image (default: the indices)
    cols: int | None = None
    top: int = 5  # lines of the model's top 5 under each image (0: none)
    partial: bool = False  # interrupted (Ctrl-C): only the classes whose batch finished
    source: np.ndarray | None = None  # feature accentuation: the photo every picture started from
    source_top5: list = field(default_factory=list)  # the model's top 5 on that photo
    closeness: float = 0.0  # and the weight of its pull back towards the photo
    changes: np.ndarray | None = None  # per picture: RMS change from that photo, grey levels

    @staticmethod
    def name_for(model_stem: str, method: str, classes: list[int], partial: bool = False) -> str:
        return file_stem("fool", model_stem, method, "-".join(str(c) for c in dict.fromkeys(classes))) + ("_partial" if partial else "")

    @property
    def stem(self) -> str:
        return self.name_for(self.model.stem, self.method, self.classes, self.partial)

    def tiles(self) -> list[tuple[str, np.ndarray]]:
        """Each image alone at the model's input size: ``class_<index>`` (``_<k>`` with diversity)."""
        return picture_tiles("class", self.classes, self.images, self.diversity)

    def figure(self) -> np.ndarray:
        return self.render(self.model.name, self.names or None, self.cols, self.top)

    def records(self) -> list[dict]:
        out = [{"class": c, "probability": float(p), "reached": bool(r), "steps": s,
                "top5": [vars(t) for t in top]}
               for c, p, r, s, top in zip(self.classes, self.probabilities, self.reached, self.steps, self.top5)]
        for rec, d in zip(out, [] if self.changes is None else self.changes):
            rec["rms_change"] = round(float(d), 2)
        return out

    def record(self) -> dict:
        accent = {} if self.source is None else {"accentuated_from": {"closeness": self.closeness,
                                                                     "top5": [vars(t) for t in self.source_top5]}}
        return {**accent, "mode": self.method, "param": self.param, "diversity": self.diversity, "confidence": self.confidence, "seed": self.seed,
                "seconds": round(self.seconds, 2), "reached": int(np.sum(self.reached)),
                "verified_on": "the saved 8-bit pixels", "partial": self.partial, "untrained": self.untrained, "tiles": self.records()}

    def captions(self, names: Sequence[str] | None = None, top: int = 5) -> list[str]:
        out = []
        for k, (c, p, ok, preds) in enumerate(zip(self.classes, self.probabilities, self.reached, self.top5)):
            name = names[k] if names else str(c)
            head = f"{name} (#{c}): p {fmt_p(p)}" if name != str(c) else f"class {c}: p {fmt_p(p)}"
            if self.method == "fool" and not ok:
                head += "  NOT reached"
            if self.changes is not None:
                head += f"; moved {self.changes[k]:.0f}"
            out.append("\n".join([head] + (top5_lines(preds[:top]) if top else [])))
        return out

    def render(self, model: str = "", names: Sequence[str] | None = None, cols: int | None = None, top: int = 5) -> np.ndarray:
        images, captions = list(self.images), self.captions(names, top)
        what = "fooling images (noise the model trusts)" if self.method == "fool" else "class visualisation"
        sub = (f"p = the model's probability for the class on the saved 8-bit image; target p >= {self.confidence:g}; "
               f"{int(np.sum(self.reached))} of {len(self.classes)} reached; seed {self.seed}")
        if self.method == "visualize":
            sub += f"; {self.param} parametrisation"
        if self.source is not None:  # an accentuation: its photo first, with the model's top 5 on it
            images = [self.source] + images
            captions = ["\n".join(["the photo (start)"] + (top5_lines(self.source_top5[:top]) if top else []))] + captions
            what = f"feature accentuation (the photo pushed towards each class, closeness {self.closeness:g})"
            sub += "; moved = RMS change from the photo in grey levels (0-255)"
        grid = make_grid(images, captions, cols=cols)
        if top:
            sub += "; below: the model's top 5 (class: p)"
        title = ("PARTIAL (interrupted) · " if self.partial else "") + f"{model} · {what}"
        return titled(grid, title, sub, untrained=self.untrained)
