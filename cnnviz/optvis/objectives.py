"""What to maximise: small composable objectives in the style of Lucid.

An objective maps the activations of a forward pass to one score per image::

    channel("block5_conv1", 7)            # mean activation of filter 7
    channel("block5_conv1")               # the filter given per image at run time (batched filters)
    class_logit(65) - 0.1 * class_logit(18)
    channel("conv2", 3) + 2.0 * channel("conv1", 0)

``acts`` is a dict from layer name (and ``"logits"``) to tensors; ``targets`` is an int tensor with one
index per image, used by objectives built without a fixed index. Objectives use ``keras.ops`` only
when called, so building them imports nothing heavy.
"""

from __future__ import annotations

from typing import Any, Callable

Score = Callable[[dict, Any], Any]


class Objective:
    """A per-image score ``f(acts, targets) -> (batch,)`` plus the layers it reads."""

    def __init__(self, fn: Score, layers: tuple[str, ...], description: str):
        self.fn = fn
        self.layers = tuple(dict.fromkeys(layers))
        self.description = description

    def __call__(self, acts: dict, targets: Any) -> Any:
        return self.fn(acts, targets)

    def __add__(self, other: "Objective | float") -> "Objective":
        if not isinstance(other, Objective):
            value = float(other)
            return Objective(lambda a, t: self(a, t) + value, self.layers, f"{self.description} + {value:g}")
        return Objective(lambda a, t: self(a, t) + other(a, t), self.layers + other.layers,
                         f"{self.description} + {other.description}")

    __radd__ = __add__

    def __mul__(self, factor: float) -> "Objective":
        factor = float(factor)
        return Objective(lambda a, t: factor * self(a, t), self.layers, f"{factor:g} * ({self.description})")

    __rmul__ = __mul__

    def __neg__(self) -> "Objective":
        return self * -1.0

    def __sub__(self, other: "Objective | float") -> "Objective":
        return self + (-other)

    def __repr__(self) -> str:
        return f"Objective({self.description})"


def _pick(x: Any, index: int | None, targets: Any) -> Any:
    """Channel ``index`` of x (..., C), or per image the channel named in ``targets``."""
    from keras import ops

    if index is not None:
        return x[..., index]
    onehot = ops.one_hot(ops.cast(targets, "int32"), ops.shape(x)[-1], dtype=x.dtype)
    shape = [-1] + [1] * (len(x.shape) - 2) + [ops.shape(x)[-1]]
    return ops.sum(x * ops.reshape(onehot, shape), axis=-1)


def channel(layer: str, index: int | None = None, top: float | None = None) -> Objective:
    """Mean over space of channel ``index`` of ``layer`` (per-image index from targets when None).

    ``top``: average only the strongest share of positions (0.25 = the top quarter), which rewards
    a filter firing strongly somewhere before it fires everywhere.
    """
    from_targets = index is None

    def score(acts, targets):
        from keras import ops

        picked = _pick(acts[layer], index, targets)
        if len(picked.shape) == 1:
            return picked
        flat = ops.reshape(picked, (ops.shape(picked)[0], -1))
        if top is None:
            return ops.mean(flat, axis=1)
        if flat.shape[1] is None:
            raise ValueError("channel(top=...) needs static spatial shapes (the engine traces per shape)")
        k = max(1, int(round(int(flat.shape[1]) * top)))
        return ops.mean(ops.top_k(flat, k, sorted=False)[0], axis=1)

    which = "per-image" if from_targets else index
    shown = "" if top is None else (", peak" if top < 1e-6 else f", top={top:g}")
    label = f"channel({layer!r}, {which}{shown})"
    return Objective(score, (layer,), label)


def class_logit(index: int | None = None) -> Objective:
    """The logit of class ``index`` (pre-softmax score)."""

    def score(acts, targets):
        return _pick(acts["logits"], index, targets)

    return Objective(score, ("logits",), f"class_logit({'per-image' if index is None else index})")


