"""Reference values for cnnviz.methods.atlas.topk: the streaming top-k, statistics and histogram against a
brute-force NumPy computation over all the images at once, and hand-computed histogram widths."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.methods.atlas.topk import (
    COMPILE_FROM,
    HIST_BINS,
    LayerScan,
    StreamHistogram,
)


def brute_top(maps: np.ndarray, f: int, k: int, grid_w: int) -> list:
    """Per image the strongest unit of filter f; the k best images, ties to the earlier image."""
    flat = maps[..., f].reshape(len(maps), -1)
    best, arg = flat.max(1), flat.argmax(1)
    order = sorted(range(len(maps)), key=lambda i: (-best[i], i))[:k]
    return [(i, float(best[i]), (int(arg[i] // grid_w), int(arg[i] % grid_w))) for i in order]


@pytest.mark.parametrize("batch", [1, 2, 5, 7])
def test_layer_scan_equals_brute_force_whatever_the_batching(batch):
    rng = np.random.default_rng(4)
    maps = rng.normal(size=(7, 2, 3, 3)).round(1)  # rounded: ties between images occur
    maps[3, 1, 2, 0] = maps[5, 0, 0, 0] = 9.0  # an exact tie for filter 0: image 3 first
    scan = LayerScan(3, 4, (2, 3))
    for first in range(0, 7, batch):
        scan.update(maps[first:first + batch], first)
    best = maps.reshape(7, -1, 3).max(1)
    assert scan.seen == 7
    np.testing.assert_allclose(scan.total, maps.mean(axis=(1, 2)).sum(0))
    np.testing.assert_allclose(scan.peak, maps.max(axis=(0, 1, 2)))
    np.testing.assert_array_equal(scan.active, (best > 0).sum(0))
    for f in range(3):
        assert scan.top(f) == brute_top(maps, f, 4, 3)
        counts, _ = np.histogram(best[:, f], bins=scan.hists[f].edges)
        assert scan.hists[f].counts.tolist() == counts.tolist()
    assert scan.top(0)[:2] == [(3, 9.0, (1, 2)), (5, 9.0, (0, 0))]


def test_fewer_images_than_k_leave_no_placeholders():
    scan = LayerScan(1, 5, (1, 2))
    scan.update(np.array([[[[1.0], [3.0]]], [[[-2.0], [-1.0]]]]), 10)
    assert scan.top(0) == [(10, 3.0, (0, 1)), (11, -1.0, (0, 1))]
    assert scan.images[0].tolist() == [10, 11, -1, -1, -1] and scan.active.tolist() == [1]


def test_histogram_width_by_hand():
    assert HIST_BINS == 32 and COMPILE_FROM == 4
    h = StreamHistogram(bins=4)
    h.add(np.array([0.0, 1.0, 2.0, 3.5, np.nan, np.inf]))  # non-finite values are skipped
    # span 3.5 over 4 bins: width 2 ** ceil(log2(0.875)) = 1; bins [0, 1), [1, 2), [2, 3), [3, 4)
    assert h.exp == 0 and h.first == 0 and h.counts.tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(h.edges, [0.0, 1.0, 2.0, 3.0, 4.0])
    h.add(np.array([-0.5, 6.0]))  # bins -1 .. 6 at width 1 (8), -1 .. 3 at 2 (5): width 4, aligned at 0
    assert h.exp == 2 and h.first == -1 and h.counts.tolist() == [1, 4, 1]
    np.testing.assert_array_equal(h.edges, [-4.0, 0.0, 4.0, 8.0])
    h.add(np.array([]))
    assert h.counts.sum() == 6
    dead = StreamHistogram(bins=4)
    dead.add(np.full(3, 8.0))  # constant: width from a millionth of its scale, 8e-6 / 4 -> 2 ** -18
    assert dead.exp == -18 and dead.counts.tolist() == [3]


def test_counts_and_indices_stay_integers_and_every_image_is_counted():
    rng = np.random.default_rng(5)
    scan = LayerScan(2, 3, (2, 2))
    scan.update(rng.normal(size=(4, 2, 2, 2)), 0)
    scan.update(rng.normal(size=(3, 2, 2, 2)) * 50, 4)  # the range grows: the histograms re-bin
    for a in (scan.images, scan.positions, scan.active) + tuple(h.counts for h in scan.hists):
        assert a.dtype == np.int64
    assert [int(h.counts.sum()) for h in scan.hists] == [7, 7]


def test_histogram_doubles_once_when_once_is_enough():
    h = StreamHistogram(bins=4)
    h.add(np.array([0.0, 1.0, 2.0, 3.5]))
    h.add(np.array([5.0]))  # bins 0 .. 5 at width 1 (6): width 2 holds 0 .. 2
    assert h.exp == 1 and h.first == 0 and h.counts.tolist() == [2, 2, 1]
    zeros = StreamHistogram(bins=4)
    zeros.add(np.zeros(5))  # a dead filter: width from a millionth of 1, 1e-6 / 4 -> 2 ** -21
    assert zeros.exp == -21 and zeros.counts.tolist() == [5]


def test_scan_layers_on_one_layer_a_wide_grid_and_progress():
    """A model with one output (a tensor, not a list), a grid wider than high, batches of 2 of 5 images."""
    import keras

    from cnnviz.inputs.preprocessing import to_model_input
    from cnnviz.methods.atlas.topk import scan_layers

    keras.utils.set_random_seed(0)
    x = keras.Input((6, 10, 1))
    model = keras.Model(x, keras.layers.Conv2D(2, 3, name="c")(x))
    images = np.random.default_rng(1).uniform(0, 255, (5, 6, 10, 1)).round().astype("float32")

    class Source:
        count = 5

        def batches(self, n):
            for i in range(0, self.count, n):
                yield i, images[i:i + n]

    seen = []
    scans = scan_layers(model, "unit", ["c"], Source(), k=2, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)] and scans["c"].grid == (4, 8) and scans["c"].seen == 5
    maps = keras.ops.convert_to_numpy(model(to_model_input(images, "unit"))).astype("float64")
    for f in range(2):  # the same images and units; values up to float32 rounding (batched convolutions)
        got, ref = scans["c"].top(f), brute_top(maps, f, 2, 8)
        assert [(i, u) for i, _, u in got] == [(i, u) for i, _, u in ref]
        np.testing.assert_allclose([v for _, v, _ in got], [v for _, v, _ in ref], rtol=1e-5)
