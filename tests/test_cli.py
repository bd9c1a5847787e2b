import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from cnnviz.cli import app
from cnnviz.output.layout import caption_height

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_error(result, pattern, code=1):
    assert result.exit_code == code, result.output
    lines = [l for l in result.output.strip().splitlines() if l.strip()]
    assert lines[-1].startswith("error: ") and re.search(pattern, lines[-1]), result.output
    assert "Traceback" not in result.output


def test_help_and_version_do_not_import_tensorflow():
    code = "import sys; from cnnviz.cli import app; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    out = subprocess.run([sys.executable, "-m", "cnnviz", "--help"], capture_output=True, text=True, check=True).stdout
    assert "filters" in out and "fool" in out and "demo" in out
    assert run("--version").output.startswith("cnnviz 0.1.0")


def test_layers_table(lenet):
    r = run("layers", "lenet")
    assert r.exit_code == 0, r.output
    assert f"{lenet.model.count_params():,}" in r.output and "conv2" in r.output and "conv" in r.output and "(None, 10, 10, 16)" in r.output


def test_filters_end_to_end(tmp_path):
    out, tiles = tmp_path / "out", tmp_path / "tiles"
    r = run("filters", "lenet", "--layer", "conv1", "--out", out, "--tiles", tiles, "--seed", "1")
    assert r.exit_code == 0, r.output
    png = out / "filters_lenet_conv1_smooth.png"
    figure = np.asarray(Image.open(png))
    # 6 tiles of 28 px enlarged x4 (to >= 96), 3 columns x 2 rows, 4 px margins, one caption line,
    # under a title band (the figure is at least 360 px wide so that the title fits)
    gh, gw = 2 * (112 + caption_height(1)) + 3 * 4, 3 * 112 + 4 * 4
    assert figure.shape[1] == max(gw, 360) and figure.shape[0] > gh
    grid = figure[figure.shape[0] - gh :, :gw]
    manifest = json.loads((out / "filters_lenet_conv1_smooth.json").read_text())
    assert manifest["model"] == "lenet" and manifest["layer"] == "conv1" and manifest["seed"] == 1
    assert [t["filter"] for t in manifest["tiles"]] == list(range(6)) and manifest["image"] == png.name
    # each tile file holds exactly the pixels shown in the grid
    for k in range(6):
        tile = np.asarray(Image.open(tiles / f"filter_{k}.png"))
        assert tile.shape == (28, 28)
        r_, c_ = divmod(k, 3)
        y, x = 4 + r_ * (112 + caption_height(1) + 4), 4 + c_ * (112 + 4)
        np.testing.assert_array_equal(grid[y : y + 112 : 4, x : x + 112 : 4, 0], tile)
    # an existing result is not replaced silently
    again = run("filters", "lenet", "--layer", "conv1", "--out", out)
    assert_clean_error(again, "already exists; pass --overwrite")
    assert run("filters", "lenet", "--layer", "conv1", "--out", out, "--overwrite", "--filters", "0-1").exit_code == 0


@pytest.mark.parametrize("args, pattern", [
    (["--layer", "fc1"], "'fc1' is Dense, not convolutional"),
    (["--layer", "pool2"], "pooling layer.*conv2"),
    (["--layer", "conv9"], "unknown layer 'conv9'; nearest: .*conv1"),
    (["--layer", "conv2", "--filters", "5-2"], "ends before it starts"),
    (["--layer", "conv2", "--filters", "99"], "filter 99 is out of range"),
    (["--layer", "conv2", "--steps", "0"], "--steps must be at least 1"),
    (["--layer", "conv2", "--size", "16"], "takes 28x28 inputs only"),
])
def test_filters_bad_input(tmp_path, args, pattern):
    r = run("filters", "lenet", *args, "--out", tmp_path)
    assert_clean_error(r, pattern)
    assert list(tmp_path.iterdir()) == []


def test_vgg16_size_too_small(tmp_path):
    r = run("filters", "vgg16", "--weights", "none", "--layer", "conv5_1", "--size", "16", "--out", tmp_path)
    assert_clean_error(r, "--size 16 is too small for vgg16")


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("filters", "lenet", "--layer", "conv1", "--out", blocker / "sub")
    assert_clean_error(r, "cannot create output folder")


