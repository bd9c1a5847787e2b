import keras
import numpy as np
import pytest

from cnnviz.optvis import Ascent, Stage, UpdateRule
from cnnviz.errors import CnnvizError
from cnnviz.methods.filters import check_conv_layer, mean_activation, visualize_filters
from cnnviz.output.files import encode_png
from cnnviz.models import feature_model, resolve_layer
from cnnviz.optvis.objectives import channel, class_logit
from cnnviz.selection import parse_indices

from conftest import assert_unchanged, save_nested_vgg16, snapshot, wrap


def test_objective_rises_on_tiny_model(tiny_conv_model):
    path = resolve_layer(tiny_conv_model, "c2")
    fm = feature_model(tiny_conv_model, [path], preactivation=True)  # live on every backend's random init
    ascent = Ascent(fm, ["c2"], channel("c2"), "unit", rule=UpdateRule(clip=True))
    rng = np.random.default_rng(0)
    x0 = (128 + rng.uniform(-10, 10, (3, 16, 16, 3))).astype("float32")
    targets = np.array([0, 2, 4])
    before = ascent.score(x0, targets)
    x, after, steps = ascent.run(x0, targets, [Stage((16, 16), 5, 4.0)], [np.random.default_rng(i) for i in range(3)])
    assert steps == 5
    assert (ascent.score(x, targets) > before).all()
    assert x.min() >= 0 and x.max() <= 255


def test_objectives_compose():
    acts = {"l": np.arange(2 * 2 * 2 * 3, dtype="float32").reshape(2, 2, 2, 3), "logits": np.array([[1.0, 5.0], [2.0, 0.0]], "float32")}
    targets = np.array([2, 0])
    # per-image channel: image 0 -> channel 2, image 1 -> channel 0
    expected = [acts["l"][0, ..., 2].mean(), acts["l"][1, ..., 0].mean()]
    np.testing.assert_allclose(channel("l")(acts, targets), expected)
    combo = 2.0 * channel("l", 1) - class_logit(1) + 1.0
    np.testing.assert_allclose(combo(acts, targets), 2 * acts["l"][..., 1].mean(axis=(1, 2)) - [5.0, 0.0] + 1.0)
    top = channel("l", 0, top=0.25)(acts, targets)  # the strongest of 4 positions
    np.testing.assert_allclose(top, acts["l"][..., 0].reshape(2, -1).max(axis=1))
    assert "channel('l', 1)" in repr(combo)


