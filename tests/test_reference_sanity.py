"""Reference values for cnnviz.methods.attribution.sanity (Adebayo et al. 2018's model randomisation): the
stages and the rank correlation by hand, the shuffled copy against the same permutations drawn in NumPy, and
the whole check on a linear conv model whose saliency map is max_c |sum_j K_cj W_(p,j),k|, computed directly."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import assert_unchanged, snapshot, wrap

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.sanity import (
    FLAG_RHO,
    SanityReport,
    randomisation_check,
    randomised_copy,
    rank_correlation,
    stage_sizes,
    weighted_layers,
)
from cnnviz.methods.attribution.scaling import heat01


def test_stage_sizes_by_hand():
    assert stage_sizes(5, 4) == [1, 2, 4, 5]  # 1, then round(5/4)=1, round(2.5)=2, round(3.75)=4, 5
    assert stage_sizes(3, 5) == [1, 2, 3]
    assert stage_sizes(10, 1) == [1, 10]
    assert stage_sizes(1, 4) == [1]
    assert stage_sizes(8, 2) == [1, 4, 8]
    with pytest.raises(CnnvizError, match="at least 1 stage, got 0"):
        stage_sizes(4, 0)


def test_rank_correlation_by_hand():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[10.0, 30.0], [20.0, 40.0]])
    assert rank_correlation(a, b) == pytest.approx(0.8)  # 1 - 6 * (0 + 1 + 1 + 0) / (4 * 15)
    assert rank_correlation(a, -b) == pytest.approx(-0.8)
    assert rank_correlation(np.ones(4), b) == 0.0 and rank_correlation(a, np.full((2, 2), 3.0)) == 0.0


def _linear_conv(seed=0):
    """(4, 5, 2) -> 1x1 Conv2D(3), linear -> Flatten -> Dense(2), linear: the input gradient is K @ W2 per pixel."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input((4, 5, 2))
    conv = keras.layers.Conv2D(3, 1, name="conv")
    dense = keras.layers.Dense(2, name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(conv(inputs))), name="linconv")
    conv.set_weights([rng.normal(0, 1, (1, 1, 2, 3)).astype("float32"), rng.normal(0, 1, 3).astype("float32")])
    dense.set_weights([rng.normal(0, 1, (60, 2)).astype("float32"), rng.normal(0, 1, 2).astype("float32")])
    return model


def _shuffled(weights, top, seed):
    """[[tensor, ...] per weighted layer] with the last ``top`` layers' tensors permuted, in NumPy."""
    rng = np.random.default_rng(seed)
    out = [list(ws) for ws in weights]
    for ws in out[len(out) - top :]:
        ws[:] = [rng.permutation(w.ravel()).reshape(w.shape) for w in ws]
    return out


def _saliency(weights, k):
    (kern, _), (w2, _) = weights
    g = np.einsum("cj,pj->pc", kern[0, 0].astype("float64"), w2[:, k].reshape(20, 3))  # d logit_k / d x, (pixel, c)
    return np.abs(g).max(axis=1).reshape(4, 5)


def test_weighted_layers_flatten_nested_models():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="i1"), keras.layers.Dropout(0.1),
                              keras.layers.Dense(2, name="i2")], name="inner")
    inputs = keras.Input((3,))
    pre = keras.layers.Dense(3, name="pre")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="top")(keras.layers.ReLU()(inner(pre))))
    assert [layer.name for layer in weighted_layers(model)] == ["pre", "i1", "i2", "top"]
    snap = snapshot(model)
    copy = randomised_copy(model, 3, seed=0)  # i1, i2 (inside the nested model) and top: a recursive clone
    changed = [any(not np.array_equal(a, b) for a, b in zip(lo.get_weights(), lc.get_weights()))
               for lo, lc in zip(weighted_layers(model), weighted_layers(copy))]
    assert changed == [False, True, True, True]
    assert_unchanged(model, snap)  # the nested model was copied, not shuffled in place


def test_randomised_copy_shuffles_the_top_layers_only():
    model = _linear_conv()
    snap = snapshot(model)
    trained = [layer.get_weights() for layer in weighted_layers(model)]
    for top in (1, 2):
        copy = randomised_copy(model, top, seed=3)
        got = [layer.get_weights() for layer in weighted_layers(copy)]
        for g_layer, r_layer in zip(got, _shuffled(trained, top, 3)):
            for g, r in zip(g_layer, r_layer):
                np.testing.assert_array_equal(g, r)
    assert_unchanged(model, snap)


def test_randomisation_check_against_numpy_maps():
    model = _linear_conv()
    snap = snapshot(model)
    image = np.random.default_rng(1).uniform(0, 1, (4, 5, 2)).astype("float32")
    rep = randomisation_check(wrap(model, preprocess="none"), ["saliency"], image, class_index=1, stages=2)  # seed 0
    trained = [layer.get_weights() for layer in weighted_layers(model)]
    expected = [_saliency(trained, 1)] + [_saliency(_shuffled(trained, top, 0), 1) for top in (1, 2)]
    assert rep.class_index == 1
    assert rep.stages == ["top 1 of 2 layers (down to out)", "top 2 of 2 layers (down to conv)"]
    assert len(rep.maps["saliency"]) == 3
    for got, ref in zip(rep.maps["saliency"], expected):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    rho = [rank_correlation(expected[0], e) for e in expected[1:]]
    np.testing.assert_allclose(rep.rho["saliency"], rho, rtol=1e-9)
    assert rep.flagged == (["saliency"] if abs(rho[-1]) >= FLAG_RHO else [])
    record = rep.record()
    assert record["class"] == 1 and record["stages"] == rep.stages and record["spearman"] == rep.rho
    assert record["flag_at"] == 0.5 and record["flagged"] == rep.flagged
    assert record["check"] == "model randomisation (Adebayo et al. 2018): layers re-initialised top down, cumulative"
    assert_unchanged(model, snap)


