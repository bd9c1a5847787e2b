"""Class heatmaps of one image by one method, without faithfulness scores (the quick path).

The methods live in :mod:`cnnviz.methods.attribution` (registry, protocol, receptive-field placement,
faithfulness); :func:`class_heatmap` runs one of them on one image and returns a :class:`CamResult`;
``cnnviz.cam`` (the public API) runs several, with scores, on several images.
"""

from __future__ import annotations

import numpy as np

from .attribution.registry import spec
from ..models import Classifier, LoadedModel
from ..results.attribution import CamResult

EPS = 1e-8


def grad_cam_from(maps: np.ndarray, grads: np.ndarray, plus: bool = False) -> np.ndarray:
    """Grad-CAM (or Grad-CAM++) from feature maps A (H, W, K) and dScore/dA (H, W, K)."""
    from .attribution.layer_methods import grad_cam_from as gc, grad_cam_pp_from as gcpp

    return gcpp(maps, grads) if plus else gc(maps, grads)


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
    target=None,
) -> CamResult:
    """Heatmap of where ``image`` (pixels, at the model's input size) supports the score (no faithfulness
    scores). ``target`` (or ``class_index``): None = the predicted class (a regression: its value), a class
    index or name (for one sigmoid unit 0/1 = evidence against/for; multi-label: the unit), ``"value"`` /
    ``"-value"`` (a regression's increase / decrease), or a callable ``values -> (batch,)`` of the head's
    value before its softmax/sigmoid (Captum / tf-keras-vis style)."""
    from .attribution.explain import Explainer, Options

    spec(method)  # an unknown name is one line listing the registry's
    opts = Options(layer=layer, noise_samples=samples if method == "smoothgrad" else None, noise_level=noise, seed=seed,
                   faithfulness_steps=0)
    explainer = Explainer(loaded, [method], np.asarray(image).shape[:2], opts, classifier)
    ex = explainer.explain(image, class_index if target is None else target)
    return CamResult(np.asarray(image), ex, [method], faithfulness_steps=0, seed=seed, untrained=loaded.untrained)


def grad_cam(loaded: LoadedModel, image: np.ndarray, class_index: str | int | None = None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM heatmap (H, W) in [0, 1] at the image's resolution."""
    return class_heatmap(loaded, image, class_index, method="gradcam", layer=layer).heat
