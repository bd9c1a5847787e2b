"""Run by tests/test_backend_agreement.py on one Keras backend (KERAS_BACKEND set, a fresh process):
LeNet activations, Grad-CAM and SmoothGrad maps, Sobel responses and a fooling PNG (through the CLI),
saved to OUT/results.npz and OUT/fool/ for the calling test to compare across backends."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def measure(out: Path, fool: bool = True) -> dict:
    """What one backend computes; also used in-process by the test for its own backend."""
    import cv2
    from typer.testing import CliRunner

    from cnnviz.backends.runtime import BACKEND
    from cnnviz.methods.activations import activation_maps
    from cnnviz.methods.cam import class_heatmap
    from cnnviz.methods.edges import edge_filter
    from cnnviz.inputs.images import bundled_cat, read_image
    from cnnviz.models import load_model
    from cnnviz.models.lenet import sample_digits

    lenet = load_model("lenet")
    digits, _ = sample_digits()
    acts = activation_maps(lenet, digits[0], ["conv1", "conv2"])
    cam = class_heatmap(lenet, digits[1], method="gradcam", layer="conv2")
    smooth = class_heatmap(lenet, digits[1], method="smoothgrad", seed=4, samples=8)
    cat = cv2.resize(read_image(bundled_cat()), (96, 64), interpolation=cv2.INTER_AREA)
    sobel = edge_filter(cat, "sobel")
    from keras import ops

    from cnnviz.inputs.preprocessing import to_model_input

    caffe = to_model_input(ops.convert_to_tensor(cat[None].astype("float32")), "caffe")
    assert not isinstance(caffe, np.ndarray)  # stays a backend tensor (inside a compiled step it must)
    caffe = ops.convert_to_numpy(caffe)
    res = {"conv1": acts["conv1"], "conv2": acts["conv2"], "gradcam_raw": cam.raw, "gradcam": cam.heat,
           "gradcam_class": cam.class_index, "smoothgrad": smooth.heat, "sobel_v": sobel.vertical,
           "sobel_h": sobel.horizontal, "sobel_dtype": sobel.dtype, "caffe": caffe, "backend": BACKEND,
           "tensorflow_imported": "tensorflow" in sys.modules}
    if fool:
        from cnnviz.cli import app

        r = CliRunner().invoke(app, ["fool", "-m", "lenet", "-c", "3", "--confidence", "0.99", "--seed", "2",
                                     "-o", str(out), "--tiles", str(out / "fool")])
        res["fool_exit"] = r.exit_code
    return res


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    np.savez(target / "results.npz", **measure(target))
    print("DONE")
