"""Targeted tests: each defends one line that a single-line bug could remove (issue 14's list).
Each was checked by breaking its line and watching it fail (see the polish report)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import wrap


# ------------------------------------------------------------------ transforms (numpy side + keras apply)
def _point(h=15, w=15, y=7, x=7):
    img = np.zeros((1, h, w, 1), "float32")
    img[0, y, x, 0] = 255.0
    return img


def _warp(img, transforms, row):
    from keras import ops

    from cnnviz.optvis.transforms import apply

    out = apply(ops.convert_to_tensor(img), transforms, ops.convert_to_tensor(np.asarray(row, "float32")[None]))
    return ops.convert_to_numpy(out)


def test_jitter_shifts_by_the_drawn_amount():
    from cnnviz.optvis.transforms import Jitter, sample

    row = sample([Jitter(3)], np.random.default_rng(5), 15, 15)
    dy, dx = np.random.default_rng(5).integers(-3, 4, size=2)  # the same draw, by hand
    assert (dy, dx) != (0, 0)
    out = _warp(_point(), [Jitter(3)], row)
    assert np.unravel_index(np.argmax(out[0, ..., 0]), (15, 15)) == (7 + dy, 7 + dx)


def test_scale_zooms_about_the_centre():
    from cnnviz.optvis.transforms import Scale, sample

    row = sample([Scale((2.0,))], np.random.default_rng(0), 15, 15)
    out = _warp(_point(y=7, x=9), [Scale((2.0,))], row)  # 2 px right of the centre -> 4 px right
    assert np.unravel_index(np.argmax(out[0, ..., 0]), (15, 15)) == (7, 11)


def test_rotate_turns_about_the_centre():
    from cnnviz.optvis.transforms import Rotate, sample

    row = sample([Rotate((90.0,))], np.random.default_rng(0), 15, 15)
    out = _warp(_point(y=7, x=10), [Rotate((90.0,))], row)  # (x, y) -> (-y, x) about the centre (y down)
    assert np.unravel_index(np.argmax(out[0, ..., 0]), (15, 15)) == (10, 7)


def test_pad_adds_a_grey_border():
    from cnnviz.optvis.transforms import Pad

    out = _warp(np.zeros((1, 4, 4, 1), "float32"), [Pad(2)], np.zeros(8))
    assert out.shape == (1, 8, 8, 1)
    assert (out[0, :2] == 127.5).all() and (out[0, 2:6, 2:6] == 0).all()


# ------------------------------------------------------------------ gradient blur
def test_gradient_blur_is_a_normalised_gaussian():
    from keras import ops
    from scipy.ndimage import gaussian_filter

    from cnnviz.optvis.ascent import _gaussian_blur

    x = np.zeros((1, 21, 21, 1), "float32")
    x[0, 10, 10, 0] = 1.0
    got = ops.convert_to_numpy(_gaussian_blur(ops.convert_to_tensor(x), 1.5))[0, ..., 0]
    want = gaussian_filter(x[0, ..., 0].astype("float64"), 1.5, truncate=4 / 1.5, mode="mirror")
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert abs(got.sum() - 1.0) < 1e-5


# ------------------------------------------------------------------ contrast search
def test_contrast_search_keeps_the_better_contrast_per_image():
    import keras

    from cnnviz.methods.filters import contrast_search
    from cnnviz.pixels import to_uint8

    inputs = keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(2, 1, activation="relu")
    model = keras.Model(inputs, conv(inputs))
    # filter 0: relu(x/255 - 0.5) rewards contrast above grey; filter 1: constant 0.2 is indifferent
    conv.set_weights([np.array([[[[1.0, 0.0]]]], "float32"), np.array([-0.5, 0.2], "float32")])
    img = np.full((4, 4, 1), 120, "uint8")
    img[:, 2:] = 140
    images, acts = contrast_search(model, np.stack([img, img]), [0, 1], "unit")
    stronger = to_uint8((img.astype("float32") - 128.0) * 2.5 + 128.0)
    np.testing.assert_array_equal(images[0], stronger)  # filter 0 prefers the 2.5x contrast
    np.testing.assert_array_equal(images[1], img)  # a tie keeps the image as it was
    direct = np.maximum(stronger.astype("float64") / 255.0 - 0.5, 0).mean()
    assert acts[0] == pytest.approx(direct, rel=1e-5) and acts[1] == pytest.approx(0.2, rel=1e-5)


# ------------------------------------------------------------------ NaN guards of a dead filter
def test_dead_filter_float_images_are_finite():
    import keras

    from cnnviz.optvis import Ascent, Stage, UpdateRule
    from cnnviz.optvis.objectives import channel
    from cnnviz.pixels import deprocess_classic

    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(1, 3, activation="relu", name="c")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([np.zeros((3, 3, 1, 1), "float32"), np.array([-1.0], "float32")])  # dead: zero gradient
    ascent = Ascent(model, ["c"], channel("c"), "unit", rule=UpdateRule("rms", clip=False))
    x0 = np.full((1, 8, 8, 1), 128.0, "float32")
    x, _, _ = ascent.run(x0, np.array([0]), [Stage((8, 8), 3, 1.0, 0.0)], [np.random.default_rng(0)],
                         bounds=(-np.inf, np.inf))
    assert np.isfinite(x).all() and (x == 128.0).all()  # a zero gradient moves nothing (RMS has its epsilon)
    flat = deprocess_classic(np.full((8, 8, 1), 3.0))  # the classic display of a flat image: grey, not NaN
    assert (flat == 128).all()


# ------------------------------------------------------------------ captions under the right tile
def test_caption_sits_under_its_own_tile():
    from cnnviz.output.layout import caption_height, make_grid

    tiles = [np.full((20, 30), 200, "uint8")] * 4
    g = make_grid(tiles, ["", "", "ok", ""], cols=2, margin=4, min_tile=0)  # tile 2: row 1, column 0
    cap = caption_height(1)
    band = lambda r, c: g[4 + r * (20 + cap + 4) + 20 : 4 + r * (20 + cap + 4) + 20 + cap, 4 + c * 34 : 4 + c * 34 + 30]  # noqa: E731
    assert band(1, 0).min() < 100
    assert band(0, 0).min() > 200 and band(0, 1).min() > 200 and band(1, 1).min() > 200


def test_long_captions_wrap_instead_of_being_cut():
    from cnnviz.output.layout import _text_width, wrap_text

    text = "#12  dead (act -0.031) because nothing raised it"
    wrapped = wrap_text(text, 96)
    assert wrapped.replace("\n", " ") == text and wrapped.count("\n") >= 1
    assert all(_text_width(line) <= 94 for line in wrapped.split("\n"))


# ------------------------------------------------------------------ edge orientation
def test_edge_orientation_points_from_dark_to_bright():
    from cnnviz.methods.edges import edge_filter

    step = np.zeros((12, 12, 1))
    step[:, 6:] = 255  # bright on the right: the gradient points along +x
    r = edge_filter(step, "sobel")
    assert np.allclose(r.angle[:, 5:7], 0.0)
    r = edge_filter(np.transpose(step, (1, 0, 2)), "sobel")  # bright below: +y (rows grow downwards)
    assert np.allclose(r.angle[5:7, :], np.pi / 2)


# ------------------------------------------------------------------ stop cadence, adversarial stages
def test_stop_is_asked_every_check_every_steps(lenet):
    from cnnviz.optvis import Ascent, Stage, UpdateRule
    from cnnviz.models import Classifier
    from cnnviz.optvis.objectives import class_logprob

    clf = Classifier(lenet)
    ascent = Ascent(clf.model, ["logits"], class_logprob(), "unit", rule=UpdateRule("sign"))
    asked = []

    def stop(pixels, scores):
        asked.append(len(asked))
        return len(asked) == 3

    x0 = np.full((1, 28, 28, 1), 128.0, "float32")
    _, _, taken = ascent.run(x0, np.array([3]), [Stage((28, 28), 50, 1.0)], [np.random.default_rng(0)],
                             stop=stop, check_every=7)
    assert taken == 21 and len(asked) == 3  # asked after steps 7, 14, 21; True ends the run at 21


def test_adversarial_with_fewer_steps_than_the_check_still_moves(lenet, digits):
    from cnnviz.methods.fooling import adversarial

    x, y = digits
    three = x[int(np.where(y == 3)[0][0])]
    r = adversarial(lenet, three, 8, epsilon=8, max_steps=3)
    assert r.steps == 3 and r.linf > 0  # the end of the stage is checked: the result is not the input
    assert r.adversarial.dtype == np.uint8 and np.abs(r.adversarial.astype(int) - three.astype(int)).max() <= 8


def test_adversarial_of_an_image_already_of_the_target(lenet, digits):
    from cnnviz.methods.fooling import adversarial

    x, y = digits
    three = x[int(np.where(y == 3)[0][0])]
    r = adversarial(lenet, three, 3, epsilon=8)
    assert r.already and r.reached and r.steps == 0 and r.linf == 0
    np.testing.assert_array_equal(r.adversarial, three)


# ------------------------------------------------------------------ fooling verdict on the saved pixels
def test_fooling_verdict_is_on_the_8bit_pixels(lenet):
    from cnnviz.methods.fooling import fool_from_noise

    r = fool_from_noise(lenet, [3, 5], confidence=0.9, max_steps=6, seed=0)
    direct = lenet.model.predict(r.images.astype("float32") / 255.0, verbose=0)[[0, 1], [3, 5]]
    np.testing.assert_allclose(r.probabilities, direct, rtol=1e-6, atol=1e-9)
    assert list(r.reached) == list(direct >= 0.9)


# ------------------------------------------------------------------ SmoothGrad sign, Grad-CAM ReLU
def test_smoothgrad_shows_the_size_of_the_gradient_whatever_its_sign():
    import keras

    from cnnviz.methods.cam import class_heatmap

    inputs = keras.Input((3, 3, 1))
    x = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(2, use_bias=False, name="logits")
    model = keras.Model(inputs, dense(x))
    w = np.array([[2.0, -1.0, 0.5], [-3.0, 1.0, 0.0], [1.5, -0.5, 4.0]], "float32")
    dense.set_weights([np.stack([w.ravel(), np.zeros(9, "float32")], axis=1)])
    res = class_heatmap(wrap(model, preprocess="none"), np.ones((3, 3, 1)), 0, method="smoothgrad", samples=4)
    np.testing.assert_allclose(res.raw, np.abs(w), rtol=1e-6)  # a linear logit: its gradient is w everywhere


def test_grad_cam_applies_relu_to_the_raw_map():
    from cnnviz.methods.cam import grad_cam_from

    maps = np.zeros((1, 2, 2))
    maps[0, 0] = [1.0, 0.0]
    maps[0, 1] = [0.0, 1.0]
    grads = np.zeros((1, 2, 2))
    grads[..., 0], grads[..., 1] = 2.0, -4.0  # channel weights (means): +2 and -4
    np.testing.assert_array_equal(grad_cam_from(maps, grads), [[2.0, 0.0]])  # -4 at the second position -> 0


# ------------------------------------------------------------------ kernels: zero, pointwise, no close match
def test_kernels_report_zero_pointwise_and_no_close_match():
    import keras

    from cnnviz.methods.kernels import learned_kernels
    from cnnviz.methods.kernels_classic import SOBEL_V
    from cnnviz.results.kernels import MATCH_COSINE

    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(3, 3, name="c")
    model = keras.Model(inputs, conv(inputs))
    w = np.zeros((3, 3, 1, 3), "float32")
    w[..., 0, 0] = SOBEL_V  # a Sobel
    w[..., 0, 2] = [[1, -1, 1], [-1, 1, -1], [1, -1, 1]]  # a checkerboard: like no classic kernel
    conv.set_weights([w, np.zeros(3, "float32")])
    res = learned_kernels(wrap(model, preprocess="none"), "c")
    assert res.kinds() == ["match", "zero", "no close match"]
    assert res.matches[2][1] < MATCH_COSINE
    assert res.records()[1]["nearest"] is None and res.records()[0]["nearest"].startswith("sobel")
    point = keras.layers.Conv2D(2, 1, name="p")
    m2 = keras.Model(inputs, point(inputs))
    point.set_weights([np.ones((1, 1, 1, 2), "float32"), np.zeros(2, "float32")])
    assert learned_kernels(wrap(m2, preprocess="none"), "p").kinds() == ["pointwise", "pointwise"]


# ------------------------------------------------------------------ probabilities as people read them
def test_probability_text():
    from cnnviz.output.text import fmt_p, top5_lines
    from types import SimpleNamespace

    assert fmt_p(0.999996) == "> 0.9999" and fmt_p(0.97312) == "0.9731" and fmt_p(0.0002) == "0.0002"
    assert fmt_p(3.14e-6) == "3.1e-06" and fmt_p(1.0) == "1"
    assert fmt_p(0.99897) == "0.9989" and fmt_p(0.29) == "0.2900" and fmt_p(0.99994) == "> 0.9999"  # cut, not rounded
    assert top5_lines([SimpleNamespace(name="5", probability=0.0002)]) == ["5: 0.0002"]


# ------------------------------------------------------------------ Ctrl-C keeps finished filters
def test_interrupt_keeps_the_finished_filters(lenet):
    from cnnviz.methods.filters import visualize_filters

    def progress(done, total):
        if done > total // 2:  # the second batch of 3
            raise KeyboardInterrupt

    r = visualize_filters(lenet, "conv1", steps=2, batch_size=3, progress=progress)
    assert r.partial and r.indices == [0, 1, 2] and len(r.images) == 3
    assert r.record()["partial"] is True
