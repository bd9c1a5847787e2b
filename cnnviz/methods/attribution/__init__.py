"""Attribution: where in an image the evidence for a class lies, and how far to believe it.

Organised the way Captum is: a method is an object with ``attribute(inputs, target) -> maps`` built
from what it needs (a :class:`~cnnviz.methods.attribution.subject.Subject`: the model's logits, a layer, a
baseline); :data:`METHODS` is the registry (names and descriptions only, so ``cnnviz --help`` lists
them without importing TensorFlow); :func:`get` builds a method. Layer maps are placed on the input
by their units' receptive fields (:mod:`~cnnviz.methods.attribution.placement`), and every heatmap can be
scored by deletion / insertion (:mod:`~cnnviz.methods.attribution.faithfulness`). The pipeline a command
runs is :func:`cnnviz.methods.attribution.explain.explain`.
"""

from .registry import BASELINES, METHODS, MethodSpec, get, spec

__all__ = ["BASELINES", "METHODS", "MethodSpec", "get", "spec"]
