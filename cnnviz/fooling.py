"""Class maximisation: images the model calls class K, from noise or by nudging a real image.

``fool_from_noise``: gradient ascent on log p(K) in pixel space from grey noise, stopping when the
*saved* image (rounded to 8-bit pixels, re-preprocessed) reaches the confidence asked for.
``method="visualize"``: the picture to look at: the class logit on lucid's Fourier parametrisation
with its transforms (``param="fourier"``, the default; ``param="pixel"`` gives the earlier octaves,
jitter and smoothed gradients in pixel space); ``diversity`` K gives K pictures per class.
``adversarial``: projected sign-gradient steps under an L-infinity budget from a real image.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .engine import Ascent, Stage, UpdateRule
from .errors import CnnvizError
from .filters import _transforms, stages
from .pixels import to_uint8
from .models import Classifier, LoadedModel, Prediction
from .objectives import class_logit, class_logprob
from .param import check_param

Progress = Callable[[int, int], None]


@dataclass
class FoolResult:
    """Generated images (uint8, the saved pixels) with the model's verdict on those very pixels."""

    classes: list[int]
    images: np.ndarray
    probabilities: np.ndarray
    reached: np.ndarray
    steps: list[int]
    top5: list[list[Prediction]]
    confidence: float
    method: str
    seed: int
    seconds: float

    def records(self) -> list[dict]:
        return [{"class": c, "probability": float(p), "reached": bool(r), "steps": s,
                 "top5": [vars(t) for t in top]}
                for c, p, r, s, top in zip(self.classes, self.probabilities, self.reached, self.steps, self.top5)]


@dataclass
class AdversarialResult:
    original: np.ndarray
    adversarial: np.ndarray
    target: int
    probability: float
    reached: bool
    steps: int
    linf: float
    l2: float
    epsilon: float
    before: list[Prediction]
    after: list[Prediction]
    seconds: float

    def record(self) -> dict:
        return {"target": self.target, "probability": self.probability, "reached": self.reached,
                "steps": self.steps, "linf": self.linf, "l2": self.l2, "epsilon": self.epsilon,
                "top5_before": [vars(p) for p in self.before], "top5_after": [vars(p) for p in self.after]}


def check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise CnnvizError(f"--confidence {confidence} must be between 0 and 1 (exclusive), e.g. 0.999")
    return confidence


def fool_from_noise(
    loaded: LoadedModel,
    classes: list[str | int],
    *,
    confidence: float = 0.999,
    max_steps: int = 300,
    seed: int = 0,
    size: int | None = None,
    method: str = "fool",
    progress: Progress | None = None,
    classifier: Classifier | None = None,
    param: str | None = None,
    diversity: int = 1,
) -> FoolResult:
    """Optimise one image per class (together, on the batch axis) until p(class) >= confidence
    on the saved 8-bit pixels, or ``max_steps``. ``method``: ``fool`` or ``visualize``; ``param``
    and ``diversity`` shape ``visualize`` (default fourier, 1 picture per class)."""
    check_confidence(confidence)
    if method not in ("fool", "visualize"):
        raise CnnvizError(f"unknown --method {method!r}; use fool or visualize")
    if param is not None:
        check_param(param)
    if diversity < 1:
        raise CnnvizError(f"--diversity {diversity} must be at least 1 (pictures per class)")
    if max_steps < 1:
        raise CnnvizError("--steps must be at least 1")
    clf = classifier or Classifier(loaded)
    targets = [clf.resolve(c) for c in classes]
    h, w = loaded.image_size(size)
    channels = loaded.channels
    rngs = [np.random.default_rng([seed, t]) for t in targets]
    start = time.perf_counter()
    if method == "fool":
        x0 = np.stack([128.0 + r.uniform(-10, 10, size=(h, w, channels)) for r in rngs]).astype("float32")
        ascent = Ascent(clf.model, ["logits"], class_logprob(), loaded.preprocess, rule=UpdateRule("rms", clip=True))
        first_reach: dict[int, int] = {}
        state = {"steps": 0}

        def stop(pixels: np.ndarray, _scores: np.ndarray) -> bool:
            state["steps"] += 10
            p = clf.probabilities(to_uint8(pixels))[np.arange(len(targets)), targets]
            for k, ok in enumerate(p >= confidence):
                if ok:
                    first_reach.setdefault(k, state["steps"])
            return bool(np.all(p >= confidence))

        schedule = [Stage((h, w), max_steps, 2.0, 0.0)]  # 2 pixel units (RMS) per step
        x, _, taken = ascent.run(x0, np.asarray(targets), schedule, rngs, progress=progress, stop=stop, check_every=10)
        steps_each = [first_reach.get(k, taken) for k in range(len(targets))]
    elif (param or "fourier") == "fourier":
        from .engine.render import render

        r = render(loaded, class_logit(), targets, param="fourier", size=(h, w), steps=max_steps, seed=seed,
                   diversity=diversity, progress=progress)
        x, targets = r.pixels, r.targets
        steps_each = [r.steps] * len(targets)
    else:
        if diversity > 1:
            raise CnnvizError("--diversity needs --param fourier (the default)")
        fixed = all(loaded.input_shape[:2])
        schedule = stages("smooth", (h, w), max_steps, fixed)
        h0, w0 = schedule[0].size
        x0 = np.stack([128.0 + r.uniform(-10, 10, size=(h0, w0, channels)) for r in rngs]).astype("float32")
        ascent = Ascent(clf.model, ["logits"], class_logit(), loaded.preprocess, _transforms("smooth", (h, w)), UpdateRule())
        x, _, taken = ascent.run(x0, np.asarray(targets), schedule, rngs, progress=progress)
        steps_each = [taken] * len(targets)
    images = to_uint8(x)
    probs = clf.probabilities(images)
    p_target = probs[np.arange(len(targets)), targets]
    return FoolResult(targets, images, p_target, p_target >= confidence, steps_each,
                      [clf.top(p) for p in probs], confidence, method, seed, time.perf_counter() - start)


