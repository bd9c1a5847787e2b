"""Choosing the Keras backend: --backend, KERAS_BACKEND, keras.json; unknown and missing backends;
every command on JAX and PyTorch without TensorFlow being imported (in fresh processes)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnnviz.backends import select as keras_backend
from cnnviz.cli import app
from cnnviz.errors import CnnvizError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def fresh_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="", **extra)
    return env


def test_configured_follows_env_then_keras_json_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert keras_backend.configured_from() == ("tensorflow", "default")
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch", "floatx": "float32"}))
    assert keras_backend.configured_from() == ("torch", str(tmp_path / "keras.json"))
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert keras_backend.configured_from() == ("jax", "KERAS_BACKEND")


def test_unknown_backend_is_one_line():
    with pytest.raises(CnnvizError, match=r"unknown Keras backend 'mxnet'; use one of: tensorflow, jax, torch"):
        keras_backend.check("mxnet")
    r = runner.invoke(app, ["--backend", "theano", "layers", "lenet"])
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == ["error: unknown Keras backend 'theano'; use one of: tensorflow, jax, torch"]


@pytest.fixture
def jax_missing(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))


def test_missing_backend_names_the_pip_command(jax_missing, monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    r = runner.invoke(app, ["--backend", "jax", "layers", "lenet"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.strip().splitlines() == ['error: the jax backend is not installed; install it with: pip install "jax[cpu]"  '
                                             '(NVIDIA GPU: pip install "jax[cuda12]")']
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # the Keras way gets the same check
    r = runner.invoke(app, ["layers", "lenet"])
    assert r.exit_code == 1 and "pip install" in r.output


def test_no_switch_once_keras_runs(monkeypatch):
    import keras

    now = keras.backend.backend()
    other = "jax" if now != "jax" else "torch"
    if importlib.util.find_spec(other) is None:
        pytest.skip(f"{other} not installed")
    monkeypatch.setenv("KERAS_BACKEND", now)
    with pytest.raises(CnnvizError, match=f"Keras already runs on {now} in this process"):
        keras_backend.select(other)
    assert keras_backend.select(now) == now


def test_backend_chosen_in_keras_json_runs_there(tmp_path):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax not installed")
    code = ("import sys; from cnnviz.cli import app; from typer.testing import CliRunner; "
            "r = CliRunner().invoke(app, ['activations', '-m', 'lenet', '-l', 'conv1', '-o', sys.argv[1]]); "
            "import keras; print(r.exit_code, keras.backend.backend(), 'tensorflow' in sys.modules)")
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], env=fresh_env(KERAS_HOME=str(tmp_path)),
                          capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["0", "jax", "False"], done.stdout + done.stderr[-2000:]


# Every command, end to end, on the backend given by --backend (keras.json says tensorflow) in a
# fresh process; TensorFlow must stay out.
E2E = r"""
import sys, tempfile
from pathlib import Path
from typer.testing import CliRunner
from cnnviz.cli import app
d, backend = Path(sys.argv[1]), sys.argv[2]
cmds = [["layers", "lenet"], ["activations", "-m", "lenet", "-l", "conv1", "-l", "conv2", "-o", d],
        ["cam", "-m", "lenet", "-o", d], ["cam", "-m", "lenet", "--method", "smoothgrad", "-o", d],
        ["edges", "-o", d], ["kernels", "lenet", "--layer", "conv1", "-o", d],
        ["filters", "lenet", "--layer", "conv1", "--steps", "20", "-o", d],
        ["fool", "-m", "lenet", "-c", "3", "--confidence", "0.9", "-o", d]]
for c in cmds:
    r = CliRunner().invoke(app, ["--backend", backend] + [str(a) for a in c])
    print("CMD", c[0], r.exit_code, repr(r.exception) if r.exit_code else "")
import keras
print("BACKEND", keras.backend.backend(), "tensorflow" in sys.modules)
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_every_command_runs_without_tensorflow(tmp_path, backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} not installed")
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))  # --backend wins
    done = subprocess.run([sys.executable, "-c", E2E, str(tmp_path), backend], env=fresh_env(KERAS_HOME=str(tmp_path)),
                          capture_output=True, text=True, timeout=600)
    lines = done.stdout.splitlines()
    failed = [l for l in lines if l.startswith("CMD") and l.split()[2] != "0"]
    assert not failed and len([l for l in lines if l.startswith("CMD")]) == 8, done.stdout + done.stderr[-3000:]
    assert f"BACKEND {backend} False" in lines  # ran there, and TensorFlow was never imported
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == 8 and any(p.startswith("fool_lenet") for p in pngs), pngs
