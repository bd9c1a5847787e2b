"""Reference values for cnnviz.methods.attribution.layer_methods beyond tests/test_attribution*.py: Score-CAM's
softmax on large logits and Faster Score-CAM's channel choice on ties and at the edges, by hand."""

from __future__ import annotations

import numpy as np

from cnnviz.methods.attribution.layer_methods import score_cam_weights, top_variance_channels


def test_score_cam_weights_on_large_logits_stay_a_softmax():
    w = score_cam_weights(np.array([1000.0, 1001.0, 999.0]), 0.0)  # exp(1000) overflows without the shift
    e = np.exp([0.0, 1.0, -1.0])
    np.testing.assert_allclose(w, e / e.sum(), rtol=1e-7)
    np.testing.assert_allclose(score_cam_weights(np.array([3.0]), 0.0), [1.0 / (1.0 + 1e-8)], rtol=1e-12)  # the EPS


def test_top_variance_channels_ties_and_edges():
    maps = np.zeros((2, 2, 4))
    maps[..., 1] = maps[..., 3] = [[0, 2], [2, 0]]  # equal variances: the earlier channel wins
    maps[..., 0] = [[0, 1], [1, 0]]
    assert top_variance_channels(maps, 1).tolist() == [1]
    assert top_variance_channels(maps, 2).tolist() == [1, 3]
    assert top_variance_channels(maps, 4).tolist() == [0, 1, 2, 3]  # n = K: every channel
