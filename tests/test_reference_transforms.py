"""Reference values for cnnviz.optvis.transforms beyond tests/test_param_transforms.py: lucid's standard set
exactly, each transform's matrix by hand (about the centre of a non-square image), the order in which
sample() composes them, and apply()'s padding and warp against numpy (np.pad, a direct bilinear sample)."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from cnnviz.optvis import transforms as T


def _warp(img: np.ndarray, transforms, row: np.ndarray | None) -> np.ndarray:
    m = None if row is None else ops.convert_to_tensor(np.asarray(row, "float32")[None])
    return ops.convert_to_numpy(T.apply(ops.convert_to_tensor(img.astype("float32")), transforms, m))


def test_standard_set_is_lucids_exactly():
    pad, j1, scale, rot, j2 = T.STANDARD
    assert (pad, j1, j2) == (T.Pad(12), T.Jitter(8), T.Jitter(4))
    assert (pad.value, pad.mode) == (127.5, "constant")  # lucid pads with grey 0.5 (of 0-1)
    np.testing.assert_allclose(scale.factors, [0.9, 0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06, 1.08, 1.1], atol=1e-12)
    assert rot.angles == tuple(range(-10, 11)) + (0, 0, 0, 0, 0)
    # scaled by the longer side, rounded (12 * 300 / 224 = 16.07, 8 * 300 / 224 = 10.7, 4 * 300 / 224 = 5.4)
    p, a, s, r, b = T.standard((100, 300))
    assert (p.width, a.pixels, b.pixels) == (16, 11, 5) and (s, r) == (scale, rot)
    assert [T.standard(n)[0].width for n in (448, 30, 10)] == [24, 2, 1]  # 12 * 30 / 224 = 1.6 -> 2; at least 1
    assert T.standard(1000)[0].width == 54  # 12 * 1000 / 224 = 53.6 (by 225 it would be 53.3)
    assert (T.standard(10)[1].pixels, T.standard(10)[4].pixels) == (1, 1)


def test_jitter_draws_every_whole_offset_up_to_its_range():
    rng, again = np.random.default_rng(3), np.random.default_rng(3)
    seen = set()
    for _ in range(300):
        m = T.Jitter(2).matrix(rng, 7, 9)
        dy, dx = again.integers(-2, 3, size=2)
        np.testing.assert_array_equal(m, [[1, 0, dx], [0, 1, dy], [0, 0, 1]])
        seen.add((int(dy), int(dx)))
    assert seen == {(y, x) for y in range(-2, 3) for x in range(-2, 3)}


def test_scale_and_rotate_are_about_the_centre_of_a_non_square_image():
    # h 5, w 9: the centre is (x, y) = (4, 2)
    zoom = T.Scale((2.0,)).matrix(np.random.default_rng(0), 5, 9)
    np.testing.assert_allclose(zoom, [[2, 0, -4], [0, 2, -2], [0, 0, 1]], atol=1e-12)
    turn = T.Rotate((90.0,)).matrix(np.random.default_rng(0), 5, 9)
    # x' = 4 - (y - 2), y' = 2 + (x - 4): a quarter turn, clockwise on screen (y points down)
    np.testing.assert_allclose(turn, [[0, -1, 6], [1, 0, -2], [0, 0, 1]], atol=1e-12)
    rng, again = np.random.default_rng(1), np.random.default_rng(1)
    for _ in range(20):  # each draw is one of the listed angles / factors, as rng.choice draws them
        a = np.deg2rad(again.choice([30.0, -45.0]))
        np.testing.assert_allclose(T.Rotate((30.0, -45.0)).matrix(rng, 1, 1)[:2, :2],
                                   [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], atol=1e-12)
        f = again.choice([0.5, 3.0])
        np.testing.assert_allclose(np.diag(T.Scale((0.5, 3.0)).matrix(rng, 1, 1)), [f, f, 1.0])


def test_sample_composes_in_list_order_and_inverts():
    tf = (T.Pad(3), T.Jitter(3), T.Rotate((90.0,)), T.Scale((2.0,)))
    rng, again = np.random.default_rng(4), np.random.default_rng(4)
    row = T.sample(tf, rng, 5, 9)
    dy, dx = again.integers(-3, 4, size=2)
    assert (dy, dx) != (0, 0)
    shift = np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], float)
    turn = np.array([[0, -1, 6], [1, 0, -2], [0, 0, 1]], float)
    zoom = np.array([[2, 0, -4], [0, 2, -2], [0, 0, 1]], float)
    inv = np.linalg.inv(zoom @ turn @ shift)  # jitter first, then the turn, then the zoom
    np.testing.assert_allclose(row, [*inv[0], *inv[1], 0, 0], atol=1e-6)
    assert row.dtype == np.float32
    assert T.padding(tf) == 3 and T.padding((T.Pad(2), T.Jitter(1), T.Pad(5))) == 7 and T.padding(()) == 0
    np.testing.assert_array_equal(T.sample((T.Pad(4),), rng, 5, 9), T.IDENTITY)  # no matrix: the identity row


def test_pad_is_grey_then_reflect_as_numpy_in_list_order():
    img = np.random.default_rng(5).uniform(0, 255, (2, 4, 5, 3)).astype("float32")
    grey = _warp(img, (T.Pad(2),), None)
    np.testing.assert_array_equal(grey, np.pad(img, [(0, 0), (2, 2), (2, 2), (0, 0)], constant_values=127.5))
    both = _warp(img, (T.Pad(1, value=9.0), T.Jitter(0), T.Pad(2, mode="reflect")), T.IDENTITY)
    inner = np.pad(img, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=9.0)
    np.testing.assert_allclose(both, np.pad(inner, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect"), atol=1e-4)


def test_warp_is_bilinear_with_reflected_borders():
    img = np.random.default_rng(6).uniform(0, 255, (1, 6, 7, 2)).astype("float32")
    # the identity row gives the image back (the engine feeds it when a stage is not robust)
    np.testing.assert_allclose(_warp(img, (T.Jitter(1),), T.IDENTITY), img, atol=1e-4)
    # a shift by two columns: output x reads input x - 2; x = -1, -2 reflect onto columns 0, 1 (d c b a | a b c d)
    out = _warp(img, (T.Jitter(2),), T.affine_row(6, 7, 1.0, 0.0, 0.0, 2.0))
    np.testing.assert_allclose(out[:, :, 2:], img[:, :, :-2], atol=1e-4)
    np.testing.assert_allclose(out[:, :, 1], img[:, :, 0], atol=1e-4)
    np.testing.assert_allclose(out[:, :, 0], img[:, :, 1], atol=1e-4)
    # half a pixel down and a quarter right: inside, each output pixel mixes four neighbours bilinearly
    out = _warp(img, (T.Jitter(1),), T.affine_row(6, 7, 1.0, 0.0, 0.5, 0.25))
    x = img[0]
    expect = (0.5 * 0.75 * x[:-1, 1:] + 0.5 * 0.25 * x[:-1, :-1] + 0.5 * 0.75 * x[1:, 1:] + 0.5 * 0.25 * x[1:, :-1])
    np.testing.assert_allclose(out[0, 1:, 1:], expect, atol=1e-3)
    # a quarter turn of a square image is np.rot90 clockwise (on screen)
    sq = img[:, :6, :6]
    turned = _warp(sq, (T.Rotate((90.0,)),), T.sample((T.Rotate((90.0,)),), np.random.default_rng(0), 6, 6))
    np.testing.assert_allclose(turned[0], np.rot90(sq[0], -1), atol=1e-3)


def test_affine_row_by_hand():
    # h 5, w 9 (centre x 4, y 2): zoom 2 and a shift (dy 1, dx 3); output -> input coordinates
    np.testing.assert_allclose(T.affine_row(5, 9, 2.0, 0.0, 1.0, 3.0), [0.5, 0, -1, 0, 0.5, 0, 0, 0], atol=1e-6)
    # a quarter turn, no zoom, shift (dy 1, dx 3): x_in = -y + 4 + 2 - 3, y_in = x + 2 - 4 - 1
    np.testing.assert_allclose(T.affine_row(5, 9, 1.0, np.pi / 2, 1.0, 3.0), [0, -1, 3, 1, 0, -3, 0, 0], atol=1e-6)
    # both: input = R(angle) / scale (output - centre) + centre - shift; x_in = -(y - 2) / 2 + 4 - 3, y_in = (x - 4) / 2 + 2 - 1
    np.testing.assert_allclose(T.affine_row(5, 9, 2.0, np.pi / 2, 1.0, 3.0), [0, -0.5, 2, 0.5, 0, -1, 0, 0], atol=1e-6)


def test_the_older_transforms_class_draws_its_ranges():
    t = T.Transforms(jitter=2.0, scale=(0.8, 1.2), rotate=15.0)
    rng, again = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(5):
        row = t.sample(rng, 6, 10)
        dy, dx = again.uniform(-2.0, 2.0, size=2)
        s = again.uniform(0.8, 1.2)
        a = np.deg2rad(again.uniform(-15.0, 15.0))
        np.testing.assert_allclose(row, T.affine_row(6, 10, s, a, dy, dx), atol=1e-6)
        assert row.dtype == np.float32  # as affine_transform takes it
    rng, again = np.random.default_rng(8), np.random.default_rng(8)
    m = t.matrix(rng, 6, 10)  # the forward map: the inverse of the row's 3 x 3 matrix
    row = t.sample(again, 6, 10)
    # inverted in float64 (as the other forward maps, composed in float64): exact to rounding, not to float32's 1e-7
    np.testing.assert_allclose(m @ np.array([row[0:3], row[3:6], [0, 0, 1]], "float64"), np.eye(3), atol=1e-12)
    # nothing drawn for a range that is off: the row is the identity, and no random numbers are used
    rng = np.random.default_rng(9)
    np.testing.assert_allclose(T.Transforms().sample(rng, 6, 10), T.IDENTITY, atol=1e-6)
    assert rng.uniform() == np.random.default_rng(9).uniform()
    only = T.Transforms(rotate=30.0).sample(np.random.default_rng(2), 6, 10)
    a = np.deg2rad(np.random.default_rng(2).uniform(-30.0, 30.0))
    np.testing.assert_allclose(only, T.affine_row(6, 10, 1.0, a, 0.0, 0.0), atol=1e-6)


@pytest.mark.parametrize("t,active", [(T.Transforms(), False), (T.Transforms(jitter=0.5), True),
                                      (T.Transforms(scale=(1.0, 1.1)), True), (T.Transforms(scale=(0.9, 1.0)), True),
                                      (T.Transforms(rotate=1.0), True)])
def test_as_list_keeps_an_active_transforms_only(t, active):
    assert t.active is active
    assert T.as_list(t) == ((t,) if active else ())


def test_as_list_of_a_list_or_none():
    assert T.as_list(None) == () and T.as_list([T.Jitter(1), T.Pad(2)]) == (T.Jitter(1), T.Pad(2))
