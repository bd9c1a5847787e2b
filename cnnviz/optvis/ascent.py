"""The gradient engine: the only module that takes gradients (through the backend adapter).

:class:`Ascent` optimises a batch of images, each against its own target, through one compiled step
per (model, shape): the parametrisation makes pixels, the transforms (padding, one affine warp per
image) move them, the image is resampled to the size the model takes, the objective scores it, the
adapter of the Keras backend (``backends/``) takes the gradient, and the update rule (Adam, or the
RMS-normalised / sign step of the classic recipes) moves the parameters. Everything but the gradient
is ``keras.ops``. Progress goes to a callback; nothing prints. :func:`input_gradients` and
:func:`layer_gradients` serve saliency and Grad-CAM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from . import transforms as T
from ..backends.distribution import place_batch
from .objectives import Objective
from .param import Pixel
from ..inputs.preprocessing import to_model_input
from ..backends import adapter

Progress = Callable[[int, int], None]
PRECISIONS = ("auto", "float32", "bfloat16")
#: The accentuation's unit of distance from its photo: an RMS change of this share of 255 (about 20 levels).
ANCHOR_RMS = 0.08


@lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """True when the compiled steps can run in bf16 at about twice the speed (the backend says: on
    TensorFlow, its oneDNN rewrite on a CPU with AVX512-BF16 or AMX and no GPU)."""
    return adapter().native_bfloat16()


def resolve_precision(precision: str) -> str:
    """The precision the steps really run in: ``auto`` -> ``bfloat16`` where :func:`native_bfloat16`;
    ``bfloat16`` only where the backend can rewrite the steps (else ``float32``, and the manifest says so)."""
    if precision not in PRECISIONS:
        from ..errors import CnnvizError

        raise CnnvizError(f"unknown precision {precision!r}; use one of: {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return "bfloat16" if precision == "bfloat16" and adapter().runs_bfloat16() else "float32"


def _bfloat16_rewrite():
    """The backend's bf16 rewrite context."""
    return adapter().precision_scope("bfloat16")


@dataclass(frozen=True)
class Stage:
    """One octave: ``steps`` steps with step size ``lr`` and Gaussian gradient smoothing ``blur``
    (sigma in pixels, 0 for none) while the model sees the image at ``size`` (h, w; a fixed-size
    model always sees its own size: the image is resampled to it inside the step). A pixel image is
    itself resized to ``size`` when the stage starts; other parametrisations keep their size."""

    size: tuple[int, int]
    steps: int
    lr: float
    blur: float = 0.0
    robust: bool = True  # False: no transforms (a last push on exactly the pixels that are saved)


@dataclass(frozen=True)
class UpdateRule:
    """How a gradient becomes a step. ``"adam"``: Adam (state per parameter, bias-corrected);
    ``"rms"``: divide by the gradient's per-image RMS, as in the Keras blog; ``"sign"``: projected
    gradient / FGSM steps. ``clip`` keeps pixel parameters inside the bounds given to ``run``."""

    normalize: str = "rms"
    clip: bool = True
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


def adam_update(params, grads, state, lr, rule: UpdateRule):
    """One Adam ascent step: ``params + lr * m_hat / (sqrt(v_hat) + eps)``. ``state = (m, v, t)``."""
    from keras import ops

    m, v, t = state
    t = t + 1.0
    m = rule.beta1 * m + (1.0 - rule.beta1) * grads
    v = rule.beta2 * v + (1.0 - rule.beta2) * ops.square(grads)
    m_hat = m / (1.0 - ops.power(rule.beta1, t))
    v_hat = v / (1.0 - ops.power(rule.beta2, t))
    return params + lr * m_hat / (ops.sqrt(v_hat) + rule.eps), (m, v, t)


def _per_image_rms(x):
    from keras import ops

    axes = tuple(range(1, len(x.shape)))
    return ops.sqrt(ops.mean(ops.square(x), axis=axes, keepdims=True))


