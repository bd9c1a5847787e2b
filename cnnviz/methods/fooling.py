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
from typing import Callable

import numpy as np

from ..backends.devices import check_batch_size, choose_batch_size
from ..optvis import Ascent, Stage, UpdateRule
from .. import checks
from ..errors import CnnvizError
from ..optvis.recipes import ACCENT_CLOSENESS, VISUALIZE_FROM, VISUALIZE_PARAM, recipe
from ..optvis.render import render
from ..pixels import rms_change, to_uint8
from ..models import Classifier, LoadedModel
from ..optvis.objectives import Objective, class_logit, class_logprob, class_logsigmoid
from ..results.fooling import FoolResult  # noqa: F401 (re-exported)
from ..results.adversarial import AdversarialResult  # noqa: F401 (re-exported)

Progress = Callable[[int, int], None]


def check_confidence(confidence: float) -> float:
    return checks.confidence(confidence)


def log_probability(clf: Classifier) -> Objective:
    """log p(class) for the head: log-softmax (a single sigmoid unit is two-class logits, so that is
    exact there too), or log-sigmoid of the unit for a multi-label head."""
    clf.model  # noqa: B018 - refuses a regression output in one clear line
    return class_logsigmoid() if clf.head.kind == "multi-label" else class_logprob()


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
    batch_size: int | None = None,
    note: Callable[[str], None] | None = None,
    param: str | None = None,
    diversity: int = 1,
    image: np.ndarray | None = None,
    closeness: float = ACCENT_CLOSENESS,
) -> FoolResult:
    """Optimise one image per class (together, on the batch axis) until p(class) >= confidence
    on the saved 8-bit pixels, or ``max_steps``. ``method``: ``fool`` or ``visualize``; ``param``
    and ``diversity`` shape ``visualize`` (default fourier, 1 picture per class).
    ``batch_size``: classes optimised at once (default: from free device memory, 16 on a CPU).
    Picture k of class t starts from ``default_rng([seed, t, k])``. ``image`` (H, W, C pixels at the
    model's size; ``visualize`` only): feature accentuation, every picture starts from this photo and
    is pulled back towards it with weight ``closeness`` (see :func:`cnnviz.optvis.render.render`)."""
    check_confidence(confidence)
    check_batch_size(batch_size)
    if method not in ("fool", "visualize"):
        raise CnnvizError(f"unknown --method {method!r}; use fool or visualize")
    checks.image_options(param, diversity, method)
    if image is not None and method != "visualize":
        raise CnnvizError("accentuating a photo (--image) needs --method visualize; --method fool with --image "
                          "makes an adversarial example")
    param = (param or default_param(loaded, size, image is not None)) if method == "visualize" else "pixel"
    if max_steps < 1:
        raise CnnvizError("--steps must be at least 1")
    clf = classifier or Classifier(loaded)
    log_probability(clf)  # a regression output is refused here, before any work
    targets = [clf.resolve(c) for c in classes]
    h, w = loaded.image_size(size)
    start = time.perf_counter()
    stop, reached = first_reach(clf, targets, confidence, CHECK_EVERY) if method == "fool" else (None, {})
    r = render(loaded, log_probability(clf) if method == "fool" else class_logit(), recipe(method, param, max_steps),
               targets, size=(h, w), seed=seed, diversity=diversity, stop=stop, check_every=CHECK_EVERY,
               batch_size=choose_batch_size(clf.model, (h, w), len(targets) * diversity, batch_size),
               progress=progress, note=note, anchor=None if image is None else np.asarray(image, "float32"),
               closeness=closeness)
    steps_each = [reached.get(p, taken) for p, taken in enumerate(r.taken)]
    result = _verdict(clf, r.targets, r.pixels, steps_each, confidence, method, seed, start, param, diversity)
    result.partial = r.partial
    if image is not None:
        result.source, result.closeness = np.asarray(image, "uint8"), float(closeness)
        result.source_top5 = clf.top(clf.probabilities(result.source[None])[0])
        result.changes = rms_change(result.images, result.source)
    return result


