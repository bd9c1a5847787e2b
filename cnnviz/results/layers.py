"""The result of ``cnnviz layers``: the model's layer table (name, type, output shape, parameters),
conv layers marked, with the input, outputs and preprocessing cnnviz assumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import ClassVar

import numpy as np

from ..output.layout import table_image, titled
from .base import Shown, file_stem

COLUMNS = ("layer", "type", "output shape", "params", "")


@dataclass
class LayersResult(Shown):
    """``rows``: (name, type, output shape, parameter count, is conv) per layer, nested models expanded."""

    command: ClassVar[str] = "layers"
    rows: list[tuple[str, str, tuple, int, bool]]
    total: int
    trainable: int
    inputs: str = ""
    outputs: list[str] = field(default_factory=list)
    preprocess: str = ""
    cat: list = field(default_factory=list)  # the classifier's top 3 on the bundled cat (Prediction), if it has classes
    untrained: bool = False

    @property
    def stem(self) -> str:
        return file_stem("layers", self.model.stem)

    def heading(self) -> str:
        outs = ("; outputs " + "; ".join(self.outputs)) if len(self.outputs) > 1 else ""
        return f"{self.model.name}  (input {self.inputs}{outs}, preprocess {self.preprocess})"

    def totals(self) -> str:
        return f"total parameters: {self.total:,}   trainable: {self.trainable:,}   non-trainable: {self.total - self.trainable:,}"

    def cat_line(self) -> str:
        """The assumed preprocessing at work: a classifier fed the bundled cat should say cat."""
        if not self.cat:
            return ""
        random = " (random weights: meaningless)" if self.untrained else ""
        return (f"on the bundled cat, fed as preprocess {self.preprocess}{random}: "
                + ", ".join(f"{p.name} {p.probability:.3f}" for p in self.cat))

    def cells(self) -> list[list[str]]:
        return [[n, k, str(s), f"{p:,}", "conv" if c else ""] for n, k, s, p, c in self.rows]

    def record(self) -> dict:
        return {"input": self.inputs, "outputs": self.outputs, "total_params": self.total, "trainable_params": self.trainable,
                "bundled_cat_top3": [vars(p) for p in self.cat],
                "layers": [{"name": n, "type": k, "output_shape": [None if d is None else int(d) for d in s],
                            "params": p, "conv": c} for n, k, s, p, c in self.rows]}

    def figure(self) -> np.ndarray:
        sub = "; ".join(s for s in (self.totals(), "conv = a conv layer", self.cat_line()) if s)
        return titled(table_image(COLUMNS, self.cells(), right=(3,)), self.heading(), sub, untrained=self.untrained)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
        body = "".join("<tr>" + "".join(f"<td{' style=text-align:right' if i == 3 else ''}>{escape(v)}</td>"
                                        for i, v in enumerate(row)) + "</tr>" for row in self.cells())
        return (f"<p><b>{escape(self.heading())}</b></p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f"<p>{escape(self.totals())}</p>" + (f"<p>{escape(self.cat_line())}</p>" if self.cat else ""))
