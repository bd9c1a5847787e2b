"""The result of ``cnnviz filters``: one image per filter, with the activation it reaches."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import RESPONSE_RULE
from ..output.layout import make_grid, titled


@dataclass
class FilterResult:
    """Images (uint8, N x H x W x C, exactly the saved pixels) and their figures."""

    layer: str
    indices: list[int]
    images: np.ndarray
    activations: np.ndarray
    alive: np.ndarray
    method: str
    size: tuple[int, int]
    steps: int
    seed: int
    seconds: float
    ascent_seconds: float = 0.0
    precision: str = "float32"
    scanned: list[int] = field(default_factory=list)
    partial: bool = False  # interrupted: only the filters that finished
    param: str = "pixel"  # how the image was represented while optimised (fourier, pixel)
    diversity: int = 1  # pictures per filter, consecutive in ``indices``
    measured: str = ""  # what the activations are: see cnnviz.models.submodels.response_model
    revived: np.ndarray | None = None  # per tile: dead after the recipe, then pushed at one position (filters.revive)

    def _revived(self) -> np.ndarray:
        return np.zeros(len(self.indices), bool) if self.revived is None else np.asarray(self.revived, bool)

    def records(self) -> list[dict]:
        return [{"filter": int(i), "activation": float(a), "dead": not bool(ok), "revived": bool(r)}
                for i, a, ok, r in zip(self.indices, self.activations, self.alive, self._revived())]

    def record(self) -> dict:
        """The manifest fields this result knows (the caller adds command and model)."""
        return {"layer": self.layer, "method": self.method, "param": self.param, "diversity": self.diversity, "precision": self.precision, "size": list(self.size),
                "steps": self.steps, "seed": self.seed, "seconds": round(self.seconds, 2),
                "alive": int(np.sum(self.alive)), "count": len(self.indices), "scanned": list(self.scanned),
                "partial": self.partial, "revived": [int(i) for i, r in zip(self.indices, self._revived()) if r],
                "activation": "mean activation of the filter on the saved image" + (f" ({self.measured})" if self.measured else ""),
                "measured": self.measured, **({"response_rule": RESPONSE_RULE} if self.measured else {}),
                "tiles": self.records()}

    def captions(self) -> list[str]:
        return [f"#{i}{'*' if r else ''}  act {a:.3g}" if ok else f"#{i}  dead (act {a:.2g})"
                for i, a, ok, r in zip(self.indices, self.activations, self.alive, self._revived())]

    def render(self, model: str = "", cols: int | None = None) -> np.ndarray:
        grid = make_grid(list(self.images), self.captions(), cols=cols)
        alive = int(np.sum(self.alive))
        title = f"{model} · {self.layer} · {self.method}: the input each filter responds to most"
        sub = (f"{alive} of {len(self.indices)} filters respond (act = the filter's mean activation on this "
               f"very image; dead = no positive response); {self.size[0]}x{self.size[1]} px, {self.steps} steps, "
               f"seed {self.seed}")
        if self.method == "classic":
            sub += ("; classic (the Keras-blog recipe): plain gradient steps on the post-ReLU mean from grey noise, shown "
                    "at std 0.1; a filter silent on that noise gets no gradient and stays noise (dead): "
                    "the default --method smooth optimises the pre-activation instead")
        if self._revived().any():
            sub += ("; * silent on the jittered recipe's picture, then pushed at its strongest position without "
                    "jitter until it responds")
        if self.partial:
            title = "PARTIAL (interrupted) · " + title
        return titled(grid, title.lstrip(" ·"), sub)