def test_fool_digits_png_fools_the_model(tmp_path, lenet):
    r = run("fool", "--model", "lenet", "--class", "3", "--class", "7", "--out", tmp_path, "--tiles", tmp_path / "t")
    assert r.exit_code == 0, r.output
    for k in (3, 7):
        img = np.asarray(Image.open(tmp_path / "t" / f"class_{k}.png"))
        assert img.shape == (28, 28)
        p = lenet.model.predict(img[None, ..., None].astype("float32") / 255.0, verbose=0)[0, k]
        assert p >= 0.999
    manifest = json.loads((tmp_path / "fool_lenet_fool_3-7.json").read_text())
    assert all(t["reached"] for t in manifest["tiles"]) and manifest["confidence"] == 0.999


def test_fool_bad_input(tmp_path):
    assert_clean_error(run("fool", "--model", "lenet", "--class", "12", "--out", tmp_path), "class 12 is out of range")
    assert_clean_error(run("fool", "--model", "lenet", "--class", "3", "--confidence", "1.5", "--out", tmp_path), "between 0 and 1")
    assert_clean_error(run("fool", "--model", "lenet", "--class", "3", "--image", tmp_path / "none.png", "--out", tmp_path), "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_adversarial_cli(tmp_path, digits, lenet):
    x, y = digits
    src = tmp_path / "three.png"
    Image.fromarray(x[int(np.where(y == 3)[0][0])][..., 0]).save(src)
    out = tmp_path / "o"
    r = run("fool", "--model", "lenet", "--image", src, "--class", "8", "--epsilon", "64", "--out", out, "--tiles", tmp_path / "t")
    assert r.exit_code == 0, r.output
    assert "now says '8'" in r.output
    # the saved picture itself is an 8 to the model, and no pixel moved more than the budget
    tile = np.asarray(Image.open(tmp_path / "t" / "adversarial_8.png")).astype(int)
    assert int(np.argmax(lenet.model.predict(tile[None, ..., None] / 255.0, verbose=0)[0])) == 8
    assert 0 < np.abs(tile - x[int(np.where(y == 3)[0][0])][..., 0].astype(int)).max() <= 64
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.repeat(x[0], 3, axis=-1)).save(rgb)
    r = run("fool", "--model", "lenet", "--image", rgb, "--class", "8", "--epsilon", "1", "--steps", "10", "--out", out)
    assert r.exit_code == 3 and "converted the RGB image to grey" in r.output and "not reached" in r.output


