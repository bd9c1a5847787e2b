"""Input-gradient methods: saliency, integrated gradients, and the noise wrapper (SmoothGrad)."""

from __future__ import annotations

import numpy as np

from ...models.heads import Score

from ...optvis import input_gradients
from ...errors import CnnvizError
from .base import Method
from .subject import EPS

DEFAULT_IG_STEPS = 64


class Saliency(Method):
    """|dS/dx| maximised over colour channels (Simonyan et al. 2014)."""

    name = "saliency"

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        inputs = np.asarray(inputs, "float32")
        grads, _ = input_gradients(self.subject.logits, inputs, self.subject.score(target))
        return np.abs(np.asarray(grads)).max(axis=-1).astype("float32")


class IntegratedGradients(Method):
    """(x - x0) * average gradient on the straight path from ``baseline`` x0 to x (Sundararajan et al. 2017),
    trapezoid rule over ``steps`` intervals, summed over channels (signed). ``info["completeness_error"]``:
    |sum of attributions - (S(x) - S(x0))| / |S(x) - S(x0)|, which the axiom says is 0."""

    name = "integrated-gradients"

    def __init__(self, subject, baseline: np.ndarray | None = None, steps: int = DEFAULT_IG_STEPS, batch_size: int = 32):
        super().__init__(subject)
        if steps < 1:
            raise CnnvizError(f"integrated gradients needs at least 1 step, got {steps}")
        self.baseline = baseline  # model-input space, (H, W, C); None: zeros of the model input
        self.steps = steps
        self.batch_size = batch_size

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        inputs = np.asarray(inputs, "float32")
        x0 = np.zeros(inputs.shape[1:], "float32") if self.baseline is None else np.asarray(self.baseline, "float32")
        if x0.shape != inputs.shape[1:]:
            raise CnnvizError(f"the baseline has shape {x0.shape}, the input {inputs.shape[1:]}")
        alphas = np.linspace(0.0, 1.0, self.steps + 1, dtype="float32")
        weights = np.full(self.steps + 1, 1.0 / self.steps)
        weights[[0, -1]] *= 0.5
        maps, errors = [], []
        score = self.subject.score(target)
        for x in inputs:
            total = np.zeros(x.shape, "float64")
            scores = np.zeros(len(alphas))
            for b in range(0, len(alphas), self.batch_size):
                a = alphas[b : b + self.batch_size]
                path = x0[None] + a[:, None, None, None] * (x - x0)[None]
                g, s = input_gradients(self.subject.logits, path.astype("float32"), score)
                total += np.tensordot(weights[b : b + len(a)], np.asarray(g, "float64"), axes=1)
                scores[b : b + len(a)] = np.asarray(s, "float64")
            attr = (x - x0) * total
            delta = scores[-1] - scores[0]
            errors.append(abs(attr.sum() - delta) / max(abs(delta), EPS))
            maps.append(attr.sum(axis=-1))
        self.info["completeness_error"] = float(np.mean(errors))
        self.info["steps"] = self.steps
        return np.stack(maps).astype("float32")


class NoiseTunnel(Method):
    """Average any method's maps over ``samples`` noisy copies of each input (Gaussian, sigma = ``level``
    times the input's value range), the way Captum's NoiseTunnel wraps a method (Smilkov et al. 2017)."""

    def __init__(self, inner: Method, samples: int = 25, level: float = 0.15, seed: int = 0):
        super().__init__(inner.subject)
        if samples < 1:
            raise CnnvizError(f"--noise-samples must be at least 1, got {samples}")
        if not level >= 0:
            raise CnnvizError(f"--noise-level must be >= 0, got {level}")
        self.inner, self.samples, self.level, self.seed = inner, samples, level, seed
        self.name = inner.name

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        out, infos = [], []
        for x in np.asarray(inputs, "float32"):
            sigma = self.level * float(x.max() - x.min() + EPS)
            noisy = x[None] + rng.normal(0.0, sigma, size=(self.samples,) + x.shape).astype("float32")
            out.append(self.inner.attribute(noisy, target).mean(axis=0))
            infos.append(dict(self.inner.info))
        self.info = {**infos[-1], "noise_samples": self.samples, "noise_level": self.level}
        if "completeness_error" in infos[-1]:
            self.info["completeness_error"] = float(np.mean([i["completeness_error"] for i in infos]))
        return np.stack(out).astype("float32")

    @property
    def layer_maps(self):
        return getattr(self.inner, "layer_maps", None)


def SmoothGrad(subject, samples: int = 25, level: float = 0.15, seed: int = 0) -> NoiseTunnel:
    """SmoothGrad = the noise wrapper over plain saliency."""
    tunnel = NoiseTunnel(Saliency(subject), samples, level, seed)
    tunnel.name = "smoothgrad"
    return tunnel
