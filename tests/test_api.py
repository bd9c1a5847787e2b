"""The public API on what notebook users have: a keras.Model built and trained in the session (Sequential
and functional), a model file and a name; images as arrays, PIL images and paths; results that show
themselves; the CLI writing exactly what the function + ``.save()`` writes."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import cnnviz as cv
from cnnviz.cli import app
from cnnviz.errors import CnnvizError


def _data():
    from cnnviz.models.lenet import sample_digits

    x, y = sample_digits()
    rng = np.random.default_rng(0)
    shifted = [np.roll(x, (int(a), int(b)), axis=(1, 2)) for a, b in rng.integers(-2, 3, (10, 2))]
    return np.concatenate(shifted), np.tile(y, 10)


def _build(kind: str):
    import keras

    keras.utils.set_random_seed(1)
    L = keras.layers
    if kind == "sequential":
        model = keras.Sequential([keras.Input((28, 28, 1)), L.Rescaling(1 / 255.0), L.Conv2D(4, 3, activation="relu", name="c1"),
                                  L.MaxPooling2D(), L.Conv2D(8, 3, activation="relu", name="c2"), L.GlobalAveragePooling2D(),
                                  L.Dense(10, activation="softmax", name="out")])
    else:
        inputs = keras.Input((28, 28, 1))
        x = L.Conv2D(4, 3, activation="relu", name="c1")(L.Rescaling(1 / 255.0)(inputs))
        x = L.Conv2D(8, 3, activation="relu", name="c2")(L.MaxPooling2D()(x))
        model = keras.Model(inputs, L.Dense(10, activation="softmax", name="out")(L.GlobalAveragePooling2D()(x)))
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x.astype("float32"), y, epochs=1, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module", params=["sequential", "functional"])
def trained(request):
    return _build(request.param)


def _decoded(result) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(result._repr_png_())).convert("RGB"))


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_import_is_cheap():
    code = ("import sys, cnnviz, cnnviz.results, cnnviz.output.files, cnnviz.cli; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'Keras loaded on import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_job_on_a_model_object_agrees_with_a_direct_forward_pass(trained):
    import keras

    before = _weights(trained)
    digits, _ = _data()
    image = digits[3]
    # layers: the parameter count Keras gives
    assert cv.layers(trained).total == trained.count_params()
    # activations: the layer's own output for the image (Rescaling is the model's: raw pixels go in)
    acts = cv.activations(trained, image, "c1", note=None)
    direct = np.asarray(keras.Model(trained.inputs, trained.get_layer("c1").output)(image[None].astype("float32")))[0]
    np.testing.assert_allclose(acts.maps, direct, rtol=1e-5, atol=1e-6)
    # filters: the reported activation is the channel's mean on the saved pixels
    f = cv.filters(trained, "c2", [0, 5], steps=2, progress=False, note=None)
    out = np.asarray(keras.Model(trained.inputs, trained.get_layer("c2").output)(f.images.astype("float32")))
    np.testing.assert_allclose(f.activations, [out[0, ..., 0].mean(), out[1, ..., 5].mean()], rtol=1e-4, atol=1e-6)
    # fool: p is the model's probability on the saved 8-bit image
    fo = cv.fool(trained, [2, 7], steps=5, progress=False, note=None)
    p = np.asarray(trained(fo.images.astype("float32")))
    np.testing.assert_allclose(fo.probabilities, [p[0, 2], p[1, 7]], rtol=1e-4, atol=1e-6)
    # cam: the predicted class by default, and its probability
    c = cv.cam(trained, image, faithfulness_steps=0, progress=False, note=None)
    probs = np.asarray(trained(image[None].astype("float32")))[0]
    assert c.class_index == int(np.argmax(probs)) and c.probability == pytest.approx(float(probs.max()), rel=1e-4)
    assert c.heat.shape == (28, 28) and c.layer == "c2"
    # kernels: the layer's own weights
    np.testing.assert_array_equal(cv.kernels(trained, note=None).weights, trained.get_layer("c1").get_weights()[0])
    # the user's model is untouched
    for a, b in zip(before, _weights(trained)):
        np.testing.assert_array_equal(a, b)
    assert [type(layer).__name__ for layer in trained.layers][-1] == "Dense"


def test_results_show_themselves(trained):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    digits, _ = _data()
    acts = cv.activations(trained, digits[0], ["c1", "c2"], note=None)
    assert acts.keys() == ["c1", "c2"] and acts["c2"].layer == "c2"
    for r in (*acts, acts, cv.layers(trained), cv.edges(digits[0], note=None)):
        np.testing.assert_array_equal(_decoded(r), r.figure())
    fig, ax = acts["c1"].plot()
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), acts["c1"].figure())
    given_fig, given = plt.subplots()
    assert acts["c1"].plot(ax=given)[0] is given_fig
    stacked = acts.figure()
    assert stacked.shape[0] == acts["c1"].figure().shape[0] + 12 + acts["c2"].figure().shape[0]
    assert "<table>" in cv.layers(trained)._repr_html_()
    plt.close("all")


def test_images_as_arrays_pil_images_and_paths_are_the_same(trained, tmp_path):
    digits, _ = _data()
    image = digits[5]
    Image.fromarray(image[..., 0]).save(tmp_path / "five.png")
    notes: list[str] = []
    as_array = cv.activations(trained, image, "c1", note=None).maps
    for other in (image[..., 0], Image.fromarray(image[..., 0]), tmp_path / "five.png", str(tmp_path / "five.png")):
        np.testing.assert_array_equal(cv.activations(trained, other, "c1", note=None).maps, as_array)
    as_float = cv.activations(trained, image / 255.0, "c1", note=notes.append).maps  # what x / 255 gives
    np.testing.assert_allclose(as_float, as_array, rtol=1e-6, atol=1e-6)
    assert any("[0, 1]" in n for n in notes)


def test_a_file_and_a_name_give_what_the_object_gives(trained, tmp_path):
    trained.save(tmp_path / "m.keras")
    a = cv.filters(trained, "c2", [1], steps=2, progress=False, note=None)
    b = cv.filters(tmp_path / "m.keras", "c2", [1], steps=2, progress=False, note=None)
    np.testing.assert_array_equal(a.images, b.images)
    assert b.model.stem == "m" and a.model.info["weights"] == "in memory (as given)"
    # the parameter total: file, object and Keras agree (LeNet's hand-counted 61,610 is in test_models.py)
    assert cv.layers(tmp_path / "m.keras", note=None).total == cv.layers(trained, note=None).total == trained.count_params()


def test_save_writes_the_manifest_and_never_replaces_silently(trained, tmp_path):
    r = cv.kernels(trained, note=None)
    paths = r.save(tmp_path)
    data = json.loads(paths.manifest.read_text())
    assert data["command"] == "kernels" and data["layer"] == "c1" and data["image"] == paths.png.name
    np.testing.assert_array_equal(np.asarray(Image.open(paths.png).convert("RGB")), r.figure())
    with pytest.raises(CnnvizError, match="already exists; pass --overwrite"):
        r.save(tmp_path)
    r.save(tmp_path, overwrite=True)


def test_bad_arguments_are_one_line_before_keras_loads():
    code = ("import sys, cnnviz as cv\n"
            "from cnnviz.errors import CnnvizError\n"
            "for call in (lambda: cv.filters(42, 'c1'), lambda: cv.filters('nosuch.keras', 'c1'),\n"
            "             lambda: cv.cam('lenet', 'missing.png'), lambda: cv.filters('lenet', 'conv1', method='smoth')):\n"
            "    try:\n        call()\n    except CnnvizError as e:\n        print(str(e).splitlines()[0])\n"
            "assert 'keras' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.splitlines()
    assert len(out) == 4 and "did you mean smooth" in out[3] and "missing.png" in out[2]


def _without_timing(x):
    if isinstance(x, dict):
        return {k: _without_timing(v) for k, v in x.items() if k not in ("seconds", "ascent_seconds")}
    if isinstance(x, list):
        return [_without_timing(v) for v in x]
    return x


CLI_AND_API = [
    (["filters", "lenet", "--layer", "conv2", "--filters", "0-3", "--steps", "3", "--seed", "2", "--cols", "4"],
     lambda: cv.filters("lenet", "conv2", "0-3", steps=3, seed=2, cols=4)),
    (["fool", "lenet", "-c", "3", "-c", "5", "--steps", "6", "--seed", "1"], lambda: cv.fool("lenet", ["3", "5"], steps=6, seed=1)),
    (["activations", "lenet", "--layer", "conv1", "--max", "4", "--sort", "max"],
     lambda: cv.activations("lenet", None, ["conv1"], max=4, sort="max")),
    (["cam", "lenet", "--method", "gradcam", "--method", "saliency", "--faithfulness-steps", "4", "--heatmaps"],
     lambda: cv.cam("lenet", None, method=["gradcam", "saliency"], faithfulness_steps=4, heatmaps=True)),
    (["edges", "--kernel", "prewitt", "--border", "replicate"], lambda: cv.edges(kernel="prewitt", border="replicate")),
    (["kernels", "lenet", "--layer", "conv2"], lambda: cv.kernels("lenet", layer="conv2")),
    (["layers", "lenet", "--out", "{out}"], lambda: cv.layers("lenet")),
]


@pytest.mark.parametrize("argv,call", CLI_AND_API, ids=[a[0] for a, _ in CLI_AND_API])
def test_cli_writes_what_the_function_and_save_write(argv, call, tmp_path):
    cli_out, api_out = tmp_path / "cli", tmp_path / "api"
    args = [a.replace("{out}", str(cli_out)) for a in argv] + ([] if "{out}" in argv else ["--out", str(cli_out)])
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 3), result.output
    made = call()
    for r in made if isinstance(made, list) else [made]:
        r.save(api_out)
    cli_files = sorted(p.name for p in cli_out.iterdir())
    assert cli_files == sorted(p.name for p in api_out.iterdir()) and cli_files
    for name in cli_files:
        a, b = (cli_out / name).read_bytes(), (api_out / name).read_bytes()
        if name.endswith(".json"):
            assert _without_timing(json.loads(a)) == _without_timing(json.loads(b)), name
        else:
            assert a == b, name


@pytest.mark.slow
def test_quickstart_notebook_draws_every_job(tmp_path):
    """The README's notebook, executed in a fresh kernel: every job's cell shows a decodable PNG."""
    import base64
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).resolve().parents[1]
    nb = nbformat.read(root / "examples" / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    jobs = ("cv.layers", "cv.filters", "cv.activations", "cv.cam", "cv.fool", "cv.edges", "cv.kernels", ".plot()")
    for job in jobs:
        cells = [c for c in nb.cells if c.cell_type == "code" and job in c.source]
        assert cells, job
        pngs = [o["data"]["image/png"] for c in cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert pngs, f"no picture in the output of the {job} cell"
        picture = Image.open(io.BytesIO(base64.b64decode(pngs[0])))
        assert picture.size[0] > 100 and picture.size[1] > 50
    table = [o for c in nb.cells if c.cell_type == "code" and "cv.layers" in c.source for o in c.outputs if "text/html" in o.get("data", {})]
    assert table and "<table>" in table[0]["data"]["text/html"]
    gifs = [o["data"]["image/gif"] for c in nb.cells if c.cell_type == "code" and "cv.callbacks" in c.source
            for o in c.outputs if "image/gif" in o.get("data", {})]
    assert gifs and Image.open(io.BytesIO(base64.b64decode(gifs[0]))).n_frames == 4  # before training + 3 epochs


def test_an_input_choice_ends_with_the_call(tmp_path):
    """--input/--output choices made by one call do not change the next (no hidden state on the model)."""
    import keras

    from cnnviz.models.model_io import plan_for

    image, other = keras.Input((8, 8, 1), name="image"), keras.Input((8, 8, 1), name="other")
    x = keras.layers.Conv2D(2, 3, activation="relu", kernel_initializer="ones", name="c")(keras.layers.Add()([image, other]))
    model = keras.Model([image, other], keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x)))
    np.savez(tmp_path / "v.npz", image=np.full((8, 8, 1), 0.5, "float32"))
    a = cv.activations(model, np.zeros((8, 8, 1), "uint8"), "c", input="other", input_values=tmp_path / "v.npz", note=None)
    assert plan_for(model).image is None and plan_for(model).held == {}  # nothing left on the model object
    loaded = cv.load(model, input="other", input_values=tmp_path / "v.npz", note=None)
    assert loaded.io.image == 1 and plan_for(model).image is None
    b = cv.activations(loaded, np.zeros((8, 8, 1), "uint8"), "c", note=None)  # the LoadedModel brings its choice
    np.testing.assert_array_equal(a.maps, b.maps)
    assert a.maps.max() > 0  # the held 0.5 passes the ReLU: the choice was in force during the call


def test_atlas_from_python_links_its_site(tmp_path):
    site = cv.atlas("lenet", tmp_path, layers="conv1", filters_per_layer=2, steps=2, diversity=0, progress=False, note=None)
    assert site.index == tmp_path / "atlas-lenet" / "index.html" and site.index.is_file() and site.built == ["conv1"]
    pages = sorted(p.name for p in (tmp_path / "atlas-lenet" / "conv1").glob("f*.html"))
    assert pages == ["f0.html", "f1.html"]  # filters_per_layer=2 of conv1's 6 filters
    assert f'href="{site.index}"' in site._repr_html_() and "built conv1" in site._repr_html_()
    again = cv.atlas("lenet", tmp_path, layers="conv1", filters_per_layer=2, steps=2, diversity=0, progress=False, note=None)
    assert again.skipped == ["conv1"] and "kept conv1" in again._repr_html_()


def test_a_loaded_model_is_not_changed_by_the_calls_it_is_given_to():
    loaded = cv.load("lenet", note=None)
    before = (loaded.preprocess, loaded.class_names, list(loaded.notes), loaded.io)
    r = cv.activations(loaded, None, "conv1", preprocess="none", note=None)  # this call feeds raw pixels
    assert r.model.info["preprocess"] == "none"
    assert (loaded.preprocess, loaded.class_names, list(loaded.notes), loaded.io) == before
