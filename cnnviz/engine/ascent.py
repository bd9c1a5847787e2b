"""The gradient engine: the only module that takes gradients (``tf.GradientTape``).

:class:`Ascent` optimises a batch of images, each against its own target, with one compiled step
function (``tf.function`` with relaxed shapes: traced once, reused for every batch and octave).
It reports progress through a callback and never prints. :func:`input_gradients` and
:func:`layer_gradients` serve saliency and Grad-CAM.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from .._backend import tf
from ..objectives import Objective
from ..preprocessing import to_model_input
from ..transforms import IDENTITY, Transforms

Progress = Callable[[int, int], None]
PRECISIONS = ("auto", "float32", "bfloat16")


@lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """True when this machine runs bf16 convolutions natively on the CPU (AVX512-BF16 or AMX) and
    TensorFlow sees no GPU: then the compiled steps can run in bf16 at about twice the speed."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            flags = fh.read()
    except OSError:
        return False
    return (" avx512_bf16" in flags or " amx_bf16" in flags) and not tf.config.list_physical_devices("GPU")


def resolve_precision(precision: str) -> str:
    """``auto`` -> ``bfloat16`` where :func:`native_bfloat16`, else ``float32``."""
    if precision not in PRECISIONS:
        from ..errors import CnnvizError

        raise CnnvizError(f"unknown precision {precision!r}; use one of: {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


@contextmanager
def _bfloat16_rewrite():
    """Let TensorFlow's oneDNN pass run the convolutions of functions instantiated here in bf16
    (float32 in and out; only compiled functions are rewritten, eager ops are not)."""
    key = "auto_mixed_precision_onednn_bfloat16"
    before = bool(tf.config.optimizer.get_experimental_options().get(key, False))
    tf.config.optimizer.set_experimental_options({key: True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({key: before})


@dataclass(frozen=True)
class Stage:
    """One octave of an ascent: ``steps`` steps at ``size`` (h, w) with step size ``lr`` (pixels)
    and Gaussian gradient smoothing ``blur`` (sigma in pixels, 0 for none)."""

    size: tuple[int, int]
    steps: int
    lr: float
    blur: float = 0.0


@dataclass(frozen=True)
class UpdateRule:
    """How a gradient becomes a step: ``"rms"`` (divide by its per-image RMS, as in the Keras blog)
    or ``"sign"`` (projected gradient / FGSM steps); ``clip`` keeps pixels inside [lo, hi]."""

    normalize: str = "rms"
    clip: bool = True


class Ascent:
    """Gradient ascent of ``objective`` on input pixels through ``model``.

    ``model`` maps model input (after ``preprocess``) to the tensors named ``names`` (their order);
    the objective sees them as ``acts[name]``, plus ``acts["pixels"]``, the (transformed) pixels.
    ``precision``: the arithmetic of the compiled steps (``auto``: bf16 where the CPU has it natively).
    """

    def __init__(self, model, names: Sequence[str], objective: Objective, preprocess: str,
                 transforms: Transforms = Transforms(), rule: UpdateRule = UpdateRule(), precision: str = "float32"):
        missing = [n for n in objective.layers if n not in names and n != "pixels"]
        if missing:
            raise ValueError(f"objective needs {missing}, model gives {list(names)}")
        self.model = model
        self.names = tuple(names)
        self.objective = objective
        self.preprocess = preprocess
        self.transforms = transforms
        self.rule = rule
        self.precision = resolve_precision(precision)
        channels = int(model.inputs[0].shape[-1])
        pixels = tf.TensorSpec((None, None, None, channels), tf.float32)
        self._step = tf.function(
            self._step_impl,
            input_signature=[pixels, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None, 8), tf.float32),
                             tf.TensorSpec((), tf.float32), tf.TensorSpec((), tf.float32),
                             tf.TensorSpec(None, tf.float32), tf.TensorSpec(None, tf.float32)],
        )
        self._score = tf.function(self._score_impl, input_signature=[pixels, tf.TensorSpec((None,), tf.int32)])

    # -------------------------------------------------------------- compiled pieces
    def _acts(self, seen):
        outs = self.model(to_model_input(seen, self.preprocess), training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        acts = dict(zip(self.names, outs))
        acts["pixels"] = seen
        return acts

    def _score_impl(self, pixels, targets):
        return self.objective(self._acts(pixels), targets)

    def _step_impl(self, pixels, targets, matrices, lr, blur, lo, hi):
        with tf.GradientTape() as tape:
            tape.watch(pixels)
            seen = pixels
            if self.transforms.active:
                shape = tf.shape(pixels)[1:3]
                seen = tf.raw_ops.ImageProjectiveTransformV3(
                    images=pixels, transforms=matrices, output_shape=shape, fill_value=0.0,
                    interpolation="BILINEAR", fill_mode="REFLECT")
            score = self.objective(self._acts(seen), targets)
            total = tf.reduce_sum(score)
        grad = tape.gradient(total, pixels)
        grad = tf.cond(blur > 0, lambda: _gaussian_blur(grad, blur), lambda: grad)
        if self.rule.normalize == "sign":
            grad = tf.sign(grad)
        else:
            rms = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=[1, 2, 3], keepdims=True))
            grad = grad / (rms + 1e-8)
        new = pixels + lr * grad
        if self.rule.clip:
            new = tf.clip_by_value(new, lo, hi)
        return new, score

    # -------------------------------------------------------------- driver
    def score(self, pixels: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Objective per image for these pixels (no transforms, no gradient)."""
        return self._score(tf.constant(pixels, tf.float32), tf.constant(targets, tf.int32)).numpy()

    def run(
        self,
        pixels: np.ndarray,
        targets: np.ndarray,
        stages: Sequence[Stage],
        rngs: Sequence[np.random.Generator],
        *,
        bounds: tuple[np.ndarray | float, np.ndarray | float] = (0.0, 255.0),
        progress: Progress | None = None,
        stop: Callable[[np.ndarray, np.ndarray], bool] | None = None,
        check_every: int = 10,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Optimise ``pixels`` (B, H, W, C in 0-255) through ``stages``.

        ``rngs`` holds one random generator per image (its transforms). ``stop(pixels, scores)`` is
        asked every ``check_every`` steps and at the end of each stage; True ends the run early.
        Returns (pixels, last scores, steps taken).
        """
        x = tf.constant(pixels, tf.float32)
        t = tf.constant(targets, tf.int32)
        lo = tf.constant(bounds[0], tf.float32)
        hi = tf.constant(bounds[1], tf.float32)
        with _bfloat16_rewrite() if self.precision == "bfloat16" else nullcontext():
            return self._run(x, t, lo, hi, stages, rngs, progress, stop, check_every)

    def _run(self, x, t, lo, hi, stages, rngs, progress, stop, check_every):
        total = sum(s.steps for s in stages)
        done, scores = 0, np.zeros(int(x.shape[0]), "float32")
        for stage in stages:
            if tuple(x.shape[1:3]) != tuple(stage.size):
                x = tf.image.resize(x, stage.size, method="bilinear")
            h, w = stage.size
            for _ in range(stage.steps):
                if self.transforms.active:
                    m = np.stack([self.transforms.sample(r, h, w) for r in rngs])
                else:
                    m = np.tile(IDENTITY, (len(rngs), 1))
                x, s = self._step(x, t, tf.constant(m), tf.constant(stage.lr, tf.float32),
                                  tf.constant(stage.blur, tf.float32), lo, hi)
                scores = s.numpy()
                done += 1
                if progress:
                    progress(done, total)
                if stop is not None and done % check_every == 0 and stop(x.numpy(), scores):
                    return x.numpy(), scores, done
        return x.numpy(), scores, done


def _gaussian_blur(x, sigma):
    """Separable Gaussian blur (radius 2*sigma rounded up, at most 4) with reflected borders."""
    radius = 4
    offsets = tf.range(-radius, radius + 1, dtype=tf.float32)
    k = tf.exp(-0.5 * tf.square(offsets / tf.maximum(sigma, 1e-3)))
    k = k / tf.reduce_sum(k)
    channels = tf.shape(x)[-1]
    kx = tf.tile(tf.reshape(k, [1, -1, 1, 1]), [1, 1, channels, 1])
    ky = tf.tile(tf.reshape(k, [-1, 1, 1, 1]), [1, 1, channels, 1])
    padded = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    y = tf.nn.depthwise_conv2d(padded, kx, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(y, ky, [1, 1, 1, 1], "VALID")


def input_gradients(model, x: np.ndarray, score: Callable) -> tuple[np.ndarray, np.ndarray]:
    """d score / d input for a batch: ``score(outputs) -> (batch,)``. Returns (gradients, scores)."""
    xt = tf.constant(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        s = score(model(xt, training=False))
        total = tf.reduce_sum(s)
    return tape.gradient(total, xt).numpy(), s.numpy()


def layer_gradients(model, x: np.ndarray, score: Callable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``model(x) -> [logits, feature maps]``: (feature maps, d score / d feature maps, logits)."""
    xt = tf.constant(x, tf.float32)
    with tf.GradientTape() as tape:
        logits, maps = model(xt, training=False)
        s = score(logits)
        total = tf.reduce_sum(s)
    grads = tape.gradient(total, maps)
    return maps.numpy(), grads.numpy(), logits.numpy()
