"""The result of ``cnnviz cam`` for one image: where it supports a class, by one or several attribution
methods side by side, each scored for faithfulness (deletion / insertion against a random order)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..atomic import atomic_target
from ..inputs.fitting import onto_photo
from ..output.files import OutputPaths, save_png
from ..output.heatmaps import attribution_panel, sanity_panel, within_centres
from ..output.layout import titled
from ..output.text import fmt_p
from .base import Shown, file_stem

FAITHFULNESS = ("area under the class probability as patches are deleted (to black) / inserted (onto a blurred copy) "
                "in the heatmap's order (RISE); reference: random smooth maps at the same patch scale")


def _blanked(r):
    """A layer method's heat with the band beyond its unit centres blanked where that band is wide, at the
    fed image's size (before the map goes back onto the photo, where the image edge is not the window's)."""
    heat, held = within_centres(r.heat, r.info.get("centres_span"), r.info.get("grid"))
    info = {k: v for k, v in r.info.items() if k != "centres_span"}
    return replace(r, heat=heat, info={**info, "blanked_beyond_centres": held})


def _plain(info: dict) -> dict:
    return {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool, type(None)))}


@dataclass
class CamResult(Shown):
    """``explanation`` (class, probability, top 5, one map per method, the random-order reference) for
    ``image`` (the pixels as fed, uint8). ``heat``/``raw``/``layer`` are the first method's."""

    command: ClassVar[str] = "cam"
    image: np.ndarray
    explanation: object  # cnnviz.methods.attribution.explain.Explanation
    methods: list[str]
    faithfulness_steps: int = 32
    source: str = ""  # where the input came from, as the title says it
    input_stem: str = "image"
    class_spec: str | None = None  # the --class the user gave (part of the file name), None: predicted
    heatmaps: bool = False  # also write each raw map as float32 .npy beside the PNG
    seed: int = 0
    options: dict = field(default_factory=dict)  # the method options as given (noise tunnel, baseline, ...)
    untrained: bool = False  # the model's weights are random: the figure says so
    original: np.ndarray | None = None  # the whole photo (the maps are drawn back onto it through ``fit``)
    fit: object | None = None  # cnnviz.inputs.fitting.Fit: which part of ``original`` the model saw
    sanity: object | None = None  # cnnviz.methods.attribution.sanity.SanityReport (``--sanity``), drawn in its own PNG

    # -- the first method's map, for one-method use in notebooks
    @property
    def heat(self) -> np.ndarray:
        return self.explanation.results[0].heat

    @property
    def raw(self) -> np.ndarray:
        r = self.explanation.results[0]
        return r.layer_raw if r.layer_raw is not None else r.raw

    @property
    def layer(self) -> str | None:
        return self.explanation.results[0].layer

    @property
    def info(self) -> dict:
        """The first method's own figures (layer, placement, completeness error, ...)."""
        return self.explanation.results[0].info

    @property
    def score(self) -> dict:
        """What was explained: the head kind, the unit, the sign (cnnviz.models.heads.Score.record)."""
        return self.explanation.record()

    @property
    def class_index(self) -> int:
        return self.explanation.class_index

    @property
    def class_name(self) -> str:
        return self.explanation.class_name

    @property
    def probability(self) -> float:
        return self.explanation.probability

    @property
    def key(self) -> str:
        return self.input_stem

    @property
    def stem(self) -> str:
        mpart = "-".join(m.replace("++", "pp") for m in self.methods)
        return file_stem("cam", self.model.stem, self.input_stem, mpart, self.class_spec)

    def npy_names(self) -> dict[str, str]:
        """``method -> file name`` of the raw maps written with ``heatmaps``."""
        return {m: file_stem("heatmap", self.model.stem, self.input_stem, m.replace("++", "pp"), self.class_spec) + ".npy"
                for m in self.methods}

    def record(self) -> dict:
        ex = self.explanation
        names = self.npy_names() if self.heatmaps else {}
        rand = ex.random
        return {"method": self.methods[0], "layer": ex.results[0].layer, "layer_reason": ex.results[0].info.get("layer_reason"),
                **ex.record(), "class": ex.class_index, "class_name": ex.class_name,
                **({"probability": ex.probability} if ex.value_word == "p" else {"value": ex.probability}),
                "top5": [vars(p) for p in ex.top5], "seed": self.seed, "options": self.options,
                "untrained": self.untrained,
                "faithfulness": None if rand is None else {"metric": FAITHFULNESS, "steps": self.faithfulness_steps,
                                                           "reference": rand},
                "sanity": None if self.sanity is None else {**self.sanity.record(), "figure": self.stem + "-sanity.png"},
                "methods": [{"method": r.method, **_plain(r.info), **(r.faithfulness or {}),
                             "heatmap": names.get(r.method)} for r in ex.results]}

    def figure(self) -> np.ndarray:
        ex = self.explanation
        shown, results, how = self.image, ex.results, ""
        if self.fit is not None and self.original is not None:  # the maps drawn back onto the whole photo
            shown, results = onto_photo([_blanked(r) for r in ex.results], self.fit, self.original)
            how = f" ({self.fit.caption()})"
        panel = attribution_panel(shown, ex.class_name, ex.probability, results, ex.random, ex.value_word)
        where = f" on {ex.results[0].layer}" if ex.results[0].layer else ""
        what = f"class {ex.class_name} (p {fmt_p(ex.probability)})" if ex.value_word == "p" else f"{ex.class_name} (value {ex.probability:.4g})"
        title = f"{self.model.name} · {', '.join(self.methods)}{where} · {what}"
        extras = [f"{k} {v}" for k, v in self.options.items() if v not in (None, False)]
        sub = (f"input: {self.source or 'image'}{how}; where the image supports the class"
               + ("; " + ", ".join(extras) if extras else ""))
        return titled(panel, title, sub, untrained=self.untrained)

    def lines(self) -> list[str]:
        """What the CLI prints: one line per method with its scores."""
        ex, rand = self.explanation, self.explanation.random
        out = []
        for r in ex.results:
            score = "" if r.faithfulness is None else (
                f"; deletion {r.faithfulness['deletion_auc']:.3f}, insertion {r.faithfulness['insertion_auc']:.3f}"
                f" (reference {rand['deletion_auc']:.3f}, {rand['insertion_auc']:.3f})")
            what = f"p {fmt_p(ex.probability)}" if ex.value_word == "p" else f"value {ex.probability:.4g}"
            out.append(f"{r.method}: class {ex.class_name!r} (#{ex.class_index}, {what})"
                       + (f" on layer {r.layer}" if r.layer else "") + score)
        for m, rho in (self.sanity.rho.items() if self.sanity is not None else ()):
            out.append(f"sanity {m}: rank correlation with the trained map " + ", ".join(f"{v:+.2f}" for v in rho)
                       + (" -- FLAG: the map does not depend on the weights" if m in self.sanity.flagged else ""))
        return out

    def sanity_figure(self) -> np.ndarray:
        """The model-randomisation check: each method's map as the layers are re-initialised top down."""
        s = self.sanity
        return titled(sanity_panel(self.image, s.heats(), s.rho, s.stages, s.flagged), f"{self.model.name} · model-randomisation check",
                      "layers re-initialised from the top down; rho = rank correlation with the trained map "
                      "(near 0: the map depends on the weights)")

    def extra_files(self) -> list[str]:
        """The files :meth:`save` writes beside the PNG and manifest: raw maps, the sanity figure."""
        return (list(self.npy_names().values()) if self.heatmaps else []) + ([self.stem + "-sanity.png"] if self.sanity is not None or self.options.get("sanity") else [])

    def plan(self, folder: str | Path = "outputs", overwrite: bool = False) -> OutputPaths:
        paths = super().plan(folder, overwrite)
        if not overwrite:
            for name in self.extra_files():
                if (Path(folder) / name).exists():
                    from ..errors import CnnvizError

                    raise CnnvizError(f"{str(Path(folder) / name)!r} already exists; pass --overwrite to replace it or --out DIR")
        return paths

    def save(self, folder: str | Path = "outputs", overwrite: bool = False) -> OutputPaths:
        """The PNG and manifest, and with ``heatmaps`` each method's raw map as float32 ``.npy``."""
        paths = super().save(folder, overwrite)
        if self.heatmaps:
            names = self.npy_names()
            for r in self.explanation.results:
                with atomic_target(Path(folder) / names[r.method]) as tmp, open(tmp, "wb") as fh:
                    np.save(fh, r.raw.astype("float32"))
        if self.sanity is not None:
            save_png(Path(folder) / f"{self.stem}-sanity.png", self.sanity_figure())
        return paths
