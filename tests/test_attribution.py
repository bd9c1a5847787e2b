"""Attribution methods against hand computations, published formulas and the standard sanity checks."""

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from cnnviz.methods.attribution import METHODS
from cnnviz.methods.attribution.explain import Explainer, Options
from cnnviz.methods.attribution.layer_methods import grad_cam_pp_from, layer_cam_from
from cnnviz.methods.cam import grad_cam_from as grad_cam_from_cam
from cnnviz.errors import CnnvizError

from conftest import assert_unchanged, snapshot, wrap

REGION = (slice(3, 7), slice(9, 13))  # rows 3-6, cols 9-12 of a 16x16 image
DISTRACTOR = (slice(9, 13), slice(2, 6))


def _region_model():
    """Score of class 0 = sum of the red channel inside REGION (through a 1x1 conv: A0 = relu(red),
    A1 = relu(green)); class 1 = a constant. Nothing else in the image can change the score."""
    inputs = keras.Input((16, 16, 3))
    conv = keras.layers.Conv2D(2, 1, activation="relu", name="conv")
    dense = keras.layers.Dense(2, activation="softmax", name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(conv(inputs))), name="region")
    k = np.zeros((1, 1, 3, 2), "float32")
    k[0, 0, 0, 0] = k[0, 0, 1, 1] = 1.0
    conv.set_weights([k, np.zeros(2, "float32")])
    w = np.zeros((16, 16, 2, 2), "float32")
    w[REGION[0], REGION[1], 0, 0] = 1.0
    dense.set_weights([w.reshape(-1, 2), np.array([0.0, 8.0], "float32")])
    return model


def _region_image():
    rng = np.random.default_rng(0)
    img = rng.uniform(0.0, 0.1, (16, 16, 3))
    img[REGION] = [1.0, 0.0, 0.0] + rng.uniform(0, 0.2, (4, 4, 3)) * [1, 0, 0]  # red, uneven
    img[DISTRACTOR] = [0.0, 1.2, 0.0]  # brighter than the region, but the score ignores it
    return img.astype("float32")


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_ranks_the_region_first(method):
    model = _region_model()
    snap = snapshot(model)
    loaded = wrap(model, preprocess="none")
    ex = Explainer(loaded, [method], (16, 16), Options(noise_samples=None, faithfulness_steps=0)).explain(_region_image(), 0)
    raw = ex.results[0].raw
    inside = np.zeros((16, 16), bool)
    inside[REGION] = True
    top = np.argsort(-raw.ravel(), kind="stable")[: inside.sum()]
    assert inside.ravel()[top].all(), f"{method}: top pixels outside the region"
    assert raw[inside].min() > raw[~inside].max()
    assert_unchanged(model, snap)


def _loops_grad_cam_pp(A, g):
    """Chattopadhyay et al. 2018, eq. 19 and 10-11, written out with loops."""
    h, w, K = A.shape
    weights = np.zeros(K)
    for k in range(K):
        s = sum(A[a, b, k] for a in range(h) for b in range(w))
        for i in range(h):
            for j in range(w):
                num = g[i, j, k] ** 2
                den = 2 * g[i, j, k] ** 2 + s * g[i, j, k] ** 3
                alpha = num / den if den != 0 else 0.0
                weights[k] += alpha * max(g[i, j, k], 0.0)
    return np.maximum(sum(weights[k] * A[:, :, k] for k in range(K)), 0.0)


def _loops_layer_cam(A, g):
    """Jiang et al. 2021, eq. 5-6: M = ReLU(sum_k ReLU(g^k_ij) A^k_ij)."""
    h, w, K = A.shape
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = max(sum(max(g[i, j, k], 0.0) * A[i, j, k] for k in range(K)), 0.0)
    return out


def test_grad_cam_pp_and_layer_cam_follow_the_papers_on_random_gradients():
    rng = np.random.default_rng(3)
    A = rng.uniform(0.0, 2.0, (4, 5, 3))
    g = rng.normal(0.0, 1.0, (4, 5, 3))
    np.testing.assert_allclose(grad_cam_pp_from(A, g), _loops_grad_cam_pp(A, g), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer_cam_from(A, g), _loops_layer_cam(A, g), rtol=1e-9, atol=1e-12)
    assert layer_cam_from(A, g).std() > 0 and grad_cam_pp_from(A, g).std() > 0
    np.testing.assert_array_equal(grad_cam_from_cam(A, g, plus=True), grad_cam_pp_from(A, g))  # cnnviz.methods.cam's
    # a constant positive gradient: alpha = 1 / (2 + sum A), so w_k = h * w / (2 + sum A_k) (eq. 19 by hand)
    ones = np.ones_like(A)
    np.testing.assert_allclose(grad_cam_pp_from(A, ones), (A * (20.0 / (2.0 + A.sum(axis=(0, 1))))).sum(-1), rtol=1e-9)
    for plus in (False, True):  # zero maps and gradients: zero, not NaN (the EPS in the denominator)
        out = grad_cam_from_cam(np.zeros((3, 3, 2)), np.zeros((3, 3, 2)), plus)
        assert np.isfinite(out).all() and (out == 0).all()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the independent reference is a tf.GradientTape")
