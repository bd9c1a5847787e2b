"""The registry of attribution methods: names, what each needs, and how to build it.

Importing this module loads no TensorFlow (the CLI's ``--help`` lists :data:`METHODS`); the method
classes are imported when :func:`get` builds one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ...errors import CnnvizError

BASELINES = ("black", "blur", "noise")


@dataclass(frozen=True)
class MethodSpec:
    name: str
    target: str  # "module:Class" inside cnnviz.methods.attribution
    needs_layer: bool  # needs a conv layer's feature maps
    gradient: bool  # takes gradients (so noise averaging and the randomisation check apply)
    summary: str


METHODS: dict[str, MethodSpec] = {s.name: s for s in (
    MethodSpec("gradcam", "layer_methods:GradCAM", True, True, "Grad-CAM (Selvaraju 2017): maps weighted by mean gradient"),
    MethodSpec("gradcam++", "layer_methods:GradCAMPlusPlus", True, True, "Grad-CAM++ (Chattopadhyay 2018): higher-order weights"),
    MethodSpec("layercam", "layer_methods:LayerCAM", True, True, "Layer-CAM (Jiang 2021): maps weighted by positive gradients per unit"),
    MethodSpec("scorecam", "layer_methods:ScoreCAM", True, False, "Score-CAM (Wang 2020): maps weighted by the class probability of the masked image"),
    MethodSpec("saliency", "gradient_methods:Saliency", False, True, "gradient magnitude (Simonyan 2014)"),
    MethodSpec("smoothgrad", "gradient_methods:SmoothGrad", False, True, "saliency averaged over noisy copies (Smilkov 2017)"),
    MethodSpec("integrated-gradients", "gradient_methods:IntegratedGradients", False, True, "integrated gradients from a baseline (Sundararajan 2017)"),
    MethodSpec("occlusion", "occlusion:Occlusion", False, False, "drop of the class score when a window is covered (Zeiler 2014)"),
    MethodSpec("guided-backprop", "guided:GuidedBackprop", False, True, "guided backpropagation (Springenberg 2015): gradient through ReLUs gated by sign"),
    MethodSpec("guided-gradcam", "guided:GuidedGradCAM", True, True, "Guided Grad-CAM (Selvaraju 2017): guided backpropagation times Grad-CAM"),
    MethodSpec("rise", "rise:RISE", False, False, "RISE (Petsiuk 2018): class probability of randomly masked copies, per kept pixel"),
)}


def spec(name: str) -> MethodSpec:
    """The registry entry for ``name``; an unknown name is one clear error listing the known ones."""
    try:
        return METHODS[name]
    except KeyError:
        raise CnnvizError(f"unknown --method {name!r}; use one of: {', '.join(METHODS)}") from None


def get(name: str):
    """The class implementing method ``name`` (build it with a Subject and its options)."""
    module, cls = spec(name).target.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), cls)
