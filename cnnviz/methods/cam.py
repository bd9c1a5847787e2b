"""Class heatmaps, the one-method entry point kept for the CLI, the demo and notebooks.

The methods live in :mod:`cnnviz.methods.attribution` (registry, protocol, receptive-field placement,
faithfulness); :func:`class_heatmap` runs one of them on one image and returns a :class:`Heatmap`.
"""

from __future__ import annotations

import numpy as np

from .attribution.registry import METHODS as _REGISTRY
from ..errors import CnnvizError
from ..models import Classifier, LoadedModel
from ..results.heatmap import Heatmap  # noqa: F401 (re-exported: the result owns its record and figure)

METHODS = tuple(_REGISTRY)
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
) -> Heatmap:
    """Heatmap of where ``image`` (pixels, at the model's input size) supports the score (no faithfulness
    scores). ``target`` (or ``class_index``): None = the predicted class (a regression: its value), a class
    index or name (for one sigmoid unit 0/1 = evidence against/for; multi-label: the unit), ``"value"`` /
    ``"-value"`` (a regression's increase / decrease), or a callable ``values -> (batch,)`` of the head's
    value before its softmax/sigmoid (Captum / tf-keras-vis style)."""
    from .attribution.explain import Explainer, Options

    if method not in METHODS:
        raise CnnvizError(f"unknown --method {method!r}; use one of: {', '.join(METHODS)}")
    opts = Options(layer=layer, noise_samples=samples if method == "smoothgrad" else None, noise_level=noise, seed=seed,
                   faithfulness_steps=0)
    explainer = Explainer(loaded, [method], np.asarray(image).shape[:2], opts, classifier)
    ex = explainer.explain(image, class_index if target is None else target)
    r = ex.results[0]
    raw = r.layer_raw if r.layer_raw is not None else r.raw
    return Heatmap(r.heat, raw, ex.class_index, ex.class_name, ex.probability, method, r.layer, ex.top5, r.info, ex.record())


def grad_cam(loaded: LoadedModel, image: np.ndarray, class_index: str | int | None = None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM heatmap (H, W) in [0, 1] at the image's resolution."""
    return class_heatmap(loaded, image, class_index, method="gradcam", layer=layer).heat
