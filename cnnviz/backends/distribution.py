"""More than one accelerator: the images of a batch (filters of a layer, classes of ``fool``) are split
across every visible device with Keras' own distribution API, ``keras.distribution.DataParallel``
(data parallel over the batch axis; the model's weights replicated). JAX only for now: the compiled
step is one ``jax.jit`` whose input batch carries the data-parallel sharding, so XLA runs each
device's share of the images there. Images are independent (one per filter or class), so the split
run gives the same images as the one-device run.

Test it on a CPU by forcing host devices: ``XLA_FLAGS=--xla_force_host_platform_device_count=2``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


def device_count() -> int:
    """Devices a data-parallel run would use (1 off JAX, where batches are not split yet)."""
    from .runtime import BACKEND, keras

    if BACKEND != "jax":
        return 1
    return len(keras.distribution.list_devices())


@contextmanager
def data_parallel() -> Iterator[int]:
    """While inside, batches handed to :func:`place_batch` are sharded over all devices. Yields the
    number of devices (1: nothing is split; batches should be a multiple of it)."""
    from .runtime import keras

    current = keras.distribution.distribution()
    if current is not None:  # the user's own distribution: follow it
        yield _count(current)
        return
    n = device_count()
    if n < 2:
        yield 1
        return
    dist = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    with dist.scope():
        yield n


def _count(dist) -> int:
    return int(getattr(getattr(dist, "device_mesh", None), "shape", (1,))[0]) if dist is not None else 1


def place_batch(x):
    """``x`` (batch first) laid out by the active distribution's data layout, or unchanged."""
    from .runtime import keras

    dist = keras.distribution.distribution()
    if dist is None or not hasattr(dist, "get_data_layout"):
        return x
    if int(x.shape[0]) % _count(dist):
        return x  # not divisible: leave it on one device (callers pad to a multiple)
    return keras.distribution.distribute_tensor(x, dist.get_data_layout(tuple(x.shape)))


def padded(batch: list, multiple: int) -> list:
    """``batch`` with its last item repeated up to a multiple of ``multiple`` (drop the extras after)."""
    extra = (-len(batch)) % max(1, multiple)
    return list(batch) + [batch[-1]] * extra
