"""Reference values for cnnviz.inputs.fitting: windows, placements and mapped-back maps computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.inputs.fitting import Fit, default_fit, fed_size, fit_image, shade_unseen
from cnnviz.inputs.images import resize


def ramp(h: int, w: int, c: int = 3) -> np.ndarray:
    """Every pixel different (so a shifted window shows)."""
    return (np.arange(h * w * c, dtype="float32").reshape(h, w, c) % 251).astype("uint8")


@pytest.mark.parametrize(
    "original, height, width, mode, fed",
    [
        ((300, 451), 224, 224, "keep", (224, 337)),  # 451 * 224 / 300 = 336.75
        ((451, 300), 224, 224, "keep", (337, 224)),
        ((300, 451), 100, 200, "keep", (100, 150)),  # short side min(100, 200); 451 / 3 = 150.33
        ((2, 1000), 1, 1, "keep", (1, 500)),
        ((300, 451), 100, 200, "crop", (100, 200)),  # not keep: the size asked for
        ((300, 451), 100, 200, "squash", (100, 200)),
    ],
)
def test_fed_size(original, height, width, mode, fed):
    assert fed_size(original, height, width, mode) == fed


@pytest.mark.parametrize(
    "hw, target, window",
    [
        ((100, 200), (50, 40), (0, 60, 100, 140)),  # crop 100 x round(100 * 40 / 50) = 80, centred
        ((200, 100), (40, 40), (50, 0, 150, 100)),
        ((101, 50), (10, 10), (25, 0, 75, 50)),  # (101 - 50) // 2 = 25: the odd pixel goes below
        ((30, 30), (10, 10), (0, 0, 30, 30)),
    ],
)
def test_crop_window_by_hand_and_content(hw, target, window):
    img = ramp(*hw)
    out, fit = fit_image(img, *target, mode="crop")
    y0, x0, y1, x1 = window
    assert fit.window == window and fit.placed == (0, 0, *target) and fit.fed == target and fit.original == hw
    np.testing.assert_array_equal(out, resize(img[y0:y1, x0:x1], *target))


def test_pad_places_a_tall_photo_in_the_middle():
    img = ramp(451, 300).astype("float32")
    out, fit = fit_image(img, 224, 224, "pad")
    # scale min(224/451, 224/300): 224 x round(300 * 224 / 451) = 149; (224 - 149) // 2 = 37
    assert fit.placed == (0, 37, 224, 186) and fit.window == (0, 0, 451, 300) and out.dtype == np.float32
    assert out[:, :37].max() == 0 and out[:, 186:].max() == 0
    np.testing.assert_array_equal(out[:, 37:186], resize(img, 224, 149))


def test_squash_stretches_the_whole_photo():
    img = ramp(20, 40)
    out, fit = fit_image(img, 10, 10, "squash")
    assert fit.window == (0, 0, 20, 40) and fit.placed == (0, 0, 10, 10) and fit.mode == "squash"
    np.testing.assert_array_equal(out, resize(img, 10, 10))


def test_record_note_and_caption():
    _, fit = fit_image(ramp(300, 451), 224, 224, "crop")
    assert fit.record() == {"fit": "crop", "fit_means": "short side resized, centre cropped", "window": [75, 0, 375, 300],
                            "window_is": "the part of the original photo the model saw (x0, y0, x1, y1)"}
    assert fit.note() == ("fitted the 451x300 image to 224x224: short side resized, centre cropped "
                          "(--fit crop; --fit pad|squash to change)")
    assert fit.caption() == "--fit crop: short side resized, centre cropped; dimmed: not seen by the model"
    _, pad = fit_image(ramp(300, 451), 224, 224, "pad")
    assert pad.note().endswith("(--fit pad; --fit crop|squash to change)")
    assert pad.caption() == "--fit pad: resized to fit, padded with black"
    _, same = fit_image(ramp(16, 16), 16, 16, "crop")
    assert same.note() is None


def test_to_original_puts_the_map_exactly_where_the_window_is():
    fit = Fit("crop", (2, 6), (2, 2), (0, 2, 2, 4), (0, 0, 2, 2))
    m = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    back = fit.to_original(m, outside=7.0)
    expected = np.full((2, 6), 7.0, "float32")
    expected[:, 2:4] = m
    np.testing.assert_array_equal(back, expected)
    colour = fit.to_original(np.stack([m, -m, 2 * m], -1))  # (H, W, C): each channel mapped
    assert colour.shape == (2, 6, 3) and colour[:, :2].max() == 0 and colour[:, 4:].max() == 0
    np.testing.assert_array_equal(colour[:, 2:4, 1], -m)
    pad = Fit("pad", (2, 4), (4, 4), (0, 0, 2, 4), (1, 0, 3, 4))
    fed = np.arange(16, dtype="float32").reshape(4, 4)
    np.testing.assert_array_equal(pad.to_original(fed), fed[1:3])  # the black bands are dropped
    np.testing.assert_array_equal(fit.seen(), expected != 7.0)


def test_shade_unseen_by_hand():
    fit = Fit("crop", (1, 3), (1, 1), (0, 1, 1, 2), (0, 0, 1, 1))
    photo = np.array([[[0, 100, 255], [0, 100, 255], [50, 50, 50]]], "uint8")
    # unseen: 255 - (255 - v) * 0.35 -> 0: 165.75 -> 166; 100: 200.75 -> 201; 255 stays; 50: 183.25 -> 183
    np.testing.assert_array_equal(shade_unseen(photo, fit), [[[166, 201, 255], [0, 100, 255], [183, 183, 183]]])
    np.testing.assert_array_equal(shade_unseen(photo, fit, keep=1.0), photo)
    assert shade_unseen(photo, fit).dtype == np.uint8


def test_default_fit_passes_a_valid_choice_through():
    assert default_fit(False, "keep") == "keep" and default_fit(True, "pad") == "pad" and default_fit(False, None) == "keep"


def test_one_pixel_sides_and_the_default_mode():
    assert fed_size((1000, 2), 1, 1, "keep") == (500, 1)
    _, tall = fit_image(ramp(10, 1), 1, 10)  # crop by default: a 1-px-high window in the middle
    assert tall.mode == "crop" and tall.window == (4, 0, 5, 1)
    _, wide = fit_image(ramp(1, 10), 10, 1, "crop")
    assert wide.window == (0, 4, 1, 5)
    _, pad_wide = fit_image(ramp(1, 10), 10, 10, "pad")  # a 1-px-high strip in the middle
    assert pad_wide.placed == (4, 0, 5, 10)
    _, pad_tall = fit_image(ramp(10, 1), 10, 10, "pad")
    assert pad_tall.placed == (0, 4, 10, 5)


def test_to_original_averages_in_float_and_offsets_by_the_window():
    shrink = Fit("crop", (3, 1), (2, 2), (1, 0, 2, 1), (0, 0, 2, 2))  # 2 x 2 fed -> 1 original pixel at row 1
    back = shrink.to_original(np.array([[1, 2], [3, 4]], "uint8"), outside=-1.0)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, [[-1.0], [2.5], [-1.0]])  # a uint8 map is averaged as float, not rounded
    lower = Fit("crop", (4, 2), (2, 2), (2, 0, 4, 2), (0, 0, 2, 2))
    np.testing.assert_array_equal(lower.to_original(np.ones((2, 2))), [[0, 0], [0, 0], [1, 1], [1, 1]])


def test_default_fit_errors_name_the_option():
    with pytest.raises(Exception, match=r"unknown --fit 'crp' \(did you mean crop\?\)"):
        default_fit(True, "crp")
    with pytest.raises(Exception, match=r"^--fit keep needs a model that takes any size; this one has a fixed input: "
                                        r"use crop, pad or squash$"):
        default_fit(True, "keep")


def test_shade_unseen_clips_float_photos_instead_of_wrapping():
    fit = Fit("crop", (1, 2), (1, 1), (0, 0, 1, 1), (0, 0, 1, 1))
    photo = np.array([[[-3.0, 260.0, 100.0], [0.0, 0.0, 0.0]]])
    np.testing.assert_array_equal(shade_unseen(photo, fit), [[[0, 255, 100], [166, 166, 166]]])
