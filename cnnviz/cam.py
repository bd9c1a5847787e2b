"""Class heatmaps: Grad-CAM, Grad-CAM++ and SmoothGrad saliency, sharing one code path.

:func:`class_heatmap` picks the class (predicted or asked), computes the method's raw map, and
scales it to [0, 1] at the input resolution (bilinear). Every normalisation has an epsilon, so an
all-zero map stays zero instead of becoming NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import input_gradients, layer_gradients
from .errors import CnnvizError
from .models import Classifier, Prediction
from .models import LoadedModel, conv_layers, layer_name, logits_model, resolve_layer
from .preprocessing import to_model_input

METHODS = ("gradcam", "gradcam++", "smoothgrad")
EPS = 1e-8


@dataclass
class Heatmap:
    heat: np.ndarray  # (H, W) in [0, 1] at input resolution
    raw: np.ndarray  # the method's map before upsampling and scaling
    class_index: int
    class_name: str
    probability: float
    method: str
    layer: str | None
    top5: list[Prediction]


def _cam_model(loaded: LoadedModel, layer: str | None):
    """keras.Model(image) -> [logits, feature maps of the layer] in one pass; default: last conv."""
    if layer is None:
        convs = [p for p in conv_layers(loaded.model) if len(p[-1].output.shape) == 4]
        if not convs:
            raise CnnvizError(f"{loaded.name} has no convolutional layer for Grad-CAM")
        path = convs[-1]
    else:
        path = resolve_layer(loaded.model, layer)
        if len(path[-1].output.shape) != 4:
            raise CnnvizError(f"layer {layer_name(path)!r} has no spatial output; Grad-CAM needs a conv layer such as {layer_name(conv_layers(loaded.model)[-1])}")
    model, _ = logits_model(loaded, extra=[path])
    return model, layer_name(path)


def grad_cam_from(maps: np.ndarray, grads: np.ndarray, plus: bool = False) -> np.ndarray:
    """Grad-CAM (or Grad-CAM++) from feature maps A (H, W, K) and dScore/dA (H, W, K)."""
    if plus:
        g2, g3 = grads**2, grads**3
        denom = 2.0 * g2 + maps.sum(axis=(0, 1), keepdims=True) * g3
        alpha = g2 / np.where(np.abs(denom) > EPS, denom, EPS)
        weights = (alpha * np.maximum(grads, 0.0)).sum(axis=(0, 1))
    else:
        weights = grads.mean(axis=(0, 1))
    return np.maximum((maps * weights).sum(axis=-1), 0.0)


def class_heatmap(
    loaded: LoadedModel,
    image: np.ndarray,
    class_index: str | int | None = None,
    *,
    method: str = "gradcam",
    layer: str | None = None,
    samples: int = 25,
    noise: float = 0.15,
    seed: int = 0,
    classifier: Classifier | None = None,
) -> Heatmap:
    """Heatmap of where ``image`` (uint8, at the model's input size) supports the class."""
    import cv2

    if method not in METHODS:
        raise CnnvizError(f"unknown --method {method!r}; use one of: {', '.join(METHODS)}")
    clf = classifier or Classifier(loaded)
    x = to_model_input(np.asarray(image, "float32")[None], loaded.preprocess)
    probs = clf.probabilities(np.asarray(image)[None])[0]
    k = int(np.argmax(probs)) if class_index is None else clf.resolve(class_index)
    pick = lambda logits: logits[:, k]  # noqa: E731
    used_layer = None
    if method == "smoothgrad":
        rng = np.random.default_rng(seed)
        sigma = noise * float(x.max() - x.min() + EPS)
        noisy = x + rng.normal(0.0, sigma, size=(samples,) + x.shape[1:]).astype("float32")
        grads, _ = input_gradients(clf.model, noisy, pick)
        raw = np.abs(grads).mean(axis=0).max(axis=-1)
    else:
        model, used_layer = _cam_model(loaded, layer)
        maps, grads, _ = layer_gradients(model, x, pick)
        raw = grad_cam_from(maps[0], grads[0], plus=method == "gradcam++")
    h, w = image.shape[:2]
    up = cv2.resize(raw.astype("float32"), (w, h), interpolation=cv2.INTER_LINEAR) if raw.shape != (h, w) else raw
    up = np.maximum(up, 0.0)
    heat = up / (float(up.max()) + EPS)
    return Heatmap(heat, raw, k, clf.name(k), float(probs[k]), method, used_layer, clf.top(probs))


def grad_cam(loaded: LoadedModel, image: np.ndarray, class_index: str | int | None = None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM heatmap (H, W) in [0, 1] at the image's resolution."""
    return class_heatmap(loaded, image, class_index, method="gradcam", layer=layer).heat
