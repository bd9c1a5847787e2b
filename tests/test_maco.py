"""MACO (phase-only optimisation under a fixed magnitude), its crop views, and feature accentuation."""

import numpy as np
import pytest
from keras import ops

import cnnviz as cv
from cnnviz.optvis import param as P
from cnnviz.optvis import transforms as T


def _numpy_maco(phase: np.ndarray, alpha: float, h: int, w: int, contrast: float = 1.0) -> np.ndarray:
    """The paper's image from its formula, in numpy: standardised phase, magnitude x e^(i phase),
    irfft2, standardised, recorrelated colour, sigmoid x 255."""
    z = (phase - phase.mean()) / (phase.std() + 1e-5)
    mag = 1.0 / np.maximum(P.rfft2_freqs(h, w), 1.0 / max(h, w)) ** alpha
    x = np.fft.irfft2(mag * np.exp(1j * z), s=(h, w))  # (C, H, W)
    x = (x - x.mean()) / (x.std() + 1e-5)
    x = np.moveaxis(x * contrast, 0, -1) @ P.COLOR_CORRELATION.T
    return 255.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("h,w,contrast", [(12, 12, 1.0), (9, 9, 1.8)])
def test_maco_image_is_the_papers_formula(h, w, contrast):
    phase = np.random.default_rng(3).normal(0, 1, (2, 3, h, w // 2 + 1)).astype("float32")
    got = ops.convert_to_numpy(P.Maco(alpha=1.3, contrast=contrast).image(ops.convert_to_tensor(phase), h, w, 3))
    for b in range(2):
        np.testing.assert_allclose(got[b], _numpy_maco(phase[b].astype("float64"), 1.3, h, w, contrast), atol=0.05)


def test_the_phase_never_changes_the_magnitude():
    """Two random phases give images whose spectra have the same magnitude (up to the standardising
    scale and the DC term): only the phase is free, the defining property of MACO."""
    m, h, w = P.Maco(), 16, 16
    phases = np.random.default_rng(0).normal(0, 1, (2, 3, h, w // 2 + 1)).astype("float32")
    lin = ops.convert_to_numpy(m.linear(ops.convert_to_tensor(phases), h, w, 3))
    mags = np.abs(np.fft.rfft2(np.moveaxis(lin, -1, 1)))[:, :, :, 1:-1]  # columns with no Hermitian constraint
    ratio = mags[0] / mags[1]
    np.testing.assert_allclose(ratio, np.full_like(ratio, ratio.mean()), rtol=1e-3)
    shape = mags[0] / m.magnitude(h, w)[:, 1:-1]  # and that magnitude is the 1/f law
    np.testing.assert_allclose(shape, np.full_like(shape, shape.mean()), rtol=1e-3)


def test_invert_gives_back_the_phase():
    m, h, w = P.Maco(), 12, 12
    phase = np.random.default_rng(1).normal(0, 1, (1, 3, h, w // 2 + 1)).astype("float32")
    pixels = ops.convert_to_numpy(m.image(ops.convert_to_tensor(phase), h, w, 3))
    back = m.invert(pixels)
    z = (phase - phase.mean()) / (phase.std() + 1e-5)
    diff = np.angle(np.exp(1j * (back - z)))[:, :, 1:, 1:-1]  # mod 2 pi; DC row/col and Nyquist column aside
    assert np.abs(diff).max() < 2e-3


def test_crop_takes_a_box_of_the_drawn_side_about_the_drawn_centre():
    rng, again = np.random.default_rng(4), np.random.default_rng(4)
    row = T.sample((T.Crop((0.4, 0.8), 0.1),), rng, 51, 51)
    b = again.uniform(0.4, 0.8)
    cy, cx = np.clip(0.5 + again.normal(0, 0.1, 2), b / 2, 1 - b / 2)
    # output (x, y) -> input: x_in = b * (x - 25) + cx * 50
    np.testing.assert_allclose(row[[0, 1, 3, 4]], [b, 0, 0, b], atol=1e-6)
    np.testing.assert_allclose(row[[2, 5]], [cx * 50 - 25 * b, cy * 50 - 25 * b], atol=1e-4)
    for seed in range(50):  # the box stays inside the image
        r = T.sample((T.Crop((0.5, 1.0), 0.4),), np.random.default_rng(seed), 51, 51)
        corners = [r[0] * x + r[2] for x in (0, 50)] + [r[4] * y + r[5] for y in (0, 50)]
        assert min(corners) > -1e-4 and max(corners) < 50 + 1e-4


def test_the_pull_towards_the_photo_is_measured_in_anchor_units(tiny_conv_model):
    from cnnviz.optvis import Ascent
    from cnnviz.optvis.ascent import ANCHOR_RMS
    from cnnviz.optvis.objectives import channel

    anchor = np.random.default_rng(0).uniform(0, 255, (16, 16, 3)).astype("float32")
    a = Ascent(tiny_conv_model, ["c1"], channel("c1"), "unit", anchor=anchor, closeness=1.0)
    image = ops.convert_to_tensor((anchor + 255 * ANCHOR_RMS * np.array([1, -1, 1]))[None].astype("float32"))
    np.testing.assert_allclose(ops.convert_to_numpy(a._away(image)), [1.0], rtol=1e-5)
    small = anchor.reshape(8, 2, 8, 2, 3).mean(axis=(1, 3))  # the anchor as a half-size render sees it (area)
    half = ops.convert_to_tensor(np.stack([small + 255 * ANCHOR_RMS * 2]))
    np.testing.assert_allclose(ops.convert_to_numpy(a._away(half)), [4.0], rtol=1e-3)


def _photo(h=16, w=16):
    y, x = np.mgrid[:h, :w]
    return np.stack([x * 12, y * 12, (x + y) * 6], -1).clip(0, 255).astype("uint8")


def test_closeness_keeps_an_accentuation_near_its_photo(tiny_conv_model):
    photo = _photo()
    kw = dict(steps=12, progress=False, note=None, preprocess="unit", weights=None)
    free = cv.fool(tiny_conv_model, [0, 2], method="visualize", image=photo, closeness=0.0, **kw)
    held = cv.fool(tiny_conv_model, [0, 2], method="visualize", image=photo, closeness=20.0, **kw)
    np.testing.assert_array_equal(held.source, photo)
    for r in (free, held):  # the change is the RMS difference from the photo, by hand
        want = np.sqrt(((r.images.astype(float) - photo.astype(float)) ** 2).mean(axis=(1, 2, 3)))
        np.testing.assert_allclose(r.changes, want, rtol=1e-9)
    assert np.all(held.changes < free.changes)
    rec = held.manifest()
    assert rec["accentuated_from"]["closeness"] == 20.0 and rec["tiles"][0]["rms_change"] == round(held.changes[0], 2)
    plain = cv.fool(tiny_conv_model, [0, 2], method="visualize", **kw)
    assert plain.source is None and held.figure().size > plain.figure().size  # the photo is drawn first


def test_filter_accentuation_reports_the_photos_own_activation(tiny_conv_model):
    import keras

    photo = _photo()
    r = cv.filters(tiny_conv_model, "c2", [1, 3], image=photo, steps=4, progress=False, note=None, preprocess="unit",
                   weights=None)
    pre = keras.Model(tiny_conv_model.inputs, tiny_conv_model.get_layer("c2").output)
    direct = pre(photo[None].astype("float32") / 255.0).numpy()[0].mean(axis=(0, 1))
    np.testing.assert_allclose(r.source_activations, direct[[1, 3]], rtol=1e-4, atol=1e-6)
    assert [t["activation_on_photo"] for t in r.manifest()["tiles"]] == pytest.approx(direct[[1, 3]], rel=1e-4, abs=1e-6)
    assert r.param == "fourier" and "accentuation" in r.recipe


def test_views_average_each_images_scores_over_its_own_transforms(tiny_conv_model):
    """k views of an image per step: with transforms that move nothing the mean is the one score; with
    real ones it is the mean of the k scores of that image's k draws, computed directly."""
    from cnnviz.optvis import Ascent, Stage
    from cnnviz.optvis.objectives import channel

    x = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    stage, targets = [Stage((16, 16), 1, 0.0)], np.array([1, 3])
    scores = []
    for views, transforms in ((1, (T.Jitter(0),)), (3, (T.Jitter(0),)), (3, (T.Jitter(2),))):
        a = Ascent(tiny_conv_model, ["c1"], channel("c1"), "unit", transforms=transforms, views=views)
        rngs = [np.random.default_rng([5, i]) for i in range(2)]
        scores.append(a.run(x, targets, stage, rngs)[1])
    np.testing.assert_allclose(scores[1], scores[0], rtol=1e-5)
    rngs = [np.random.default_rng([5, i]) for i in range(2)]
    m = np.stack([T.sample((T.Jitter(2),), r, 16, 16) for r in rngs for _ in range(3)])
    seen = ops.convert_to_numpy(T.apply(ops.convert_to_tensor(np.repeat(x, 3, axis=0)), (T.Jitter(2),),
                                        ops.convert_to_tensor(m)))
    a = Ascent(tiny_conv_model, ["c1"], channel("c1"), "unit")
    direct = a.score(seen, np.repeat(targets, 3)).reshape(2, 3).mean(axis=1)
    np.testing.assert_allclose(scores[2], direct, rtol=1e-4)
    assert not np.allclose(scores[2], scores[0])


def test_class_pictures_default_to_maco_on_rgb_inputs_of_64_px_and_more(lenet):
    import keras

    from cnnviz.methods.fooling import default_param
    from cnnviz.models import wrap_model

    def rgb(side):
        x = keras.Input((side, side, 3))
        return wrap_model(keras.Model(x, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(
            keras.layers.Conv2D(2, 3)(x)))))

    assert default_param(rgb(64), None) == "maco" and default_param(rgb(63), None) == "fourier"
    assert default_param(rgb(64), None, accent=True) == "fourier"  # the phase alone cannot hold a photo
    assert default_param(lenet, None) == "fourier"  # one channel, 28 px


def test_maco_init_make_and_the_band_limited_render():
    m = P.make("maco")
    assert isinstance(m, P.Maco) and m.contrast == 1.0 and isinstance(P.make("fourier"), P.Fourier)
    np.testing.assert_array_equal(m.init(np.random.default_rng(7), 12, 10, 3),
                                  np.random.default_rng(7).normal(0.0, 1.0, (3, 12, 6)).astype("float32"))
    h, phase = 12, np.random.default_rng(2).normal(0, 1, (1, 3, 12, 7)).astype("float32")
    got = ops.convert_to_numpy(m.image(ops.convert_to_tensor(phase), h, h, 3, (6, 6)))[0]
    z = (phase[0] - phase[0].mean()) / (phase[0].std() + 1e-5)
    spec = (m.magnitude(h, h) * np.exp(1j * z))[:, [0, 1, 2, 9, 10, 11], :4] * 0.25  # rows 0-2 and -3..-1
    x = np.fft.irfft2(spec, s=(6, 6))
    x = np.moveaxis((x - x.mean()) / (x.std() + 1e-5), 0, -1) @ P.COLOR_CORRELATION.T
    np.testing.assert_allclose(got, 255 / (1 + np.exp(-x)), atol=0.05)


def test_maco_invert_takes_black_white_and_grey_pictures():
    pic = np.zeros((1, 8, 8, 3), "uint8")
    pic[0, :4] = 255
    phase = P.Maco().invert(pic)
    assert phase.dtype == np.float32 and phase.shape == (1, 3, 8, 5) and np.isfinite(phase).all()
    grey = P.Maco().invert(pic[..., :1])  # one channel: no colour decorrelation
    assert grey.shape == (1, 1, 8, 5) and np.isfinite(grey).all()
    one = ops.convert_to_numpy(P.Maco().image(ops.convert_to_tensor(grey), 8, 8, 1))
    lin = ops.convert_to_numpy(P.Maco().linear(ops.convert_to_tensor(grey), 8, 8, 1))
    np.testing.assert_allclose(one, 255 / (1 + np.exp(-lin)), atol=1e-3)  # grey: the sigmoid alone
    plain = P.Maco(decorrelate=False).invert(pic.astype("float32"))
    x = np.log(np.clip(pic / 255.0, 1e-6, 1 - 1e-6)) - np.log1p(-np.clip(pic / 255.0, 1e-6, 1 - 1e-6))
    np.testing.assert_allclose(plain, np.angle(np.fft.rfft2(np.moveaxis(x, -1, 1))), atol=1e-5)
