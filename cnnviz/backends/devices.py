"""What the device offers the gradient commands: free memory, a batch size that fits, and a retry
with a smaller batch when it runs out of memory anyway.

On a CPU the batch stays at :data:`CPU_BATCH` (more images at once gain nothing there). On a GPU the
batch is what fits in half the free memory, from an estimate of one image's forward activations
(kept for the backward pass, plus the update's state). Nothing here imports a framework at module
level; the backend's own memory query is used (JAX ``memory_stats``, ``torch.cuda.mem_get_info``,
TensorFlow ``get_memory_info`` against NVML's total).
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

import numpy as np

from ..errors import CnnvizError

CPU_BATCH = 16
MAX_BATCH = 1024
MEMORY_SHARE = 0.5  # of the free memory; the rest for compilation, workspace and the estimate's error
BYTES_PER_ACTIVATION = 4 * 4  # float32 forward value, its gradient, and room for the backward pass

T = TypeVar("T")


def check_batch_size(batch_size: int | None) -> int | None:
    """None (choose) or a positive count; 0 and negatives are an error."""
    if batch_size is not None and batch_size < 1:
        raise CnnvizError(f"--batch-size must be at least 1 (got {batch_size}); leave it out to choose from free memory")
    return batch_size


def accelerator() -> str:
    """``"gpu"``, ``"tpu"`` or ``"cpu"``: where the Keras backend runs its ops."""
    from .runtime import BACKEND

    if BACKEND == "jax":
        import jax

        return {"cuda": "gpu", "rocm": "gpu"}.get(jax.default_backend(), jax.default_backend())
    if BACKEND == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"


def free_memory() -> int | None:
    """Free bytes on the first accelerator, or None on a CPU / when the backend cannot tell."""
    from .runtime import BACKEND

    try:
        if accelerator() == "cpu":
            return None
        if BACKEND == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            if "bytes_limit" in stats:
                return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
            return None
        if BACKEND == "torch":
            import torch

            free, _ = torch.cuda.mem_get_info()
            return int(free)
        import tensorflow as tf

        used = tf.config.experimental.get_memory_info("GPU:0")["current"]
        import pynvml  # total memory: TensorFlow does not report it

        pynvml.nvmlInit()
        total = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0)).total
        return int(total - used)
    except Exception:  # noqa: BLE001 - a query that fails leaves the default batch
        return None


def activation_count(model, image_hw: tuple[int, int]) -> int | None:
    """Numbers one image produces across every layer of ``model`` at ``image_hw`` (a symbolic pass
    over the same layers at a fixed size), or None when the graph cannot be replayed."""
    from .runtime import keras

    h, w, c = (int(d) if d else None for d in model.inputs[0].shape[1:])
    total = [0]

    def call(layer, *args, **kwargs):
        y = layer(*args, **kwargs)
        for t in keras.tree.flatten(y):
            total[0] += int(np.prod([d or 1 for d in t.shape[1:]]))
        return y

    try:
        inp = keras.Input((h or image_hw[0], w or image_hw[1], c))
        keras.models.clone_model(model, input_tensors=inp, clone_function=lambda layer: layer,
                                 call_function=call, recursive=True)
    except Exception:  # noqa: BLE001 - Sequential inside, custom layers: fall back to the default
        return None
    return total[0] + int(np.prod(inp.shape[1:]))


def choose_batch_size(model, image_hw: tuple[int, int], count: int, requested: int | None = None,
                      free: int | None = None) -> int:
    """``requested`` if given; on a CPU :data:`CPU_BATCH`; on a GPU what fits in
    :data:`MEMORY_SHARE` of the free memory (``free``: bytes, default: asked of the backend)."""
    if check_batch_size(requested) is not None:
        return max(1, min(requested, count))
    free = free_memory() if free is None else free
    per_image = activation_count(model, image_hw) if free else None
    if not free or not per_image:
        return max(1, min(CPU_BATCH, count))
    fits = int(free * MEMORY_SHARE // (per_image * BYTES_PER_ACTIVATION))
    return max(1, min(fits, count, MAX_BATCH))


def is_out_of_memory(exc: BaseException) -> bool:
    """True for each backend's device out-of-memory error (matched by name and message, no imports)."""
    names = {type(e).__name__ for e in (exc, exc.__cause__) if e is not None}
    if names & {"OutOfMemoryError", "ResourceExhaustedError"}:
        return True
    text = str(exc)
    return "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower()


def in_batches(items: Sequence, batch_size: int, run: Callable[[list], Sequence[T]],
               note: Callable[[str], None] | None = None) -> list[T]:
    """``run`` over ``items`` in batches; when a batch runs out of device memory, halve the batch and
    retry it (saying so through ``note``); a single item that does not fit is an error."""
    out: list[T] = []
    start = 0
    while start < len(items):
        batch = list(items[start : start + batch_size])
        try:
            out.extend(run(batch))
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled, the rest re-raised
            if not is_out_of_memory(exc):
                raise
            if batch_size == 1:
                raise CnnvizError("the device ran out of memory even for one image; try a smaller --size") from None
            batch_size = max(1, len(batch) // 2)
            if note:
                note(f"out of device memory with a batch of {len(batch)}; retrying with {batch_size}")
            continue
        start += len(batch)
    return out