def default_param(loaded: LoadedModel, size: int | None, accent: bool = False) -> str:
    """A class picture's parametrisation: MACO for RGB inputs of ``VISUALIZE_FROM`` px and more (judged
    the more legible on EfficientNet-Lite0 by benchmarks/legibility.py), else Fourier; Fourier for an
    accentuation, whose photo the phase alone cannot hold."""
    h, w = loaded.image_size(size)
    return VISUALIZE_PARAM if not accent and loaded.channels == 3 and min(h, w) >= VISUALIZE_FROM else "fourier"


#: Fooling images are checked (on their 8-bit pixels) every this many steps.
CHECK_EVERY = 10


def first_reach(clf: Classifier, targets: list[int], confidence: float, every: int):
    """(stop, reached): ``stop`` for :func:`render` ends a batch when every picture's 8-bit pixels
    reach ``confidence``; ``reached[position]``: the steps after which that picture first did."""
    reached: dict[int, int] = {}
    batch: dict = {"rows": None, "steps": 0}

    def stop(pixels: np.ndarray, _scores: np.ndarray, rows: list[int]) -> bool:
        if rows is not batch["rows"]:  # a new batch (or one retried smaller): its own step count
            batch.update(rows=rows, steps=0)
            for p in rows:
                reached.pop(p, None)
        batch["steps"] += every
        p = clf.probabilities(to_uint8(pixels))[np.arange(len(rows)), [targets[q] for q in rows]]
        for q, ok in zip(rows, p >= confidence):
            if ok:
                reached.setdefault(q, batch["steps"])
        return bool(np.all(p >= confidence))

    return stop, reached


def _verdict(clf: Classifier, targets: list[int], x: np.ndarray, steps_each: list[int], confidence: float,
             method: str, seed: int, start: float, param: str, diversity: int) -> FoolResult:
    """The model's verdict on the saved 8-bit pixels, not on the float image."""
    images = to_uint8(x)
    probs = clf.probabilities(images)
    p_target = probs[np.arange(len(targets)), targets]
    return FoolResult(list(targets), images, p_target, p_target >= confidence, steps_each,
                      [clf.top(p) for p in probs], confidence, method, seed, time.perf_counter() - start,
                      param, diversity, untrained=clf.loaded.untrained)


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
    ascent = Ascent(clf.model, ["logits"], log_probability(clf), loaded.preprocess, rule=UpdateRule("sign", clip=True))
    best = {"p": -1.0, "x": to_uint8(x0)[0], "steps": 0}
    state = {"steps": 0}

    def quantise(pixels: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(pixels), lo, hi).astype("uint8")

    def count(done: int, total: int) -> None:
        state["steps"] = done
        if progress:
            progress(done, total)

    def stop(pixels: np.ndarray, _scores: np.ndarray) -> bool:
        q = quantise(pixels)
        p = float(clf.probabilities(q)[0, k])
        if p > best["p"]:
            best.update(p=p, x=q[0], steps=state["steps"])
        return p >= confidence

    start = time.perf_counter()
    before = clf.probabilities(x0)[0]
    if before[k] >= confidence:  # already the target: report it, change nothing
        orig = np.asarray(image, "uint8")
        return AdversarialResult(orig, orig.copy(), k, float(before[k]), True, 0, 0.0, 0.0, float(epsilon),
                                 clf.top(before), clf.top(before), time.perf_counter() - start, already=True,
                                 untrained=loaded.untrained)
    check_every = 5
    x, _, taken = ascent.run(x0, np.asarray([k]), [Stage(x0.shape[1:3], max_steps, lr, 0.0)], [np.random.default_rng(0)],
                             bounds=(lo, hi), progress=count, stop=stop, check_every=check_every)
    if taken % check_every:  # the end of the stage is checked too (fewer than 5 steps, or a remainder)
        state["steps"] = taken
        stop(x, None)
    adv = best["x"]
    after = clf.probabilities(adv[None])[0]
    delta = adv.astype("float64") - np.asarray(image, "float64")
    return AdversarialResult(
        np.asarray(image, "uint8"), adv, k, float(after[k]), bool(after[k] >= confidence), best["steps"],
        float(np.abs(delta).max()), float(math.sqrt((delta**2).sum())), float(epsilon),
        clf.top(before), clf.top(after), time.perf_counter() - start, untrained=loaded.untrained)
