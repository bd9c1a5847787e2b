"""Guided backpropagation (Springenberg et al. 2015) and Guided Grad-CAM (Selvaraju et al. 2017, the
paper's own fine-grained figure): the input gradient with every ReLU's backward pass also gated by
the sign of the gradient arriving from above, so only paths that raise the class score survive.

The rule is put into a *copy* of the model (``keras.models.clone_model``, weights copied; the
user's model is never touched): each ReLU (a ``ReLU`` layer, ``Activation("relu")`` or a layer with
``activation="relu"``/``relu6``) becomes one whose gradient is ``upstream * [0 < y < cap] * [upstream > 0]``,
through ``keras.ops.custom_gradient`` (TensorFlow and JAX backends)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ...backends.runtime import keras
from ...errors import CnnvizError
from ...models import Classifier
from ...optvis import input_gradients
from .base import Method
from .layer_methods import GradCAM
from ...models.heads import Score
from .subject import make_subject

RELU_NAMES = ("relu", "relu6")


def guided_relu(cap: float | None = None):
    """ReLU (capped at ``cap``) whose gradient passes only where the unit is live and the upstream gradient positive."""
    ops = keras.ops
    top = float("inf") if cap is None else float(cap)

    @ops.custom_gradient
    def f(x):
        y = ops.minimum(ops.relu(x), top)

        def grad(*args, upstream=None):
            up = args[0] if upstream is None else upstream
            live = ops.logical_and(ops.greater(y, 0.0), ops.less(y, top))
            return up * ops.cast(live, up.dtype) * ops.cast(ops.greater(up, 0.0), up.dtype)

        return y, grad

    return f


class GuidedReLU(keras.layers.Layer):
    """Stands in for a ReLU layer in the guided copy."""

    def __init__(self, cap: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.cap = cap

    def call(self, x):
        return guided_relu(self.cap)(x)


def _relu_cap(layer) -> tuple[bool, float | None]:
    """(is a plain ReLU-type activation layer, its cap)."""
    if isinstance(layer, keras.layers.ReLU):
        plain = not layer.negative_slope and not layer.threshold
        return plain, None if layer.max_value is None else float(layer.max_value)
    if isinstance(layer, keras.layers.Activation):
        name = getattr(layer.activation, "__name__", "")
        return name in RELU_NAMES, 6.0 if name == "relu6" else None
    return False, None


def _guided_clone_layer(layer):
    plain, cap = _relu_cap(layer)
    if plain:
        return GuidedReLU(cap, name=layer.name)
    new = layer.__class__.from_config(layer.get_config())
    name = getattr(getattr(layer, "activation", None), "__name__", "")
    if name in RELU_NAMES:
        new.activation = guided_relu(6.0 if name == "relu6" else None)
    return new


def guided_model(model):
    """A copy of ``model`` with guided ReLUs and the same weights."""
    try:
        copy = keras.models.clone_model(model, clone_function=_guided_clone_layer, recursive=True)
        copy.set_weights(model.get_weights())
    except (ValueError, TypeError, NotImplementedError) as e:  # a subclassed model or a custom layer clone_model cannot rebuild
        raise CnnvizError(f"guided backpropagation needs a model keras can clone ({type(e).__name__}: {e}); "
                          "use saliency or gradcam instead") from None
    return copy


class GuidedBackprop(Method):
    """|guided gradient| maximised over colour channels (Springenberg et al. 2015)."""

    name = "guided-backprop"

    def __init__(self, subject):
        super().__init__(subject)
        loaded = dataclasses.replace(subject.loaded, model=guided_model(subject.loaded.model))
        self.guided = make_subject(loaded, subject.image_hw, classifier=Classifier(loaded))

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        inputs = np.asarray(inputs, "float32")
        grads, _ = input_gradients(self.guided.logits, inputs, self.guided.score(target))
        return np.abs(np.asarray(grads)).max(axis=-1).astype("float32")


class GuidedGradCAM(Method):
    """Guided backpropagation times the Grad-CAM map placed on the input (Selvaraju et al. 2017, sec. 3.1):
    pixel detail where Grad-CAM says the class is."""

    name = "guided-gradcam"

    def __init__(self, subject):
        super().__init__(subject)
        self.cam, self.backprop = GradCAM(subject), GuidedBackprop(subject)

    def attribute(self, inputs: np.ndarray, target: Score | int) -> np.ndarray:
        cam = self.cam.attribute(inputs, target)
        self.info.update(self.cam.info)
        return (self.backprop.attribute(inputs, target) * np.maximum(cam, 0.0)).astype("float32")

    @property
    def layer_maps(self):
        return self.cam.layer_maps
