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

from ..backends.devices import check_batch_size, choose_batch_size, in_batches
from ..backends.distribution import data_parallel, padded
from ..optvis import Ascent, Stage, UpdateRule
from .. import checks
from ..errors import CnnvizError
from .filters import pixel_transforms, stages
from ..pixels import to_uint8
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
) -> FoolResult:
    """Optimise one image per class (together, on the batch axis) until p(class) >= confidence
    on the saved 8-bit pixels, or ``max_steps``. ``method``: ``fool`` or ``visualize``; ``param``
    and ``diversity`` shape ``visualize`` (default fourier, 1 picture per class).
    ``batch_size``: classes optimised at once (default: from free device memory, 16 on a CPU)."""
    check_confidence(confidence)
    check_batch_size(batch_size)
    if method not in ("fool", "visualize"):
        raise CnnvizError(f"unknown --method {method!r}; use fool or visualize")
    checks.image_options(param, diversity, method)
    param = (param or "fourier") if method == "visualize" else "pixel"
    if max_steps < 1:
        raise CnnvizError("--steps must be at least 1")
    clf = classifier or Classifier(loaded)
    log_probability(clf)  # a regression output is refused here, before any work
    targets = [clf.resolve(c) for c in classes]
    h, w = loaded.image_size(size)
    channels = loaded.channels
    start = time.perf_counter()
    if param == "fourier":
        from ..optvis.render import render

        r = render(loaded, class_logit(), targets, param="fourier", size=(h, w), steps=max_steps, seed=seed,
                   diversity=diversity, progress=progress, note=note,
                   batch_size=choose_batch_size(clf.model, (h, w), len(targets) * diversity, batch_size))
        return _verdict(clf, r.targets, r.pixels, [r.steps] * len(r.targets), confidence, method, seed, start,
                        param, diversity)
    if method == "fool":
        ascent = Ascent(clf.model, ["logits"], log_probability(clf), loaded.preprocess, rule=UpdateRule("rms", clip=True))
        schedule = [Stage((h, w), max_steps, 2.0, 0.0)]  # 2 pixel units (RMS) per step
    else:
        schedule = stages("smooth", (h, w), max_steps, all(loaded.input_shape[:2]))
        ascent = Ascent(clf.model, ["logits"], class_logit(), loaded.preprocess, pixel_transforms("smooth", (h, w)), UpdateRule())
    total = max_steps * len(targets)
    done = [0]

    def run(batch: list[int]) -> list[tuple[np.ndarray, int]]:
        """Optimise one batch of classes together; (pixels, steps to reach) per class."""
        n = len(batch)
        batch = padded(batch, devices_)  # a multiple of the devices (repeats, dropped below)
        rngs = [np.random.default_rng([seed, t]) for t in batch]
        h0, w0 = schedule[0].size
        x0 = np.stack([128.0 + r.uniform(-10, 10, size=(h0, w0, channels)) for r in rngs]).astype("float32")
        report = (lambda d, t, base=done[0] * max_steps, n=n: progress(base + d * n, total)) if progress else None
        if method == "fool":
            first_reach: dict[int, int] = {}
            state = {"steps": 0}

            def stop(pixels: np.ndarray, _scores: np.ndarray) -> bool:
                state["steps"] += 10
                p = clf.probabilities(to_uint8(pixels))[np.arange(len(batch)), batch]
                for k, ok in enumerate(p >= confidence):
                    if ok:
                        first_reach.setdefault(k, state["steps"])
                return bool(np.all(p >= confidence))

            x, _, taken = ascent.run(x0, np.asarray(batch), schedule, rngs, progress=report, stop=stop, check_every=10)
            steps_each = [first_reach.get(k, taken) for k in range(len(batch))]
        else:
            x, _, taken = ascent.run(x0, np.asarray(batch), schedule, rngs, progress=report)
            steps_each = [taken] * len(batch)
        done[0] += n
        return list(zip(x[:n], steps_each[:n]))

    size_ = choose_batch_size(clf.model, (h, w), len(targets), batch_size)
    with data_parallel() as devices_:
        made = in_batches(targets, -(-size_ // devices_) * devices_, run, note)
    x = np.stack([m[0] for m in made])
    steps_each = [m[1] for m in made]
    return _verdict(clf, targets, x, steps_each, confidence, method, seed, start, param, diversity)


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