def class_logprob(index: int | None = None) -> Objective:
    """log p(class) = logit - logsumexp(logits): raises the class and lowers the others."""

    def score(acts, targets):
        from keras import ops

        logits = acts["logits"]
        return _pick(logits, index, targets) - ops.logsumexp(logits, axis=-1)

    return Objective(score, ("logits",), f"class_logprob({'per-image' if index is None else index})")


def class_logsigmoid(index: int | None = None) -> Objective:
    """log sigmoid(logit) = -softplus(-logit): log p(unit) of an independent sigmoid unit (multi-label
    heads, where the others' probabilities do not compete)."""

    def score(acts, targets):
        from keras import ops

        return -ops.softplus(-_pick(acts["logits"], index, targets))

    return Objective(score, ("logits",), f"class_logsigmoid({'per-image' if index is None else index})")


def total_variation() -> Objective:
    """Mean absolute difference between neighbouring pixels of the image the model sees (a penalty:
    use it with a negative weight)."""

    def score(acts, targets):
        from keras import ops

        x = acts["pixels"]
        dy = ops.mean(ops.abs(x[:, 1:] - x[:, :-1]), axis=(1, 2, 3))
        dx = ops.mean(ops.abs(x[:, :, 1:] - x[:, :, :-1]), axis=(1, 2, 3))
        return dy + dx

    return Objective(score, ("pixels",), "total_variation()")


def neuron(layer: str, index: int | None = None, y: int | None = None, x: int | None = None) -> Objective:
    """Channel ``index`` of ``layer`` at one spatial position (default: the centre), as lucid's neuron."""

    def score(acts, targets):
        a = acts[layer]
        h, w = int(a.shape[1]), int(a.shape[2])
        at = a[:, h // 2 if y is None else y, w // 2 if x is None else x, :]
        return _pick(at, index, targets)

    where = "centre" if y is None and x is None else f"y={y}, x={x}"
    return Objective(score, (layer,), f"neuron({layer!r}, {'per-image' if index is None else index}, {where})")


def direction(layer: str, vector: Any) -> Objective:
    """Mean over space of the activation's projection on ``vector`` (a direction in the layer's channel space)."""
    import numpy as np

    v = np.asarray(vector, dtype="float32").reshape(-1)

    def score(acts, targets):
        from keras import ops

        a = acts[layer]
        proj = ops.matmul(a, ops.convert_to_tensor(v))  # (B, H, W)
        return ops.mean(ops.reshape(proj, (ops.shape(proj)[0], -1)), axis=1)

    return Objective(score, (layer,), f"direction({layer!r}, {len(v)}-vector)")


def diversity(layer: str) -> Objective:
    """lucid's diversity term, per image: the mean cosine similarity of this image's (centred) Gram matrix of
    ``layer`` with those of the other images of its group (the images that share its target). Use it
    with a negative weight: ``channel(...) - w * diversity(...)`` pushes the group's images apart."""

    def score(acts, targets):
        from keras import ops

        a = acts[layer]
        b, c = ops.shape(a)[0], int(a.shape[-1])
        flat = ops.reshape(a, (b, -1, c))
        flat = flat - ops.mean(flat, axis=1, keepdims=True)  # centred: raw Grams of ReLU maps are all alike
        grams = ops.matmul(ops.transpose(flat, (0, 2, 1)), flat)
        grams = ops.reshape(grams, (b, c * c))
        grams = grams / (ops.sqrt(ops.sum(ops.square(grams), axis=1, keepdims=True)) + 1e-10)
        sims = ops.matmul(grams, ops.transpose(grams))  # (B, B)
        t = ops.cast(targets, "int32")
        same = ops.cast(ops.equal(t[:, None], t[None, :]), sims.dtype) * (1.0 - ops.eye(b, dtype=sims.dtype))
        return ops.sum(sims * same, axis=1) / ops.maximum(ops.sum(same, axis=1), 1.0)

    return Objective(score, (layer,), f"diversity({layer!r})")
