"""Layer-based methods: Grad-CAM, Grad-CAM++, Layer-CAM (gradients at a conv layer) and Score-CAM
(forward passes of masked images). The formulas are plain numpy functions of feature maps A (H, W, K)
and gradients dScore/dA, so tests can check them against the papers on any input."""

from __future__ import annotations

import numpy as np

from ...models.heads import Score

from ...optvis import layer_gradients
from ...inputs.preprocessing import to_model_input
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
        return np.stack([self.formula(m, g) for m, g in zip(maps, grads)]).astype("float32")


class GradCAM(_GradientCAM):
    name = "gradcam"


class GradCAMPlusPlus(_GradientCAM):
    name = "gradcam++"
    formula = staticmethod(grad_cam_pp_from)


class LayerCAM(_GradientCAM):
    name = "layercam"
    formula = staticmethod(layer_cam_from)


class ScoreCAM(LayerMethod):
    """Score-CAM (Wang et al. 2020): each channel, placed on the input and scaled to [0, 1], masks the image
    (blending towards black); its weight is the class probability of the masked image. Gradient-free."""

    name = "scorecam"

    def __init__(self, subject, batch_size: int = 32):
        super().__init__(subject)
        self.batch_size = batch_size

    def attribute_layer(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        _, maps = self.subject.layer_forward(inputs)
        score = self.subject.score(target)
        black = to_model_input(np.zeros((1,) + inputs.shape[1:], "float32"), self.subject.loaded.preprocess)
        out = []
        for x, a in zip(inputs, np.asarray(maps, "float64")):
            masks = place_layer_maps(self.subject, np.moveaxis(a, -1, 0)).astype("float64")  # (K, H, W)
            lo = masks.min(axis=(1, 2), keepdims=True)
            hi = masks.max(axis=(1, 2), keepdims=True)
            live = (hi - lo)[:, 0, 0] > EPS
            masks = (masks - lo) / (hi - lo + EPS)
            weights = np.zeros(a.shape[-1])
            idx = np.flatnonzero(live)
            for b in range(0, len(idx), self.batch_size):
                m = masks[idx[b : b + self.batch_size], :, :, None]
                masked = (black + m * (x[None] - black)).astype("float32")
                weights[idx[b : b + self.batch_size]] = self.subject.probability(masked, score)
            out.append(np.maximum((a * weights).sum(axis=-1), 0.0))
        return np.stack(out).astype("float32")
