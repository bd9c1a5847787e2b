"""Reference values for cnnviz.methods.attribution.placement: interpolation between unit centres by hand."""

from __future__ import annotations

import numpy as np

from cnnviz.methods.attribution.placement import (
    interpolation_matrix,
    place,
    stretched_centres,
)


def test_interpolation_matrix_by_hand():
    # centres 0.5 and 2.5 over 4 pixels: held at the edges, linear between
    w = interpolation_matrix([0.5, 2.5], 4)
    np.testing.assert_allclose(w, [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]])
    w3 = interpolation_matrix([1.0, 2.0, 4.0], 6)
    np.testing.assert_allclose(w3, [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 1], [0, 0, 1]])


def test_stretched_centres_are_cv2_resize_centres():
    np.testing.assert_allclose(stretched_centres(2, 4), [0.5, 2.5])
    np.testing.assert_allclose(stretched_centres(3, 9), [1.0, 4.0, 7.0])
    np.testing.assert_allclose(stretched_centres(4, 2), [-0.25, 0.25, 0.75, 1.25])


def test_place_equals_separable_interpolation_by_hand():
    m = np.array([[0.0, 4.0], [8.0, 12.0]])
    out = place(m, [0.5, 2.5], [1.0, 2.0], (4, 3))
    # rows: (1, 0), (.75, .25), (.25, .75), (0, 1); columns: held 0 at x=0,1, then 1 at x=2
    rows = np.array([[0.0, 4.0], [2.0, 6.0], [6.0, 10.0], [8.0, 12.0]])
    expected = np.stack([rows[:, 0], rows[:, 0], rows[:, 1]], axis=1)
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_allclose(out, expected)
    batch = place(np.stack([m, -m]), [0.5, 2.5], [1.0, 2.0], (4, 3))  # leading axes kept
    np.testing.assert_allclose(batch, np.stack([expected, -expected]))


def test_place_with_stretched_centres_matches_cv2_bilinear_resize():
    import cv2

    rng = np.random.default_rng(0)
    m = rng.random((3, 5)).astype("float32")
    ours = place(m, stretched_centres(3, 12), stretched_centres(5, 20), (12, 20))
    ref = cv2.resize(m, (20, 12), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