class Ascent:
    """Gradient ascent of ``objective`` through ``model`` on an image parametrisation.

    ``model`` maps model input (after ``preprocess``) to the tensors named ``names`` (their order);
    the objective sees them as ``acts[name]``, plus ``acts["pixels"]``, the (transformed) pixels the
    model saw. ``transforms``: a list from :mod:`cnnviz.optvis.transforms` (or the older ``Transforms``).
    ``param``: :class:`cnnviz.optvis.param.Pixel` (default) or :class:`cnnviz.optvis.param.Fourier`.
    ``precision``: of the compiled steps (``auto``: bf16 where the CPU has it natively, TensorFlow).
    """

    def __init__(self, model, names: Sequence[str], objective: Objective, preprocess: str,
                 transforms: Any = (), rule: UpdateRule = UpdateRule(), precision: str = "float32",
                 param: Any = None, anchor: np.ndarray | None = None, closeness: float = 0.0, views: int = 1):
        missing = [n for n in objective.layers if n not in names and n != "pixels"]
        if missing:
            raise ValueError(f"objective needs {missing}, model gives {list(names)}")
        self.model = model
        self.names = tuple(names)
        self.objective = objective
        self.preprocess = preprocess
        self.transforms = T.as_list(transforms)
        self.pad = T.padding(self.transforms)
        self.rule = rule
        self.param = param or Pixel(clip=rule.clip)
        self.precision = resolve_precision(precision)
        self.anchor = None if anchor is None else np.asarray(anchor, "float32")
        self.closeness = float(closeness)
        self.views = max(1, int(views))  # transformed views of each image per step, their scores averaged
        shape = tuple(model.inputs[0].shape)
        self.channels = int(shape[-1])
        self.fixed = (int(shape[1]), int(shape[2])) if shape[1] and shape[2] else None
        self.backend = adapter()
        self._steps: dict = {}

    # -------------------------------------------------------------- pieces of the step
    def _seen(self, params, size, feed, matrices, robust: bool = True):
        """(image, seen): the image (rendered at the feed size when the parametrisation can do that
        itself), and the pixels the model sees: it padded and warped, then cropped (any-size model)
        or resampled (fixed)."""
        from keras import ops

        h, w = size
        render = self._render_size(size, feed)
        image = self.param.image(params, h, w, self.channels, None if render == tuple(size) else render)
        many = ops.repeat(image, self.views, axis=0) if self.views > 1 and robust else image
        seen = T.apply(many, self.transforms, matrices) if self.transforms and robust else image
        sh, sw = int(seen.shape[1]), int(seen.shape[2])
        if (sh, sw) == tuple(feed):
            return image, seen
        if self.fixed is None and sh >= feed[0] and sw >= feed[1]:
            y, x = (sh - feed[0]) // 2, (sw - feed[1]) // 2  # lucid feeds the jittered crop
            return image, seen[:, y : y + feed[0], x : x + feed[1]]
        # antialiased when shrinking: a smaller view must not alias fine detail into its gradient
        return image, ops.image.resize(seen, feed, interpolation="bilinear", antialias=sh > feed[0] or sw > feed[1])

    def _away(self, image):
        """Per image, the mean squared distance from the anchor (the photo an accentuation starts
        from) in units of ``ANCHOR_RMS`` (a share of 255), at the size the image is rendered."""
        from keras import ops

        anchor = self.anchor
        if anchor.shape[:2] != tuple(image.shape[1:3]):
            import cv2

            anchor = cv2.resize(anchor, (int(image.shape[2]), int(image.shape[1])), interpolation=cv2.INTER_AREA)
            anchor = anchor.reshape(anchor.shape[:2] + (-1,))
        diff = (image - ops.convert_to_tensor(anchor[None])) / (255.0 * ANCHOR_RMS)
        return ops.mean(ops.square(diff), axis=(1, 2, 3))

    def _render_size(self, size, feed) -> tuple[int, int]:
        """Where a non-pixel image is rendered: at the feed size when that is smaller (band-limited)."""
        if isinstance(self.param, Pixel) or feed[0] >= size[0] or feed[1] >= size[1]:
            return tuple(size)
        return tuple(feed)

    def _loss(self, size, feed, robust: bool = True):
        def loss(call, params, targets, matrices, *_):
            from keras import ops

            image, seen = self._seen(params, size, feed, matrices, robust)
            acts = dict(zip(self.names, call(to_model_input(seen, self.preprocess))))
            acts["pixels"] = seen
            k = self.views if robust and self.transforms else 1
            score = self.objective(acts, ops.repeat(targets, k, axis=0) if k > 1 else targets)
            if k > 1:  # the mean over each image's views (views of one image are consecutive)
                score = ops.mean(ops.reshape(score, (-1, k)), axis=1)
            if self.anchor is None or not self.closeness:
                return ops.sum(score), score
            # scale-free: at ANCHOR_RMS from the photo the pull back equals `closeness` x |score|
            pull = self.closeness * ops.abs(ops.stop_gradient(score)) * self._away(image)
            return ops.sum(score - pull), score

        return loss

    def _update(self, blur: float):
        rule = self.rule
        clip = rule.clip and isinstance(self.param, Pixel)

        def update(params, grads, state, targets, matrices, lr, lo, hi):
            from keras import ops

            if blur > 0:
                grads = _gaussian_blur(grads, blur)
            if rule.normalize == "adam":
                new, state = adam_update(params, grads, state, lr, rule)
            elif rule.normalize == "sign":
                new = params + lr * ops.sign(grads)
            else:
                new = params + lr * grads / (_per_image_rms(grads) + rule.eps)
            if clip:
                new = ops.clip(new, lo, hi)
            return new, state

        return update

    def _step(self, size, feed, blur, robust: bool = True):
        key = (tuple(size), tuple(feed), float(blur), bool(robust))
        if key not in self._steps:
            self._steps[key] = self.backend.compile_step(self.model, self._loss(size, feed, robust), self._update(blur))
        return self._steps[key]

    def _feed(self, stage_size: tuple[int, int]) -> tuple[int, int]:
        """The size the model sees: its own when fixed, else the stage's (the padded, warped image is
        cropped back to it, so padding does not make every step dearer)."""
        return self.fixed or (int(stage_size[0]), int(stage_size[1]))

    def image(self, params: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The pixels (0-255, float) that ``params`` stand for."""
        from keras import ops

        return ops.convert_to_numpy(self.param.image(ops.convert_to_tensor(params, "float32"), *size, self.channels))

    # -------------------------------------------------------------- driver
    def score(self, pixels: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Objective per image for these pixels (no transforms, no gradient, no parametrisation)."""
        from keras import ops

        x = ops.convert_to_tensor(np.asarray(pixels, "float32"))
        outs = self.model(to_model_input(x, self.preprocess), training=False)
        acts = dict(zip(self.names, outs if isinstance(outs, (list, tuple)) else [outs]))
        acts["pixels"] = x
        return ops.convert_to_numpy(self.objective(acts, ops.convert_to_tensor(np.asarray(targets, "int32"))))

    def run(
        self,
        start: np.ndarray,
        targets: np.ndarray,
        stages: Sequence[Stage],
        rngs: Sequence[np.random.Generator],
        *,
        bounds: tuple[np.ndarray | float, np.ndarray | float] = (0.0, 255.0),
        progress: Progress | None = None,
        stop: Callable[[np.ndarray, np.ndarray], bool] | None = None,
        check_every: int = 10,
        size: tuple[int, int] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Optimise ``start`` through ``stages``: pixels (B, H, W, C in 0-255) for the pixel
        parametrisation, else its parameters for an image of ``size`` (h, w).

        ``rngs`` holds one random generator per image (its transforms). ``stop(pixels, scores)`` is
        asked every ``check_every`` steps; True ends the run early. Returns (pixels, last scores,
        steps taken).
        """
        from keras import ops

        pixel = isinstance(self.param, Pixel)
        params = place_batch(ops.convert_to_tensor(np.asarray(start, "float32")))  # split over devices
        size = tuple(start.shape[1:3]) if pixel else tuple(size)
        t = ops.convert_to_tensor(np.asarray(targets, "int32"))
        lo = ops.convert_to_tensor(np.asarray(bounds[0], "float32"))
        hi = ops.convert_to_tensor(np.asarray(bounds[1], "float32"))
        if self.rule.normalize == "adam":
            state = (ops.zeros_like(params), ops.zeros_like(params), ops.convert_to_tensor(0.0))
        else:
            state = (ops.convert_to_tensor(0.0),)
        total = sum(s.steps for s in stages)
        done, scores = 0, np.zeros(len(rngs), "float32")
        with self.backend.precision_scope(self.precision):
            for stage in stages:
                if pixel and tuple(size) != tuple(stage.size):
                    params = ops.image.resize(params, stage.size, interpolation="bilinear")
                    size = tuple(stage.size)
                    if self.rule.normalize == "adam":
                        state = (ops.zeros_like(params), ops.zeros_like(params), ops.convert_to_tensor(0.0))
                feed = self._feed(stage.size)
                rh, rw = self._render_size(size, feed)
                robust = stage.robust and bool(self.transforms)
                padded = (rh + 2 * self.pad, rw + 2 * self.pad) if robust else (rh, rw)
                step = self._step(size, feed, stage.blur, robust)
                lr = ops.convert_to_tensor(float(stage.lr))
                for _ in range(stage.steps):
                    if robust:
                        m = np.stack([T.sample(self.transforms, r, *padded) for r in rngs for _ in range(self.views)])
                    else:
                        m = np.tile(T.IDENTITY, (len(rngs), 1))
                    params, state, s = step(params, state, t, ops.convert_to_tensor(m), lr, lo, hi)
                    scores = ops.convert_to_numpy(s)
                    done += 1
                    if progress:
                        progress(done, total)
                    if stop is not None and done % check_every == 0:
                        pixels = ops.convert_to_numpy(params) if pixel else self.image(ops.convert_to_numpy(params), size)
                        if stop(pixels, scores):
                            return pixels, scores, done
        pixels = ops.convert_to_numpy(params) if pixel else self.image(ops.convert_to_numpy(params), size)
        return pixels, scores, done


def _gaussian_blur(x, sigma: float):
    """Separable Gaussian blur (radius 4) with reflected borders, per channel."""
    from keras import ops

    radius = 4
    offsets = np.arange(-radius, radius + 1, dtype="float64")
    k = np.exp(-0.5 * np.square(offsets / max(sigma, 1e-3)))
    k = (k / k.sum()).astype("float32")
    channels = int(x.shape[-1])
    kx = ops.convert_to_tensor(np.tile(k.reshape(1, -1, 1, 1), (1, 1, channels, 1)))
    ky = ops.convert_to_tensor(np.tile(k.reshape(-1, 1, 1, 1), (1, 1, channels, 1)))
    padded = ops.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="reflect")
    y = ops.depthwise_conv(padded, kx, 1, "valid")
    return ops.depthwise_conv(y, ky, 1, "valid")


def _score_fn(score) -> tuple[Callable, tuple]:
    """``(fn, args)`` of a score: a :class:`cnnviz.models.heads.Score` (its compiled form, the same
    function for every target) or a plain callable ``outputs -> (batch,)``."""
    compiled = getattr(score, "compiled", None)
    return compiled() if compiled is not None else (score, ())


def input_gradients(model, x: np.ndarray, score: Callable) -> tuple[np.ndarray, np.ndarray]:
    """d score / d input for a batch: ``score(outputs) -> (batch,)``. Returns (gradients, scores).
    Compiled on TensorFlow (one trace per model, score function and shape)."""
    from keras import ops

    fn, args = _score_fn(score)
    grads, s = adapter().score_gradients(model, np.asarray(x, "float32"), fn, *args)
    if grads is None:
        from ..errors import CnnvizError

        raise CnnvizError("the score does not depend on the image input (no gradient); check --input and --output")
    return ops.convert_to_numpy(grads), ops.convert_to_numpy(s)


def layer_gradients(model, x: np.ndarray, score: Callable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``model(x) -> [head value, feature maps]``: (feature maps, d score / d feature maps, head value).
    A layer the score does not depend on (not fed by the image input, say) is one clear error."""
    from keras import ops

    fn, args = _score_fn(score)
    maps, grads, logits = adapter().map_gradients(model, np.asarray(x, "float32"), fn, *args)
    if grads is None:
        from ..errors import CnnvizError

        name = getattr(model, "output_names", None)
        where = f" {name[-1]!r}" if name else ""
        raise CnnvizError(f"the score does not depend on the layer{where} (it is not between the image input and the "
                          f"output: fed by another input?); pick a conv layer on the image's path with --layer")
    return ops.convert_to_numpy(maps), ops.convert_to_numpy(grads), ops.convert_to_numpy(logits)
