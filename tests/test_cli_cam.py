"""`cnnviz cam`: several images and methods, manifests with faithfulness, raw heatmaps, bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cnnviz.methods.attribution import METHODS

from test_cli import assert_clean_error, run


def _digits(folder, n=2):
    from cnnviz.models.lenet import sample_digits

    x, _ = sample_digits()
    folder.mkdir()
    for i in range(n):
        Image.fromarray(x[i][..., 0]).save(folder / f"d{i}.png")
    return x


def test_cam_several_images_and_methods(tmp_path, lenet):
    x = _digits(tmp_path / "in")
    out = tmp_path / "out"
    r = run("cam", tmp_path / "in", "--model", "lenet", "--method", "gradcam", "--method", "integrated-gradients",
            "--heatmaps", "--faithfulness-steps", "8", "--out", out)
    assert r.exit_code == 0, r.output
    assert r.output.count("gradcam: class") == 2 and "deletion" in r.output
    for i in range(2):
        data = json.loads((out / f"cam_lenet_d{i}_gradcam-integrated-gradients.json").read_text())
        rand = data["faithfulness"]["reference"]
        gc, ig = data["methods"]
        assert gc["method"] == "gradcam" and gc["layer"] == "conv2" and gc["placement"] == "receptive-field"
        assert 0 <= gc["deletion_auc"] <= 1 and len(gc["deletion_curve"]) == 9 and 0 <= rand["insertion_auc"] <= 1
        assert ig["completeness_error"] < 0.05 and ig["baseline"] == "black"
        heat = np.load(out / f"heatmap_lenet_d{i}_integrated-gradients.npy")
        assert heat.dtype == np.float32 and heat.shape == (28, 28)
        # the .npy is the method's map: integrated gradients sums to the logit difference (black baseline)
        logits = np.asarray(lenet_logits(lenet, np.stack([x[i], np.zeros_like(x[i])])))
        k = data["class"]
        assert abs(heat.sum() - (logits[0, k] - logits[1, k])) < 0.05 * abs(logits[0, k] - logits[1, k])
        with Image.open(out / f"cam_lenet_d{i}_gradcam-integrated-gradients.png") as png:  # closed: a file left to the
            assert png.size[0] > 3 * png.size[1] / 2  # garbage collector warns inside a later command (a stray note)
    # a quoted glob, and today's single-image invocation and names
    r = run("cam", str(tmp_path / "in" / "d*.png"), "--model", "lenet", "--method", "gradcam++", "--faithfulness-steps", "0", "--out", out)
    assert r.exit_code == 0, r.output
    for i in range(2):  # the glob reached both images: each manifest names its file and the model's own class for it
        data = json.loads((out / f"cam_lenet_d{i}_gradcampp.json").read_text())
        logits = np.asarray(lenet_logits(lenet, x[i : i + 1]))[0]
        assert data["input"] == str(tmp_path / "in" / f"d{i}.png") and data["class"] == int(np.argmax(logits))
        assert [m["method"] for m in data["methods"]] == ["gradcam++"] and data["image"] == f"cam_lenet_d{i}_gradcampp.png"
    # nothing replaced without --overwrite; the raw heatmaps are checked too
    before = sorted(p.name for p in out.iterdir())
    r = run("cam", tmp_path / "in", "--model", "lenet", "--method", "gradcam", "--method", "integrated-gradients", "--heatmaps", "--out", out)
    assert_clean_error(r, "already exists; pass --overwrite")
    assert sorted(p.name for p in out.iterdir()) == before


def lenet_logits(lenet, pixels):
    from cnnviz.models import Classifier

    return Classifier(lenet).model(pixels.astype("float32") / 255.0)


def test_cam_help_lists_the_registry():
    r = run("cam", "--help")
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    for name in METHODS:
        assert name in text, name


def test_bad_input_is_one_line_before_tensorflow(tmp_path):
    """Checked before TensorFlow loads, nothing written (not even the output folder)."""
    out = tmp_path / "never"
    cases = [
        (["--method", "lime"], "unknown --method 'lime'; use one of: gradcam, gradcam\\+\\+"),
        (["--noise-samples", "0"], "--noise-samples must be at least 1"),
        (["--baseline", "grey"], "unknown --baseline 'grey'"),
        ([str(tmp_path / "*.nothing")], "no file matches"),
        (["--method", "occlusion", "--noise-samples", "3"], "take no gradients"),
    ]
    code = (
        "import json, re, sys; from typer.testing import CliRunner; from cnnviz.cli import app\n"
        "for args, pattern in json.loads(sys.argv[1]):\n"
        "    r = CliRunner().invoke(app, ['cam', *args, '--out', sys.argv[2]])\n"
        "    lines = [l for l in r.output.strip().splitlines() if l.strip()]\n"
        "    assert r.exit_code == 1 and lines[-1].startswith('error: ') and re.search(pattern, lines[-1]), (args, r.output)\n"
        "    assert 'tensorflow' not in sys.modules, ('tensorflow loaded', args)\n"
    )
    subprocess.run([sys.executable, "-c", code, json.dumps(cases), str(out)], check=True)
    assert not out.exists()


def test_bad_input_needing_the_model(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 1))
    mlp = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs)), name="mlp")
    mlp.save(tmp_path / "mlp.keras")
    Image.fromarray(np.full((8, 8), 128, "uint8")).save(tmp_path / "img.png")
    Image.fromarray(np.zeros((5, 5), "uint8")).save(tmp_path / "small.png")
    out = tmp_path / "out"
    assert_clean_error(run("cam", tmp_path / "img.png", "--model", tmp_path / "mlp.keras", "--preprocess", "unit",
                           "--method", "layercam", "--out", out), "layercam needs a conv layer and .* has none; use saliency")
    assert_clean_error(run("cam", tmp_path / "img.png", "--model", tmp_path / "mlp.keras", "--preprocess", "unit",
                           "--method", "integrated-gradients", "--baseline", tmp_path / "small.png", "--out", out),
                       "--baseline image .* is 5x5 px; the input is 8x8")
    assert not out.exists()
    r = run("cam", tmp_path / "img.png", "--model", tmp_path / "mlp.keras", "--preprocess", "unit", "--method", "saliency",
            "--method", "occlusion", "--out", out)
    assert r.exit_code == 0, r.output


def test_cam_on_a_saved_transfer_learning_model(tmp_path):
    """Issue 15 item 5: Input -> nested functional base -> pooling -> Dense, saved and reloaded."""
    import keras

    keras.utils.set_random_seed(0)
    i = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(i)
    base = keras.Model(i, keras.layers.Conv2D(6, 3, activation="relu", name="conv_last")(x), name="base")
    j = keras.Input((16, 16, 3))
    outer = keras.Model(j, keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(base(j))))
    outer.save(tmp_path / "transfer.keras")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16, 3)).astype("uint8")).save(tmp_path / "img.png")
    for extra in ([], ["--layer", "base/conv_last"]):
        r = run("cam", tmp_path / "img.png", "--model", tmp_path / "transfer.keras", "--preprocess", "unit", "--method", "gradcam",
                "--method", "gradcam++", "--method", "layercam", "--method", "scorecam", "--faithfulness-steps", "4",
                "--out", tmp_path / "out", "--overwrite", *extra)
        assert r.exit_code == 0, r.output
        assert r.output.count("on layer base/conv_last") == 4 and "Traceback" not in r.output
        # the class explained is the reloaded model's own prediction on the image (pixels / 255), with its probability
        data = json.loads((tmp_path / "out" / "cam_transfer_img_gradcam-gradcampp-layercam-scorecam.json").read_text())
        p = outer.predict(np.asarray(Image.open(tmp_path / "img.png"))[None].astype("float32") / 255.0, verbose=0)[0]
        assert data["class"] == int(np.argmax(p)) and data["probability"] == pytest.approx(float(p.max()), rel=1e-5)
        assert [m["layer"] for m in data["methods"]] == ["base/conv_last"] * 4