def _loops_grad_cam(A, g):
    """Selvaraju et al. 2017, eq. 1-2: w_k = mean_ij dS/dA^k_ij, M = ReLU(sum_k w_k A^k)."""
    w = [g[:, :, k].mean() for k in range(A.shape[-1])]
    return np.maximum(sum(w[k] * A[:, :, k] for k in range(A.shape[-1])), 0.0)


REFERENCES = {"gradcam": _loops_grad_cam, "gradcam++": _loops_grad_cam_pp, "layercam": _loops_layer_cam}


@pytest.mark.parametrize("method", list(REFERENCES))
def test_layer_cam_end_to_end_equals_a_direct_tape(tiny_conv_model, method):
    import tensorflow as tf

    loaded = wrap(tiny_conv_model, preprocess="none")
    x = np.random.default_rng(1).uniform(0, 1, (1, 16, 16, 3)).astype("float32")
    ex = Explainer(loaded, [method], (16, 16), Options(layer="c2", faithfulness_steps=0))
    m = ex.methods[0]
    m.attribute(x, 2)
    # independent: the model's own layers, pre-softmax logit by the Dense's kernel
    c1, p1, c2 = (tiny_conv_model.get_layer(n) for n in ("c1", "p1", "c2"))
    out = tiny_conv_model.get_layer("out")
    with tf.GradientTape() as tape:
        A = c2(p1(c1(tf.constant(x))))
        tape.watch(A)
        logit = tf.reduce_mean(A, axis=(1, 2)) @ out.kernel + out.bias
        s = logit[:, 2]
    g = tape.gradient(s, A).numpy()[0]
    assert m.layer_maps.dtype == np.float32 and m.info["signed_maps"] is False and m.layer_maps.std() > 0  # c2 is ReLU-ed
    np.testing.assert_allclose(m.layer_maps[0], REFERENCES[method](A.numpy()[0], g), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("baseline", ["black", "blur", "noise"])
def test_integrated_gradients_completeness_on_lenet(lenet, digits, baseline):
    x, _ = digits
    e = Explainer(lenet, ["integrated-gradients"], (28, 28), Options(baseline=baseline, faithfulness_steps=0))
    from cnnviz.methods.attribution.baselines import baseline_pixels

    for i in (0, 3, 7):
        r = e.explain(x[i]).results[0]
        assert r.info["completeness_error"] < 0.05
        # independently: sum of the map = logit(x) - logit(baseline) from a plain forward pass
        b = baseline_pixels(baseline, x[i], 0)
        logits = keras.ops.convert_to_numpy(e.classifier.model(np.stack([x[i], b]).astype("float32") / 255.0)).astype("float64")
        k = int(np.argmax(logits[0]))
        delta = logits[0, k] - logits[1, k]
        assert abs(r.raw.sum() - delta) <= 0.05 * abs(delta)


def test_integrated_gradients_with_one_step_is_caught(lenet, digits):
    """The completeness check is not vacuous: a single step on a ReLU network misses it."""
    e = Explainer(lenet, ["integrated-gradients"], (28, 28), Options(ig_steps=1, faithfulness_steps=0))
    assert max(e.explain(digits[0][i]).results[0].info["completeness_error"] for i in range(4)) > 0.05


GRADIENT_METHODS = [m for m, s in METHODS.items() if s.gradient]


def test_model_randomisation_sanity_check(lenet, digits):
    """Adebayo et al. 2018: re-initialise every weight; a faithful map must change. Compared on the stroke
    pixels (the zero background has zero gradient in both models, which would inflate any correlation)."""
    x, y = digits
    keras.utils.set_random_seed(123)
    randomised = wrap(keras.models.clone_model(lenet.model), preprocess="unit", classes=lenet.class_names)
    opts = Options(faithfulness_steps=0, noise_samples=None)
    trained = Explainer(lenet, GRADIENT_METHODS, (28, 28), opts)
    shuffled = Explainer(randomised, GRADIENT_METHODS, (28, 28), opts)
    rhos = []
    for i in range(6):
        stroke = x[i][..., 0] > 0
        a, b = trained.explain(x[i], int(y[i])), shuffled.explain(x[i], int(y[i]))
        rhos.append([spearmanr(ra.raw[stroke], rb.raw[stroke]).statistic for ra, rb in zip(a.results, b.results)])
    mean = dict(zip(GRADIENT_METHODS, np.mean(rhos, axis=0)))
    assert all(v < 0.4 for v in mean.values()), mean


def test_grad_cam_deletion_beats_random_order_on_digits(lenet, digits):
    x, _ = digits
    e = Explainer(lenet, ["gradcam"], (28, 28), Options(faithfulness_steps=16))
    ours, rand = [], []
    for i in range(10):
        ex = e.explain(x[i])
        ours.append(ex.results[0].faithfulness["deletion_auc"])
        rand.append(ex.random["deletion_auc"])
    assert np.mean(ours) < np.mean(rand) - 0.2, (np.mean(ours), np.mean(rand))


def test_deletion_and_insertion_by_hand():
    """A 'model' whose probability is the share of kept bright pixels: the AUCs follow from the order."""
    from cnnviz.methods.attribution.faithfulness import auc, curves

    image = np.zeros((2, 2, 1), "float32")
    image[0, 0] = image[1, 1] = 100.0

    def probs(batch):
        p = (batch[..., 0] >= 99.0).reshape(len(batch), -1).sum(axis=1) / 2.0
        return np.stack([p, 1 - p], axis=1)

    good = np.array([0, 3, 1, 2])  # the two bright pixels first
    d, i = curves(probs, image, good, 0, steps=4)
    np.testing.assert_allclose(d, [1.0, 0.5, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(i, [0.0, 0.5, 1.0, 1.0, 1.0])
    assert auc(d) == pytest.approx((0.5 * (1 + 0.5) + 0.5 * 0.5) / 4)
    d_bad, _ = curves(probs, image, np.array([1, 2, 0, 3]), 0, steps=4)
    assert auc(d_bad) > auc(d)


def test_noise_tunnel_averages_any_gradient_method(lenet, digits):
    x, _ = digits
    plain = Explainer(lenet, ["gradcam", "saliency"], (28, 28), Options(faithfulness_steps=0)).explain(x[1], 0)
    noisy = Explainer(lenet, ["gradcam", "saliency"], (28, 28), Options(noise_samples=4, noise_level=0.2, faithfulness_steps=0))
    ex = noisy.explain(x[1], 0)
    for a, b in zip(plain.results, ex.results):
        assert b.info["noise_samples"] == 4 and not np.allclose(a.raw, b.raw)
    # zero noise: the average of identical copies is the plain map
    zero = Explainer(lenet, ["saliency"], (28, 28), Options(noise_samples=3, noise_level=0.0, faithfulness_steps=0)).explain(x[1], 0)
    np.testing.assert_allclose(zero.results[0].raw, plain.results[1].raw, rtol=1e-5, atol=1e-8)
    with pytest.raises(CnnvizError, match="--noise-samples must be at least 1"):
        Explainer(lenet, ["saliency"], (28, 28), Options(noise_samples=0))


def test_layer_method_on_a_model_without_conv_is_one_clear_error():
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs)), name="mlp")
    with pytest.raises(CnnvizError, match="gradcam needs a conv layer and mlp has none; use saliency"):
        Explainer(wrap(model), ["saliency", "gradcam"], (8, 8))
    assert Explainer(wrap(model), ["saliency"], (8, 8), Options(faithfulness_steps=0)).explain(np.ones((8, 8, 1)) * 50).results


