"""The atlas: top-k against brute force, receptive-field boxes by hand and by perturbation, resume, links,
bad input, and the site in a real headless browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cnnviz.cli import app

from conftest import wrap


def _npz(tmp_path: Path, n: int = 37, hw: int = 16, c: int = 3, seed: int = 0) -> Path:
    x = np.random.default_rng(seed).integers(0, 256, size=(n, hw, hw, c), dtype="uint8")
    path = tmp_path / "data.npz"
    np.savez(path, x=x)
    return path


# ------------------------------------------------------------------ top-k and statistics


@pytest.mark.parametrize("batch", [8, 64])  # 5 batches, compiled predict step; one batch, eager call
def test_topk_equals_brute_force(tiny_conv_model, tmp_path, batch):
    from cnnviz.methods.atlas import dataset_examples
    from cnnviz.models import feature_model, resolve_layer
    from cnnviz.models.receptive_field import receptive_field

    loaded = wrap(tiny_conv_model)
    data = _npz(tmp_path)
    x = np.load(data)["x"]
    k = 5
    got = dataset_examples(loaded, ["c1", "c2"], data, top_k=k, batch_size=batch)  # 37 images
    paths = [resolve_layer(tiny_conv_model, n) for n in ("c1", "c2")]
    maps = feature_model(tiny_conv_model, paths, size=(16, 16))(x.astype("float32") / 255.0)
    for name, path, m in zip(("c1", "c2"), paths, maps):
        m = np.asarray(m, "float64")
        field = receptive_field(tiny_conv_model, path, (16, 16))
        assert len(got[name]) == m.shape[-1]
        for rec in got[name]:
            f = rec.index
            per_image = m[..., f].reshape(len(x), -1)
            best = per_image.max(1)
            order = [i for i in sorted(range(len(x)), key=lambda i: (-best[i], i))[:k] if best[i] > 0]  # only where it fires
            assert [e.image for e in rec.examples] == order
            np.testing.assert_allclose([e.value for e in rec.examples], best[order], rtol=1e-6)
            for e in rec.examples:
                i, j = e.unit
                assert m[e.image, i, j, f] == pytest.approx(best[e.image], rel=1e-6)
                assert e.box == field.box(i, j, (16, 16))
            assert rec.mean == pytest.approx(m[..., f].mean(), rel=1e-6)
            assert rec.max == pytest.approx(m[..., f].max(), rel=1e-6)
            assert rec.active_share == pytest.approx((best > 0).mean())
            counts, _ = np.histogram(best, bins=np.asarray(rec.hist_edges))
            assert rec.hist_counts == counts.tolist() and sum(rec.hist_counts) == len(x)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # an int64 overflow of bin indices warns
def test_examples_are_only_images_where_the_filter_fires():
    """A filter that fires on 2 of 6 images has 2 examples (not 2 and then images at 0); one that fires on
    all keeps k; a dead one has none."""
    from cnnviz.methods.atlas.records import records_from_scan
    from cnnviz.methods.atlas.topk import LayerScan
    from cnnviz.models.receptive_field import ReceptiveField

    maps = np.zeros((6, 2, 2, 3))
    maps[1, 0, 1, 0], maps[4, 1, 0, 0] = 2.0, 5.0  # filter 0 fires on images 1 and 4
    maps[..., 1] = np.arange(1, 7)[:, None, None]  # filter 1 fires on every image
    scan = LayerScan(3, 4, (2, 2))
    scan.update(maps, 0)
    field = ReceptiveField(size=(3, 3), jump=(2, 2), start=(1.0, 1.0), shape=(2, 2))
    recs = records_from_scan("c", scan, field, (4, 4))
    assert [(e.image, e.value, e.unit) for e in recs[0].examples] == [(4, 5.0, (1, 0)), (1, 2.0, (0, 1))]
    assert [e.image for e in recs[1].examples] == [5, 4, 3, 2]
    assert recs[2].examples == [] and recs[0].active_share == pytest.approx(2 / 6)


def test_stream_histogram_rebins_exactly():
    from cnnviz.methods.atlas.topk import StreamHistogram

    rng = np.random.default_rng(3)
    h = StreamHistogram(bins=16)
    chunks = [rng.normal(0, 1, 50), rng.normal(5, 3, 50), rng.normal(-9, 1, 50)]  # the range grows both ways
    h.add(chunks[0])
    first_width = h.edges[1] - h.edges[0]
    dead = StreamHistogram(bins=16)  # a dead filter's first batch is constant; then a large value arrives
    dead.add(np.zeros(20))
    dead.add(np.array([1e15, 3.0]))
    assert dead.counts.tolist() == np.histogram([0.0] * 20 + [1e15, 3.0], bins=dead.edges)[0].tolist()
    assert len(dead.counts) <= 16 and dead.counts.sum() == 22
    for c in chunks[1:]:
        h.add(c)
    every = np.concatenate(chunks)
    assert h.edges[0] <= every.min() and h.edges[-1] > every.max() and len(h.counts) <= 16
    assert h.edges[1] - h.edges[0] >= 4 * first_width  # it did re-bin
    assert h.counts.tolist() == np.histogram(every, bins=h.edges)[0].tolist()


# ------------------------------------------------------------------ receptive-field boxes


def test_rf_box_of_a_deep_unit_by_hand_and_by_perturbation():
    import keras

    from cnnviz.models import feature_model, resolve_layer
    from cnnviz.models.receptive_field import receptive_field

    keras.utils.set_random_seed(4)
    inp = keras.Input((24, 24, 1))
    a = keras.layers.Conv2D(2, 3, padding="valid", name="a")(inp)          # 22x22
    b = keras.layers.MaxPooling2D(2, name="b")(a)                           # 11x11
    c = keras.layers.Conv2D(2, 3, padding="same", name="c")(b)             # 11x11
    d = keras.layers.MaxPooling2D(2, name="d")(c)                           # 5x5
    e = keras.layers.Conv2D(3, 2, padding="valid", name="e")(d)            # 4x4
    m = keras.Model(inp, e)
    field = receptive_field(m, resolve_layer(m, "e"), (24, 24))
    # by hand: a: size 3, jump 1, start 1; b: size 4, jump 2, start 1.5; c (same, pad 1 before): size 8,
    # jump 2, start 1.5; d: size 10, jump 4, start 2.5; e (k=2): size 14, jump 4, start 4.5
    assert field.size == (14.0, 14.0) and field.jump == (4.0, 4.0) and field.start == (4.5, 4.5)
    # unit (2, 1): centre y 12.5, x 8.5 -> rows 6..19, cols 2..15
    assert field.box(2, 1, (24, 24)) == (6, 2, 20, 16)
    # independently: pixels outside the box do not move the unit, a pixel on its edge does
    model = feature_model(m, [resolve_layer(m, "e")], size=(24, 24))
    x = np.random.default_rng(0).normal(size=(1, 24, 24, 1)).astype("float32")
    base = np.asarray(model(x))[0, 2, 1]
    outside = x.copy()
    mask = np.ones((24, 24), bool)
    mask[6:20, 2:16] = False
    outside[0, mask, 0] += 50.0
    np.testing.assert_allclose(np.asarray(model(outside))[0, 2, 1], base, atol=1e-5)
    moved = 0
    for y, xx in ((6, 8), (19, 8), (12, 2), (12, 15)):
        edge = x.copy()
        edge[0, y, xx, 0] += 50.0
        moved += not np.allclose(np.asarray(model(edge))[0, 2, 1], base, atol=1e-5)
    assert moved >= 3  # a max-pool may drop one perturbed pixel; all four edges lie inside the field


# ------------------------------------------------------------------ site, resume, links


def _site_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_links_exist(root: Path) -> int:
    """Every href/src of every page points at a file that exists; returns the number checked."""
    checked = 0
    for page in root.rglob("*.html"):
        for ref in re.findall(r'(?:href|src)="([^"#]+)"', page.read_text()):
            assert not re.match(r"^[a-z]+:", ref), f"{page}: non-relative link {ref}"
            target = (page.parent / ref).resolve()
            assert target.is_file(), f"{page.relative_to(root)} links to missing {ref}"
            checked += 1
    return checked


def _build(root, layers="all-conv", **kw):
    from cnnviz.methods.atlas import AtlasSettings, build_atlas
    from cnnviz.models import load_model

    return build_atlas(load_model("lenet"), root, layers, AtlasSettings("lenet", steps=3, top_k=4), **kw)


def test_resume_skips_finished_layers_and_gives_the_same_site(tmp_path):
    interrupted = tmp_path / "a" / "atlas-lenet"

    def stop_in_conv2(phase, done, total):
        if phase == "filters" and done >= 6 + 1:  # conv1 has 6 filters: stop inside conv2
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _build(interrupted, progress=stop_in_conv2)
    assert (interrupted / "conv1" / "layer.json").exists() and not (interrupted / "conv2" / "layer.json").exists()
    assert not (interrupted / "conv2" / "index.html").exists()  # no page for the unfinished layer
    overview = (interrupted / "index.html").read_text()
    assert 'href="conv1/index.html"' in overview and 'href="conv2/index.html"' not in overview
    assert assert_links_exist(interrupted) > 20
    assert not list(interrupted.rglob("*.part"))  # no temp file left behind

    seen = []
    resumed = _build(interrupted, progress=lambda phase, d, t: seen.append(phase))
    assert resumed.skipped == ["conv1"] and resumed.built == ["conv2"]
    assert "data" not in seen  # the dataset pass was kept, not repeated
    fresh = _build(tmp_path / "b" / "atlas-lenet")
    assert fresh.built == ["conv1", "conv2"]
    a, b = _site_files(interrupted), _site_files(tmp_path / "b" / "atlas-lenet")
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []
    again = _build(interrupted)
    assert again.built == [] and again.skipped == ["conv1", "conv2"]


@pytest.fixture(scope="module")
def lenet_site(tmp_path_factory):
    """One LeNet atlas (both conv layers, 3 steps, top 4) shared by the read-only site tests."""
    root = tmp_path_factory.mktemp("site") / "atlas-lenet"
    _build(root, "conv1,conv2")
    return root


def test_site_pages_links_and_content(lenet_site):
    root = lenet_site
    assert assert_links_exist(root) > 100
    for f in range(16):
        assert (root / "conv2" / f"f{f}.html").exists()
    page = (root / "conv2" / "f3.html").read_text()
    assert 'rel="prev" href="f2.html"' in page and 'rel="next" href="f4.html"' in page and 'rel="up" href="index.html"' in page
    assert "cnnviz filters lenet --layer conv2 --seed 0 --steps 3 --filters 3" in page
    assert "<svg" in page and "img/w3.png" in page
    state = json.loads((root / "conv2" / "layer.json").read_text())
    assert state["crop"] is True and json.loads((root / "conv1" / "layer.json").read_text())["crop"] is False
    layer_page = (root / "conv1" / "index.html").read_text()
    assert 'rel="next" href="../conv2/index.html"' in layer_page and 'rel="up" href="../index.html"' in layer_page
    assert 'class="untrained"' not in page + layer_page  # trained weights: no UNTRAINED band


def test_visualisation_command_on_the_page_reproduces_the_tile(tmp_path, lenet):
    from PIL import Image

    from cnnviz.methods.filters import visualize_filters

    root = tmp_path / "atlas-lenet"
    _build(root, "conv2")
    tile = np.asarray(Image.open(root / "conv2" / "img" / "vis5.png"))
    alone = visualize_filters(lenet, "conv2", [5], steps=3, seed=0).images[0][..., 0]
    np.testing.assert_array_equal(tile, alone)


def test_diversity_pictures_on_each_filter_page(tmp_path):
    from PIL import Image

    root = tmp_path / "atlas-lenet"
    args = ["atlas", "lenet", "--layers", "conv2", "--steps", "3", "--top-k", "2", "--filters-per-layer", "4",
            "--diversity", "2", "--out", str(tmp_path)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    for f in range(4):
        pics = [np.asarray(Image.open(root / "conv2" / "img" / f"div{f}_{j}.png"), "int16") for j in range(2)]
        assert not (root / "conv2" / "img" / f"div{f}_2.png").exists()
        assert np.abs(pics[0] - pics[1]).mean() > 1, f"filter {f}: the two diversity pictures are the same"
        page = (root / "conv2" / f"f{f}.html").read_text()
        assert "Diversity: 2 different inputs that also drive this filter" in page
        assert f'src="img/div{f}_0.png"' in page and f'src="img/div{f}_1.png"' in page
        assert f"cnnviz filters lenet --layer conv2 --seed 0 --steps 3 --filters {f} --diversity 2" in page
    assert assert_links_exist(root) > 40
    r = CliRunner().invoke(app, args[:-4] + ["--diversity", "3", "--out", str(tmp_path)])  # part of the resume key
    assert r.exit_code == 1 and "other settings" in r.output
    r = CliRunner().invoke(app, args[:-4] + ["--diversity", "0", "--out", str(tmp_path / "off")])
    assert r.exit_code == 0, r.output
    off = tmp_path / "off" / "atlas-lenet" / "conv2"
    assert not list(off.glob("img/div*")) and "Diversity" not in (off / "f0.html").read_text()


# ------------------------------------------------------------------ command line and bad input


def test_cli_builds_then_resumes(tmp_path):
    args = ["atlas", "lenet", "--layers", "conv1", "--steps", "2", "--top-k", "3", "--out", str(tmp_path)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    layer = json.loads((tmp_path / "atlas-lenet" / "conv1" / "layer.json").read_text())
    assert layer["params"] == 3 * 3 * 1 * 6 + 6 and layer["filters"] == 6 and len(layer["records"]) == 6
    for rec in layer["records"]:  # --top-k 3: three examples each, the best one holding the filter's maximum
        values = [e["value"] for e in rec["examples"]]
        assert len(values) == 3 and values == sorted(values, reverse=True) and values[0] == rec["max"]
    conv1 = tmp_path / "atlas-lenet" / "conv1"
    computed = [conv1 / "layer.json", *sorted((conv1 / "img").iterdir())]  # the pages are re-rendered (links), these not
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in computed]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0 and "skipped 1 finished layer(s): conv1" in r.output
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in computed] == before and len(computed) > 20
    r = CliRunner().invoke(app, args[:-4] + ["--top-k", "4", "--out", str(tmp_path)])
    assert r.exit_code == 1 and "other settings" in r.output and "--overwrite" in r.output


def test_ctrl_c_keeps_finished_layers(tmp_path, monkeypatch):
    import cnnviz.methods.filters

    real, calls = cnnviz.methods.filters.visualize_filters, []

    def interrupted_second_layer(*args, **kw):
        calls.append(args[1]) if kw.get("diversity", 1) == 1 else None  # the main pictures, one call per layer
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(cnnviz.methods.filters, "visualize_filters", interrupted_second_layer)
    r = CliRunner().invoke(app, ["atlas", "lenet", "--steps", "2", "--top-k", "2", "--out", str(tmp_path)])
    assert r.exit_code == 130
    assert "error: interrupted; kept 1 finished layer(s)" in r.output and "run the same command again" in r.output
    root = tmp_path / "atlas-lenet"
    assert (root / "conv1" / "index.html").exists() and not (root / "conv2" / "index.html").exists()
    kept = json.loads((root / "conv1" / "layer.json").read_text())  # the finished layer is whole: 6 filters, top 2 each
    assert len(kept["records"]) == 6 and all(len(r["examples"]) == 2 and r["examples"][0]["value"] == r["max"] for r in kept["records"])
    assert_links_exist(root)


@pytest.mark.parametrize("case", ["empty", "unreadable", "layer", "dense", "npz-keys"])
def test_bad_input_one_line_and_nothing_written(tmp_path, case):
    import keras

    out = tmp_path / "out"
    data = tmp_path / "data"
    data.mkdir()
    model, extra, expect = "lenet", [], ""
    if case == "empty":
        expect = "holds no png/jpg images"
    elif case == "unreadable":
        shutil.copy(Path(__file__).parent.parent / "cnnviz" / "data" / "chelsea.png", data / "a.png")
        (data / "b.png").write_bytes(b"not a png")
        expect = f"cannot read image '{data / 'b.png'}'"
    elif case == "layer":
        np.savez(data / "x.npz", x=np.zeros((3, 28, 28), "uint8"))
        data = data / "x.npz"
        extra, expect = ["--layers", "conv9"], "unknown layer 'conv9'"
    elif case == "dense":
        m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
        model = str(tmp_path / "dense.keras")
        m.save(model)
        np.savez(data / "x.npz", x=np.zeros((3, 8, 8), "uint8"))
        data, expect = data / "x.npz", "has no 2-D convolutional layer"
    else:
        np.savez(data / "x.npz", images=np.zeros((3, 28, 28), "uint8"))
        data, expect = data / "x.npz", "needs 'x'"
    r = CliRunner().invoke(app, ["atlas", model, "--data", str(data), "--out", str(out), "--steps", "1", *extra])
    assert r.exit_code == 1, r.output
    lines = [l for l in r.output.splitlines() if l.startswith("error:")]
    assert len(lines) == 1 and expect in lines[0], r.output
    assert "Traceback" not in r.output
    assert not out.exists() or not any(out.iterdir())  # no half-written site, no empty atlas folder


def test_wrong_channel_count_is_converted_with_a_note(tmp_path):
    from cnnviz.methods.atlas import open_data

    data = tmp_path / "imgs"
    data.mkdir()
    shutil.copy(Path(__file__).parent.parent / "cnnviz" / "data" / "chelsea.png", data / "cat.png")
    src = open_data(data, 28, 28, 1)
    img = src.image(0)
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8 and img.std() > 5
    assert any("converted RGB images to grey" in n for n in src.notes)


def test_idx_folder_reads_every_images_file_in_name_order(tmp_path):
    from cnnviz.methods.atlas import open_data

    x = np.random.default_rng(1).integers(0, 256, (5, 28, 28), dtype="uint8")
    head = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in x.shape)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(head + x.tobytes())
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(head + x[::-1].tobytes())
    src = open_data(tmp_path, 28, 28, 1)
    assert src.count == 10
    np.testing.assert_array_equal(src.image(1)[..., 0], x[3])  # in name order: t10k-* (reversed x), then train-*
    np.testing.assert_array_equal(src.image(6)[..., 0], x[1])


# ------------------------------------------------------------------ a real browser

_PROBE = """<script>
window.__errs = [];
window.addEventListener('error', function (e) { window.__errs.push(e.message || ('failed to load ' + (e.target && (e.target.src || e.target.href)))); }, true);
var __ce = console.error; console.error = function () { window.__errs.push(Array.from(arguments).join(' ')); __ce.apply(console, arguments); };
window.addEventListener('load', function () {
  var bad = Array.from(document.images).filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.getAttribute('src'); });
  var d = document.createElement('pre'); d.id = 'cnnviz-check';
  d.textContent = JSON.stringify({images: document.images.length, svgs: document.querySelectorAll('svg').length, bad: bad,
    errors: window.__errs, styled: getComputedStyle(document.body).backgroundColor});
  document.body.appendChild(d);
});
</script>"""


def browser_check(page: Path) -> dict:
    """Open ``page`` (a copy with a probe script) in headless Chromium; returns what the probe saw."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium; deselect locally with -m 'not browser')")
    probe = page.with_name(f"__check_{page.name}")
    probe.write_text(page.read_text().replace("<head>", "<head>" + _PROBE, 1))
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=3000", "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=90)
    probe.unlink()
    found = re.search(r'<pre id="cnnviz-check">(.*?)</pre>', r.stdout, re.S)
    assert found, f"the page did not finish loading in chromium: {r.stderr[-500:]}"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    result["console"] = [l for l in r.stderr.splitlines() if ":CONSOLE" in l]
    return result


