"""Reference values for cnnviz.methods.attribution.faithfulness (deletion / insertion, Petsiuk et al. 2018):
patch sizes, the patch order, the curves and their trapezoid AUC, the random smooth reference, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.methods.attribution import faithfulness as F
from cnnviz.methods.attribution.baselines import blur


@pytest.mark.parametrize("hw, side", [((224, 300), 14), ((28, 28), 1), ((10, 40), 1), ((32, 40), 2), ((47, 48), 2)])
def test_patch_size_is_a_sixteenth_of_the_short_side(hw, side):
    assert F.patch_size(*hw) == side


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no empty patch: no 0 / 0 mean
def test_pixel_order_by_hand_with_narrow_last_patches():
    # 3 x 5 in 2-px patches: patch ids [[0 0 1 1 2], [0 0 1 1 2], [3 3 4 4 5]]
    scores = np.array([[0.0, 0.0, 1.0, 1.0, 9.0], [0.0, 0.0, 1.0, 1.0, 0.0], [2.0, 2.0, 0.0, 0.0, 0.0]])
    # patch means: 0, 1, 4.5, 2, 0, 0 -> order 2, 3, 1, then 0, 4, 5 in random order
    order = F.pixel_order(scores, np.random.default_rng(3), patch=2)
    assert sorted(order.tolist()) == list(range(15))
    assert set(order[:2]) == {4, 9} and set(order[2:4]) == {10, 11} and set(order[4:8]) == {2, 3, 7, 8}
    assert set(order[8:]) == {0, 1, 5, 6, 12, 13, 14}
    ties = [tuple(F.pixel_order(np.zeros((4, 4)), np.random.default_rng(s), patch=1)) for s in range(5)]
    assert len(set(ties)) == 5  # ties in random order, not top-left first
    single = F.pixel_order(scores, np.random.default_rng(0))  # default: single pixels
    assert single[0] == 4 and set(single[1:3]) == {10, 11} and set(single[3:7]) == {2, 3, 7, 8}


def test_curves_delete_to_black_and_insert_onto_the_blur():
    image = np.arange(1, 5, dtype="float32").reshape(2, 2)  # 2-D image: a channel is added
    seen = []

    def probs(batch):
        seen.append(batch.copy())
        return np.stack([batch.sum(axis=(1, 2, 3)), np.zeros(len(batch))], 1)

    d, i = F.curves(probs, image, np.array([3, 0, 1, 2]), 0, steps=2)  # fractions 0, 1/2, 1: 0, 2, 4 pixels
    canvas = blur(image[..., None])[..., 0].ravel()
    assert seen[0].shape == (6, 2, 2, 1)
    np.testing.assert_allclose(d, [10.0, 5.0, 0.0])  # pixels 4 and 1 deleted first
    np.testing.assert_allclose(i, [canvas.sum(), 1 + 4 + canvas[1] + canvas[2], 10.0], rtol=1e-6)


def test_auc_is_the_trapezoid_rule():
    assert F.auc([1.0, 0.0]) == 0.5
    assert F.auc([0.0, 1.0, 1.0]) == 0.75
    assert F.auc([1.0, 0.5, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert F.auc(np.full(11, 0.3)) == pytest.approx(0.3)


def probs_bright_share(batch):
    p = (batch[:, :4, :4, 0] >= 99).mean(axis=(1, 2))
    return np.stack([p, 1 - p], 1)


def test_scores_of_a_heatmap_by_hand():
    image = np.zeros((16, 16, 1), "float32")
    image[:4, :4] = 100.0
    heat = np.zeros((16, 16))
    heat[:4, :4] = 1.0
    out = F.scores(probs_bright_share, image, heat, 0, steps=4, seed=0, patch=4)
    # the bright patch goes first: deleted 1, 0, 0, 0, 0; inserted 0, 1, 1, 1, 1 (its blur is below 99)
    assert out["deletion_curve"] == [1.0, 0.0, 0.0, 0.0, 0.0] and out["insertion_curve"] == [0.0, 1.0, 1.0, 1.0, 1.0]
    assert out["deletion_auc"] == 0.125 and out["insertion_auc"] == 0.875 and out["patch"] == 4
    assert "reference" not in out
    assert F.scores(probs_bright_share, image, heat, 0, steps=4)["patch"] == 1  # 16 // 16
    assert F.scores(probs_bright_share, image[:8, :8], heat[:8, :8], 0, steps=4)["patch"] == 1  # 8 // 16 -> at least 1


def test_reference_is_the_mean_of_its_random_smooth_maps():
    image = np.zeros((32, 32, 1), "float32")
    image[:4, :4] = 100.0
    ref = F.scores(probs_bright_share, image, None, 0, steps=4, seed=5, orders=2)
    rng = np.random.default_rng(5)
    maps = [F.random_smooth_map((32, 32), rng) for _ in range(2)]
    runs = [F.curves(probs_bright_share, image, F.pixel_order(m, rng, 2), 0, 4) for m in maps]
    np.testing.assert_allclose(ref["deletion_curve"], np.mean([r[0] for r in runs], axis=0))
    np.testing.assert_allclose(ref["insertion_curve"], np.mean([r[1] for r in runs], axis=0))
    assert ref["reference"] == "mean of 2 random smooth maps (sigma 4 px) in 2x2-px patches"
    assert F.REFERENCE_ORDERS == 3
    assert "mean of 3 random smooth maps (sigma 1 px) in 1x1-px patches" == F.scores(
        probs_bright_share, image[:8, :8], None, 0, steps=2)["reference"]


def test_random_smooth_map_is_blurred_noise_with_sigma_an_eighth_of_the_side():
    import cv2

    m = F.random_smooth_map((16, 24), np.random.default_rng(7))
    assert m.dtype == np.float32
    noise = np.random.default_rng(7).standard_normal((16, 24)).astype("float32")
    ref = cv2.GaussianBlur(noise, (0, 0), sigmaX=2.0, sigmaY=2.0, borderType=cv2.BORDER_REFLECT)
    assert m.shape == (16, 24)
    np.testing.assert_allclose(m, ref, atol=1e-6)
    tiny = F.random_smooth_map((4, 4), np.random.default_rng(7))  # sigma at least 1 px
    noise = np.random.default_rng(7).standard_normal((4, 4)).astype("float32")
    np.testing.assert_allclose(tiny, cv2.GaussianBlur(noise, (0, 0), sigmaX=1.0, sigmaY=1.0, borderType=cv2.BORDER_REFLECT), atol=1e-6)


def test_scores_rank_patches_not_pixels_and_seed_0_by_default():
    """One hot pixel in a cold patch against a warm patch: in 2-px patches the warm patch goes first."""
    image = np.zeros((32, 32, 1), "float32")
    image[0, 0] = 100.0

    def probs(batch):
        p = (batch[:, 0, 0, 0] >= 99).astype(float)
        return np.stack([p, 1 - p], 1)

    heat = np.zeros((32, 32))
    heat[0, 0] = 10.0  # patch mean 2.5
    heat[2:4, 2:4] = 6.0  # patch mean 6
    out = F.scores(probs, image, heat, 0, steps=256, patch=2)  # 4 pixels a step
    assert out["deletion_curve"][:3] == [1.0, 1.0, 0.0]
    pixels = F.scores(probs, image, heat, 0, steps=256, patch=1)
    assert pixels["deletion_curve"][:2] == [1.0, 0.0]
    assert F.scores(probs, image, None, 0, steps=64)["deletion_auc"] == pytest.approx(0.12239583)  # seed 0 (seed 1: 0.435)
