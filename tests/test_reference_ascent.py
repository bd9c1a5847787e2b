"""Reference values for cnnviz.optvis.ascent: single steps of the engine on 1x1-conv models whose gradient is
known by hand (RMS per image, sign, Adam's first step, clipping to per-pixel bounds, the Gaussian gradient
blur against scipy, the jittered crop), the resampling a fixed-size model sees (bilinear weights by hand,
antialiased when shrinking), the run's bookkeeping (stages, progress, stop), and the gradient helpers."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops
from scipy.ndimage import correlate1d

from cnnviz.errors import CnnvizError
from cnnviz.optvis import Ascent, Stage, UpdateRule
from cnnviz.optvis import ascent as A
from cnnviz.optvis import param as P
from cnnviz.optvis import transforms as T
from cnnviz.optvis.objectives import channel, neuron

W = np.array([[0.5, -2.0], [-1.5, 1.0]], "float32")  # input channel x output channel of the 1x1 conv


def _model(size=None):
    inp = keras.Input((size, size, 2))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="c")
    model = keras.Model(inp, conv(inp))
    conv.set_weights([W.reshape(1, 1, 2, 2)])
    return model


def _rngs(n=2):
    return [np.random.default_rng(i) for i in range(n)]


def _x0(h=8, w=8, seed=0):
    return np.random.default_rng(seed).uniform(60, 190, (2, h, w, 2)).astype("float32")


def test_defaults_are_adams_and_the_blogs():
    assert UpdateRule() == UpdateRule("rms", True, 0.9, 0.999, 1e-8)
    s = Stage((4, 4), 3, 0.5)
    assert (s.blur, s.robust) == (0.0, True)


def test_rms_step_divides_by_each_images_own_rms():
    # channel mean of a 1x1 conv, preprocess none: d score / d x[c] = W[c, target] / (h w) everywhere
    x0 = _x0(8, 6)  # not square: the model sees all 8 x 6
    asc = Ascent(_model(), ["c"], channel("c"), "none", rule=UpdateRule("rms"))
    x, scores, n = asc.run(x0.astype("float64"), np.array([0, 1]), [Stage((8, 6), 1, 3.0)], _rngs())
    g = W.T[[0, 1]][:, None, None, :] / 48.0  # (2, 1, 1, 2): image 0 -> filter 0, image 1 -> filter 1
    rms = np.sqrt(np.mean(g**2, axis=(1, 2, 3), keepdims=True))
    assert x.dtype == np.float32  # float64 start pixels are read as float32
    np.testing.assert_allclose(x, x0 + 3.0 * g / (rms + 1e-8), rtol=1e-5)
    np.testing.assert_allclose(scores, (x0 @ W).mean(axis=(1, 2))[[0, 1], [0, 1]], rtol=1e-5)  # before the step
    np.testing.assert_allclose(asc.score(x0, np.array([0, 1])), scores, rtol=1e-5)
    assert n == 1
    # gradients far below eps (weights 1e-6): the step is lr * g / (rms + eps), eps dominating
    tiny = _model()
    tiny.get_layer("c").set_weights([1e-6 * W.reshape(1, 1, 2, 2)])
    x, _, _ = Ascent(tiny, ["c"], channel("c"), "none", rule=UpdateRule("rms", clip=False)).run(
        x0, np.array([0, 1]), [Stage((8, 6), 1, 3.0)], _rngs())
    step = np.broadcast_to(3.0 * 1e-6 * g / (1e-6 * rms + 1e-8), x0.shape)
    np.testing.assert_allclose(x - x0, step, rtol=1e-3, atol=1e-4)


def test_sign_step_and_clipping_to_bounds_given_per_pixel():
    x0 = _x0()
    g_sign = np.sign(W[:, 0])  # filter 0: channel 0 rises, channel 1 falls
    asc = Ascent(_model(), ["c"], channel("c", 0), "none", rule=UpdateRule("sign"))
    x, _, _ = asc.run(x0, np.array([0, 0]), [Stage((8, 8), 1, 5.0)], _rngs())
    np.testing.assert_allclose(x, x0 + 5.0 * g_sign, rtol=1e-6)
    x, _, _ = asc.run(x0, np.array([0, 0]), [Stage((8, 8), 2, 5.0)], _rngs(), bounds=(x0 - 2.0, x0 + 3.0))
    np.testing.assert_allclose(x, x0 + np.where(g_sign > 0, 3.0, -2.0), rtol=1e-6)  # each bound on its side
    top = np.full_like(x0, 253.0)
    x, _, _ = asc.run(top, np.array([0, 0]), [Stage((8, 8), 1, 5.0)], _rngs())  # default bounds 0-255
    np.testing.assert_allclose(x, np.where(g_sign > 0, 255.0, 248.0) + 0 * top)
    free = Ascent(_model(), ["c"], channel("c", 0), "none", rule=UpdateRule("sign", clip=False))
    x, _, _ = free.run(top, np.array([0, 0]), [Stage((8, 8), 1, 5.0)], _rngs())
    np.testing.assert_allclose(x, np.where(g_sign > 0, 258.0, 248.0) + 0 * top)


def test_adam_first_step_is_the_sign_scaled_by_lr_and_restarts_with_each_pixel_stage():
    x0 = _x0()
    asc = Ascent(_model(), ["c"], channel("c", 1), "none", rule=UpdateRule("adam", clip=False))
    x, _, n = asc.run(x0, np.array([1, 1]), [Stage((8, 8), 1, 2.0)], _rngs())
    g = W[:, 1] / 64.0
    np.testing.assert_allclose(x, x0 + 2.0 * g / (np.abs(g) + 1e-8), rtol=1e-5)
    # a second stage at another size: the pixels are resized, Adam starts afresh (again one sign-like step)
    x2, _, n = asc.run(x0, np.array([1, 1]), [Stage((8, 8), 1, 2.0), Stage((4, 4), 1, 2.0)], _rngs())
    assert n == 2 and x2.shape == (2, 4, 4, 2)
    small = ops.convert_to_numpy(ops.image.resize(x, (4, 4), interpolation="bilinear"))
    g4 = W[:, 1] / 16.0
    np.testing.assert_allclose(x2, small + 2.0 * g4 / (np.abs(g4) + 1e-8), rtol=1e-5)


def test_gradient_blur_is_a_normalised_gaussian_of_radius_4_with_mirrored_borders():
    x0 = _x0(12, 12)
    asc = Ascent(_model(), ["c"], neuron("c", 0, y=6, x=1), "none", rule=UpdateRule("rms", clip=False))
    x, _, _ = asc.run(x0, np.array([0, 0]), [Stage((12, 12), 1, 1.0, blur=0.8)], _rngs())
    delta = np.zeros((12, 12, 2))
    delta[6, 1] = W[:, 0]
    k = np.exp(-0.5 * (np.arange(-4, 5) / 0.8) ** 2)
    k /= k.sum()
    g = correlate1d(correlate1d(delta, k, axis=0, mode="mirror"), k, axis=1, mode="mirror")
    np.testing.assert_allclose(x - x0, np.broadcast_to(g / np.sqrt(np.mean(g**2)), x0.shape), rtol=1e-4, atol=1e-5)
    assert g[6, 0, 0] != g[6, 2, 0]  # the border is not symmetric about the peak: mirroring mattered


def test_gaussian_blur_is_scipys_with_a_unit_sum_kernel():
    g = np.random.default_rng(4).normal(size=(2, 10, 11, 3)).astype("float32")
    out = ops.convert_to_numpy(A._gaussian_blur(ops.convert_to_tensor(g), 2.0))
    k = np.exp(-0.5 * (np.arange(-4, 5) / 2.0) ** 2)
    k /= k.sum()
    expect = correlate1d(correlate1d(g, k, axis=1, mode="mirror"), k, axis=2, mode="mirror")
    np.testing.assert_allclose(out, expect, atol=1e-5)
    flat = ops.convert_to_numpy(A._gaussian_blur(ops.convert_to_tensor(np.full((1, 9, 9, 2), 3.0, "float32")), 1.0))
    np.testing.assert_allclose(flat, 3.0, rtol=1e-6)  # a unit-sum kernel keeps a constant


def test_the_bfloat16_scope_turns_on_onednns_rewrite_on_tensorflow():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the bf16 rewrite is TensorFlow's (oneDNN)")
    import tensorflow as tf

    key = "auto_mixed_precision_onednn_bfloat16"
    with A._bfloat16_rewrite():
        assert tf.config.optimizer.get_experimental_options().get(key) is True
    assert not tf.config.optimizer.get_experimental_options().get(key, False)


def test_a_tiny_blur_sigma_is_floored_not_divided_by_zero():
    g = np.random.default_rng(1).normal(size=(1, 9, 9, 1)).astype("float32")
    for sigma in (0.0, 1e-4):
        out = ops.convert_to_numpy(A._gaussian_blur(ops.convert_to_tensor(g), sigma))
        np.testing.assert_allclose(out, g, atol=1e-6)  # sigma floored at 1e-3: the kernel is a delta


def test_jittered_crop_moves_the_gradient_by_the_drawn_offset():
    x0 = _x0(12, 12)
    tf = (T.Pad(3), T.Jitter(2))
    asc = Ascent(_model(), ["c"], neuron("c", 0, y=5, x=6), "none", tf, UpdateRule("sign", clip=False))
    x, _, _ = asc.run(x0, np.array([0, 0]), [Stage((12, 12), 1, 1.0)], _rngs())
    for i in range(2):
        dy, dx = np.random.default_rng(i).integers(-2, 3, size=2)
        moved = np.argwhere(np.abs(x[i] - x0[i]).sum(-1) > 0.5)
        assert moved.tolist() == [[5 - dy, 6 - dx]], (i, dy, dx)
    # the same stage without robustness: the neuron's own pixel, identity warp, no crop offset
    x, _, _ = asc.run(x0, np.array([0, 0]), [Stage((12, 12), 1, 1.0, robust=False)], _rngs())
    assert np.argwhere(np.abs(x[0] - x0[0]).sum(-1) > 0.5).tolist() == [[5, 6]]


def test_a_stage_without_robustness_on_a_fixed_model_sees_no_padding():
    """A fixed-size model resamples what it is fed, so padding would show; a robust=False stage after a
    robust one (another compiled step) must see exactly the picture, as an engine without transforms."""
    x0 = _x0(12, 12)
    rule = UpdateRule("sign", clip=False)
    asc = Ascent(_model(12), ["c"], neuron("c", 0, y=5, x=6), "none", (T.Pad(3), T.Jitter(2)), rule)
    plain = Ascent(_model(12), ["c"], neuron("c", 0, y=5, x=6), "none", (), rule)
    robust, _, _ = asc.run(x0, np.array([0, 0]), [Stage((12, 12), 1, 1.0)], _rngs())
    assert (np.abs(robust - x0).sum(-1) > 0.5).sum() > 2  # padded and resampled: the step spreads
    x, _, _ = asc.run(x0, np.array([0, 0]), [Stage((12, 12), 1, 1.0, robust=False)], _rngs())
    want, _, _ = plain.run(x0, np.array([0, 0]), [Stage((12, 12), 1, 1.0)], _rngs())
    np.testing.assert_allclose(x, want, atol=1e-5)
    assert np.argwhere(np.abs(x[0] - x0[0]).sum(-1) > 0.5).tolist() == [[5, 6]]


def test_total_variation_in_a_run_reads_the_pixels_the_model_saw():
    from cnnviz.optvis.objectives import total_variation

    x0 = _x0(6, 7)
    asc = Ascent(_model(), ["c"], -1.0 * total_variation(), "none", rule=UpdateRule("sign", clip=False))
    _, s, _ = asc.run(x0, np.array([0, 0]), [Stage((6, 7), 1, 1.0)], _rngs())
    tv = np.abs(np.diff(x0, axis=1)).mean(axis=(1, 2, 3)) + np.abs(np.diff(x0, axis=2)).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(s, -tv, rtol=1e-5)


def test_turns_are_about_the_centre_of_the_padded_picture():
    """10 x 8 pixels padded by 2 are 14 x 12: the quarter turn is about (x, y) = (5.5, 6.5), so seen pixel
    (y 3, x 4) of the centre crop (padded (5, 6)) reads padded (6, 4), pixel (4, 2) of the picture."""
    x0 = _x0(10, 8)
    tf = (T.Pad(2), T.Rotate((90.0,)))
    asc = Ascent(_model(), ["c"], neuron("c", 0, y=3, x=4), "none", tf, UpdateRule("sign", clip=False))
    x, _, _ = asc.run(x0, np.array([0, 0]), [Stage((10, 8), 1, 1.0)], _rngs())
    for i in range(2):
        assert np.argwhere(np.abs(x[i] - x0[i]).sum(-1) > 0.5).tolist() == [[4, 2]]


def test_bfloat16_steps_run_in_bfloat16_where_native():
    from cnnviz.optvis.ascent import native_bfloat16

    if keras.backend.backend() != "tensorflow" or not native_bfloat16():
        pytest.skip("no native bf16 rewrite here")
    x0 = _x0(16, 16)
    scores = {}
    for p in ("float32", "bfloat16"):
        asc = Ascent(_model(), ["c"], channel("c", 0), "none", rule=UpdateRule("sign", clip=False), precision=p)
        scores[p] = asc.run(x0, np.array([0, 0]), [Stage((16, 16), 1, 1.0)], _rngs())[1]
    exact = (x0 @ W).mean(axis=(1, 2))[:, 0]
    np.testing.assert_allclose(scores["float32"], exact, rtol=1e-6)
    np.testing.assert_allclose(scores["bfloat16"], exact, rtol=1e-2)  # bf16 inputs: about 3 significant digits
    assert np.abs(scores["bfloat16"] - exact).max() > 1e-6 * np.abs(exact).max()


def test_seen_crops_the_padded_image_and_resizes_for_a_fixed_model():
    img = np.random.default_rng(2).uniform(0, 255, (1, 8, 8, 2)).astype("float32")
    t = ops.convert_to_tensor(img)
    eye = ops.convert_to_tensor(T.IDENTITY[None])
    crop = Ascent(_model(), ["c"], channel("c", 0), "none", (T.Pad(3), T.Jitter(1)))
    np.testing.assert_allclose(ops.convert_to_numpy(crop._seen(t, (8, 8), (8, 8), eye)[1]), img, atol=1e-4)
    fixed = Ascent(_model(16), ["c"], channel("c", 0), "none")
    up = ops.convert_to_numpy(fixed._seen(ops.convert_to_tensor(img[:, :4, :4]), (4, 4), (16, 16), eye, False)[1])
    # 4 -> 16 bilinear with half-pixel centres: output i reads input (i + 0.5) / 4 - 0.5, clamped at the ends
    pos = np.clip((np.arange(16) + 0.5) / 4 - 0.5, 0, 3)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, 3)
    U = np.zeros((16, 4))
    U[np.arange(16), lo] += 1 - (pos - lo)
    U[np.arange(16), hi] += pos - lo
    np.testing.assert_allclose(up[0], np.einsum("yi,xj,ijc->yxc", U, U, img[0, :4, :4]), rtol=1e-4, atol=1e-3)
    small = Ascent(_model(4), ["c"], channel("c", 0), "none")
    down = ops.convert_to_numpy(small._seen(t, (8, 8), (4, 4), eye, False)[1])
    # 8 -> 4, antialiased: a triangle of width 2 input pixels, (1, 3, 3, 1) / 8 inside
    k = np.array([1, 3, 3, 1]) / 8.0
    inner = np.einsum("y,x,yxc->c", k, k, img[0, 1:5, 1:5])
    np.testing.assert_allclose(down[0, 1, 1], inner, rtol=1e-4)


def test_seen_of_a_non_square_feed_is_cropped_or_resized_per_axis():
    img = np.random.default_rng(5).uniform(0, 255, (1, 8, 8, 2)).astype("float32")
    eye = ops.convert_to_tensor(T.IDENTITY[None])
    asc = Ascent(_model(), ["c"], channel("c", 0), "none")
    crop = ops.convert_to_numpy(asc._seen(ops.convert_to_tensor(img), (8, 8), (8, 4), eye, False)[1])
    np.testing.assert_array_equal(crop, img[:, :, 2:6])  # rows as they are, the middle 4 columns
    rows = ops.convert_to_numpy(asc._seen(ops.convert_to_tensor(img), (8, 8), (4, 8), eye, False)[1])
    np.testing.assert_array_equal(rows, img[:, 2:6])  # the middle 4 rows, columns as they are
    wide = img[:, :6]  # 6 x 8 fed as 8 x 6: taller than it is, so resampled (narrower: antialiased), not cropped
    got = ops.convert_to_numpy(asc._seen(ops.convert_to_tensor(wide), (6, 8), (8, 6), eye, False)[1])
    want = ops.convert_to_numpy(ops.image.resize(wide, (8, 6), interpolation="bilinear", antialias=True))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_a_fixed_model_narrower_than_the_picture_sees_it_antialiased():
    inp = keras.Input((8, 4, 2))
    model = keras.Model(inp, keras.layers.Conv2D(1, 1, name="c")(inp))
    img = np.random.default_rng(6).uniform(0, 255, (1, 8, 8, 2)).astype("float32")
    asc = Ascent(model, ["c"], channel("c", 0), "none")
    got = ops.convert_to_numpy(asc._seen(ops.convert_to_tensor(img), (8, 8), (8, 4), ops.convert_to_tensor(T.IDENTITY[None]), False)[1])
    # rows kept, columns halved through a triangle of width 2 input pixels: (1, 3, 3, 1) / 8 inside
    k = np.array([1, 3, 3, 1]) / 8.0
    np.testing.assert_allclose(got[0, :, 1], np.einsum("x,yxc->yc", k, img[0, :, 1:5]), rtol=1e-4)
    inp = keras.Input((4, 8, 2))  # a shorter (not narrower) model than a 6 x 8 picture: antialiased too
    short = Ascent(keras.Model(inp, keras.layers.Conv2D(1, 1, name="c")(inp)), ["c"], channel("c", 0), "none")
    pic = img[:, :6]
    got = ops.convert_to_numpy(short._seen(ops.convert_to_tensor(pic), (6, 8), (4, 8), ops.convert_to_tensor(T.IDENTITY[None]), False)[1])
    want = ops.convert_to_numpy(ops.image.resize(pic, (4, 8), interpolation="bilinear", antialias=True))
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert np.abs(want - ops.convert_to_numpy(ops.image.resize(pic, (4, 8), interpolation="bilinear"))).max() > 1.0


def test_render_size_of_a_fourier_image():
    asc = Ascent(_model(), ["c"], channel("c", 0), "none", param=P.Fourier())
    assert asc._render_size((16, 12), (12, 6)) == (12, 6)  # smaller on both axes of a non-square image
    assert asc._render_size((16, 16), (8, 8)) == (8, 8)
    assert asc._render_size((16, 16), (8, 16)) == (16, 16) and asc._render_size((16, 16), (16, 8)) == (16, 16)
    assert asc._render_size((16, 16), (16, 16)) == (16, 16)
    assert Ascent(_model(), ["c"], channel("c", 0), "none")._render_size((16, 16), (8, 8)) == (16, 16)  # pixels


def test_fourier_run_renders_the_parameters_and_a_smaller_stage_sees_the_band_limited_image():
    par = P.Fourier(decorrelate=False)
    asc = Ascent(_model(), ["c"], channel("c", 0), "none", param=par, rule=UpdateRule("adam"))
    p0 = np.stack([par.init(np.random.default_rng(i), 8, 8, 2) * 50 for i in range(2)])
    x, s0, n = asc.run(p0, np.array([0, 0]), [Stage((8, 8), 0, 0.1)], _rngs(), size=(8, 8))
    assert s0.dtype == np.float32 and (s0 == 0).all()  # no step: no scores yet
    np.testing.assert_allclose(x, ops.convert_to_numpy(par.image(ops.convert_to_tensor(p0), 8, 8, 2)), atol=1e-4)
    np.testing.assert_allclose(asc.image(p0, (8, 8)), x, atol=1e-4)
    assert n == 0
    seen = []  # stop() is shown the pictures (not the parameters) and the scores of the last step
    x, s2, n = asc.run(p0, np.array([0, 0]), [Stage((8, 8), 3, 0.1)], _rngs(), size=(8, 8), check_every=2,
                       stop=lambda px, sc: seen.append((px, sc)) or True)
    assert n == 2 and len(seen) == 1 and seen[0][0].shape == (2, 8, 8, 2)
    np.testing.assert_array_equal(seen[0][0], x)
    np.testing.assert_array_equal(seen[0][1], s2)
    _, s, _ = asc.run(p0, np.array([0, 0]), [Stage((4, 4), 1, 0.0)], _rngs(), size=(8, 8))  # lr 0: scores only
    half = ops.convert_to_numpy(par.image(ops.convert_to_tensor(p0), 8, 8, 2, (4, 4)))
    np.testing.assert_allclose(s, (half @ W[:, 0]).mean(axis=(1, 2)), rtol=1e-4)


def test_run_reports_progress_and_stops_when_asked():
    x0 = _x0()
    asc = Ascent(_model(), ["c"], channel("c", 0), "none", rule=UpdateRule("sign", clip=False))
    ticks, asked = [], []
    stages = [Stage((8, 8), 3, 1.0), Stage((8, 8), 4, 1.0)]
    x, _, n = asc.run(x0, np.array([0, 0]), stages, _rngs(), progress=lambda d, t: ticks.append((d, t)),
                      stop=lambda px, s: asked.append(px.copy()) or False, check_every=3)
    assert ticks == [(d, 7) for d in range(1, 8)] and n == 7 and len(asked) == 2
    np.testing.assert_allclose(asked[0], x0 + 3 * np.sign(W[:, 0]), rtol=1e-6)  # the pixels after step 3
    np.testing.assert_allclose(x, x0 + 7 * np.sign(W[:, 0]), rtol=1e-6)
    _, _, n = asc.run(x0, np.array([0, 0]), [Stage((8, 8), 12, 1.0)], _rngs(), stop=lambda px, s: True)
    assert n == 10  # asked every 10 steps by default
    x, s, n = asc.run(x0, np.array([0, 0]), stages, _rngs(), stop=lambda px, s: True, check_every=2)
    assert n == 2
    np.testing.assert_allclose(x, x0 + 2 * np.sign(W[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(s, asc.score(x0 + np.sign(W[:, 0]), np.array([0, 0])), rtol=1e-5)


def test_adam_epsilon_is_added_to_the_root():
    from cnnviz.optvis import adam_update

    p = np.zeros(2, "float32")
    g = np.array([2e-8, -1e-6], "float32")  # gradients at the scale of eps: the step is g / (|g| + eps)
    state = (np.zeros(2, "float32"), np.zeros(2, "float32"), np.float32(0.0))
    new, _ = adam_update(p, g, state, 3.0, UpdateRule("adam"))
    np.testing.assert_allclose(ops.convert_to_numpy(new), 3.0 * g / (np.abs(g) + 1e-8), rtol=1e-4)


def test_score_is_the_objective_of_a_plain_inference_forward_pass():
    inp = keras.Input((None, None, 2))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="a")
    a = conv(inp)
    b = keras.layers.Dropout(0.5, name="b")(a)  # training=True would drop half the values
    model = keras.Model(inp, [a, b])
    conv.set_weights([W.reshape(1, 1, 2, 2)])
    x = _x0(6, 5).round().astype("uint8")  # 8-bit pixels: read as float32
    from cnnviz.optvis.objectives import total_variation

    asc = Ascent(model, ["a", "b"], channel("b") - 0.5 * total_variation(), "unit")
    got = asc.score(x, np.array([1, 0]))
    xf = x.astype("float32")
    tv = np.abs(np.diff(xf, axis=1)).mean(axis=(1, 2, 3)) + np.abs(np.diff(xf, axis=2)).mean(axis=(1, 2, 3))
    expect = (xf / 255.0 @ W).mean(axis=(1, 2))[[0, 1], [1, 0]] - 0.5 * tv
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expect, rtol=1e-5)


def test_image_of_fourier_parameters_has_the_models_colours():
    par = P.Fourier()  # decorrelated colour: only for 3-channel models
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, keras.layers.Conv2D(1, 1, name="c")(inp))
    asc = Ascent(model, ["c"], channel("c", 0), "none", param=par)
    p0 = np.stack([par.init(np.random.default_rng(i), 8, 8, 3) * 50 for i in range(2)]).astype("float64")
    expect = ops.convert_to_numpy(par.image(ops.convert_to_tensor(p0.astype("float32")), 8, 8, 3))
    np.testing.assert_allclose(asc.image(p0, (8, 8)), expect, atol=1e-4)  # float64 parameters are read as float32
    _, s, _ = asc.run(p0.astype("float32"), np.array([0, 0]), [Stage((8, 8), 1, 0.0)], _rngs(), size=(8, 8))
    w = model.get_layer("c").get_weights()
    np.testing.assert_allclose(s, (expect @ w[0][0, 0] + w[1]).mean(axis=(1, 2))[:, 0], rtol=1e-4)  # the step sees colour


@pytest.mark.parametrize("shape,fixed", [((None, None, 2), None), ((None, 8, 2), None), ((8, None, 2), None),
                                         ((8, 4, 2), (8, 4))])
def test_a_model_is_fixed_size_only_when_both_sides_are_known(shape, fixed):
    inp = keras.Input(shape)
    asc = Ascent(keras.Model(inp, keras.layers.Conv2D(1, 1, name="c")(inp)), ["c"], channel("c", 0), "none")
    assert asc.fixed == fixed


def test_objective_layers_must_come_from_the_model():
    with pytest.raises(ValueError, match=r"objective needs \['d'\], model gives \['c'\]"):
        Ascent(_model(), ["c"], channel("d", 0), "none")


def test_precision_choices(monkeypatch):
    from cnnviz.backends import adapter

    assert A.resolve_precision("float32") == "float32"
    assert A.resolve_precision("bfloat16") == ("bfloat16" if adapter().runs_bfloat16() else "float32")
    assert A.resolve_precision("auto") == ("bfloat16" if adapter().native_bfloat16() else "float32")
    for native in (True, False):
        monkeypatch.setattr(A, "native_bfloat16", lambda native=native: native)
        assert A.resolve_precision("auto") == ("bfloat16" if native else "float32")
    with pytest.raises(CnnvizError, match="unknown precision 'half'; use one of: auto, float32, bfloat16"):
        A.resolve_precision("half")


def _gap_model():
    inp = keras.Input((4, 5, 2))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="c")
    maps = conv(inp)
    model = keras.Model(inp, [keras.layers.GlobalAveragePooling2D()(maps), maps])
    conv.set_weights([W.reshape(1, 1, 2, 2)])
    return model


def test_input_and_layer_gradients_by_hand():
    model = _gap_model()
    x = np.random.default_rng(3).uniform(0, 1, (2, 4, 5, 2)).astype("float32")
    head = keras.Model(model.inputs, model.outputs[0])
    g, s = A.input_gradients(head, x, lambda out: out[:, 1])
    np.testing.assert_allclose(g, np.broadcast_to(W[:, 1] / 20.0, x.shape), rtol=1e-5)
    np.testing.assert_allclose(s, (x @ W[:, 1]).mean(axis=(1, 2)), rtol=1e-5)
    maps, grads, logits = A.layer_gradients(model, x, lambda v: 3.0 * v[:, 0])
    np.testing.assert_allclose(maps, x @ W, rtol=1e-5)
    np.testing.assert_allclose(grads[..., 0], 3.0 / 20.0, rtol=1e-5)
    np.testing.assert_allclose(grads[..., 1], 0.0)
    np.testing.assert_allclose(logits, (x @ W).mean(axis=(1, 2)), rtol=1e-5)

    class Compiled:  # a cnnviz.models.heads.Score: its compiled form is (fn, args)
        def compiled(self):
            return (lambda out, k: out[:, 0] * k), (np.float32(2.0),)

    g, s = A.input_gradients(head, x, Compiled())
    np.testing.assert_allclose(g, np.broadcast_to(2 * W[:, 0] / 20.0, x.shape), rtol=1e-5)
    maps, grads, _ = A.layer_gradients(model, x, Compiled())
    np.testing.assert_allclose(grads[..., 0], 2.0 / 20.0, rtol=1e-5)
    with pytest.raises(CnnvizError, match=r"^the score does not depend on the image input \(no gradient\); "
                                          r"check --input and --output$"):
        A.input_gradients(head, x, lambda out: ops.ones((ops.shape(out)[0],)))
    with pytest.raises(CnnvizError, match=r"^the score does not depend on the layer 'c' \(it is not between the image "
                                          r"input and the output: fed by another input\?\); pick a conv layer"):
        A.layer_gradients(model, x, lambda v: ops.ones((ops.shape(v)[0],)))
