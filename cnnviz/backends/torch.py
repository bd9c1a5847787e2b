"""PyTorch adapter: ``torch.autograd.grad`` with respect to the parameters only (eager)."""

from __future__ import annotations

from contextlib import nullcontext

import torch

from . import as_list


def _leaves(params):
    if isinstance(params, (list, tuple)):
        return type(params)(_leaves(p) for p in params)
    return params.detach().requires_grad_(True)


def _flat(params) -> list:
    if isinstance(params, (list, tuple)):
        return [leaf for p in params for leaf in _flat(p)]
    return [params]


def _unflat(like, leaves: list):
    if isinstance(like, (list, tuple)):
        return type(like)(_unflat(p, leaves) for p in like)
    return leaves.pop(0)


def _detach(tree):
    if isinstance(tree, (list, tuple)):
        return type(tree)(_detach(t) for t in tree)
    return tree.detach() if isinstance(tree, torch.Tensor) else tree


def gradients(model, loss, params, *args):
    from keras import ops

    params = _leaves(_map(lambda p: ops.convert_to_tensor(p, "float32"), params))
    with torch.enable_grad():
        total, aux = loss(lambda x: as_list(model(x, training=False)), params, *args)
        grads = torch.autograd.grad(total, _flat(params), allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, _flat(params))]
    return _unflat(params, list(grads)), _detach(aux)


def _map(fn, tree):
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map(fn, t) for t in tree)
    return fn(tree)


def compile_step(model, loss, update):
    def step(params, state, *args):
        grads, aux = gradients(model, loss, params, *args)
        with torch.no_grad():
            params, state = update(_detach(params), grads, state, *args)
        return params, state, aux

    return step


def precision_scope(precision: str):
    return nullcontext()


def runs_bfloat16() -> bool:
    """No bf16 rewrite of compiled steps on this backend: --precision bfloat16 runs in float32."""
    return False


def native_bfloat16() -> bool:
    return False


def has_gpu() -> bool:
    return torch.cuda.is_available()


def map_gradients(model, x, score, *args):
    """(maps, d score / d maps, logits) for ``model(x) -> [logits, maps]``: autograd differentiates
    with respect to the intermediate maps of the recorded graph."""
    from keras import ops

    xt = ops.convert_to_tensor(x, "float32").detach().requires_grad_(True)  # a graph even when frozen
    with torch.enable_grad():
        logits, maps = model(xt, training=False)
        (grads,) = torch.autograd.grad(score(logits, *[ops.convert_to_tensor(a) for a in args]).sum(), maps)
    return maps.detach(), grads, logits.detach()


def score_gradients(model, x, score, *args):
    """(d score / d input, score) for ``model(x) -> value``."""
    from keras import ops

    targs = [ops.convert_to_tensor(a) for a in args]

    def loss(call, xt):
        s = score(call(xt)[0], *targs)
        return s.sum(), s

    return gradients(model, loss, x)