@pytest.mark.browser
def test_site_opens_in_headless_chromium(lenet_site):
    root = lenet_site
    pages = [root / "index.html", root / "conv1" / "index.html", root / "conv2" / "index.html",
             root / "conv1" / "f0.html", root / "conv2" / "f15.html"]
    for page in pages:
        seen = browser_check(page)
        assert seen["bad"] == [] and seen["errors"] == [] and seen["console"] == [], (page, seen)
        assert seen["styled"] == "rgb(245, 246, 248)", (page, seen)  # style.css was found
    assert browser_check(root / "conv2" / "f15.html")["images"] == 1 + 4 + 1 + 3  # visualisation, 4 examples, weights, 3 diversity pictures
    assert browser_check(root / "conv2" / "index.html")["images"] == 16 * (1 + 4)


def test_example_thumbnails_crop_deep_fields_and_outline_small_ones():
    from cnnviz.methods.atlas.pictures import BOX_COLOUR, example_thumb
    from cnnviz.pixels import upscale_nearest

    img = np.random.default_rng(2).integers(0, 200, (30, 30, 3), dtype="uint8")  # no pure red in it
    deep = example_thumb(img, (3, 6, 15, 18))  # a 12 px field >= a third of 30 px: the crop itself
    np.testing.assert_array_equal(deep, upscale_nearest(img[3:15, 6:18], 8))
    small = example_thumb(img, (12, 12, 15, 15))  # a 3 px field: 10 px of context, the field outlined around it
    assert small.shape == (90, 90, 3)
    # window rows/cols 8..18 at 9x: the field (12..15) lands on 36..63, untouched; a 2 px outline just outside it
    np.testing.assert_array_equal(small[36:63, 36:63], upscale_nearest(img[12:15, 12:15], 9))
    red = np.all(small == BOX_COLOUR, axis=-1)
    assert red[34:36, 34:65].all() and red[63:65, 34:65].all() and red[34:65, 34:36].all() and red[34:65, 63:65].all()
    assert red.sum() == 31 * 31 - 27 * 27


