"""What a model's output is (its head) and what an explanation explains (a score).

A head is one output of shape (batch, units): a softmax or logits classifier, a sigmoid (one unit:
binary, several: multi-label) or a regression. The methods work on the head's value *before* its
final softmax/sigmoid (the logits; a regression's output as it is), and a :class:`Score` turns that
(batch, units) tensor into one number per image. Every built-in score is linear in the head value
(``sum(head * w)``, one weight vector per target), so one compiled gradient serves every class; a
user's own function of the head value is a score too (Captum / tf-keras-vis style).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import CnnvizError

HEAD_KINDS = ("softmax", "logits", "binary", "multi-label", "regression")
VALUE_TARGETS = ("value", "-value")


@dataclass(frozen=True)
class Head:
    """``kind`` (one of :data:`HEAD_KINDS`), ``units`` of the output, the output ``layer``'s name,
    and ``activation``: what follows the value the methods read (softmax, sigmoid, or none)."""

    kind: str
    units: int
    layer: str
    activation: str = "none"

    @property
    def classes(self) -> int:
        """How many classes a user can name: a single sigmoid unit has two (0 = against, 1 = for)."""
        return 2 if self.kind == "binary" else self.units

    @property
    def is_classifier(self) -> bool:
        return self.kind != "regression"

    def describe(self) -> str:
        return {"softmax": f"softmax over {self.units} classes (scores are the logits)",
                "logits": f"{self.units} logits (softmax taken for probabilities)",
                "binary": "one sigmoid unit: class 1 = the unit's evidence for, class 0 = against (scores are its logit)",
                "multi-label": f"{self.units} independent sigmoid units (scores are their logits)",
                "regression": f"regression, {self.units} value{'s' if self.units > 1 else ''} (activation {self.activation})"}[self.kind]

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        """(batch, classes) probabilities from head values (float64); a regression's values as they are."""
        z = np.asarray(values, "float64")
        if self.kind in ("softmax", "logits"):
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        if self.kind == "binary":
            p = _sigmoid(z[:, :1])
            return np.concatenate([1.0 - p, p], axis=1)
        if self.kind == "multi-label":
            return _sigmoid(z)
        return z


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for large |z|


def linear_score(values, weights):
    """``sum(values * weights, axis=1)``: every built-in score (one module-level function, so a
    compiled gradient keyed by it is traced once per model and shape, whatever the class)."""
    from keras import ops

    return ops.sum(ops.multiply(values, weights), axis=1)


@dataclass(frozen=True)
class Score:
    """A scalar per image from the head value: ``sign * value[unit]`` for the built-in targets,
    or ``function(values) -> (batch,)`` for a user's own. ``cls`` is the class whose probability
    goes with it (None for a regression or a user's function)."""

    head: Head
    unit: int | None = None
    sign: float = 1.0
    cls: int | None = None
    function: Callable | None = None
    label: str = ""

    def weights(self) -> np.ndarray:
        w = np.zeros((self.head.units,), "float32")
        w[int(self.unit)] = self.sign
        return w

    def compiled(self) -> tuple[Callable, tuple]:
        """``(fn, args)`` with ``fn(values, *args) -> (batch,)``; ``fn`` is the same object for every
        built-in score, so compiled gradients are reused across targets."""
        if self.function is not None:
            return self.function, ()
        return linear_score, (self.weights(),)

    def __call__(self, values):
        fn, args = self.compiled()
        return fn(values, *args)

    def values(self, head_values: np.ndarray) -> np.ndarray:
        """The score (float64, (batch,)) of numpy head values."""
        if self.function is None:
            return self.sign * np.asarray(head_values, "float64")[:, int(self.unit)]
        from keras import ops

        return np.asarray(ops.convert_to_numpy(self.function(ops.convert_to_tensor(np.asarray(head_values, "float32")))), "float64")

    def record(self) -> dict:
        return {"head": self.head.kind, "head_layer": self.head.layer, "head_description": self.head.describe(),
                "score": self.label, "unit": self.unit, "sign": self.sign}


def _class_score(head: Head, k: int, name: str) -> Score:
    if head.kind == "binary":
        sign = 1.0 if k == 1 else -1.0
        what = "its logit" if k == 1 else "minus its logit"
        return Score(head, 0, sign, k, label=f"class {name}: {what} (the sigmoid unit's evidence {'for' if k == 1 else 'against'})")
    what = "logit of unit" if head.kind == "multi-label" else "logit of class"
    return Score(head, k, 1.0, k, label=f"{what} {name}")


def make_score(head: Head, target, resolve: Callable[[str | int], int], predicted: int, name: Callable[[int], str]) -> Score:
    """The score for ``target``: None (the predicted class; a regression's first value), a class
    index or name (a sigmoid unit for multi-label heads; 0/1 = against/for for one sigmoid unit),
    ``"value"`` / ``"-value"`` (a regression's increase / decrease; ``"value:2"`` picks unit 2),
    or a callable ``values -> (batch,)`` of the head value (logits before softmax/sigmoid)."""
    if callable(target):
        return Score(head, function=target, label=getattr(target, "__name__", "a user's score function"))
    text = None if target is None else str(target).strip()
    if text is not None and (text.split(":")[0] in VALUE_TARGETS):
        base, _, unit = text.partition(":")
        k = int(unit) if unit.isdigit() else 0
        if not 0 <= k < head.units:
            raise CnnvizError(f"--target {text!r}: unit {k} is out of range; the output has {head.units} unit(s)")
        sign = -1.0 if base.startswith("-") else 1.0
        what = "decrease" if sign < 0 else "increase"
        return Score(head, k, sign, None, label=f"output {k}'s {what}")
    if not head.is_classifier:
        if text is None:
            return make_score(head, "value", resolve, predicted, name)
        raise CnnvizError(f"{head.layer!r} is a regression output (no classes); use --target value (its increase) or -value (its decrease)")
    k = predicted if text is None else resolve(text)
    return _class_score(head, k, name(k))