def test_batched_equals_one_at_a_time(lenet):
    a = visualize_filters(lenet, "conv2", [0, 3, 7], seed=5, batch_size=3)
    b = visualize_filters(lenet, "conv2", [0, 3, 7], seed=5, batch_size=1)
    diff = np.abs(a.images.astype(int) - b.images.astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.01
    np.testing.assert_allclose(a.activations, b.activations, rtol=1e-3, atol=1e-4)


def test_same_seed_same_png_bytes(lenet):
    a = visualize_filters(lenet, "conv1", seed=3)
    b = visualize_filters(lenet, "conv1", seed=3)
    c = visualize_filters(lenet, "conv1", seed=4)
    assert [encode_png(i) for i in a.images] == [encode_png(i) for i in b.images]
    assert [encode_png(i) for i in a.images] != [encode_png(i) for i in c.images]


def test_smooth_beats_classic_on_lenet(lenet):
    classic = visualize_filters(lenet, "conv2", method="classic")
    smooth = visualize_filters(lenet, "conv2")
    assert smooth.alive.all()
    assert smooth.alive.sum() > classic.alive.sum()
    assert smooth.activations.mean() > classic.activations.mean()
    # the reported activation is that of the shown pixels, re-preprocessed
    fm = feature_model(lenet.model, [resolve_layer(lenet.model, "conv2")])
    np.testing.assert_allclose(mean_activation(fm, smooth.images, smooth.indices, "unit"), smooth.activations, rtol=1e-5)
    # a tile is not grey noise: it has contrast
    assert min(float(img.std()) for img in smooth.images) > 20


def test_progress_counts_filter_steps(lenet):
    seen = []
    visualize_filters(lenet, "conv2", list(range(5)), steps=4, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert (20, 20) in seen and all(t == 20 for _, t in seen[: seen.index((20, 20)) + 1])
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == seen[-1][1]  # ends full
    seen.clear()  # a dead filter: the bar goes on through its revive steps and still ends full
    visualize_filters(wrap(_red_minus_green_model()), "c", [0, 1], size=16, steps=4, param="fourier",
                      progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] > 8 and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_default_size_for_any_size_models():
    from cnnviz.models import load_model

    vgg = load_model("vgg16", weights=None)
    r = visualize_filters(vgg, "block1_conv1", [0], steps=1)
    assert r.size == (128, 128) and r.images.shape == (1, 128, 128, 3)


def test_top_and_scan(lenet):
    r = visualize_filters(lenet, "conv2", top=4, scan=8, steps=6)
    assert len(r.indices) == 4 and r.scanned == list(range(8))
    assert list(r.activations) == sorted(r.activations, reverse=True)


def test_dead_filter_is_marked_without_nan():
    inputs = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(2, 3, activation="relu", name="c")
    model = keras.Model(inputs, conv(inputs))
    kernel = np.zeros((3, 3, 1, 2), "float32")
    kernel[1, 1, 0, 0] = 1.0
    conv.set_weights([kernel, np.array([0.0, -1.0], "float32")])  # filter 1: all-zero kernel, bias -1: dead
    snap = snapshot(model)
    r = visualize_filters(wrap(model), "c", steps=4)
    assert list(r.alive) == [True, False]
    assert r.activations[1] == 0.0 and np.isfinite(r.images.astype(float)).all()
    assert r.records()[1]["dead"] is True
    classic = visualize_filters(wrap(model), "c", steps=4, method="classic")
    assert classic.records()[1]["dead"] and np.isfinite(classic.images.astype(float)).all()
    assert_unchanged(model, snap)


def test_user_model_unchanged(lenet):
    snap = snapshot(lenet.model)
    visualize_filters(lenet, "conv2", [1, 2], steps=3)
    assert_unchanged(lenet.model, snap)


def test_bad_requests(lenet):
    with pytest.raises(CnnvizError, match="filter 16 is out of range: conv2 has 16 filters"):
        visualize_filters(lenet, "conv2", [16])
    with pytest.raises(CnnvizError, match="'fc1' is Dense, not convolutional.*conv1, conv2.*cnnviz fool"):
        check_conv_layer(lenet, "fc1")
    with pytest.raises(CnnvizError, match="'pool1' is a pooling layer.*use the conv layer before it: conv1"):
        check_conv_layer(lenet, "pool1")
    with pytest.raises(CnnvizError, match="--steps must be at least 1"):
        visualize_filters(lenet, "conv1", steps=0)
    with pytest.raises(CnnvizError, match="takes 28x28 inputs only"):
        visualize_filters(lenet, "conv1", size=64)
    with pytest.raises(CnnvizError, match="unknown --method"):
        visualize_filters(lenet, "conv1", method="deepdream")


def test_parse_indices():
    assert parse_indices("0-3,9", 10) == [0, 1, 2, 3, 9]
    assert parse_indices("3,7,12", 64) == [3, 7, 12]
    with pytest.raises(CnnvizError, match="ends before it starts; write 2-5"):
        parse_indices("5-2", 10)
    with pytest.raises(CnnvizError, match="not an index or a range"):
        parse_indices("a-b", 10)
    with pytest.raises(CnnvizError, match="filter 64 is out of range"):
        parse_indices("60-64", 64)


def test_filters_on_vgg16_nested_in_sequential(tmp_path):
    from cnnviz.models import load_model

    path = save_nested_vgg16(tmp_path, keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax"))
    loaded = load_model(path, preprocess="caffe")
    snap = snapshot(loaded.model)
    r = visualize_filters(loaded, "conv2_1", [0, 5], steps=3)
    assert r.layer == "vgg16/block2_conv1" and r.images.shape == (2, 32, 32, 3)
    # each reported activation is its filter's mean response to the saved 8-bit picture, through the nested layer,
    # fed as caffe (BGR, ImageNet means subtracted) -- computed here with Keras directly
    inner = loaded.model.get_layer("vgg16")
    sub = keras.Model(inner.inputs[0], inner.get_layer("block2_conv1").output)
    bgr = r.images[..., ::-1].astype("float32") - np.array([103.939, 116.779, 123.68], "float32")
    maps = np.asarray(sub(bgr))
    np.testing.assert_allclose(r.activations, [maps[0, ..., 0].mean(), maps[1, ..., 5].mean()], rtol=1e-4, atol=1e-5)
    assert_unchanged(loaded.model, snap)


def test_precision_options(lenet):
    import keras

    from cnnviz.backends import adapter
    from cnnviz.optvis.ascent import _bfloat16_rewrite, native_bfloat16, resolve_precision

    assert resolve_precision("float32") == "float32"
    assert resolve_precision("auto") == ("bfloat16" if native_bfloat16() else "float32")
    with pytest.raises(CnnvizError, match="unknown precision 'fp8'"):
        resolve_precision("fp8")
    if keras.backend.backend() == "tensorflow":  # the rewrite is TensorFlow's (oneDNN); other backends have none
        import tensorflow as tf

        key = "auto_mixed_precision_onednn_bfloat16"
        with _bfloat16_rewrite():
            assert tf.config.optimizer.get_experimental_options().get(key) is True
        assert not tf.config.optimizer.get_experimental_options().get(key, False)  # restored: scoped to the steps
    f32 = visualize_filters(lenet, "conv2", [1, 2], precision="float32")
    b16 = visualize_filters(lenet, "conv2", [1, 2], precision="bfloat16")
    assert f32.precision == "float32" and b16.precision == ("bfloat16" if adapter().runs_bfloat16() else "float32")
    assert f32.alive.all() and b16.alive.all() and np.isfinite(b16.activations).all()
    assert visualize_filters(lenet, "conv2", [1], method="classic", precision="bfloat16").precision == "float32"


def _red_minus_green_model():
    """Filter 0: the sum over a 3x3 patch of (R - G) / 255 (responds where red beats green);
    filter 1: the same with bias -100 (nothing in 0-255 can make it respond)."""
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(2, 3, activation="relu", name="c")
    model = keras.Model(inputs, conv(inputs))
    kernel = np.zeros((3, 3, 3, 2), "float32")
    kernel[:, :, 0, :], kernel[:, :, 1, :] = 1.0, -1.0
    conv.set_weights([kernel, np.array([0.0, -100.0], "float32")])
    return model


def test_revive_brings_back_a_filter_silent_on_its_picture():
    from cnnviz.methods.revive import REVIVE_STEPS, revive
    from cnnviz.models.submodels import response_model

    model = _red_minus_green_model()
    snap = snapshot(model)
    loaded = wrap(model)
    measure, _ = response_model(model, resolve_layer(model, "c"))
    yy, xx = np.mgrid[0:20, 0:20]
    start = np.stack([100 + yy, 125 + 0 * xx, 90 + xx], -1).astype("float32")  # green beats red everywhere
    pixels = np.stack([start, start])
    images = np.round(pixels).astype("uint8")
    acts = mean_activation(measure, images, [0, 1], "unit")
    assert list(acts) == [0.0, 0.0]
    calls = []
    import cnnviz.optvis.ascent as A

    run = A.Ascent.run

    def counting(self, *a, **k):
        out = run(self, *a, **k)
        calls.append(out[2])
        return out

    A.Ascent.run = counting
    try:
        out, new_acts, revived, _ = revive(loaded, "c", measure, pixels, images, acts, [0, 1], np.array([0, 1]),
                                           (20, 20), 2, "float32")
    finally:
        A.Ascent.run = run
    assert revived.tolist() == [True, False] and new_acts[0] > 0 and new_acts[1] == 0.0
    np.testing.assert_allclose(new_acts[0], mean_activation(measure, out[:1], [0], "unit")[0])  # the saved pixels
    np.testing.assert_array_equal(out[1], images[1])  # the hopeless one keeps its picture
    assert 0 < np.abs(out[0].astype(float) - images[0]).mean() < 20  # a push, not a new picture
    assert calls[0] < REVIVE_STEPS  # stopped once filter 0 responded and filter 1 could not
    assert_unchanged(model, snap)


def test_revive_gives_up_on_a_picture_that_cannot_respond_in_the_steps_left():
    from cnnviz.methods.revive import revive_hopeless

    assert not revive_hopeless([-30.0], 5, 20)  # no rate yet
    # after 10 of 20 steps: -30 climbing 0.2 a step stays below 0; -0.5 climbing 0.1 a step crosses it
    assert revive_hopeless([-31.0, -30.0], 5, 20)
    assert not revive_hopeless([-1.0, -0.5], 5, 20)
    assert revive_hopeless([-1.0, -0.9], 5, 20)
    assert revive_hopeless([-1.0, -2.0], 5, 20)  # falling: no climb at all
    assert not revive_hopeless([-1.0, 0.5], 5, 20)


def test_revive_does_not_depend_on_the_batches():
    from cnnviz.methods.filters import revive
    from cnnviz.models.submodels import response_model

    model = _red_minus_green_model()
    loaded = wrap(model)
    measure, _ = response_model(model, resolve_layer(model, "c"))
    yy, xx = np.mgrid[0:20, 0:20]
    pictures = np.stack([np.stack([100 + yy, 125 + 0 * xx, 90 + xx], -1), np.stack([110 + 0 * yy, 118 + 0 * xx, 90 + yy], -1),
                         np.stack([100 + yy, 125 + 0 * xx, 90 + xx], -1)]).astype("float32")
    images = np.round(pictures).astype("uint8")
    acts = np.zeros(3)
    runs = [revive(loaded, "c", measure, pictures, images, acts, [0, 0, 1], np.arange(3), (20, 20), bs, "float32")
            for bs in (1, 3)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][2].tolist() == runs[1][2].tolist() == [True, True, False]


def test_revived_filters_are_in_the_manifest_and_captions():
    from cnnviz.results.filters import FilterResult

    r = FilterResult("c", [3, 4], np.zeros((2, 8, 8, 3), "uint8"), np.array([0.5, 1.0]), np.array([True, True]),
                     "smooth", (8, 8), 16, 0, 1.0, revived=np.array([False, True]))
    assert r.record()["revived"] == [4] and [t["revived"] for t in r.records()] == [False, True]
    assert r.captions()[1].startswith("#4*") and not r.captions()[0].startswith("#3*")
    # --diversity: two pictures of filter 4, only the second revived; the mark is per picture
    d = FilterResult("c", [4, 4], np.zeros((2, 8, 8, 3), "uint8"), np.array([0.5, 1.0]), np.array([True, True]),
                     "smooth", (8, 8), 16, 0, 1.0, diversity=2, revived=np.array([False, True]))
    assert [t["revived"] for t in d.records()] == [False, True] and d.record()["revived"] == [4]
    assert not d.captions()[0].startswith("#4*") and d.captions()[1].startswith("#4*")


def test_top_keeps_each_pictures_revive_mark():
    from cnnviz.methods.filters import _strongest
    from cnnviz.results.filters import FilterResult

    r = FilterResult("c", [0, 1, 2], np.zeros((3, 8, 8, 3), "uint8"), np.array([0.2, 3.0, 1.0]), np.array([True] * 3),
                     "smooth", (8, 8), 16, 0, 1.0, revived=np.array([False, True, False]))
    top = _strongest(r, 2, [0, 1, 2])
    assert top.indices == [1, 2] and top.revived.tolist() == [True, False] and top.record()["revived"] == [1]


def test_lenet_default_recipe_is_the_stronger_one():
    """Issue 22.1: at 28 px the default draws in pixels (the Fourier recipe's blobs leave every conv2
    filter weaker), and the figure and manifest say which recipe and why."""
    from cnnviz.models import load_model

    lenet = load_model("lenet")
    default = visualize_filters(lenet, "conv2", seed=0)
    fourier = visualize_filters(lenet, "conv2", seed=0, param="fourier")
    assert default.param == "pixel" and "28x28 px" in default.record()["recipe"]
    ratio = default.activations / np.maximum(fourier.activations, 1e-6)
    assert ratio.min() >= 1.0 and np.median(ratio) > 1.5, ratio


def test_default_recipe_by_input_size(tiny_conv_model):
    from cnnviz.methods.filters import SMALL_INPUT, param_choice

    assert param_choice("smooth", None, (28, 28))[0] == "pixel"
    assert param_choice("smooth", None, (SMALL_INPUT, SMALL_INPUT))[0] == "fourier"
    assert param_choice("smooth", None, (28, 28), diversity=3)[0] == "fourier"
    assert param_choice("smooth", "fourier", (28, 28)) == ("fourier", "--param fourier (chosen by the user)")
    r = visualize_filters(wrap(tiny_conv_model), "c2", [0], size=16, steps=2)
    assert r.param == "pixel" and r.record()["recipe"].startswith("pixel recipe")


def test_the_manifest_reports_the_precision_that_runs(monkeypatch):
    """--precision bfloat16 where the backend cannot rewrite the steps (JAX, PyTorch, a GPU) runs, and says, float32."""
    import cnnviz.backends as backends
    from cnnviz.optvis.ascent import resolve_precision

    real = backends.adapter()
    monkeypatch.setattr(real, "runs_bfloat16", lambda: False)
    assert resolve_precision("bfloat16") == "float32"
    monkeypatch.setattr(real, "runs_bfloat16", lambda: True)
    assert resolve_precision("bfloat16") == "bfloat16"
