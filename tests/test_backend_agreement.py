"""The same LeNet results on every Keras backend: activations, Grad-CAM, SmoothGrad, Sobel in float64,
and a fooling image made on another backend fools the model run here."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from backend_agreement import measure  # noqa: E402


@pytest.fixture(scope="module")
def here(tmp_path_factory):
    return measure(tmp_path_factory.mktemp("here"), fool=False)


def elsewhere(backend: str, folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(KERAS_BACKEND=backend, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu",
               CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "backend_agreement.py"), str(folder)], env=env,
                          capture_output=True, text=True, timeout=400)
    assert "DONE" in done.stdout, done.stderr[-3000:]
    with np.load(folder / "results.npz") as z:
        return {k: z[k] for k in z.files}


def others() -> list[str]:
    import keras

    return [b for b in ("tensorflow", "jax", "torch") if b != keras.backend.backend()]


@pytest.mark.slow
@pytest.mark.parametrize("index", [0, 1])
def test_results_agree_across_backends(here, tmp_path, index):
    backend = others()[index]
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} not installed")
    there = elsewhere(backend, tmp_path)
    assert str(there["backend"]) == backend
    if backend != "tensorflow":
        assert not bool(there["tensorflow_imported"])
    for key in ("conv1", "conv2"):
        assert here[key].std() > 0.1  # real maps, not zeros
        np.testing.assert_allclose(there[key], here[key], rtol=1e-4, atol=1e-4 * np.abs(here[key]).max())
    assert int(there["gradcam_class"]) == here["gradcam_class"]
    assert here["gradcam_raw"].max() > 0 and here["gradcam"].std() > 0.05
    np.testing.assert_allclose(there["gradcam_raw"], here["gradcam_raw"], rtol=1e-3, atol=1e-4 * here["gradcam_raw"].max())
    np.testing.assert_allclose(there["gradcam"], here["gradcam"], atol=1e-3)
    np.testing.assert_allclose(there["smoothgrad"], here["smoothgrad"], atol=1e-3)
    # Sobel in float64 on every backend: equal to OpenCV to float64 round-off, and across backends
    assert str(there["sobel_dtype"]) == "float64" and here["sobel_dtype"] == "float64"
    np.testing.assert_allclose(there["sobel_v"], here["sobel_v"], atol=1e-9)
    np.testing.assert_allclose(there["sobel_h"], here["sobel_h"], atol=1e-9)
    # VGG's caffe preprocessing (RGB -> BGR, means) on a backend tensor, as inside the compiled steps
    np.testing.assert_allclose(there["caffe"], here["caffe"], atol=1e-4)
    # the fooling image written on the other backend fools the model run here (from its PNG)
    assert int(there["fool_exit"]) == 0
    png = cv2.imread(str(tmp_path / "fool" / "class_3.png"), cv2.IMREAD_GRAYSCALE)
    assert png is not None and png.shape == (28, 28) and png.std() > 5
    from cnnviz.models import Classifier, load_model

    probs = Classifier(load_model("lenet")).probabilities(png[None, :, :, None])[0]
    assert probs.argmax() == 3 and probs[3] >= 0.98, probs


def test_sobel_is_float64_here_and_equals_opencv(here):
    import cv2

    from cnnviz.inputs.images import bundled_cat, read_image
    from cnnviz.pixels import luma

    cat = cv2.resize(read_image(bundled_cat()), (96, 64), interpolation=cv2.INTER_AREA)
    g = luma(cat.astype("float64"))
    assert here["sobel_dtype"] == "float64" and here["sobel_v"].dtype == np.float64
    np.testing.assert_allclose(here["sobel_v"], cv2.Sobel(g, cv2.CV_64F, 1, 0, ksize=3), atol=1e-9)
    np.testing.assert_allclose(here["sobel_h"], cv2.Sobel(g, cv2.CV_64F, 0, 1, ksize=3), atol=1e-9)
    bgr = cat[None, :, :, ::-1].astype("float32") - np.array([103.939, 116.779, 123.68], "float32")
    np.testing.assert_allclose(here["caffe"], bgr, atol=1e-4)
