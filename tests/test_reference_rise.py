"""Reference values for cnnviz.methods.attribution.rise: the masks against the paper's recipe with the
bilinear upsampling written in NumPy (half-pixel centres, edges clamped, as OpenCV's INTER_LINEAR), and
the map of a linear softmax model against sum_i (p_i - mean p) M_i / (n * keep) computed directly."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import wrap

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.rise import GRID, KEEP, RISE, rise_masks
from cnnviz.methods.attribution.subject import make_subject


def _bilinear(a: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resize by bilinear interpolation, source coordinate (i + 0.5) * in / out - 0.5 clamped to the edges."""

    def axis(n_out, n_in):
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, src - lo

    y0, y1, fy = axis(out_h, a.shape[0])
    x0, x1, fx = axis(out_w, a.shape[1])
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bottom = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return top * (1 - fy[:, None]) + bottom * fy[:, None]


def _reference_masks(n, hw, seed, grid=GRID, keep=KEEP):
    """Petsiuk et al. sec. 3.2: a grid x grid binary pattern (cells kept with probability keep), upsampled to
    (grid + 1) cells of ceil(H / grid) px, cropped at a random shift of less than one cell."""
    rng = np.random.default_rng(seed)
    h, w = hw
    ch, cw = int(np.ceil(h / grid)), int(np.ceil(w / grid))
    out = []
    for _ in range(n):
        cells = (rng.random((grid, grid)) < keep).astype("float64")
        up = _bilinear(cells, (grid + 1) * ch, (grid + 1) * cw)
        dy, dx = rng.integers(0, ch), rng.integers(0, cw)
        out.append(up[dy : dy + h, dx : dx + w])
    return np.stack(out)


@pytest.mark.parametrize("hw, grid, keep", [((15, 22), GRID, KEEP), ((8, 9), 3, 0.3)])
def test_rise_masks_follow_the_paper(hw, grid, keep):
    got = rise_masks(4, hw, np.random.default_rng(3), grid=grid, keep=keep)
    assert got.shape == (4,) + hw and got.dtype == np.float32
    np.testing.assert_allclose(got, _reference_masks(4, hw, 3, grid, keep), rtol=1e-5, atol=1e-6)
    assert GRID == 7 and KEEP == 0.5  # the paper's and xplique's defaults


def test_rise_masks_keep_about_keep_of_the_image():
    m = rise_masks(300, (21, 21), np.random.default_rng(0), keep=0.25)
    assert abs(m.mean() - 0.25) < 0.03


def _softmax_linear(hw=(8, 9), c=2, k=3):
    rng = np.random.default_rng(5)
    inputs = keras.Input(hw + (c,))
    dense = keras.layers.Dense(k, activation="softmax", name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name="lin")
    w = rng.normal(0.0, 0.3, (hw[0] * hw[1] * c, k)).astype("float32")
    b = rng.normal(0.0, 0.1, k).astype("float32")
    dense.set_weights([w, b])
    return model, w, b


def _probability(images, w, b, cls):
    z = images.reshape(len(images), -1).astype("float64") @ w + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True))[:, cls]


@pytest.mark.parametrize("preprocess, given", [("tf", False), ("none", True)])
def test_rise_map_is_the_score_mask_covariance(preprocess, given):
    """Black is -1 under the tf preprocessing; masked image = base + M (x - base)."""
    model, w, b = _softmax_linear()
    subject = make_subject(wrap(model, preprocess=preprocess), (8, 9))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (2, 8, 9, 2)).astype("float32")
    base = rng.uniform(-0.5, 0.5, (8, 9, 2)).astype("float32") if given else -np.ones((8, 9, 2), "float32")
    rise = RISE(subject, masks=5, seed=4, baseline=base if given else None, batch_size=2)
    got = rise.attribute(x, 2)
    masks = _reference_masks(5, (8, 9), 4).astype("float32")  # one generator per input, restarted from the seed
    expected = []
    for xi in x:
        p = _probability(base + masks[..., None] * (xi - base), w, b, 2)
        expected.append(np.tensordot(p - p.mean(), masks, axes=1) / (5 * 0.5))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.stack(expected), rtol=1e-4, atol=1e-6)
    assert rise.info == {"masks": 5, "grid": 7}


def test_rise_defaults_and_mask_count_check():
    model, _, _ = _softmax_linear()
    rise = RISE(make_subject(wrap(model, preprocess="none"), (8, 9)))
    assert (rise.masks, rise.seed, rise.baseline, rise.batch_size) == (1000, 0, None, 32)
    RISE(rise.subject, masks=1)
    with pytest.raises(CnnvizError, match="RISE needs at least 1 mask, got 0"):
        RISE(rise.subject, masks=0)
