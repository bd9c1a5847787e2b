"""Reference checks for cnnviz.output.files and cnnviz.atomic: bytes, file modes, GIF frames and refusals,
each compared with what Pillow, json or the operating system give directly (no file-exists-only checks)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz import __version__, atomic
from cnnviz.errors import CnnvizError
from cnnviz.output import files


def _png_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def test_encode_png_is_pillows_png_of_the_rounded_pixels() -> None:
    rgb = np.array([[[0.4, 254.6, 300.0], [-3.0, 127.5, 12.0]]])  # rounds and clips to uint8
    expect = np.array([[[0, 255, 255], [0, 128, 12]]], "uint8")
    assert files.encode_png(rgb) == _png_bytes(expect)
    with Image.open(io.BytesIO(files.encode_png(rgb))) as im:  # and decodes back to the same pixels
        np.testing.assert_array_equal(np.asarray(im), expect)
    grey = np.arange(12, dtype="uint8").reshape(3, 4, 1)  # a one-channel image is stored as grey (mode L)
    data = files.encode_png(grey)
    assert data == _png_bytes(grey[..., 0])
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "L" and im.size == (4, 3)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_atomic_write_gives_the_umask_mode_and_keeps_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        atomic.atomic_write(tmp_path / "deep" / "er" / "f.bin", b"abc")  # parents are made
        assert os.umask(umask) == umask  # the writer restored the process umask
    finally:
        os.umask(old)
    target = tmp_path / "deep" / "er" / "f.bin"
    assert target.read_bytes() == b"abc"
    assert (target.stat().st_mode & 0o777) == 0o666 & ~umask
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.bin"]  # no temporary left


def test_atomic_target_is_a_hidden_sibling_until_the_end(tmp_path: Path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(b"old")
    with atomic.atomic_target(path, suffix=".gif") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".pic.png.") and tmp.name.endswith(".gif")
        tmp.write_bytes(b"new")
        assert path.read_bytes() == b"old"  # the user's file is untouched until the block succeeds
    assert path.read_bytes() == b"new" and not tmp.exists()
    with atomic.atomic_target(path) as tmp:
        assert tmp.name.endswith(".part")
    assert path.read_bytes() == b""  # an empty block still replaces (the writer decided to write nothing)


def test_atomic_target_removes_its_temporary_on_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"keep")
    with pytest.raises(ValueError, match="half"), atomic.atomic_target(path) as tmp:
        tmp.write_bytes(b"half-written")
        raise ValueError("half")
    assert path.read_bytes() == b"keep" and sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_manifest_bytes_are_json_dumps_indent_2(tmp_path: Path) -> None:
    record = {"a": np.float32(1.5), 3: (1, np.int64(2)), "nan": float("nan"), "inf": np.float64("inf"),
              "p": tmp_path / "q", "arr": np.arange(4).reshape(2, 2), "nested": {"x": [np.bool_(True)]}}
    out = files.write_manifest(tmp_path / "m.json", record)
    assert out == tmp_path / "m.json"
    expect = {"cnnviz_version": __version__, "a": 1.5, "3": [1, 2], "nan": None, "inf": None, "p": str(tmp_path / "q"),
              "arr": [[0, 1], [2, 3]], "nested": {"x": [True]}}
    assert out.read_bytes() == (json.dumps(expect, indent=2) + "\n").encode("utf-8")
    json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"manifest holds {c}, not JSON"))  # strict JSON
    assert type(json.loads(out.read_text())["3"][1]) is int


def test_save_result_names_the_png_and_writes_the_api_bytes(tmp_path: Path) -> None:
    img = np.arange(2 * 3 * 3, dtype="uint8").reshape(2, 3, 3) * 10
    paths = files.plan_output(tmp_path / "o", "grid")
    assert files.save_result(paths, img, {"image": "ignored", "k": 1}) == paths
    assert paths.png.read_bytes() == _png_bytes(img)
    assert json.loads(paths.manifest.read_text()) == {"cnnviz_version": __version__, "image": "grid.png", "k": 1}
    assert files.save_png(tmp_path / "p.png", img) == tmp_path / "p.png"


def test_plan_output_refuses_the_manifest_too(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("{}")
    with pytest.raises(CnnvizError, match=r"r\.json' already exists; pass --overwrite to replace it or --out DIR"):
        files.plan_output(tmp_path, "r")
    paths = files.plan_output(tmp_path, "r", overwrite=True)
    assert (paths.png, paths.manifest) == (tmp_path / "r.png", tmp_path / "r.json")


def test_check_folder_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(CnnvizError, match=r"^output path '.*file\.txt' is not a folder; choose another with --out$"):
        files.check_folder(blocker)
    with pytest.raises(CnnvizError, match=r"^cannot create output folder '.*file\.txt/a/b': '.*file\.txt' is a file; "):
        files.check_folder(blocker / "a" / "b")
    assert files.check_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()
    asked = []

    def no_write(path, mode):  # root may write anywhere: simulate a read-only folder
        asked.append((Path(path), mode))
        return False

    monkeypatch.setattr(files.os, "access", no_write)
    with pytest.raises(CnnvizError) as err:
        files.check_folder(tmp_path)
    assert str(err.value) == f"output folder '{tmp_path}' is not writable; choose another with --out"
    with pytest.raises(CnnvizError) as err:
        files.check_folder(tmp_path / "new" / "x")
    assert str(err.value) == (f"cannot create output folder '{tmp_path / 'new' / 'x'}': '{tmp_path}' is not writable;"
                              " choose another with --out")
    assert asked == [(tmp_path, os.W_OK | os.X_OK)] * 2  # the nearest existing folder, for write and enter


def test_check_folder_relative_path_stops_at_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert files.check_folder("a/b") == Path("a/b") and not (tmp_path / "a").exists()


def test_plan_tiles_refuses_the_first_clash_unless_overwrite(tmp_path: Path) -> None:
    (tmp_path / "b.png").write_bytes(b"user")
    (tmp_path / "c.png").write_bytes(b"user")
    with pytest.raises(CnnvizError, match=r"b\.png' already exists; pass --overwrite to replace it$"):
        files.plan_tiles(tmp_path, ["a", "b", "c"])
    targets = files.plan_tiles(tmp_path, ["a", "b"], overwrite=True)
    assert targets == [tmp_path / "a.png", tmp_path / "b.png"]
    assert not (tmp_path / ".cnnviz-check.png").exists()  # the check writes nothing
    (tmp_path / ".cnnviz-check.png").write_bytes(b"left by an earlier run")  # never a reason to refuse
    assert files.plan_tiles(tmp_path, ["d"]) == [tmp_path / "d.png"]
    tiles = [np.full((2, 2), 7, "uint8"), np.full((3, 1, 3), 9, "uint8")]
    assert files.save_tiles(targets, tiles) == targets
    assert [p.read_bytes() for p in targets] == [_png_bytes(tiles[0]), _png_bytes(tiles[1])]
    with pytest.raises(CnnvizError, match="is not a folder"):
        files.plan_tiles(tmp_path / "c.png", ["a"], overwrite=True)


def test_gif_frames_are_padded_white_timed_and_looping(tmp_path: Path) -> None:
    red = np.zeros((4, 6, 3), "uint8")
    red[..., 0] = 200
    grey = np.full((5, 3), 80, "uint8")  # 2-D grey, taller and narrower
    grey1 = np.full((2, 2, 1), 30, "uint8")  # one channel
    out = files.save_gif(tmp_path / "a.gif", [red, grey, grey1], ms_per_frame=120)
    assert out == tmp_path / "a.gif"
    with Image.open(out) as im:
        assert im.n_frames == 3 and im.size == (6, 5) and im.info["loop"] == 0 and im.info["duration"] == 120
        frames = []
        for k in range(3):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")))
            assert im.info["duration"] == 120
            assert im.disposal_method == 1
    white = np.full((5, 6, 3), 255, "uint8")
    e0, e1, e2 = white.copy(), white.copy(), white.copy()
    e0[:4, :6] = red
    e1[:5, :3] = 80
    e2[:2, :2] = 30
    for got, expect in zip(frames, (e0, e1, e2)):
        np.testing.assert_array_equal(got, expect)
    files.save_gif(tmp_path / "b.gif", [red])
    with Image.open(tmp_path / "b.gif") as im:
        assert im.info["duration"] == 700 and im.n_frames == 1
    with pytest.raises(CnnvizError, match=r"^no frames for '.*c\.gif'$"):
        files.save_gif(tmp_path / "c.gif", [])


def test_gif_keeps_the_channels_of_odd_shapes(tmp_path: Path) -> None:
    """RGBA (alpha dropped), a one-pixel-wide RGB frame, and non-constant grey frames one and four pixels wide."""
    rgba = np.zeros((2, 4, 4), "uint8")
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 10, 120, 240, 7
    thin = np.zeros((3, 1, 3), "uint8")
    thin[..., 0], thin[..., 1], thin[..., 2] = 200, 100, 50
    col = np.array([[0], [90], [180]], "uint8")  # 2-D grey, one pixel wide
    ramp = np.arange(8, dtype="uint8").reshape(2, 4) * 30  # 2-D grey, four wide
    files.save_gif(tmp_path / "o.gif", [rgba, thin, col, ramp])
    expect = [np.full((3, 4, 3), 255, "uint8") for _ in range(4)]
    expect[0][:2, :4] = (10, 120, 240)
    expect[1][:3, :1] = (200, 100, 50)
    expect[2][:3, :1] = col[..., None]
    expect[3][:2, :4] = ramp[..., None]
    with Image.open(tmp_path / "o.gif") as im:
        for k in range(4):
            im.seek(k)
            np.testing.assert_array_equal(np.asarray(im.convert("RGB")), expect[k])
