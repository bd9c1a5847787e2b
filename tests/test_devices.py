"""Batch sizes from free device memory, --batch-size, and the retry with a smaller batch on OOM."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from cnnviz.backends import devices
from cnnviz.cli import app
from cnnviz.errors import CnnvizError

runner = CliRunner()


class FakeOOM(RuntimeError):
    """Stands for XlaRuntimeError('RESOURCE_EXHAUSTED: ...') / torch.OutOfMemoryError."""


def test_activation_count_is_every_layers_output(tiny_conv_model):
    # 16x16x3 input + c1 16x16x4 + p1 8x8x4 + c2 8x8x5 + gap 5 + out 3 (hand-counted)
    assert devices.activation_count(tiny_conv_model, (16, 16)) == 768 + 1024 + 256 + 320 + 5 + 3


def test_batch_size_from_free_memory(tiny_conv_model, monkeypatch):
    per_image = devices.activation_count(tiny_conv_model, (16, 16)) * devices.BYTES_PER_ACTIVATION
    # 100 images fit in the share of free memory given -> 100; never more than the work; CPU -> 16
    free = int(100 * per_image / devices.MEMORY_SHARE) + 1
    assert devices.choose_batch_size(tiny_conv_model, (16, 16), 512, free=free) == 100
    assert devices.choose_batch_size(tiny_conv_model, (16, 16), 7, free=free) == 7
    assert devices.choose_batch_size(tiny_conv_model, (16, 16), 512, free=1) == 1
    assert devices.choose_batch_size(tiny_conv_model, (16, 16), 512, requested=40) == 40
    # on a CPU there is no device memory to ask about: the CPU batch (forced, so that this holds on a GPU host too)
    monkeypatch.setattr(devices, "accelerator", lambda: "cpu")
    assert devices.free_memory() is None
    assert devices.choose_batch_size(tiny_conv_model, (16, 16), 512) == devices.CPU_BATCH


def test_free_memory_on_this_host_is_a_byte_count_or_none():
    free = devices.free_memory()  # None on a CPU or when the backend cannot tell; else bytes, on any host
    assert free is None if devices.accelerator() == "cpu" else (free is None or free > 0)


def test_batch_size_zero_is_refused():
    with pytest.raises(CnnvizError, match="--batch-size must be at least 1"):
        devices.check_batch_size(0)
    for cmd in (["filters", "lenet", "-l", "conv1"], ["fool", "-m", "lenet", "-c", "3"]):
        r = runner.invoke(app, cmd + ["--batch-size", "0", "-o", "never"])
        assert r.exit_code == 1 and r.output.strip().splitlines()[-1].startswith("error: --batch-size must be at least 1")


def test_oom_messages_are_recognised():
    assert devices.is_out_of_memory(FakeOOM("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 8 GiB"))
    assert devices.is_out_of_memory(type("OutOfMemoryError", (RuntimeError,), {})("CUDA out of memory."))
    assert not devices.is_out_of_memory(ValueError("shapes do not match"))


def test_in_batches_halves_on_oom_and_keeps_order():
    seen, notes = [], []

    def run(batch):
        if len(batch) > 3:
            raise FakeOOM("RESOURCE_EXHAUSTED: out of memory")
        seen.append(list(batch))
        return [i * 10 for i in batch]

    out = devices.in_batches(list(range(10)), 8, run, notes.append)
    assert out == [i * 10 for i in range(10)]
    assert seen == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]  # 8 -> 4 -> 2, then 2 for the rest
    assert notes == ["out of device memory with a batch of 8; retrying with 4",
                     "out of device memory with a batch of 4; retrying with 2"]
    with pytest.raises(CnnvizError, match="even for one image"):
        devices.in_batches([1], 1, lambda b: (_ for _ in ()).throw(FakeOOM("out of memory")))
    with pytest.raises(ValueError):  # anything else is not swallowed
        devices.in_batches([1, 2], 2, lambda b: (_ for _ in ()).throw(ValueError("bug")))


def test_filters_retry_after_oom_gives_the_same_images(tmp_path, monkeypatch):
    from cnnviz.optvis import Ascent

    a, b = tmp_path / "a", tmp_path / "b"
    args = ["filters", "lenet", "-l", "conv1", "--steps", "6", "--seed", "3"]
    r = runner.invoke(app, args + ["--batch-size", "2", "-o", a])
    assert r.exit_code == 0, r.output
    real = Ascent.run

    def small_device(self, start, *rest, **kw):
        if len(start) > 2:
            raise FakeOOM("RESOURCE_EXHAUSTED: Out of memory while trying to allocate")
        return real(self, start, *rest, **kw)

    monkeypatch.setattr(Ascent, "run", small_device)
    r = runner.invoke(app, args + ["--batch-size", "6", "-o", b])
    assert r.exit_code == 0, r.output
    assert "note: out of device memory with a batch of 6; retrying with 3" in r.output
    assert "retrying with 1" in r.output  # 3 does not fit either; then every batch of 1 fits
    name = "filters_lenet_conv1_smooth.png"
    x, y = (np.asarray(Image.open(d / name)).astype(int) for d in (a, b))
    # the same images; XLA (JAX) may round a pixel differently at another batch size, never more than 1 level
    assert np.abs(x - y).max() <= 1 and (x != y).mean() < 1e-3
