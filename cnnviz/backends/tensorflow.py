"""TensorFlow adapter: ``tf.GradientTape`` inside ``tf.function`` (the only TensorFlow import of the engine)."""

from __future__ import annotations

import weakref
from contextlib import contextmanager, nullcontext

import tensorflow as tf

from . import as_list


def _call(model):
    return lambda x: as_list(model(x, training=False))


def compile_step(model, loss, update):
    call = _call(model)

    def step(params, state, *args):
        with tf.GradientTape() as tape:
            tape.watch(params)
            total, aux = loss(call, params, *args)
        grads = tape.gradient(total, params)
        params, state = update(params, grads, state, *args)
        return params, state, aux

    # one trace per input shape (the stages of a schedule), reused across batches
    return tf.function(step, reduce_retracing=False)


def gradients(model, loss, params, *args):
    call = _call(model)
    params = tf.nest.map_structure(lambda p: tf.convert_to_tensor(p, tf.float32), params)
    with tf.GradientTape() as tape:
        tape.watch(params)
        total, aux = loss(call, params, *args)
    return tape.gradient(total, params), aux


@contextmanager
def _bfloat16_rewrite():
    """Let oneDNN run the convolutions of functions instantiated here in bf16 (float32 in and out;
    only compiled functions are rewritten, eager ops are not)."""
    key = "auto_mixed_precision_onednn_bfloat16"
    before = bool(tf.config.optimizer.get_experimental_options().get(key, False))
    tf.config.optimizer.set_experimental_options({key: True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({key: before})


def precision_scope(precision: str):
    return _bfloat16_rewrite() if precision == "bfloat16" else nullcontext()


def has_gpu() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def runs_bfloat16() -> bool:
    """The bf16 rewrite of compiled steps is oneDNN's: it runs on the CPU, not on a GPU."""
    return not has_gpu()


def native_bfloat16() -> bool:
    """bf16 at about twice float32's speed: a CPU with AVX512-BF16 or AMX, and no GPU."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            flags = fh.read()
    except OSError:
        return False
    return (" avx512_bf16" in flags or " amx_bf16" in flags) and runs_bfloat16()


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(model, key, build):
    """One ``tf.function`` per (model, key), traced once per input shape and reused. ``build(ref)``
    gets a weak reference to the model (the cache's values must not keep its keys alive)."""
    per = _COMPILED.setdefault(model, {})
    if key not in per:
        per[key] = tf.function(build(weakref.ref(model)), reduce_retracing=True)
    return per[key]


def map_gradients(model, x, score, *args):
    """(maps, d score / d maps, head value) for ``model(x) -> [head value, maps]``, compiled like the
    steps of filters and fool (TensorFlow 2.21's oneDNN crashes in some *eager* conv gradients, e.g.
    1x1 stride-2); ``score(value, *args) -> (batch,)``: the tape records the forward pass, so it
    differentiates with respect to the intermediate maps directly."""

    def build(ref):
        def run(xt, *targs):
            with tf.GradientTape() as tape:
                tape.watch(xt)
                value, maps = ref()(xt, training=False)
                total = tf.reduce_sum(score(value, *targs))
            return maps, tape.gradient(total, maps), value

        return run

    fn = _compiled(model, ("maps", score), build)
    return fn(tf.convert_to_tensor(x, tf.float32), *[tf.convert_to_tensor(a) for a in args])


def score_gradients(model, x, score, *args):
    """(d score / d input, score) for ``model(x) -> value``, compiled (see :func:`map_gradients`)."""

    def build(ref):
        def run(xt, *targs):
            with tf.GradientTape() as tape:
                tape.watch(xt)
                s = score(as_list(ref()(xt, training=False))[0], *targs)
                total = tf.reduce_sum(s)
            return tape.gradient(total, xt), s

        return run

    fn = _compiled(model, ("input", score), build)
    return fn(tf.convert_to_tensor(x, tf.float32), *[tf.convert_to_tensor(a) for a in args])