def test_argument_checks_run_before_tensorflow_loads(tmp_path):
    import sys

    empty = tmp_path / "empty"
    empty.mkdir()
    code = f"""
import sys
from typer.testing import CliRunner
from cnnviz.cli import app
for args in (["--top-k", "0"], ["--filters-per-layer", "0"], ["--diversity", "-1"], ["--data", {str(empty)!r}], ["--data", {str(tmp_path / 'nope')!r}]):
    r = CliRunner().invoke(app, ["atlas", "lenet", "--out", {str(tmp_path / 'out')!r}, *args])
    assert r.exit_code == 1 and r.output.startswith("error: "), r.output
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
    assert not (tmp_path / "out").exists()


def browser_key(page: Path, key: str) -> str:
    """The title of the page Chromium shows after ``key`` is pressed on ``page``."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium; deselect locally with -m 'not browser')")
    press = (f'<script>window.addEventListener("load", function () {{ document.dispatchEvent('
             f'new KeyboardEvent("keydown", {{key: "{key}"}})); }});</script>')
    probe = page.with_name(f"__key_{page.name}")
    probe.write_text(page.read_text().replace("<head>", "<head>" + press, 1))
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
                        "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=90)
    probe.unlink()
    return re.search(r"<title>(.*?)</title>", r.stdout).group(1)


@pytest.mark.browser
def test_keyboard_navigation_in_headless_chromium(lenet_site):
    root = lenet_site
    f3 = root / "conv2" / "f3.html"
    assert browser_key(f3, "ArrowRight") == "lenet / conv2 / filter 4"
    assert browser_key(f3, "ArrowLeft") == "lenet / conv2 / filter 2"
    assert browser_key(f3, "ArrowUp") == "lenet / conv2"
    assert browser_key(root / "conv2" / "index.html", "ArrowLeft") == "lenet / conv1"
    assert browser_key(root / "conv1" / "index.html", "ArrowUp") == "cnnviz atlas: lenet"
    assert browser_key(root / "conv2" / "f15.html", "ArrowRight") == "lenet / conv2 / filter 15"  # the last: stays
