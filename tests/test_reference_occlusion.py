"""Reference values for cnnviz.methods.attribution.occlusion: the window grid by hand, and the map of a linear
model (logit_c = sum_i W_ic x_i + b_c), where each window's drop is sum over the window of W (x - x0):
Zeiler & Fergus' sliding window, averaged over the windows covering each pixel as Captum's Occlusion does."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import wrap

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.occlusion import Occlusion, _starts, default_window
from cnnviz.methods.attribution.subject import make_subject


def test_default_window_is_an_eighth_of_the_smaller_side():
    assert [default_window(28, 28), default_window(224, 300), default_window(20, 12), default_window(3, 100)] == [4, 28, 2, 1]
    assert default_window(36, 44) == 4  # round(4.5) = 4: the smaller side, rounded half to even
    assert default_window(44, 36) == 4


def test_starts_step_by_the_stride_and_cover_the_far_edge():
    assert _starts(10, 4, 3) == [0, 3, 6]  # 6 + 4 = 10 reaches the edge already
    assert _starts(10, 4, 4) == [0, 4, 6]  # the last window is moved back to end at the edge
    assert _starts(11, 4, 2) == [0, 2, 4, 6, 7]
    assert _starts(4, 4, 2) == [0]
    assert _starts(4, 4, 1) == [0]  # a window as large as the side has one place only
    assert _starts(5, 1, 1) == [0, 1, 2, 3, 4]


def _linear(hw=(7, 9), c=2, k=3):
    rng = np.random.default_rng(4)
    inputs = keras.Input(hw + (c,))
    dense = keras.layers.Dense(k, name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name="linear")
    w = rng.normal(0.0, 1.0, (hw[0] * hw[1] * c, k)).astype("float32")
    dense.set_weights([w, rng.normal(0.0, 0.1, k).astype("float32")])
    return make_subject(wrap(model, preprocess="none"), hw), w.reshape(hw + (c, k))


def _reference(x, x0, w, cls, window, stride):
    """Loops: every window (the far edge covered), its drop, averaged per pixel over the windows covering it."""
    h, wd = x.shape[:2]
    contrib = (w[..., cls] * (x.astype("float64") - x0)).sum(-1)  # per pixel, the linear logit's share
    ys = sorted(set(list(range(0, h - window + 1, stride)) + [h - window]))
    xs = sorted(set(list(range(0, wd - window + 1, stride)) + [wd - window]))
    total, count = np.zeros((h, wd)), np.zeros((h, wd))
    for y in ys:
        for x_ in xs:
            total[y : y + window, x_ : x_ + window] += contrib[y : y + window, x_ : x_ + window].sum()
            count[y : y + window, x_ : x_ + window] += 1
    out = np.zeros((h, wd))
    np.divide(total, count, out=out, where=count > 0)  # a stride above the window leaves gaps: 0 there
    return out


@pytest.mark.parametrize("window, stride, batch_size", [(3, 2, 4), (2, 3, 32), (4, None, 5)])
def test_occlusion_of_a_linear_model_is_the_average_window_drop(window, stride, batch_size):
    subject, w = _linear()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 7, 9, 2)).astype("float32")
    x0 = rng.uniform(-0.5, 0.5, (7, 9, 2)).astype("float32")
    occ = Occlusion(subject, baseline=x0, window=window, stride=stride, batch_size=batch_size)
    got = occ.attribute(x, 1)
    s = stride or window // 2
    expected = np.stack([_reference(xi, x0, w, 1, window, s) for xi in x])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert occ.info == {"window": window, "stride": s}
    if s > window:
        assert (got[:, :, window : s] == 0).all()


def test_occlusion_defaults_black_baseline_and_window_checks():
    subject, w = _linear()
    occ = Occlusion(subject)  # 7x9: window round(7 / 8) = 1, stride max(1, 0) = 1
    assert (occ.window, occ.stride, occ.batch_size, occ.baseline) == (1, 1, 32, None)
    x = np.random.default_rng(1).uniform(-1, 1, (1, 7, 9, 2)).astype("float32")
    np.testing.assert_allclose(occ.attribute(x, 0)[0], (w[..., 0] * x[0]).sum(-1), rtol=1e-4, atol=1e-5)  # x0 = 0
    assert Occlusion(subject, window=5).stride == 2
    assert Occlusion(subject, window=7).window == 7  # as large as the smaller side: allowed
    with pytest.raises(CnnvizError, match="occlusion window 8 px is larger than the 9x7 input"):
        Occlusion(subject, window=8)
