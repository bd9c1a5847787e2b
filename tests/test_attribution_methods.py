"""Score-CAM's paper weights, Faster Score-CAM's channel choice, patch faithfulness and its reference,
Captum-style clipping, guided backpropagation, RISE and the model-randomisation check."""

import json

import keras
import numpy as np
import pytest
from conftest import assert_unchanged, snapshot, wrap

from cnnviz.methods.attribution import faithfulness as F
from cnnviz.methods.attribution.explain import Explainer, Options
from cnnviz.methods.attribution.layer_methods import (
    score_cam_weights,
    top_variance_channels,
)
from cnnviz.methods.attribution.scaling import cumulative_threshold, heat01


def _pointwise_model(seed=0):
    """16x16x3 -> 1x1 conv (4 relu maps, at pixel resolution: placement is the identity) -> Dense(3) softmax."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input((16, 16, 3))
    conv = keras.layers.Conv2D(4, 1, activation="relu", name="conv")
    dense = keras.layers.Dense(3, activation="softmax", name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(conv(inputs))))
    conv.set_weights([rng.normal(0, 1, (1, 1, 3, 4)).astype("float32"), rng.normal(0, 0.1, 4).astype("float32")])
    dense.set_weights([rng.normal(0, 0.3, (16 * 16 * 4, 3)).astype("float32"), np.zeros(3, "float32")])
    return model, conv, dense


def test_score_cam_weights_by_hand():
    w = score_cam_weights(np.array([1.0, 2.0, 3.0]), 1.0)  # increases 0, 1, 2 -> softmax
    e = np.exp([0.0, 1.0, 2.0])
    np.testing.assert_allclose(w, e / e.sum(), rtol=1e-7)


def test_top_variance_channels_by_hand():
    maps = np.zeros((2, 2, 4))
    maps[..., 0] = [[0, 0], [0, 9]]  # variance 15.19
    maps[..., 1] = 5.0  # flat: variance 0
    maps[..., 2] = [[0, 1], [0, 1]]  # 0.25
    maps[..., 3] = [[0, 4], [4, 0]]  # 4
    assert top_variance_channels(maps, 2).tolist() == [0, 3]
    assert top_variance_channels(maps, None).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("channels", [None, 2])
def test_score_cam_end_to_end_equals_a_direct_computation(channels):
    """Masks = the layer's maps (1x1 conv: already at pixel resolution) min-max scaled; masked images blend
    towards black (-1 under the tf preprocessing); weights = softmax over channels of the class logit's
    increase over the black image."""
    model, conv, dense = _pointwise_model()
    snap = snapshot(model)
    x = np.random.default_rng(1).uniform(-1, 1, (1, 16, 16, 3)).astype("float32")
    ex = Explainer(wrap(model, preprocess="tf"), ["scorecam"], (16, 16), Options(layer="conv", score_cam_channels=channels,
                                                                                   faithfulness_steps=0))
    m = ex.methods[0]
    cam = m.attribute(x, 1)[0]
    k1, b1 = conv.get_weights()
    w2, b2 = dense.get_weights()

    def maps(img):
        return np.maximum(np.einsum("nhwc,ck->nhwk", img, k1[0, 0]) + b1, 0)

    def logit(img):
        return maps(img).reshape(len(img), -1) @ w2[:, 1] + b2[1]

    a = maps(x)[0]
    idx = np.argsort(-a.reshape(-1, 4).var(0))[:channels] if channels else np.arange(4)
    idx = np.sort(idx)
    mk = np.moveaxis(a[..., idx], -1, 0)
    lo = mk.min(axis=(1, 2), keepdims=True)
    mk = (mk - lo) / (mk.max(axis=(1, 2), keepdims=True) - lo + 1e-8)  # a dead channel masks everything out
    black = -np.ones_like(x)
    inc = logit(black + mk[..., None] * (x - black)) - logit(black)
    w = np.exp(inc - inc.max()) / np.exp(inc - inc.max()).sum()
    expected = np.maximum((a[..., idx] * w).sum(-1), 0)
    np.testing.assert_allclose(cam, expected, rtol=2e-3, atol=1e-5)
    assert m.info["channels"] == len(idx)
    assert_unchanged(model, snap)


def test_patch_order_by_hand():
    scores = np.zeros((4, 4))
    scores[2:, 2:] = 1.2  # bottom-right patch first (mean 0.95) ...
    scores[3, 3] = 0.2  # ... although this pixel is below ...
    scores[0:2, 2:] = 0.5  # then top-right (0.5)
    scores[0, 0] = 0.9  # ... this one, whose patch has mean 0.225
    order = F.pixel_order(scores, np.random.default_rng(0), patch=2)
    flat = np.arange(16).reshape(4, 4)
    assert set(order[:4]) == set(flat[2:, 2:].ravel()) and set(order[4:8]) == set(flat[:2, 2:].ravel())
    assert F.patch_size(28, 28) == 1 and F.patch_size(224, 224) == 14


def test_reference_is_smooth_and_at_the_scale_of_a_cam():
    """The reference map is blurred noise with sigma an eighth of the side: neighbours nearly equal,
    pixels half the image apart unrelated."""
    maps = [F.random_smooth_map((64, 64), np.random.default_rng(s)) for s in range(20)]
    near = np.mean([np.corrcoef(m[:, :-1].ravel(), m[:, 1:].ravel())[0, 1] for m in maps])
    far = np.mean([np.corrcoef(m[:, :32].ravel(), m[:, 32:].ravel())[0, 1] for m in maps])
    assert near > 0.95 and abs(far) < 0.2


def test_reference_averages_several_smooth_orders():
    image = np.zeros((8, 8, 1), "float32")
    image[:4, :4] = 100.0

    def probs(batch):  # share of the bright quarter still there
        p = (batch[:, :4, :4, 0] >= 99).mean(axis=(1, 2))
        return np.stack([p, 1 - p], 1)

    heat = np.zeros((8, 8))
    heat[:4, :4] = 1.0
    ours = F.scores(probs, image, heat, 0, steps=8, seed=0)
    ref = F.scores(probs, image, None, 0, steps=8, seed=0)
    single = F.scores(probs, image, None, 0, steps=8, seed=0, orders=1)
    assert ours["deletion_auc"] < ref["deletion_auc"] and "3 random smooth maps" in ref["reference"]
    assert ref["deletion_auc"] != single["deletion_auc"]


def test_cumulative_threshold_and_clipping_by_hand():
    v = np.array([1.0] * 98 + [2.0])  # total 100: 98 % of the mass is reached at the last 1
    assert cumulative_threshold(v, 98.0) == 1.0
    assert cumulative_threshold(v, 99.5) == 2.0
    spike = np.array([1.0] * 50 + [100.0])  # two thirds of the mass in one value: it is no outlier to clip
    assert cumulative_threshold(spike, 98.0) == 100.0
    h = heat01(v.reshape(9, 11), clip_percent=2.0)
    assert h.max() == pytest.approx(1.0, abs=1e-6) and h.min() == pytest.approx(1.0, abs=1e-6)
    plain = heat01(v.reshape(9, 11), 0.0)
    assert plain.min() == pytest.approx(0.5, abs=1e-6)


def test_pixel_gradient_maps_are_clipped_and_the_raw_map_is_not(lenet, digits):
    x, _ = digits
    ex = Explainer(lenet, ["saliency", "gradcam"], (28, 28), Options(faithfulness_steps=0)).explain(x[0])
    sal, cam = ex.results
    assert sal.info["clip_percent"] == 2.0 and cam.info["clip_percent"] == 0.0
    assert (sal.heat >= 0.999).sum() > 1  # saturated above the threshold
    assert sal.raw.max() > cumulative_threshold(sal.raw, 98.0)  # raw: the outliers are still there
    np.testing.assert_allclose(cam.heat, np.maximum(cam.raw, 0) / cam.raw.max(), rtol=1e-5, atol=1e-6)


def _guided_model():
    """(2, 2, 1) -> 1x1 conv, 3 relu maps -> Flatten -> Dense(2) softmax, weights of both signs."""
    inputs = keras.Input((2, 2, 1))
    conv = keras.layers.Conv2D(3, 1, activation="relu", name="conv")
    dense = keras.layers.Dense(2, activation="softmax", name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(conv(inputs))))
    k1 = np.array([1.0, -1.0, 2.0], "float32").reshape(1, 1, 1, 3)
    conv.set_weights([k1, np.array([0.0, 0.5, -0.5], "float32")])
    w2 = np.random.default_rng(0).normal(0, 1, (12, 2)).astype("float32")
    dense.set_weights([w2, np.zeros(2, "float32")])
    return model, k1[0, 0, 0], np.array([0.0, 0.5, -0.5]), w2


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="keras.ops.custom_gradient: TensorFlow and JAX")
def test_guided_backprop_by_hand():
    """d logit_c / d x at pixel p through guided ReLUs: sum_k w1_k * W2[(p, k), c] * [z_pk > 0] * [W2 > 0]."""
    model, k1, b1, w2 = _guided_model()
    snap = snapshot(model)
    x = np.array([0.3, -0.2, 0.8, 0.1], "float32").reshape(1, 2, 2, 1)
    ex = Explainer(wrap(model, preprocess="none"), ["guided-backprop", "saliency"], (2, 2), Options(faithfulness_steps=0))
    guided, plain = (m.attribute(x, 1)[0] for m in ex.methods)
    z = x.reshape(4, 1) * k1 + b1  # (pixel, k)
    up = w2[:, 1].reshape(4, 3)
    expected = np.abs(((z > 0) * (up > 0) * up * k1).sum(1)).reshape(2, 2)
    unguided = np.abs(((z > 0) * up * k1).sum(1)).reshape(2, 2)
    np.testing.assert_allclose(guided, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(plain, unguided, rtol=1e-5, atol=1e-7)
    assert not np.allclose(expected, unguided)  # the gate matters on this input
    assert_unchanged(model, snap)


def test_guided_grad_cam_is_guided_backprop_times_grad_cam(lenet, digits):
    x = digits[0][2][None].astype("float32") / 255.0
    e = Explainer(lenet, ["guided-gradcam", "guided-backprop", "gradcam"], (28, 28), Options(faithfulness_steps=0))
    gg, gb, gc = (m.attribute(x, 2)[0] for m in e.methods)
    np.testing.assert_allclose(gg, gb * np.maximum(gc, 0), rtol=1e-5, atol=1e-8)


def test_rise_masks_are_soft_and_keep_half():
    from cnnviz.methods.attribution.rise import rise_masks

    m = rise_masks(200, (28, 28), np.random.default_rng(0))
    assert m.min() >= 0 and m.max() <= 1 and abs(m.mean() - 0.5) < 0.05
    assert len(np.unique(m[0])) > 10  # bilinear, not blocky


def test_randomisation_check_flags_guided_backprop_not_grad_cam(lenet, digits):
    """Adebayo et al. 2018's finding on LeNet: with every layer shuffled, Grad-CAM's map is another map,
    guided backpropagation's is still the digit's outline. The user's model is untouched."""
    from cnnviz.methods.attribution.sanity import (
        randomisation_check,
        randomised_copy,
        weighted_layers,
    )

    snap = snapshot(lenet.model)
    rhos = {"gradcam": [], "guided-backprop": []}
    for i in range(3):
        rep = randomisation_check(lenet, list(rhos), digits[0][i], stages=2)
        for m, got in rhos.items():
            got.append(rep.rho[m][-1])
        assert rep.stages[-1].startswith("top 5 of 5 layers")
    assert np.mean(rhos["gradcam"]) < 0.5 <= np.mean(rhos["guided-backprop"]), rhos
    copy = randomised_copy(lenet.model, 2, seed=0)
    changed = [not all(np.array_equal(a, b) for a, b in zip(lo.get_weights(), lc.get_weights()))
               for lo, lc in zip(weighted_layers(lenet.model), weighted_layers(copy))]
    assert changed == [False, False, False, True, True]
    assert_unchanged(lenet.model, snap)


