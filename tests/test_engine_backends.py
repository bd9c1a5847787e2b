"""The engine's gradient seam on every Keras backend (each in its own process, KERAS_BACKEND set)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def probe(backend: str) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3",
               JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "backend_probe.py")], env=env,
                          capture_output=True, text=True, timeout=240)
    lines = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_gradients_equal_finite_differences_and_hand_values(backend):
    if importlib.util.find_spec(backend) is None:  # PyTorch is not in CI (see README); TF and JAX are
        pytest.skip(f"{backend} not installed")
    out = probe(backend)
    assert out["backend"] == backend
    if backend != "tensorflow":
        assert not out["tensorflow_imported"]  # the engine imports TensorFlow only in its TF adapter
    np.testing.assert_allclose(out["analytic"], out["fd"], rtol=1e-3, atol=2e-5)
    assert max(abs(v) for v in out["fd"]) > 1e-3  # a real slope, not zeros on both sides
    assert out["scores_match"] and out["maps_ok"]
    assert out["map_grad_err"] < 1e-6
    assert out["sign_step_err"] < 1e-4
    assert out["adam_step_err"] < 1e-3  # Adam's first step is lr * g / (|g| + eps) = lr * sign(g)
    assert out["fourier_rises"]
    lo, hi = out["fourier_range"]
    assert 0.0 <= lo and hi <= 255.0
