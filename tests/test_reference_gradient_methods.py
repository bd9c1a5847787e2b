"""Reference values for cnnviz.methods.attribution.gradient_methods: saliency, integrated gradients and the
noise wrapper on a cubic model whose gradient is known in closed form (logit_c = sum_i W_ic x_i^3 + b_c,
so dS/dx_i = 3 W_ic x_i^2), compared with the papers' formulas written in NumPy (IG's path integral by
np.trapezoid, SmoothGrad's average over the same Gaussian draws)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import wrap

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.gradient_methods import (
    DEFAULT_IG_STEPS,
    IntegratedGradients,
    NoiseTunnel,
    Saliency,
    SmoothGrad,
)
from cnnviz.methods.attribution.subject import make_subject

HW, C, K = (3, 4), 2, 3


def _cubic():
    """(3, 4, 2) -> x * x * x -> Flatten -> Dense(3), no activation: the head value is the logit itself."""
    rng = np.random.default_rng(7)
    inputs = keras.Input(HW + (C,))
    cube = keras.layers.Multiply()([inputs, inputs, inputs])
    dense = keras.layers.Dense(K, name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(cube)), name="cubic")
    w = rng.normal(0.0, 1.0, (HW[0] * HW[1] * C, K)).astype("float32")
    b = np.array([0.3, -0.2, 0.1], "float32")
    dense.set_weights([w, b])
    return make_subject(wrap(model, preprocess="none"), HW), w.reshape(HW + (C, K)), b


def _logit(x, w, b, c):
    return (np.asarray(x, "float64") ** 3 * w[..., c]).sum(axis=(-3, -2, -1)) + b[c]


def _grad(x, w, c):
    return 3.0 * np.asarray(x, "float64") ** 2 * w[..., c]


def _inputs(n=2, seed=1):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, (n,) + HW + (C,)).astype("float32")


def test_saliency_is_the_largest_absolute_gradient_over_channels():
    subject, w, _ = _cubic()
    x = _inputs()
    got = Saliency(subject).attribute(x, 1)
    expected = np.abs(_grad(x, w, 1)).max(axis=-1)
    assert got.dtype == np.float32 and got.shape == (2,) + HW
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(expected, np.abs(_grad(x, w, 1).max(axis=-1)))  # abs before max matters here


@pytest.mark.parametrize("steps, batch_size", [(4, 2), (3, 32)])
def test_integrated_gradients_is_the_trapezoid_path_integral(steps, batch_size):
    """(x - x0) * integral_0^1 dS/dx(x0 + a (x - x0)) da by the trapezoid rule on steps + 1 points, summed over
    channels; the cubic's integrand is quadratic in a, so the rule's error (and the completeness error) is not 0."""
    subject, w, b = _cubic()
    x = _inputs()
    x0 = np.random.default_rng(2).uniform(-0.5, 0.5, HW + (C,)).astype("float32")
    ig = IntegratedGradients(subject, baseline=x0, steps=steps, batch_size=batch_size)
    got = ig.attribute(x, 2)
    alphas = np.linspace(0.0, 1.0, steps + 1)
    maps, errors = [], []
    for xi in x:
        d = xi.astype("float64") - x0
        grads = np.stack([_grad(x0 + a * d, w, 2) for a in alphas])
        attr = d * np.trapezoid(grads, alphas, axis=0)
        delta = _logit(xi, w, b, 2) - _logit(x0, w, b, 2)
        maps.append(attr.sum(axis=-1))
        errors.append(abs(attr.sum() - delta) / abs(delta))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.stack(maps), rtol=1e-4, atol=1e-5)
    assert ig.info["steps"] == steps
    np.testing.assert_allclose(ig.info["completeness_error"], np.mean(errors), rtol=1e-3)
    assert ig.info["completeness_error"] > 1e-3  # the check has something to see
    exact = (w[..., 2] * (x.astype("float64") ** 3 - x0.astype("float64") ** 3)).sum(-1)  # the integral itself
    fine = IntegratedGradients(subject, baseline=x0, steps=200).attribute(x, 2)
    np.testing.assert_allclose(fine, exact, rtol=1e-3, atol=1e-3)


def test_integrated_gradients_default_baseline_is_zero_and_steps_are_checked():
    subject, w, _ = _cubic()
    x = _inputs(1)
    ig = IntegratedGradients(subject)
    assert ig.steps == DEFAULT_IG_STEPS == 64 and ig.batch_size == 32
    got = ig.attribute(x, 0)
    np.testing.assert_allclose(got, (w[..., 0] * x.astype("float64") ** 3).sum(-1), rtol=1e-3, atol=1e-4)  # x0 = 0
    IntegratedGradients(subject, steps=1)  # one interval is allowed
    with pytest.raises(CnnvizError, match="at least 1 step, got 0"):
        IntegratedGradients(subject, steps=0)
    with pytest.raises(CnnvizError, match=r"the baseline has shape \(3, 4, 1\), the input \(3, 4, 2\)$"):
        IntegratedGradients(subject, baseline=np.zeros(HW + (1,))).attribute(x, 0)


def test_integrated_gradients_completeness_error_with_no_score_change_is_finite():
    """x == baseline: S(x) - S(x0) = 0 and every attribution is 0; the error divides by EPS, not by 0."""
    subject, _, _ = _cubic()
    x = _inputs(1)
    ig = IntegratedGradients(subject, baseline=x[0], steps=2)
    assert (ig.attribute(x, 0) == 0).all() and ig.info["completeness_error"] == 0.0


def test_noise_tunnel_is_the_mean_over_seeded_gaussian_copies():
    """sigma = level * (max - min + EPS) per input; one generator per call, drawn input after input."""
    subject, w, _ = _cubic()
    x = _inputs()
    x[1] *= 0.5  # a different range for the second input
    got = NoiseTunnel(Saliency(subject), samples=3, level=0.2, seed=5).attribute(x, 1)
    rng = np.random.default_rng(5)
    expected = []
    for xi in x:
        sigma = 0.2 * float(xi.max() - xi.min() + 1e-8)
        noisy = xi[None] + rng.normal(0.0, sigma, size=(3,) + xi.shape).astype("float32")
        expected.append(np.abs(_grad(noisy, w, 1)).max(axis=-1).mean(axis=0))
    np.testing.assert_allclose(got, np.stack(expected), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32
    plain = Saliency(subject).attribute(x, 1)
    np.testing.assert_allclose(NoiseTunnel(Saliency(subject), samples=2, level=0.0).attribute(x, 1), plain, rtol=1e-6)


def test_noise_tunnel_info_averages_the_completeness_error():
    subject, _, _ = _cubic()
    x = _inputs()
    x0 = np.full(HW + (C,), 0.4, "float32")  # from 0 the cubic's relative error is 1/8 whatever the input
    inner = IntegratedGradients(subject, baseline=x0, steps=2)
    tunnel = NoiseTunnel(inner, samples=2, level=0.1, seed=0)
    tunnel.attribute(x, 0)
    assert tunnel.name == "integrated-gradients" and tunnel.layer_maps is None
    assert tunnel.info["noise_samples"] == 2 and tunnel.info["noise_level"] == 0.1 and tunnel.info["steps"] == 2
    errs = []
    rng = np.random.default_rng(0)  # the second input's draws follow the first's
    for xi in x:
        sigma = 0.1 * float(xi.max() - xi.min() + 1e-8)
        noisy = xi[None] + rng.normal(0.0, sigma, size=(2,) + xi.shape).astype("float32")
        inner.attribute(noisy, 0)
        errs.append(inner.info["completeness_error"])
    assert abs(errs[0] - errs[1]) > 1e-3 * errs[1]  # a mean, not the last input's
    np.testing.assert_allclose(tunnel.info["completeness_error"], np.mean(errs), rtol=1e-6)


def test_smoothgrad_defaults_and_bad_settings():
    subject, _, _ = _cubic()
    sg = SmoothGrad(subject)
    assert sg.name == "smoothgrad" and isinstance(sg.inner, Saliency)
    assert (sg.samples, sg.level, sg.seed) == (25, 0.15, 0)
    sg.attribute(_inputs(1), 0)
    assert "completeness_error" not in sg.info and sg.info["noise_samples"] == 25
    NoiseTunnel(Saliency(subject), samples=1, level=0.0)  # the smallest allowed
    with pytest.raises(CnnvizError, match="--noise-samples must be at least 1, got 0"):
        NoiseTunnel(Saliency(subject), samples=0)
    for bad in (-0.1, float("nan")):
        with pytest.raises(CnnvizError, match="--noise-level must be >= 0"):
            NoiseTunnel(Saliency(subject), level=bad)


def test_noise_tunnel_defaults_and_a_constant_input():
    """Captum-like defaults (25 samples, sigma 0.15 of the range, seed 0); a constant image has range 0, so its
    sigma is level * EPS: a tiny positive spread, not an error, and the map is the plain one."""
    subject, _, _ = _cubic()
    inner = Saliency(subject)
    tunnel = NoiseTunnel(inner)
    assert (tunnel.samples, tunnel.level, tunnel.seed) == (25, 0.15, 0) and tunnel.subject is subject
    flat = np.full((1,) + HW + (C,), 0.7, "float32")
    np.testing.assert_allclose(NoiseTunnel(inner, samples=2).attribute(flat, 0), inner.attribute(flat, 0), rtol=1e-5)
    sg = SmoothGrad(subject, samples=2, level=0.3, seed=4)
    assert (sg.samples, sg.level, sg.seed) == (2, 0.3, 4)
    x = _inputs(1)
    np.testing.assert_array_equal(sg.attribute(x, 0), NoiseTunnel(inner, samples=2, level=0.3, seed=4).attribute(x, 0))
