"""The result of ``cnnviz fool --image``: a real image nudged within an L-inf budget towards a class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..output.layout import colorbar, beside, hstack_panels, titled
from ..output.text import fmt_p, top5_lines
from ..pixels import to_uint8
from .base import Shown, file_stem


@dataclass
class AdversarialResult(Shown):
    """A real image nudged towards ``target`` within ``epsilon`` (pixel units), with the verdicts."""

    command: ClassVar[str] = "fool"
    original: np.ndarray
    adversarial: np.ndarray
    target: int
    probability: float
    reached: bool
    steps: int
    linf: float
    l2: float
    epsilon: float
    before: list
    after: list
    seconds: float
    already: bool = False  # the image was already of the target class: nothing was changed
    untrained: bool = False  # the model's weights are random: the figure says so
    target_name: str = ""
    confidence: float | None = None
    input_stem: str = "image"

    @staticmethod
    def name_for(model_stem: str, input_stem: str, target: int, reached: bool) -> str:
        return file_stem("adversarial", model_stem, input_stem, "to", target) + ("" if reached else "_not-reached")

    @property
    def stem(self) -> str:
        return self.name_for(self.model.stem, self.input_stem, self.target, self.reached)

    def tiles(self) -> list[tuple[str, np.ndarray]]:
        return [(f"adversarial_{self.target}", self.adversarial)]

    def figure(self) -> np.ndarray:
        return self.render(self.model.name, self.target_name or None, self.confidence)

    def record(self) -> dict:
        return {"target": self.target, "probability": self.probability, "reached": self.reached,
                "already_target": self.already, "steps": self.steps, "linf": self.linf, "l2": self.l2,
                "epsilon": self.epsilon, "untrained": self.untrained, "amplification": round(self.amplification, 2),
                "top5_before": [vars(p) for p in self.before], "top5_after": [vars(p) for p in self.after]}

    @property
    def amplification(self) -> float:
        """How much the perturbation panel enlarges the change (its largest change -> full white/black)."""
        return 127.5 / max(self.linf, 1.0)

    def verdict(self, name: str, confidence: float | None = None) -> str:
        if self.already:
            return f"the image is already {name!r} (p {fmt_p(self.probability)}); nothing changed"
        if self.reached:
            return f"target {name} reached: p {fmt_p(self.probability)} after {self.steps} steps"
        want = f" >= {confidence:g}" if confidence else ""
        return f"target {name} NOT reached: best p {fmt_p(self.probability)} (wanted{want}) within epsilon {self.epsilon:g}"

    def render(self, model: str = "", target_name: str | None = None, confidence: float | None = None) -> np.ndarray:
        name = target_name or str(self.target)
        delta = self.adversarial.astype("float64") - self.original.astype("float64")
        amp = self.amplification
        shown = to_uint8(127.5 + delta * amp)
        panel = hstack_panels(
            [self.original, self.adversarial, shown],
            ["original\n" + "\n".join(top5_lines(self.before)), "adversarial\n" + "\n".join(top5_lines(self.after)),
             f"change x{amp:.0f} (grey = 0)\nL-inf {self.linf:.1f}, L2 {self.l2:.1f}\n(pixel units, 0-255)"],
        )
        colour = self.original.ndim == 3 and self.original.shape[-1] == 3
        label = "each colour channel's change (pixels): grey = 0, lighter = more of it" if colour else "change (pixels)"
        bar = colorbar(panel.shape[0], -127.5 / amp, 127.5 / amp, None, label)
        title = f"{model} · adversarial example -> {name}: " + self.verdict(name, confidence)
        sub = (f"projected sign-gradient steps within L-inf {self.epsilon:g} pixel units; "
               f"p checked on the saved 8-bit image; top 5 as class: p")
        return titled(beside(panel, bar), title, sub, untrained=self.untrained)
