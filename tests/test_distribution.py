"""Filters and fooling classes split over two devices (keras.distribution.DataParallel on JAX, two host
CPU devices forced by XLA_FLAGS) give the same images as the one-device run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnviz.backends.distribution import padded

ROOT = Path(__file__).resolve().parents[1]


def run_on(devices: int, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    env.update(KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT),
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "distribution_probe.py"), str(out)], env=env,
                          capture_output=True, text=True, timeout=400)
    assert "DONE" in done.stdout, done.stderr[-3000:]
    with np.load(out) as z:
        return {k: z[k] for k in z.files}


def test_padded_to_a_multiple_of_the_devices():
    assert padded([4, 7, 9], 2) == [4, 7, 9, 9]
    assert padded([4, 7], 2) == [4, 7] and padded([4], 1) == [4] and padded([1, 2, 3], 4) == [1, 2, 3, 3]


@pytest.mark.slow
def test_split_over_two_devices_equals_one_device(tmp_path):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax not installed")
    one, two = run_on(1, tmp_path / "one.npz"), run_on(2, tmp_path / "two.npz")
    assert int(one["devices"]) == 1 and list(one["shards"]) == [1]
    assert int(two["devices"]) == 2 and list(two["shards"]) == [2]  # every step's batch lay on both devices
    assert two["filters"].shape == (5, 28, 28, 1) and two["fool"].shape == (3, 28, 28, 1)  # padding dropped
    assert two["filters"].std() > 5
    np.testing.assert_array_equal(two["filters"], one["filters"])
    np.testing.assert_array_equal(two["fool"], one["fool"])
