"""The attribution protocol: ``method.attribute(inputs, target) -> maps``.

``inputs`` is a batch of model inputs (B, H, W, C, already preprocessed), ``target`` a
:class:`cnnviz.models.heads.Score` (or a class index, taken as that class's score);
the result is one float32 map per input at input resolution (B, H, W), larger = more evidence for
the score (signed where the method is: integrated gradients, occlusion). ``info`` holds what a run
measured beside the maps (integrated gradients' completeness error, the layer, the placement).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ...models.heads import Score
from .subject import Subject, place_layer_maps


class Attribution(Protocol):
    name: str
    info: dict

    def attribute(self, inputs: np.ndarray, target) -> np.ndarray: ...


class Method:
    """Base of every method: holds the subject and what the last run measured."""

    name = "method"

    def __init__(self, subject: Subject):
        self.subject = subject
        self.info: dict = {}

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        raise NotImplementedError


class LayerMethod(Method):
    """A method whose map lives on a conv layer's grid; :meth:`attribute` places it on the input by
    the units' receptive fields. ``layer_maps`` keeps the last maps at layer resolution."""

    def __init__(self, subject: Subject):
        super().__init__(subject)
        self.layer_maps: np.ndarray | None = None

    def attribute_layer(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        raise NotImplementedError

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        self.layer_maps = self.attribute_layer(np.asarray(inputs, "float32"), target)
        placed = place_layer_maps(self.subject, self.layer_maps)
        self.info.update(layer=self.subject.layer, layer_reason=self.subject.layer_reason, placement=self.subject.placement,
                         grid=list(self.layer_maps.shape[-2:]))
        if self.subject.placement == "receptive-field":  # beyond the outer centres the map is only held, not measured
            cy, cx = self.subject.centres
            self.info["centres_span"] = [float(cy[0]), float(cy[-1]), float(cx[0]), float(cx[-1])]
        return placed
