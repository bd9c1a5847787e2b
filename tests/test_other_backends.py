"""The backend-dependent tests (marker ``backends``) again on the other Keras backends, each in a fresh
pytest process with KERAS_BACKEND set: one ``python -m pytest`` covers TensorFlow and JAX.

Which backends: ``CNNVIZ_TEST_BACKENDS`` (comma-separated, default ``jax``; add ``torch`` where
PyTorch is installed). Inside such a run (``CNNVIZ_SUITE_BACKEND`` set) this test skips itself.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WANTED = [b.strip() for b in os.environ.get("CNNVIZ_TEST_BACKENDS", "jax").split(",") if b.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("backend", WANTED)
def test_backend_marked_tests_pass_on(backend, tmp_path):
    import keras

    if os.environ.get("CNNVIZ_SUITE_BACKEND"):
        pytest.skip("already inside a per-backend run")
    if backend == keras.backend.backend():
        pytest.skip(f"this run is on {backend} already")
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} not installed (pip install the package to test it)")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(KERAS_BACKEND=backend, CNNVIZ_SUITE_BACKEND=backend, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu",
               TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-m", "backends and not slow",
                           "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t"), str(ROOT / "tests")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    tail = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"backend-marked tests failed on {backend}:\n{tail}"
    assert " passed" in done.stdout.splitlines()[-1], tail
