"""Layer-based methods: Grad-CAM, Grad-CAM++, Layer-CAM (gradients at a conv layer) and Score-CAM
(forward passes of masked images). The formulas are plain numpy functions of feature maps A (H, W, K)
and gradients dScore/dA, so tests can check them against the papers on any input."""

from __future__ import annotations

import numpy as np

from ...errors import CnnvizError
from ...models.heads import Score
from ...inputs.preprocessing import to_model_input
from ...optvis import layer_gradients
from .base import LayerMethod
from .subject import EPS, place_layer_maps


def grad_cam_from(maps: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Grad-CAM: ReLU(sum_k w_k A_k) with w_k = mean over positions of dS/dA_k (Selvaraju et al. 2017, eq. 1-2)."""
    return np.maximum((maps * grads.mean(axis=(0, 1))).sum(axis=-1), 0.0)


def grad_cam_pp_from(maps: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Grad-CAM++ (Chattopadhyay et al. 2018, eq. 19 with exp(S) so higher derivatives are powers of dS/dA):
    alpha = g^2 / (2 g^2 + sum_ab A_ab g^3), w_k = sum_ij alpha_ij ReLU(g_ij), map = ReLU(sum_k w_k A_k)."""
    g2, g3 = grads**2, grads**3
    denom = 2.0 * g2 + maps.sum(axis=(0, 1), keepdims=True) * g3
    alpha = g2 / np.where(np.abs(denom) > EPS, denom, EPS)
    weights = (alpha * np.maximum(grads, 0.0)).sum(axis=(0, 1))
    return np.maximum((maps * weights).sum(axis=-1), 0.0)


def layer_cam_from(maps: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Layer-CAM (Jiang et al. 2021, eq. 5-6): ReLU(sum_k ReLU(g_k) * A_k), weights per position."""
    return np.maximum((np.maximum(grads, 0.0) * maps).sum(axis=-1), 0.0)


class _GradientCAM(LayerMethod):
    formula = staticmethod(grad_cam_from)

    def attribute_layer(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        maps, grads, _ = layer_gradients(self.subject.layer_model, inputs, self.subject.score(target))
        maps, grads = np.asarray(maps, "float64"), np.asarray(grads, "float64")
        self.info["signed_maps"] = bool(maps.min() < 0)
        return np.stack([self.formula(m, g) for m, g in zip(maps, grads)]).astype("float32")


class GradCAM(_GradientCAM):
    name = "gradcam"


class GradCAMPlusPlus(_GradientCAM):
    name = "gradcam++"
    formula = staticmethod(grad_cam_pp_from)


class LayerCAM(_GradientCAM):
    name = "layercam"
    formula = staticmethod(layer_cam_from)


def top_variance_channels(maps: np.ndarray, n: int | None) -> np.ndarray:
    """Indices of the ``n`` channels of ``maps`` (h, w, K) whose activation varies most over positions
    (Faster Score-CAM, tf-keras-vis ``max_N``): a flat channel masks the image evenly and says nothing
    about where the class is. ``None`` or ``n >= K``: every channel."""
    k = maps.shape[-1]
    if n is None or n >= k:
        return np.arange(k)
    var = np.asarray(maps, "float64").reshape(-1, k).var(axis=0)
    return np.sort(np.argsort(-var, kind="stable")[:n])


def score_cam_weights(masked_scores: np.ndarray, baseline_score: float) -> np.ndarray:
    """Score-CAM channel weights (Wang et al. 2020): each masked image's class-score increase over the
    baseline, normalised over channels by a softmax (as pytorch-grad-cam does on logits). The softmax
    does not change when every score moves by the same amount, so the baseline term is kept for the
    paper's reading (the increase), not for the numbers."""
    cic = np.asarray(masked_scores, "float64") - float(baseline_score)
    e = np.exp(cic - cic.max())
    return e / (e.sum() + EPS)


class ScoreCAM(LayerMethod):
    """Score-CAM (Wang et al. 2020): each channel, placed on the input and scaled to [0, 1], masks the image
    (blending towards the baseline, black by default); its weight is the class logit's increase over the
    baseline image, softmax-normalised over channels; map = ReLU(sum_k w_k A_k). Gradient-free.
    ``channels``: only that many channels, those with the largest spatial variance (Faster Score-CAM);
    ``None``: all of them."""

    name = "scorecam"

    def __init__(self, subject, channels: int | None = None, baseline: np.ndarray | None = None, batch_size: int = 32):
        super().__init__(subject)
        if channels is not None and channels < 1:
            raise CnnvizError(f"Score-CAM needs at least 1 channel, got {channels}")
        self.channels, self.baseline, self.batch_size = channels, baseline, batch_size

    def attribute_layer(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        _, maps = self.subject.layer_forward(inputs)
        score = self.subject.score(target)
        if self.baseline is None:
            base = to_model_input(np.zeros((1,) + inputs.shape[1:], "float32"), self.subject.loaded.preprocess)
        else:
            base = np.asarray(self.baseline, "float32")[None]
        base_score = float(score.values(self.subject.forward(base.astype("float32")))[0])
        out = []
        for x, a in zip(inputs, np.asarray(maps, "float64")):
            idx = top_variance_channels(a, self.channels)
            masks = place_layer_maps(self.subject, np.moveaxis(a[..., idx], -1, 0)).astype("float64")  # (N, H, W)
            lo = masks.min(axis=(1, 2), keepdims=True)
            masks = (masks - lo) / (masks.max(axis=(1, 2), keepdims=True) - lo + EPS)
            scores = np.zeros(len(idx))
            for b in range(0, len(idx), self.batch_size):
                m = masks[b : b + self.batch_size, :, :, None]
                scores[b : b + self.batch_size] = score.values(self.subject.forward((base + m * (x[None] - base)).astype("float32")))
            weights = score_cam_weights(scores, base_score)
            out.append(np.maximum((a[..., idx] * weights).sum(axis=-1), 0.0))
        self.info.update(channels=len(idx), of_channels=int(maps.shape[-1]), signed_maps=bool(np.min(maps) < 0))
        return np.stack(out).astype("float32")