def test_heats_clip_pixel_gradient_maps_only():
    """Captum's 2 % of the heat mass clipped for a pixel-gradient method, nothing for Grad-CAM: on 1..100 the top
    value holds under 2 % of the mass, so the clipped heat saturates below the maximum."""
    raw = np.arange(1.0, 101.0).reshape(10, 10)
    rep = SanityReport(0, ["top 1 of 1 layers (down to d)"], {"saliency": [0.1], "gradcam": [0.2]},
                       {"saliency": [raw, raw], "gradcam": [raw, raw]}, [])
    heats = rep.heats()
    np.testing.assert_allclose(heats["saliency"][1], heat01(raw, 2.0), rtol=1e-6)
    np.testing.assert_allclose(heats["gradcam"][0], raw / 100.0, rtol=1e-6)
    assert (heats["saliency"][0] == 1.0).sum() > 1  # clipped: more than the maximum reaches 1


def test_flagged_when_the_map_outlives_the_weights():
    """With every layer shuffled (seed 3), this saliency map still ranks pixels like the trained one (rho 0.62)
    and is flagged; integrated gradients' (rho 0.18) is not. The rule: |rho| >= FLAG_RHO on the last stage."""
    model = _linear_conv()
    image = np.random.default_rng(1).uniform(0, 1, (4, 5, 2)).astype("float32")
    rep = randomisation_check(wrap(model, preprocess="none"), ["saliency", "integrated-gradients"], image, class_index=0,
                              stages=1, seed=3)
    assert rep.stages == ["top 1 of 2 layers (down to out)", "top 2 of 2 layers (down to conv)"]
    assert rep.rho["saliency"][-1] > FLAG_RHO > abs(rep.rho["integrated-gradients"][-1])
    assert rep.flagged == ["saliency"]


def test_the_options_reach_the_randomised_runs():
    """Integrated gradients from the seeded noise baseline (not black) at every stage: on this linear model
    IG is exact, (x - x0) . dS/dx, with the shuffled weights' gradient."""
    from cnnviz.methods.attribution.baselines import baseline_pixels
    from cnnviz.methods.attribution.options import Options

    model = _linear_conv()
    image = np.random.default_rng(1).uniform(0, 1, (4, 5, 2)).astype("float32")
    rep = randomisation_check(wrap(model, preprocess="none"), ["integrated-gradients"], image, class_index=1, stages=1,
                              options=Options(baseline="noise", seed=2, ig_steps=2))
    x0 = baseline_pixels("noise", image, 2)
    (kern, _), (w2, _) = _shuffled([layer.get_weights() for layer in weighted_layers(model)], 2, 0)
    g = np.einsum("cj,pj->pc", kern[0, 0].astype("float64"), w2[:, 1].reshape(20, 3))
    expected = ((image - x0).reshape(20, 2) * g).sum(1).reshape(4, 5)
    np.testing.assert_allclose(rep.maps["integrated-gradients"][-1], expected, rtol=1e-4, atol=1e-4)


def test_the_flag_reads_the_last_stage():
    """Three weighted layers; the top two hold one value each, so shuffling them changes nothing (rho 1 after
    stages 1 and 2); shuffling the first conv too (seed 1) leaves rho 0.25: not flagged."""
    rng = np.random.default_rng(0)
    inputs = keras.Input((4, 5, 2))
    c1, c2 = keras.layers.Conv2D(3, 1, name="c1"), keras.layers.Conv2D(3, 1, name="c2")
    dense = keras.layers.Dense(2, name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(c2(c1(inputs)))))
    c1.set_weights([rng.normal(0, 1, (1, 1, 2, 3)).astype("float32"), np.zeros(3, "float32")])
    c2.set_weights([np.full((1, 1, 3, 3), 0.5, "float32"), np.zeros(3, "float32")])
    dense.set_weights([np.full((60, 2), 0.1, "float32"), np.zeros(2, "float32")])
    image = np.random.default_rng(1).uniform(0, 1, (4, 5, 2)).astype("float32")
    rep = randomisation_check(wrap(model, preprocess="none"), ["integrated-gradients"], image, class_index=0, stages=2, seed=1)
    rho = rep.rho["integrated-gradients"]
    np.testing.assert_allclose(rho[:2], [1.0, 1.0], atol=1e-9)
    assert len(rho) == 3 and abs(rho[-1]) < FLAG_RHO and rep.flagged == []


def test_a_model_without_weights_is_one_clear_error():
    inputs = keras.Input((2, 2, 1))
    model = keras.Model(inputs, keras.layers.Flatten()(inputs), name="bare")
    with pytest.raises(CnnvizError, match="bare has no weights to randomise"):
        randomisation_check(wrap(model, preprocess="none"), ["saliency"], np.ones((2, 2, 1), "float32"), class_index=0)