def test_cli_sanity_and_new_flags_reach_the_manifest(tmp_path):
    from test_cli import run

    out = tmp_path / "out"
    r = run("cam", "lenet", "--method", "gradcam", "--method", "saliency", "--sanity", "--sanity-stages", "2",
            "--clip", "5", "--faithfulness-steps", "4", "--out", out)
    assert r.exit_code == 0, r.output
    data = json.loads(next(out.glob("cam_*.json")).read_text())
    assert data["options"]["clip"] == 5.0 and data["options"]["sanity_stages"] == 2
    assert [m["clip_percent"] for m in data["methods"]] == [5.0, 5.0]
    assert set(data["sanity"]["spearman"]) == {"gradcam", "saliency"} and len(data["sanity"]["stages"]) == 3
    san = data["sanity"]  # flagged = |rank correlation after the last stage| >= flag_at (0.5)
    assert san["flag_at"] == 0.5 and san["flagged"] == [m for m, r in san["spearman"].items() if abs(r[-1]) >= 0.5]
    from PIL import Image

    from cnnviz.output.layout import caption_height, wrap_text

    # the figure: one row per method, the trained map then one column per stage; 28 px digits enlarged x4, 4 px margins
    fig = np.asarray(Image.open(out / san["figure"]).convert("RGB"))
    lines = max(len(wrap_text(f"{m}\ntrained" + ("\nFLAG: ignores weights" if m in san["flagged"] else ""), 112).split("\n"))
                for m in ("gradcam", "saliency"))
    cap = caption_height(lines)
    assert fig.shape[1] == 4 * 112 + 5 * 4
    top = fig.shape[0] - (2 * (112 + cap) + 3 * 4)
    for r_ in range(2):
        for c_ in range(4):  # heat over the lightened grey digit is never white; the margins beside each tile are
            y, x = top + 4 + r_ * (112 + cap + 4), 4 + c_ * 116
            assert (fig[y : y + 112, x : x + 112] < 255).any(-1).all() and (fig[y : y + 112, x - 4 : x] == 255).all()
    assert "sanity gradcam: rank correlation" in r.output
    bad = run("cam", "lenet", "--clip", "100", "--out", tmp_path / "o2")
    assert bad.exit_code != 0 and "--clip" in bad.output