def test_activations_and_cam_cli(tmp_path, lenet):
    r = run("activations", "--model", "lenet", "--layer", "conv1", "--layer", "conv2", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "activations_lenet_digit0_conv2.json").read_text())
    assert [c["channel"] for c in data["channels"]] == list(range(16))
    # each channel's mean and max are those of a direct forward pass on the sample digit (pixels / 255)
    import keras

    from cnnviz.models.lenet import sample_digits

    sub = keras.Model(lenet.model.input, lenet.model.get_layer("conv2").output)
    acts = np.asarray(sub(sample_digits()[0][:1].astype("float32") / 255.0))[0]
    np.testing.assert_allclose([c["mean"] for c in data["channels"]], acts.mean(axis=(0, 1)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([c["max"] for c in data["channels"]], acts.max(axis=(0, 1)), rtol=1e-5, atol=1e-6)
    assert_clean_error(run("activations", "--model", "lenet", "--layer", "fc2", "--out", tmp_path), "no spatial output")
    r = run("cam", "--model", "lenet", "--method", "gradcam++", "--out", tmp_path)
    assert r.exit_code == 0 and "gradcam++: class '0'" in r.output, r.output
    assert_clean_error(run("cam", "--model", "lenet", "--class", "11", "--out", tmp_path), "class 11 is out of range")
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    assert_clean_error(run("cam", bad, "--model", "lenet", "--out", tmp_path), "not a readable image")


def test_edges_and_kernels_cli(tmp_path, lenet):
    r = run("edges", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "edges_chelsea_sobel.png").size[0] > 1000
    sobel = [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]  # the textbook kernels the figure says it used
    edges = json.loads((tmp_path / "edges_chelsea_sobel.json").read_text())
    assert edges["v_kernel"] == sobel and edges["h_kernel"] == np.transpose(sobel).tolist() and edges["border"] == "reflect101"
    assert run("edges", "--gallery", "--out", tmp_path).exit_code == 0
    kernels = json.loads((tmp_path / "gallery_chelsea.json").read_text())["kernels"]
    assert kernels["sobel V"] == sobel and kernels["scharr V"] == [[-3.0, 0.0, 3.0], [-10.0, 0.0, 10.0], [-3.0, 0.0, 3.0]]
    assert_clean_error(run("edges", "--kernel", "sobell", "--out", tmp_path / "x"), "use one of: sobel, prewitt")
    r = run("kernels", "lenet", "--out", tmp_path)
    assert r.exit_code == 0 and "conv1: 6 kernels" in r.output
    # each learned kernel (summed over its input channel) is named after the classic kernel of highest cosine
    from cnnviz.methods.kernels_classic import templates

    tiles = json.loads((tmp_path / "kernels_lenet_conv1.json").read_text())["tiles"]
    w = lenet.model.get_layer("conv1").kernel.numpy().astype("float64").sum(axis=2)
    for k, t in enumerate(tiles):
        cos = {n: (w[..., k] * v).sum() / np.linalg.norm(w[..., k]) / np.linalg.norm(v) for n, v in templates().items()}
        best = max(cos, key=cos.get)
        assert (t["filter"], t["nearest"]) == (k, best) and t["cosine"] == pytest.approx(cos[best], abs=1e-9)


def test_train_small(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(0, 255, (200, 28, 28)).astype("uint8"), y=rng.integers(0, 10, 200))
    r = run("train", "lenet", "--data", tmp_path / "d.npz", "--epochs", "1", "--out", tmp_path / "m.keras")
    assert r.exit_code == 0, r.output
    assert "held-out accuracy" in r.output and "160 train, 40 held out" in r.output
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert manifest["n_train"] == 160 and manifest["n_test"] == 40 and manifest["epochs"] == 1
    assert f"held-out accuracy: {manifest['test_accuracy']:.4f}" in r.output  # the manifest holds the figure printed
    assert run("layers", tmp_path / "m.keras").exit_code == 0
    np.savez(tmp_path / "bad.npz", images=np.zeros((3, 28, 28)))
    assert_clean_error(run("train", "lenet", "--data", tmp_path / "bad.npz", "--out", tmp_path / "n.keras"), "needs 'x'")
    assert_clean_error(run("train", "lenet", "--data", tmp_path / "d.npz", "--out", tmp_path / "m.keras"), "already exists")


def test_idx_folder(tmp_path):
    from cnnviz.inputs.datasets import load_dataset

    def write(name, arr):
        header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
        (tmp_path / name).write_bytes(header + arr.astype("uint8").tobytes())

    write("train-images-idx3-ubyte", np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256)
    write("train-labels-idx1-ubyte", np.array([3, 4]))
    write("t10k-images-idx3-ubyte", np.zeros((1, 28, 28)))
    write("t10k-labels-idx1-ubyte", np.array([9]))
    split = load_dataset(str(tmp_path))
    assert split.x_train.shape == (2, 28, 28, 1) and split.y_train.tolist() == [3, 4] and split.y_test.tolist() == [9]
    assert split.x_train[1, 0, 0, 0] == (28 * 28) % 256


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        self.refs += [v for k, v in attrs if k in ("href", "src")]


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    from cnnviz.demo import DEMO_ITEMS

    r = run("demo", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    for stem, *_ in DEMO_ITEMS:
        assert (tmp_path / f"{stem}.png").is_file() and (tmp_path / f"{stem}.json").is_file()
    parser = _Links()
    parser.feed((tmp_path / "index.html").read_text())
    assert len(parser.refs) >= 2 * len(DEMO_ITEMS)
    assert all((tmp_path / ref).is_file() for ref in parser.refs)
    assert "atlas-lenet/index.html" in parser.refs and (tmp_path / "atlas-lenet" / "conv2" / "f15.html").is_file()
    page = (tmp_path / "index.html").read_text()
    for stem, title, _, command in DEMO_ITEMS:  # real titles and the command behind each figure, on the demo's samples
        command = command.replace("samples/", f"{tmp_path}/samples/")
        assert f"<h2>{html.escape(title)}</h2>" in page and html.escape(command) in page
    for name in ("three", "digit0", "digit2", "digit4", "digit7"):  # the inputs those commands name exist
        assert (tmp_path / "samples" / f"{name}.png").is_file()
    assert "<b>cosine</b>" in page and "<b>act</b>" in page
    fool = json.loads((tmp_path / "demo_fool_digits.json").read_text())
    assert all(t["reached"] for t in fool["tiles"])
    # issue 22.1: the stronger (pixel) pictures of the library default, and captions that say what they show
    conv2 = json.loads((tmp_path / "demo_filters_conv2.json").read_text())
    assert conv2["param"] == "pixel" and min(t["activation"] for t in conv2["tiles"]) > 0.5
    assert "strokes and stripe gratings" in page and "pixel recipe" in page
    assert_clean_error(run("demo", "--out", tmp_path), "already exists")


def test_tiles_clash_is_found_before_the_work(tmp_path):
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    (tiles / "filter_2.png").write_bytes(b"a user's file")
    r = run("filters", "lenet", "--layer", "conv1", "--out", tmp_path / "o", "--tiles", tiles)
    assert_clean_error(r, "filter_2.png' already exists")
    assert "filters of" not in r.output  # no progress bar: nothing was computed
    assert (tiles / "filter_2.png").read_bytes() == b"a user's file"
    (tiles / "class_4.png").write_bytes(b"x")
    assert_clean_error(run("fool", "--model", "lenet", "--class", "4", "--out", tmp_path / "o", "--tiles", tiles), "class_4.png' already exists")


# ------------------------------------------------------------------ issue 14: one shape, early checks, clean errors
def test_seed_at_the_cli_decides_the_bytes(tmp_path):
    def png(seed, where):
        r = run("filters", "lenet", "--layer", "conv1", "--filters", "0-1", "--steps", "2", "--seed", seed, "--out", tmp_path / where)
        assert r.exit_code == 0, r.output
        return (tmp_path / where / "filters_lenet_conv1_smooth.png").read_bytes()

    first = png(1, "a")
    assert first == png(1, "b")
    assert first != png(2, "c")


def test_bad_options_are_refused_before_tensorflow_loads(tmp_path):
    code = f"""
import sys
from typer.testing import CliRunner
from cnnviz.cli import app
cases = [["filters", "lenet", "--layer", "conv1", "--method", "foo"],
         ["fool", "lenet", "-c", "3", "--method", "noise"],
         ["cam", "lenet", "--method", "gradcamm"],
         ["activations", "lenet", "--layer", "conv1", "--sort", "size"],
         ["cam", "lenet", "{tmp_path / 'missing.png'}"],
         ["layers", "{tmp_path / 'x.png'}"],
         ["train", "lenet", "--data", "{tmp_path / 'shoe.png'}", "--out", "{tmp_path / 'new' / 'm.keras'}"]]
for args in cases:
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1 and r.output.startswith("error: "), (args, r.output)
assert "tensorflow" not in sys.modules and "keras" not in sys.modules
print("ok")
"""
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stdout + out.stderr
    assert not (tmp_path / "new").exists()  # a failing command creates no folder


def test_did_you_mean_for_a_misspelt_choice(tmp_path):
    assert_clean_error(run("filters", "lenet", "--layer", "conv1", "--method", "smoth", "--out", tmp_path), r"did you mean smooth\?")


def test_model_positional_or_option_everywhere(tmp_path):
    a = run("layers", "--model", "lenet")
    assert a.exit_code == 0 and a.output == run("layers", "lenet").output  # the option gives the positional's table
    assert run("kernels", "--model", "lenet", "--out", tmp_path).exit_code == 0
    # `cam lenet` (MODEL positional, no image) runs in test_api's CLI_AND_API, byte for byte against cv.cam
    assert_clean_error(run("layers", "lenet", "--model", "vgg16"), "two models given")
    from cnnviz.checks import model_and_images

    # a folder or a glob is an image argument, a bare word or a .keras file the model, in any order
    assert model_and_images([str(tmp_path), "vgg16", "x/*.png"], None) == ("vgg16", [str(tmp_path), "x/*.png"])
    assert model_and_images(["d.png"], "m.keras") == ("m.keras", ["d.png"])


def test_help_names_each_value_and_every_option_is_explained():
    """Flags show no type (a ``<bool>`` reads as if it took a value), value options name what they take;
    typer itself tags arguments and ``--help``."""
    import typer.main

    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        text = run(name, "--help").output
        for p in cmd.params:
            assert p.help, f"{name} {p.name} has no help text"
            if p.param_type_name == "option" and p.name != "help":
                assert p.metavar is not None, f"{name} {p.opts[0]} names no value (metavar)"
        flags = [line for line in text.splitlines() if "<bool>" in line and "--help" not in line]
        assert not flags, f"{name}: {flags}"


def test_internal_error_is_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch):
    import cnnviz.methods.kernels as kernels_module

    def broken(*a, **k):
        raise ValueError("something\nKeras said a lot more")

    monkeypatch.setattr(kernels_module, "learned_kernels", broken)
    r = run("kernels", "lenet", "--out", tmp_path / "o")
    assert_clean_error(r, r"internal error \(ValueError: something\).*--debug", code=4)
    assert not (tmp_path / "o").exists()
    r = run("--debug", "kernels", "lenet", "--out", tmp_path / "o")
    assert r.exit_code == 4 and "Traceback" in r.output and "Keras said a lot more" in r.output


def test_adversarial_failure_and_tiles_are_written(tmp_path, digits):
    x, y = digits
    src = tmp_path / "three.png"
    Image.fromarray(x[int(np.where(y == 3)[0][0])][..., 0]).save(src)
    r = run("fool", "lenet", "--image", src, "-c", "8", "--epsilon", "1", "--steps", "3", "--out", tmp_path / "o", "--tiles", tmp_path / "t")
    assert r.exit_code == 3, r.output
    assert (tmp_path / "o" / "adversarial_lenet_three_to_8_not-reached.png").is_file()
    assert not (tmp_path / "o" / "adversarial_lenet_three_to_8.png").exists()
    tile = np.asarray(Image.open(tmp_path / "t" / "adversarial_8.png"))
    data = json.loads((tmp_path / "o" / "adversarial_lenet_three_to_8_not-reached.json").read_text())
    assert data["reached"] is False and data["input"] == str(src) and data["input_size"] == [28, 28]
    assert data["amplification"] == pytest.approx(127.5, rel=0.01)  # L-inf 1 pixel unit shown x127.5
    assert 0 < np.abs(tile.astype(int) - x[int(np.where(y == 3)[0][0])][..., 0].astype(int)).max() <= 1


def test_resized_input_is_noted_and_recorded(tmp_path):
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((56, 40), "uint8")).save(big)
    r = run("activations", "lenet", big, "--layer", "conv1", "--out", tmp_path)
    assert r.exit_code == 0 and "fitted the 40x56 image to 28x28: short side resized, centre cropped" in r.output, r.output
    data = json.loads((tmp_path / "activations_lenet_big_conv1.json").read_text())
    assert data["input"] == str(big) and data["input_size"] == [40, 56] and data["fed_size"] == [28, 28]


def test_big_layer_renders_the_first_16_and_says_so(tmp_path):
    import keras

    inputs = keras.Input((12, 12, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(20, 3, activation="relu", name="wide")(inputs))
    model.save(tmp_path / "wide.keras")
    r = run("filters", tmp_path / "wide.keras", "--layer", "wide", "--steps", "1", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert "wide has 20 filters; rendering the first 16" in r.output and "all 20 would take about" in r.output
    data = json.loads((tmp_path / "o" / "filters_wide_wide_smooth.json").read_text())
    assert data["count"] == 16 and [t["filter"] for t in data["tiles"]] == list(range(16))
    r = run("filters", tmp_path / "wide.keras", "--layer", "wide", "--steps", "1", "--filters", "0-19", "--out", tmp_path / "p")
    assert r.exit_code == 0 and "rendering the first" not in r.output


def test_keras_warnings_become_one_note_line(tmp_path, monkeypatch):
    import warnings

    import cnnviz.methods.kernels as kernels_module
    from cnnviz.errors import CnnvizError

    def noisy(*a, **k):
        warnings.warn("Skipping variable loading for optimizer 'adam'.\nIt has 12 variables, the saved file 0.\n...")
        raise CnnvizError("stopped here")

    monkeypatch.setattr(kernels_module, "learned_kernels", noisy)
    r = run("kernels", "lenet", "--out", tmp_path)
    assert "note: Skipping variable loading for optimizer 'adam'." in r.output
    assert "12 variables" not in r.output and r.output.strip().splitlines()[-1] == "error: stopped here"


def test_damaged_model_files_are_named_before_keras(tmp_path):
    import zipfile

    png = tmp_path / "photo.keras"
    png.write_bytes((__import__("cnnviz.inputs.images", fromlist=["x"]).bundled_cat()).read_bytes())
    assert_clean_error(run("layers", png), "is an image, not a model")
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("readme.txt", "not a model")
    assert_clean_error(run("layers", tmp_path / "other.keras"), "without config.json")
    (tmp_path / "cut.keras").write_bytes(b"PK\x03\x04 truncated")
    assert_clean_error(run("layers", tmp_path / "cut.keras"), "damaged .keras file")