def test_noise_tunnel_is_the_mean_over_the_noisy_copies(lenet, digits):
    from cnnviz.methods.attribution.gradient_methods import Saliency
    from cnnviz.inputs.preprocessing import to_model_input

    e = Explainer(lenet, ["saliency"], (28, 28), Options(noise_samples=5, noise_level=0.3, seed=7, faithfulness_steps=0))
    got = e.explain(digits[0][2], 1).results[0].raw
    x = to_model_input(digits[0][2][None].astype("float32"), "unit")[0]
    rng = np.random.default_rng(7)
    noisy = x[None] + rng.normal(0.0, 0.3 * float(x.max() - x.min() + 1e-8), (5,) + x.shape).astype("float32")
    each = Saliency(e.methods[0].subject).attribute(noisy, 1)
    np.testing.assert_allclose(got, each.mean(axis=0), rtol=1e-5, atol=1e-8)
    assert not np.allclose(got, each[0])


def test_heat_over_grey_never_shows_the_image_colours():
    from cnnviz.output.heatmaps import CMAP, colorbar, heat_over_grey
    from cnnviz.pixels import colormap

    img = np.zeros((4, 4, 3), "uint8")
    img[..., 0] = 200  # a red image
    heat = np.zeros((4, 4))
    heat[1, 2] = 1.0
    out = heat_over_grey(img, heat).astype(int)
    cold = np.ones((4, 4), bool)
    cold[1, 2] = False
    assert (out[cold][:, 0] == out[cold][:, 1]).all() and (out[cold][:, 1] == out[cold][:, 2]).all()  # grey
    grey = 64 + 0.6 * (0.299 * 200)
    np.testing.assert_allclose(out[1, 2], np.rint(0.15 * grey + 0.85 * colormap(np.array(1.0), CMAP)), atol=1)
    bar = colorbar(120)
    assert bar.shape[0] == 120 and (bar[6, 8] == colormap(np.array(1.0), CMAP)).all()
