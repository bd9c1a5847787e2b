"""Issue 22.4: every figure made with random (untrained) weights carries one shared red mark, and
its manifest says ``untrained``; figures of trained weights carry neither."""

import json
from dataclasses import replace

import numpy as np
import pytest

from cnnviz.output.layout import UNTRAINED_MARK, UNTRAINED_RED, titled, untrained_band

from conftest import wrap
from test_cli import run


def red_rows(image: np.ndarray) -> int:
    """Rows that are mostly the mark's red (the band's background)."""
    red = np.all(image == np.asarray(UNTRAINED_RED, "uint8"), axis=-1)
    return int((red.mean(axis=1) > 0.5).sum())


def test_titled_marks_untrained_only():
    picture = np.full((40, 400, 3), 200, "uint8")
    plain, marked = titled(picture, "t", "s"), titled(picture, "t", "s", untrained=True)
    assert red_rows(plain) == 0
    assert red_rows(marked) >= 10 and marked.shape[0] > plain.shape[0]
    assert "random weights" in UNTRAINED_MARK


def _random(model):
    loaded = wrap(model)
    loaded.weights = "random (weights=None)"
    return loaded


def test_methods_carry_the_mark(tiny_conv_model):
    from cnnviz.methods.filters import visualize_filters
    from cnnviz.methods.kernels import learned_kernels

    trained = wrap(tiny_conv_model)
    assert not trained.untrained and trained.describe()["untrained"] is False
    loaded = _random(tiny_conv_model)
    assert loaded.untrained and loaded.describe()["untrained"] is True
    r = visualize_filters(loaded, "c2", [0], size=16, steps=2)
    k = learned_kernels(loaded)
    for res in (r, k):
        assert res.record()["untrained"] is True
        assert red_rows(res.render("tiny")) >= 10
        assert red_rows(replace(res, untrained=False).render("tiny")) == 0


@pytest.mark.slow
def test_cam_with_random_weights_is_marked(tmp_path):
    """The issue's case on a small keras.applications model built with weights=None."""
    from PIL import Image

    out = tmp_path / "out"
    r = run("cam", "mobilenetv3small", "--weights", "none", "--faithfulness-steps", "0", "--out", out)
    assert r.exit_code == 0, r.output
    png, = out.glob("cam_*.png")
    data = json.loads(png.with_suffix(".json").read_text())
    assert data["untrained"] is True and data["weights"].startswith("random")
    figure = np.asarray(Image.open(png).convert("RGB"))
    assert red_rows(figure) == red_rows(untrained_band(figure.shape[1])) >= 2 * 6 + 19  # the whole band, once


def test_atlas_pages_carry_the_mark(tmp_path):
    from cnnviz.methods.atlas import AtlasSettings, build_atlas
    from cnnviz.models import load_model

    loaded = load_model("lenet")
    loaded.weights = "random (weights=None)"  # as if untrained: the pages must say so
    root = tmp_path / "atlas"
    build_atlas(loaded, root, "conv1", AtlasSettings("lenet", steps=1, top_k=2))
    for page in (root / "index.html", root / "conv1" / "index.html", root / "conv1" / "f0.html"):
        assert f'<p class="untrained">{UNTRAINED_MARK}</p>' in page.read_text(), page
