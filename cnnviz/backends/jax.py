"""JAX adapter: ``jax.value_and_grad`` over the model's ``stateless_call`` under ``jax.jit``.

The model's variables are arguments of the compiled function (read afresh at every call), not
constants baked into the trace, so a step compiled once follows weight changes and stays small.
"""

from __future__ import annotations

import weakref
from contextlib import nullcontext

import jax

from . import as_list


def _values(model):
    return ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables])


def _loss_of(model, loss):
    def inner(params, trainable, non_trainable, *args):
        def call(x):
            out, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return as_list(out)

        return loss(call, params, *args)

    return jax.value_and_grad(inner, has_aux=True)


def compile_step(model, loss, update):
    value_and_grad = _loss_of(model, loss)

    @jax.jit
    def step(params, state, trainable, non_trainable, *args):
        (_, aux), grads = value_and_grad(params, trainable, non_trainable, *args)
        params, state = update(params, grads, state, *args)
        return params, state, aux

    def run(params, state, *args):
        return step(params, state, *_values(model), *args)

    return run


def gradients(model, loss, params, *args):
    params = jax.tree_util.tree_map(lambda p: jax.numpy.asarray(p, "float32"), params)
    (_, aux), grads = _loss_of(model, loss)(params, *_values(model), *args)
    return grads, aux


def precision_scope(precision: str):
    return nullcontext()  # bf16 rewriting is TensorFlow's oneDNN pass; JAX steps run as asked


def runs_bfloat16() -> bool:
    """No bf16 rewrite of compiled steps on this backend: --precision bfloat16 runs in float32."""
    return False


def native_bfloat16() -> bool:
    return False


def has_gpu() -> bool:
    return any(d.platform == "gpu" for d in jax.devices())


_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # sub-model -> its head (freed with it)


def map_gradients(model, x, score, *args):
    """(maps, d score / d maps, logits) for ``model(x) -> [logits, maps]``. JAX differentiates
    functions, not recorded tensors: the graph is split at the maps into a head ``maps -> logits``
    (built once per model) and the gradient of the head is taken at the maps."""
    import keras

    logits_t, maps_t = model.outputs
    _, maps = model(x, training=False)
    head = _HEADS.get(model)
    if head is None:
        try:
            head = keras.Model(maps_t, logits_t)
        except ValueError:
            from ..errors import CnnvizError

            raise CnnvizError("on the JAX backend this layer's gradient needs the layer in the outer model "
                              "(it sits inside a nested model); pick a layer of the outer model, or use "
                              "KERAS_BACKEND=tensorflow") from None
        _HEADS[model] = head

    def loss(call, m):
        logits = call(m)[0]
        return jax.numpy.sum(score(logits, *args)), logits

    grads, logits = gradients(head, loss, maps)
    return maps, grads, logits


def score_gradients(model, x, score, *args):
    """(d score / d input, score) for ``model(x) -> value``."""

    def loss(call, xt):
        s = score(call(xt)[0], *args)
        return jax.numpy.sum(s), s

    return gradients(model, loss, x)
