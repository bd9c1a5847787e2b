"""The pipeline a command runs: build the methods once for a model, then for each image pick the class,
run every method, place and scale its map, and score it (deletion / insertion against a random order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ...models import Classifier, LoadedModel, Prediction
from ...models.heads import Score
from ...inputs.preprocessing import to_model_input
from . import faithfulness
from .baselines import baseline_pixels
from .options import Options, check_options, method_kwargs
from .registry import get, spec
from .scaling import default_clip, heat01
from .subject import make_subject

Progress = Callable[[int, int], None]


@dataclass
class MethodResult:
    method: str
    heat: np.ndarray  # (H, W) in [0, 1]: the positive part of ``raw`` over its maximum (outliers clipped: info["clip_percent"])
    raw: np.ndarray  # (H, W) float32 at input resolution, signed where the method is
    layer_raw: np.ndarray | None  # layer-resolution map for layer-based methods
    info: dict = field(default_factory=dict)
    faithfulness: dict | None = None

    @property
    def layer(self) -> str | None:
        return self.info.get("layer")


@dataclass
class Explanation:
    class_index: int
    class_name: str
    probability: float
    top5: list[Prediction]
    results: list[MethodResult]
    random: dict | None  # faithfulness of the reference (random smooth maps at the same patch scale)
    score: Score | None = None  # what was explained (head kind, unit, sign)

    @property
    def value_word(self) -> str:
        """``p`` for a class probability, ``value`` for a regression or a user's score."""
        return "p" if self.score is None or self.score.cls is not None else "value"

    def record(self) -> dict:
        """The head and score for a manifest."""
        return {} if self.score is None else self.score.record()


class Explainer:
    """Methods built once for ``loaded`` at ``image_hw``; :meth:`explain` runs them on one image."""

    def __init__(self, loaded: LoadedModel, methods: Sequence[str], image_hw: tuple[int, int], options: Options = Options(),
                 classifier: Classifier | None = None):
        check_options(methods, options)
        self.loaded, self.options = loaded, options
        self.classifier = classifier or Classifier(loaded)
        plain = self.subject = make_subject(loaded, image_hw, classifier=self.classifier)
        layered = None
        self.methods = []
        for name in dict.fromkeys(methods):
            s = spec(name)
            if s.needs_layer and layered is None:
                layered = make_subject(loaded, image_hw, layer=options.layer, needs_layer=True, classifier=self.classifier, method=name)
            subject = layered if s.needs_layer else plain
            cls = get(name)
            if name == "smoothgrad":
                m = cls(subject, samples=options.noise_samples or 25, level=options.noise_level, seed=options.seed)
            else:
                m = cls(subject, **method_kwargs(name, options))
                if options.noise_samples and s.gradient:
                    from .gradient_methods import NoiseTunnel

                    m = NoiseTunnel(m, options.noise_samples, options.noise_level, options.seed)
            self.methods.append(m)

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch of pixel images (softmax; sigmoid per unit; [1 - p, p] for one
        sigmoid unit; a regression's values), through ``keras.ops``, so on every backend."""
        x = to_model_input(np.asarray(pixels, "float32"), self.loaded.preprocess).astype("float32")
        return self.classifier.head.probabilities(self.subject.forward(x))

    def explain(self, image: np.ndarray, class_index=None, progress: Progress | None = None) -> Explanation:
        """Run every method on ``image`` for ``class_index``: None (the predicted class; a regression's
        value), a class index or name, ``"value"`` / ``"-value"``, or a callable score of the head value."""
        clf, opts = self.classifier, self.options
        pixels = np.asarray(image, "float32")
        pixels = pixels[..., None] if pixels.ndim == 2 else pixels
        x = to_model_input(pixels[None], self.loaded.preprocess).astype("float32")
        probs = self.probabilities(pixels[None])[0]
        score = clf.score(class_index, int(np.argmax(probs)) if clf.head.is_classifier else 0)
        k = score.cls if score.cls is not None else int(score.unit or 0)
        faithful = opts.faithfulness_steps if score.cls is not None else 0  # the scores read a class probability
        base = to_model_input(baseline_pixels(opts.baseline, pixels, opts.seed)[None], self.loaded.preprocess)[0].astype("float32")
        total = len(self.methods) + (1 if faithful else 0)
        results = []
        for i, m in enumerate(self.methods):
            target = getattr(m, "inner", m)
            if hasattr(target, "baseline"):
                target.baseline = base
            raw = np.asarray(m.attribute(x, score)[0], "float32")
            clip = default_clip(m.name) if opts.clip_percent is None else opts.clip_percent
            heat = heat01(raw, clip)
            layer_raw = getattr(m, "layer_maps", None)
            info = {**m.info, "clip_percent": clip}
            if hasattr(target, "baseline"):
                info["baseline"] = opts.baseline
            res = MethodResult(m.name, heat, raw, None if layer_raw is None else np.asarray(layer_raw[0]), info)
            if faithful:
                res.faithfulness = faithfulness.scores(self.probabilities, pixels, raw, k, faithful, opts.seed)
            results.append(res)
            if progress:
                progress(i + 1, total)
        rand = None
        if faithful:
            rand = faithfulness.scores(self.probabilities, pixels, None, k, faithful, opts.seed)
            if progress:
                progress(total, total)
        if score.cls is not None:
            return Explanation(k, clf.name(k), float(probs[k]), clf.top(probs), results, rand, score)
        values = self.subject.forward(x)  # the output's own value (a user's function: its score)
        value = float(values[0, score.unit]) if score.function is None else float(score.values(values)[0])
        return Explanation(k, score.label, value, clf.top(probs), results, rand, score)
