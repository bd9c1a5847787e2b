"""Parametrisations, transforms, Adam, diversity, the multi-scale path and depthwise layers."""

import keras
import numpy as np
import pytest
from keras import ops

from cnnviz.optvis import param as P
from cnnviz.optvis import transforms as T
from cnnviz.optvis import Ascent, Stage, UpdateRule, adam_update


def _apply(img, transforms, rng):
    h, w = img.shape[1] + 2 * T.padding(transforms), img.shape[2] + 2 * T.padding(transforms)
    m = T.sample(transforms, rng, h, w)[None]
    return ops.convert_to_numpy(T.apply(ops.convert_to_tensor(img), transforms, ops.convert_to_tensor(m)))


def test_jitter_shifts_by_the_drawn_offset():
    img = np.random.default_rng(0).uniform(0, 255, (1, 20, 20, 3)).astype("float32")
    out = _apply(img, (T.Jitter(3),), np.random.default_rng(5))
    dy, dx = np.random.default_rng(5).integers(-3, 4, size=2)
    assert (dy, dx) != (0, 0)
    ys, xs = slice(3, 17), slice(3, 17)
    np.testing.assert_allclose(out[0, ys, xs], img[0, 3 - dy : 17 - dy, 3 - dx : 17 - dx], atol=1e-3)


def test_rotate_90_is_rot90_and_scale_zooms_about_the_centre():
    img = np.random.default_rng(1).uniform(0, 255, (1, 9, 9, 1)).astype("float32")
    out = _apply(img, (T.Rotate((90.0,)),), np.random.default_rng(0))
    turned = [np.rot90(img[0, ..., 0], k) for k in (1, -1)]
    assert min(np.abs(out[0, ..., 0] - t).max() for t in turned) < 1e-3
    ramp = np.tile(np.arange(9, dtype="float32")[None, :], (9, 1))[None, ..., None] * 10
    zoomed = _apply(ramp, (T.Scale((2.0,)),), np.random.default_rng(0))
    # x -> centre + (x - centre) / 2 on a linear ramp: slope halves, the centre stays
    np.testing.assert_allclose(zoomed[0, 4, 2:7, 0], 10 * (4 + (np.arange(2, 7) - 4) / 2), atol=1e-3)


def test_pad_adds_a_grey_border_and_keeps_the_image():
    img = np.full((2, 5, 5, 3), 9.0, "float32")
    out = ops.convert_to_numpy(T.apply(ops.convert_to_tensor(img), (T.Pad(2, value=7.0),), None))
    assert out.shape == (2, 9, 9, 3)
    assert (out[:, :2] == 7).all() and (out[:, :, -2:] == 7).all()
    assert (out[:, 2:7, 2:7] == 9).all()


def test_standard_set_is_lucids_scaled_to_the_image():
    pad, j1, scale, rot, j2 = T.standard(224)
    assert (pad.width, j1.pixels, j2.pixels) == (12, 8, 4)
    assert min(scale.factors) == pytest.approx(0.9) and max(scale.factors) == pytest.approx(1.1)
    assert min(rot.angles) == -10 and max(rot.angles) == 10
    assert T.standard(112)[0].width == 6