def adversarial(
    loaded: LoadedModel,
    image: np.ndarray,
    target: str | int,
    *,
    epsilon: float = 8.0,
    confidence: float = 0.999,
    max_steps: int = 200,
    step_size: float | None = None,
    progress: Progress | None = None,
    classifier: Classifier | None = None,
) -> AdversarialResult:
    """Targeted projected-gradient attack: the smallest-effort image within ``epsilon`` (pixel units,
    L-infinity) of ``image`` that the model calls ``target`` with p >= confidence (checked on the
    rounded 8-bit pixels). If the budget is not enough, ``reached`` is False and ``probability`` is
    the best reached."""
    check_confidence(confidence)
    if not epsilon > 0:
        raise CnnvizError(f"--epsilon {epsilon} must be positive (pixel units of 0-255, e.g. 8)")
    if max_steps < 1:
        raise CnnvizError("--steps must be at least 1")
    clf = classifier or Classifier(loaded)
    k = clf.resolve(target)
    x0 = np.asarray(image, "float32")[None]
    lo = np.ceil(np.maximum(0.0, x0 - epsilon)).astype("float32")
    hi = np.floor(np.minimum(255.0, x0 + epsilon)).astype("float32")
    lr = step_size or max(0.25, epsilon / 10.0)
    ascent = Ascent(clf.model, ["logits"], class_logprob(), loaded.preprocess, rule=UpdateRule("sign", clip=True))
    best = {"p": -1.0, "x": to_uint8(x0)[0], "steps": 0}
    state = {"steps": 0}

    def quantise(pixels: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(pixels), lo, hi).astype("uint8")

    def stop(pixels: np.ndarray, _scores: np.ndarray) -> bool:
        state["steps"] += 5
        q = quantise(pixels)
        p = float(clf.probabilities(q)[0, k])
        if p > best["p"]:
            best.update(p=p, x=q[0], steps=state["steps"])
        return p >= confidence

    start = time.perf_counter()
    before = clf.probabilities(x0)[0]
    ascent.run(x0, np.asarray([k]), [Stage(x0.shape[1:3], max_steps, lr, 0.0)], [np.random.default_rng(0)],
               bounds=(lo, hi), progress=progress, stop=stop, check_every=5)
    adv = best["x"]
    after = clf.probabilities(adv[None])[0]
    delta = adv.astype("float64") - np.asarray(image, "float64")
    return AdversarialResult(
        np.asarray(image, "uint8"), adv, k, float(after[k]), bool(after[k] >= confidence), best["steps"],
        float(np.abs(delta).max()), float(math.sqrt((delta**2).sum())), float(epsilon),
        clf.top(before), clf.top(after), time.perf_counter() - start)
