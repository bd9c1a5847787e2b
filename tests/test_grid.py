import os

import numpy as np
import pytest

from cnnviz.errors import CnnvizError
from cnnviz.output import files, layout


def test_grid_geometry_exact():
    tiles = [np.full((10, 12, 3), i * 20, "uint8") for i in range(7)]
    g = layout.make_grid(tiles, cols=3, margin=5, min_tile=0)
    assert g.shape == (3 * 10 + 4 * 5, 3 * 12 + 4 * 5, 3)
    # tile 4 sits at row 1, col 1 and is filled with its own value; margins are background
    y, x = 5 + 1 * (10 + 5), 5 + 1 * (12 + 5)
    assert (g[y : y + 10, x : x + 12] == 80).all()
    assert (g[:5] == layout.BACKGROUND).all() and (g[:, :5] == layout.BACKGROUND).all()
    # the two empty cells of the last row stay background
    assert (g[5 + 2 * 15 :, 5 + 12 + 5 :] == layout.BACKGROUND).all()


def test_grid_captions_and_upscaling():
    tiles = [np.zeros((28, 28), "uint8")] * 6
    g = layout.make_grid(tiles, ["a", "b", "c", "d", "e", "f"], margin=4, min_tile=96)
    factor = 4  # ceil(96 / 28)
    cap = layout.caption_height(1)
    assert g.shape == (2 * (28 * factor + cap) + 3 * 4, 3 * 28 * factor + 4 * 4, 3)
    # the caption band holds dark text
    band = g[4 + 28 * factor : 4 + 28 * factor + cap, 4 : 4 + 28 * factor]
    assert band.min() < 100


def test_grid_rejects_mixed_sizes():
    with pytest.raises(CnnvizError, match="differ in size"):
        layout.make_grid([np.zeros((4, 4)), np.zeros((5, 5))])


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        files.save_png(tmp_path / "x.png", np.zeros((4, 4), "uint8"))
    assert list(tmp_path.iterdir()) == []


def test_plan_output_refuses_existing_and_unwritable(tmp_path):
    paths = files.plan_output(tmp_path / "new", "result")
    assert paths.png == tmp_path / "new" / "result.png"
    assert not (tmp_path / "new").exists()  # planning creates nothing: a failed run leaves no empty folder
    files.save_png(paths.png, np.zeros((2, 2), "uint8"))  # the folder appears with the first file
    paths.png.write_bytes(b"user file")
    with pytest.raises(CnnvizError, match="already exists; pass --overwrite"):
        files.plan_output(tmp_path / "new", "result")
    assert files.plan_output(tmp_path / "new", "result", overwrite=True).png == paths.png
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(CnnvizError, match="cannot create output folder|not a folder"):
        files.plan_output(blocker / "sub", "r")
