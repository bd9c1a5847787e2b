"""The result of ``cnnviz filters``: one image per filter, with the activation it reaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..checks import RESPONSE_RULE
from ..output.layout import make_grid, titled
from .base import Shown, file_stem, picture_tiles


@dataclass
class FilterResult(Shown):
    """Images (uint8, N x H x W x C, exactly the saved pixels) and their figures."""

    command: ClassVar[str] = "filters"
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
    untrained: bool = False  # the model's weights are random: the figure says so
    recipe: str = ""  # why this parametrisation (filters.param_choice): the subtitle and the manifest say it
    cols: int | None = None  # grid columns of the figure (default: near-square)
    total_filters: int = 0  # the layer's filter count (0: not known)

    source: np.ndarray | None = None  # feature accentuation: the photo every picture started from
    source_activations: np.ndarray | None = None  # each filter's mean activation on that photo
    closeness: float = 0.0  # and the weight of the pull back towards it
    changes: np.ndarray | None = None  # per picture: RMS change from that photo, grey levels

    param_given: bool = False  # the user chose ``param`` (then it is part of the file name when it is pixel)

    @staticmethod
    def name_for(model_stem: str, layer: str, method: str, param: str | None, partial: bool = False) -> str:
        """The file-name stem, known before the work (the CLI checks it first); ``param``: the user's."""
        pixel = "pixel" if method != "classic" and param == "pixel" else ""
        return file_stem("filters", model_stem, layer.replace("/", "-"), method, pixel) + ("_partial" if partial else "")

    @property
    def stem(self) -> str:
        return self.name_for(self.model.stem, self.layer, self.method, self.param if self.param_given else None, self.partial)

    def tiles(self) -> list[tuple[str, np.ndarray]]:
        """Each picture alone: ``filter_<index>`` (``_<k>`` for the k-th of ``diversity`` pictures)."""
        return picture_tiles("filter", self.indices, self.images, self.diversity)

    def figure(self) -> np.ndarray:
        return self.render(self.model.name, self.cols)

    def _revived(self) -> np.ndarray:
        return np.zeros(len(self.indices), bool) if self.revived is None else np.asarray(self.revived, bool)

    def records(self) -> list[dict]:
        out = [{"filter": int(i), "activation": float(a), "dead": not bool(ok), "revived": bool(r)}
               for i, a, ok, r in zip(self.indices, self.activations, self.alive, self._revived())]
        for rec, a, d in zip(out, [] if self.source_activations is None else self.source_activations,
                             [] if self.changes is None else self.changes):
            rec["activation_on_photo"], rec["rms_change"] = float(a), round(float(d), 2)
        return out

    def record(self) -> dict:
        """The manifest fields this result knows (the caller adds command and model)."""
        return {"layer": self.layer, "method": self.method, "param": self.param, "recipe": self.recipe, "diversity": self.diversity, "precision": self.precision, "size": list(self.size),
                "steps": self.steps, "seed": self.seed, "seconds": round(self.seconds, 2),
                "alive": int(np.sum(self.alive)), "count": len(self.indices), "scanned": list(self.scanned),
                "partial": self.partial, "revived": [int(i) for i, r in zip(self.indices, self._revived()) if r],
                "activation": "mean activation of the filter on the saved image" + (f" ({self.measured})" if self.measured else ""),
                "measured": self.measured, "untrained": self.untrained, **({"response_rule": RESPONSE_RULE} if self.measured else {}),
                **({} if self.source is None else {"accentuated_from": {"closeness": self.closeness}}),
                "tiles": self.records()}

    def captions(self) -> list[str]:
        out = [f"#{i}{'*' if r else ''}  act {a:.3g}" if ok else f"#{i}  dead (act {a:.2g})"
               for i, a, ok, r in zip(self.indices, self.activations, self.alive, self._revived())]
        if self.source_activations is not None:
            out = [f"{c}\nphoto: act {a:.3g}; moved {d:.0f}" for c, a, d in zip(out, self.source_activations, self.changes)]
        return out

    def respond_phrase(self) -> str:
        """"5 of 8 filters respond", with what was kept of a scan and how many pictures per filter."""
        alive, n = int(np.sum(self.alive)), len(self.indices)
        if self.diversity > 1:
            text = f"{alive} of {n} pictures respond ({n // self.diversity} filters x {self.diversity} pictures)"
        else:
            text = f"{alive} of {n} filters respond"
        if self.scanned:
            text += f"; the {n // self.diversity} strongest of {len(self.scanned)} scanned"
        return text

    def render(self, model: str = "", cols: int | None = None) -> np.ndarray:
        images, captions = list(self.images), self.captions()
        title = f"{model} · {self.layer} · {self.method}: the input each filter responds to most"
        if self.source is not None:
            images, captions = [self.source] + images, ["the photo (start)"] + captions
            title = f"{model} · {self.layer} · feature accentuation: the photo pushed towards each filter"
        grid = make_grid(images, captions, cols=cols)
        sub = (f"{self.respond_phrase()} (act = the filter's mean activation on this very image; dead = no positive "
               f"response); {self.size[0]}x{self.size[1]} px, {self.steps} steps, seed {self.seed}"
               + (f"; {self.recipe}" if self.recipe else ""))
        if self.method == "classic":
            sub += ("; classic (the Keras-blog recipe): plain gradient steps on the post-ReLU mean from grey noise, shown "
                    "at std 0.1; a filter silent on that noise gets no gradient and stays noise (dead): "
                    "the default --method smooth optimises the pre-activation instead")
        if self.source is not None:
            sub += ("; photo: act = the filter's mean activation on the photo itself; moved = RMS change from the photo "
                    "in grey levels (0-255)")
        if self._revived().any():
            sub += ("; * silent on the jittered recipe's picture, then pushed at its strongest position without "
                    "jitter until it responds")
        if self.partial:
            title = "PARTIAL (interrupted) · " + title
        return titled(grid, title.lstrip(" ·"), sub, untrained=self.untrained)