def test_heat_is_drawn_only_where_unit_centres_reach_when_the_band_is_wide():
    from cnnviz.output.heatmaps import within_centres

    heat = np.ones((28, 28))
    lenet_conv2 = [4.5, 22.5, 4.5, 22.5]  # 10 units, 2 px apart: 4-5 px bands held beyond them
    out, blanked = within_centres(heat, lenet_conv2, (10, 10))
    assert blanked and out[4:24, 4:24].all() and not out[:4].any() and not out[:, 24:].any()
    photo = [31.0, 223.0, 31.0, 223.0]  # EfficientNet-Lite0 top: 7 units 32 px apart, band of 31 px
    out, blanked = within_centres(np.ones((224, 224)), photo, (7, 7))
    assert not blanked and out.all()


def test_signed_layer_maps_are_reported_for_layer_cam_and_score_cam():
    """Layer-CAM and Score-CAM assume maps after a ReLU; a linear conv's maps are signed and the run says so."""
    x = np.random.default_rng(2).uniform(-1, 1, (16, 16, 3)).astype("float32")
    for activation, signed in (("relu", False), (None, True)):
        inputs = keras.Input((16, 16, 3))
        conv = keras.layers.Conv2D(4, 1, activation=activation, name="conv", kernel_initializer=keras.initializers.RandomNormal(seed=1))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(conv(inputs))))
        ex = Explainer(wrap(model, preprocess="none"), ["layercam", "scorecam"], (16, 16), Options(layer="conv", faithfulness_steps=0))
        assert [r.info["signed_maps"] for r in ex.explain(x, 0).results] == [signed, signed]