@pytest.mark.parametrize("h,w", [(8, 10), (7, 9)])
def test_irfft2_matches_numpy(h, w):
    rng = np.random.default_rng(2)
    re, im = rng.normal(size=(2, 3, h, w // 2 + 1)).astype("float32")
    got = ops.convert_to_numpy(P.irfft2(ops.convert_to_tensor(re), ops.convert_to_tensor(im), h, w))
    np.testing.assert_allclose(got, np.fft.irfft2(re + 1j * im, s=(h, w)), atol=1e-5)
    # a constant (all-ones) spectrum is a unit impulse at the origin
    ones = np.ones((1, h, w // 2 + 1), "float32")
    delta = ops.convert_to_numpy(P.irfft2(ops.convert_to_tensor(ones), ops.convert_to_tensor(0 * ones), h, w))[0]
    expect = np.fft.irfft2(np.ones((h, w // 2 + 1)), s=(h, w))
    np.testing.assert_allclose(delta, expect, atol=1e-6)
    if w % 2 == 0:
        assert delta[0, 0] == pytest.approx(1.0, abs=1e-6) and np.abs(delta).sum() == pytest.approx(1.0, abs=1e-5)


def test_fourier_image_of_a_constant_spectrum_is_the_formula():
    h = w = 16
    par = P.Fourier(decay=1.0, decorrelate=False)
    params = np.zeros((1, 2, 1, h, w // 2 + 1), "float32")
    params[0, 0, 0] = 0.5  # constant real spectrum
    lin = ops.convert_to_numpy(par.linear(ops.convert_to_tensor(params), h, w, 1))[0, ..., 0]
    scale = np.sqrt(h * w) / np.maximum(P.rfft2_freqs(h, w), 1.0 / max(h, w)) ** 1.0
    np.testing.assert_allclose(lin, np.fft.irfft2(0.5 * scale, s=(h, w)) / 4.0, atol=1e-4)
    # the DC term alone: a flat image of 0.5 * sqrt(hw) * max(h, w) / (h w) / 4
    dc = np.zeros_like(params)
    dc[0, 0, 0, 0, 0] = 0.5
    flat = ops.convert_to_numpy(par.linear(ops.convert_to_tensor(dc), h, w, 1))
    np.testing.assert_allclose(flat, 0.5 * 16 * 16 / 256 / 4, atol=1e-6)
    img = ops.convert_to_numpy(par.image(ops.convert_to_tensor(dc), h, w, 1))
    np.testing.assert_allclose(img, 255 / (1 + np.exp(-0.5 * 16 * 16 / 256 / 4)), atol=1e-3)  # sigmoid onto 0-255


def test_colour_decorrelation_round_trips_and_is_lucids():
    x = np.random.default_rng(3).normal(size=(4, 5, 3)).astype("float32")
    there = ops.convert_to_numpy(P.decorrelate(ops.convert_to_tensor(x)))
    np.testing.assert_allclose(P.correlate(there), x, atol=1e-5)
    assert np.linalg.norm(P.COLOR_CORRELATION, axis=0).max() == pytest.approx(1.0)
    np.testing.assert_allclose(there[0, 0], P.COLOR_CORRELATION_SVD_SQRT @ x[0, 0] / np.linalg.norm(
        P.COLOR_CORRELATION_SVD_SQRT, axis=0).max(), atol=1e-5)


def test_adam_steps_equal_the_formula():
    rule = UpdateRule("adam")
    p = np.array([1.0, -2.0, 0.5], "float32")
    g1 = np.array([0.3, -0.001, 4.0], "float32")
    state = (np.zeros(3, "float32"), np.zeros(3, "float32"), np.float32(0.0))
    new, state = adam_update(p, g1, state, 0.1, rule)
    np.testing.assert_allclose(ops.convert_to_numpy(new), p + 0.1 * g1 / (np.abs(g1) + 1e-8), rtol=1e-5)
    g2 = np.array([-0.3, 0.002, 1.0], "float32")
    new2, _ = adam_update(ops.convert_to_numpy(new), g2, state, 0.1, rule)
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    expect = ops.convert_to_numpy(new) + 0.1 * (m / (1 - 0.81)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(ops.convert_to_numpy(new2), expect, rtol=1e-4)


def _fixed_model(size=224):
    keras.utils.set_random_seed(4)
    inp = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 5, strides=4, activation="relu", name="a")(inp)
    x = keras.layers.Conv2D(6, 3, strides=2, name="b")(x)
    return keras.Model(inp, x)


def test_fixed_size_model_goes_through_the_multi_scale_path():
    from cnnviz.optvis.objectives import channel

    m = _fixed_model()
    asc = Ascent(m, ["b"], channel("b"), "unit", T.standard(224), UpdateRule("rms"))
    rngs = [np.random.default_rng(i) for i in range(2)]
    x0 = P.Pixel().init(rngs[0], 56, 56, 3)[None].repeat(2, 0)
    stages = [Stage((56, 56), 2, 4.0), Stage((112, 112), 2, 4.0), Stage((224, 224), 2, 2.0)]
    before = asc.score(np.asarray(ops.image.resize(x0, (224, 224))), np.array([0, 1]))
    x, _, n = asc.run(x0, np.array([0, 1]), stages, rngs)
    assert n == 6 and x.shape == (2, 224, 224, 3)
    # each stage optimised its own size and the model saw 224x224 every time (resampled in the step)
    assert sorted(k[:2] for k in asc._steps) == [((56, 56), (224, 224)), ((112, 112), (224, 224)), ((224, 224), (224, 224))]
    assert (asc.score(x, np.array([0, 1])) > before).all()


def test_diversity_makes_the_pictures_of_a_filter_differ():
    from conftest import wrap

    from cnnviz.optvis.recipes import Fourier
    from cnnviz.optvis.render import feature_model_for, render
    from cnnviz.optvis.objectives import channel, diversity

    keras.utils.set_random_seed(5)
    inp = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="c1")(inp)
    x = keras.layers.Conv2D(4, 3, name="c2")(x)
    loaded = wrap(keras.Model(inp, x))
    common = dict(size=(32, 32), seed=0)
    fourier = Fourier(steps=12, lr=0.05)
    model, names = feature_model_for(loaded, ["c1"])

    def similarity(r):
        acts = {"c1": model(r.pixels)}
        return ops.convert_to_numpy(diversity("c1")(acts, np.asarray(r.targets)))

    plain = render(loaded, channel("c2"), fourier, [1, 1], **common)  # two pictures of filter 1, no diversity term
    diverse = render(loaded, channel("c2"), fourier, [1], diversity=2, diversity_layer="c1", **common)
    assert diverse.targets == [1, 1] and diverse.group == [0, 1]
    assert np.abs(diverse.pixels[0] - diverse.pixels[1]).mean() > 1.0
    assert similarity(diverse).mean() < similarity(plain).mean() - 0.01


def test_depthwise_layer_filters():
    """Depthwise output channel c * multiplier + m sees input channel c only: with unit 1x1 kernels, filter 0
    is drawn red and filter 5 blue, and each recorded activation is a direct forward pass of its picture."""
    from conftest import wrap

    from cnnviz.inputs.preprocessing import to_model_input
    from cnnviz.methods.filters import visualize_filters

    inp = keras.Input((None, None, 3))
    dw = keras.layers.DepthwiseConv2D(1, depth_multiplier=2, use_bias=False, name="dw")
    model = keras.Model(inp, dw(inp))
    dw.set_weights([np.ones((1, 1, 3, 2), "float32")])
    loaded = wrap(model)
    r = visualize_filters(loaded, "dw", [0, 5], size=16, steps=10, batch_size=2)
    assert r.images.shape == (2, 16, 16, 3) and r.indices == [0, 5]
    red, blue = r.images[0].reshape(-1, 3).mean(0), r.images[1].reshape(-1, 3).mean(0)
    assert red[0] > red[1:].max() + 30 and blue[2] > blue[:2].max() + 30
    out = keras.ops.convert_to_numpy(model(to_model_input(r.images.astype("float32"), "unit")))
    np.testing.assert_allclose(r.activations, np.maximum(out, 0).mean(axis=(1, 2))[[0, 1], [0, 5]], rtol=1e-4)
    with pytest.raises(Exception, match="out of range"):
        visualize_filters(loaded, "dw", [6], size=16, steps=2)


def test_trained_lenet_recognises_its_fourier_class_pictures(lenet):
    import io

    from PIL import Image

    from cnnviz.methods.fooling import fool_from_noise
    from cnnviz.models import Classifier
    from cnnviz.output.files import encode_png

    r = fool_from_noise(lenet, [3, 8], method="visualize", max_steps=64)
    clf = Classifier(lenet)
    saved = np.stack([np.asarray(Image.open(io.BytesIO(encode_png(img))))[..., None] if img.shape[-1] == 1 and
                      np.asarray(Image.open(io.BytesIO(encode_png(img)))).ndim == 2 else
                      np.asarray(Image.open(io.BytesIO(encode_png(img)))) for img in r.images])
    p = clf.probabilities(saved.reshape(r.images.shape))
    assert (p[np.arange(2), [3, 8]] >= 0.9).all()
    assert r.images.std() > 20  # a picture, not a flat field


def test_cli_rejects_bad_param_and_diversity(tmp_path):
    from typer.testing import CliRunner

    from cnnviz.cli import app

    runner = CliRunner()
    for args, words in [(["filters", "lenet", "--layer", "conv1", "--param", "wavelet"], "unknown --param 'wavelet'"),
                        (["filters", "lenet", "--layer", "conv1", "--diversity", "0"], "--diversity 0 must be at least 1"),
                        (["filters", "lenet", "--layer", "conv1", "--method", "classic", "--param", "fourier"], "classic"),
                        (["fool", "-m", "lenet", "-c", "3", "--method", "visualize", "--param", "x"], "unknown --param"),
                        (["fool", "-m", "lenet", "-c", "3", "--diversity", "2"], "--method visualize")]:
        res = runner.invoke(app, [*args, "-o", str(tmp_path / "o")])
        assert res.exit_code == 1, res.output
        assert res.output.strip().startswith("error: ") and words in res.output and "Traceback" not in res.output
        assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_fourier_half_size_render_is_the_band_limited_image():
    h = w = 16
    par = P.Fourier(decay=1.0, decorrelate=False)
    params = np.zeros((1, 2, 1, h, w // 2 + 1), "float32")
    rng = np.random.default_rng(7)
    params[0, :, 0, :2, :3] = rng.normal(size=(2, 2, 3))  # frequencies below 2/16 only
    params[0, :, 0, -1:, :3] = rng.normal(size=(2, 1, 3))
    full = ops.convert_to_numpy(par.linear(ops.convert_to_tensor(params), h, w, 1))[0, ..., 0]
    half = ops.convert_to_numpy(par.linear(ops.convert_to_tensor(params), h, w, 1, (8, 8)))[0, ..., 0]
    np.testing.assert_allclose(half, full[::2, ::2], atol=1e-4)  # a band-limited image, sampled every 2nd pixel


def test_fourier_invert_gives_back_the_picture():
    """A later run can go on from a saved picture: invert(image(p)) renders the same pixels, and a
    photo-like picture (smooth, inside 1-254) comes back to within rounding."""
    par = P.Fourier(decay=1.3)
    rng = np.random.default_rng(0)
    p = np.stack([par.init(rng, 24, 24, 3) * 40 for _ in range(2)])
    x = ops.convert_to_numpy(par.image(ops.convert_to_tensor(p), 24, 24, 3))
    again = ops.convert_to_numpy(par.image(ops.convert_to_tensor(par.invert(x)), 24, 24, 3))
    np.testing.assert_allclose(again, x, atol=1e-3)
    yy, xx = np.mgrid[0:24, 0:24]
    photo = np.stack([60 + 3 * yy, 200 - 4 * xx, 128 + 50 * np.sin(xx / 4.0)], -1)[None].astype("float32")
    back = ops.convert_to_numpy(par.image(ops.convert_to_tensor(par.invert(photo)), 24, 24, 3))
    np.testing.assert_allclose(back, photo, atol=0.05)


def test_a_stage_without_robustness_sees_the_untransformed_picture():
    from cnnviz.optvis.objectives import channel

    keras.utils.set_random_seed(7)
    inp = keras.Input((None, None, 3))
    m = keras.Model(inp, keras.layers.Conv2D(3, 3, name="c")(inp))
    x0 = P.Pixel().init(np.random.default_rng(1), 20, 20, 3)[None].repeat(2, 0)
    runs = {}
    for label, tf, robust in (("standard, robust=False", T.standard(20), False), ("none", (), True),
                              ("standard", T.standard(20), True)):
        asc = Ascent(m, ["c"], channel("c"), "unit", tf, UpdateRule("rms"))
        rngs = [np.random.default_rng(i) for i in range(2)]
        runs[label] = asc.run(x0, np.array([0, 1]), [Stage((20, 20), 3, 2.0, robust=robust)], rngs)[0]
    np.testing.assert_allclose(runs["standard, robust=False"], runs["none"], atol=1e-4)
    assert np.abs(runs["standard"] - runs["none"]).max() > 0.1  # the transforms do change the steps


def test_render_goes_on_from_given_pictures_and_stops_when_asked():
    from conftest import wrap

    from cnnviz.optvis.objectives import channel
    from cnnviz.optvis.recipes import Fourier
    from cnnviz.optvis.render import render

    keras.utils.set_random_seed(8)
    inp = keras.Input((None, None, 3))
    loaded = wrap(keras.Model(inp, keras.layers.Conv2D(3, 3, name="c")(inp)))
    yy, xx = np.mgrid[0:16, 0:16]
    start = np.stack([np.stack([40 + 8 * yy, 200 - 6 * xx, 90 + 0 * xx], -1),
                      np.stack([100 + 0 * yy, 30 + 9 * xx, 220 - 7 * yy], -1)]).astype("float32")
    same = render(loaded, channel("c"), Fourier(stages=(Stage((16, 16), 0, 0.05),)), [0, 2], size=(16, 16), start=start)
    np.testing.assert_allclose(same.pixels, start, atol=0.05)  # zero steps: exactly the pictures given
    seen, ticks = [], []
    r = render(loaded, channel("c"), Fourier(stages=(Stage((16, 16), 12, 0.05),)), [0, 2], size=(16, 16), start=start,
               stop=lambda x, s, ts: seen.append((x.shape, len(s), list(ts))) or True, check_every=4,
               progress=lambda d, t: ticks.append(d))
    assert seen == [((2, 16, 16, 3), 2, [0, 1])] and len(ticks) == 4  # asked once (rows 0, 1), after 4 steps, obeyed
    assert 0.05 < np.abs(r.pixels - start).max() < 60
    with pytest.raises(ValueError, match="start has 1 pictures for 2"):
        render(loaded, channel("c"), Fourier(), [0, 2], size=(16, 16), start=start[:1])
