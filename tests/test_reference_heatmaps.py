"""Reference values for cnnviz.output.heatmaps: the heat blend against the formula with matplotlib's colours,
the centre band by hand, the colour bar drawn from hand-computed coordinates, and the panels against their
hand-written titles."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

from cnnviz.output import heatmaps, layout


def lut(name: str, v: np.ndarray) -> np.ndarray:
    table = (colormaps[name].resampled(256)(np.arange(256))[:, :3] * 255.0).round().astype("uint8")
    return table[np.clip(np.rint(v * 255.0), 0, 255).astype(int)]


def test_heat_over_grey_is_the_blend_formula() -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (6, 5, 3)).astype("uint8")
    heat = rng.uniform(-0.5, 1.5, (6, 5))  # clipped to [0, 1]
    out = heatmaps.heat_over_grey(img, heat)
    h = np.clip(heat, 0, 1)
    grey = 64.0 + 0.6 * (0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2])
    a = 0.85 * h[..., None]
    expect = np.clip(np.rint((1 - a) * grey[..., None] + a * lut("inferno", h)), 0, 255).astype("uint8")
    np.testing.assert_array_equal(out, expect)
    out = heatmaps.heat_over_grey(img[..., 0], heat, cmap="viridis", max_alpha=0.5)  # grey input, other map
    grey = 64.0 + 0.6 * img[..., 0].astype(float)
    a = 0.5 * h[..., None]
    np.testing.assert_array_equal(out, np.clip(np.rint((1 - a) * grey[..., None] + a * lut("viridis", h)), 0, 255))


def test_within_centres_by_hand() -> None:
    heat = np.ones((20, 30))
    # spacing along y (15.5 - 3) / 5 = 2.5: both y bands wider, kept rows 3..16; along x (27 - 2) / 5 = 5: bands of
    # 2 px are narrower, all columns kept
    out, held = heatmaps.within_centres(heat, (3.0, 15.5, 2.0, 27.0), (6, 6))
    expect = np.zeros((20, 30))
    expect[3:17] = 1
    assert held and np.array_equal(out, expect)
    # along x: spacing (20 - 8) / 3 = 4: left band 8 > 4 blanked (cols 0..7), right band 29 - 20 = 9 > 4 blanked
    out, held = heatmaps.within_centres(heat, (3.0, 15.5, 8.0, 20.0), (6, 4))
    expect = np.zeros((20, 30))
    expect[3:17, 8:21] = 1
    assert held and np.array_equal(out, expect)
    # a band exactly one spacing wide is kept: 2.5 = (15.5 - 3) / 5 ... first centre at 2.5, last 17 - 19 gap 2.5
    out, held = heatmaps.within_centres(heat, (2.5, 16.5, 0.0, 29.0), (6, 2))
    assert not held and np.array_equal(out, heat)
    # no grid: (2, 2), one spacing = the whole span
    out, held = heatmaps.within_centres(heat, (6.0, 10.0, 5.0, 20.0))  # spacing 4 along y, 15 along x
    assert held and out[6:11, 0:30].all() and not out[5].any() and not out[11:].any()
    out, held = heatmaps.within_centres(heat, (5.2, 10.2, 5.0, 20.0), (1, 1))  # one unit: spacing 5.0
    assert held and out[5:12].all() and not out[4].any() and not out[12].any()
    same, held = heatmaps.within_centres(heat, None)
    assert same is heat and held is False
    same, held = heatmaps.within_centres(heat, [])
    assert same is heat and held is False


def test_colorbar_pixel_for_pixel() -> None:
    labels = ("top", "mid", "low")
    f = ImageFont.load_default(size=11)
    text_w = int(max(f.getlength(t) for t in labels)) + 2
    out = heatmaps.colorbar(80, "magma", labels)
    canvas = np.full((80, 6 + 16 + 4 + text_w + 6, 3), 255, "uint8")
    canvas[6:74, 6:22] = lut("magma", np.linspace(1, 0, 68))[:, None]
    img = Image.fromarray(canvas)
    d = ImageDraw.Draw(img)
    for y, t in zip((6, 40, 74), labels):
        d.line([(22, y), (25, y)], fill=(20, 20, 20))
        d.text((27, max(0, min(80 - 13, y - 5))), t, fill=(20, 20, 20), font=f)
    np.testing.assert_array_equal(out, np.asarray(img))
    assert heatmaps.colorbar(120).shape == (120, 6 + 16 + 4 + int(f.getlength("1 = map max")) + 2 + 6, 3)


@pytest.mark.parametrize("m, text", [
    ((0.1, 0.9), "more faithful than random smooth maps"),
    ((0.5, 0.5), "no better than random smooth maps"),  # equal is not better
    ((0.6, 0.4), "no better than random smooth maps"),
    ((0.4, 0.5), "mixed: better on deletion only"),
    ((0.5, 0.6), "mixed: better on insertion only"),
])
def test_verdict(m: tuple[float, float], text: str) -> None:
    ref = {"deletion_auc": 0.5, "insertion_auc": 0.5}
    assert heatmaps.verdict({"deletion_auc": m[0], "insertion_auc": m[1]}, ref) == text


def _fit(a: np.ndarray, h: int) -> np.ndarray:
    a = np.repeat(a[..., None], 3, -1) if a.ndim == 2 else a
    w = max(1, round(a.shape[1] * h / a.shape[0]))
    return a if a.shape[:2] == (h, w) else cv2.resize(a, (w, h), interpolation=cv2.INTER_NEAREST)


def test_attribution_panel_titles_and_tiles() -> None:
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (50, 40, 3)).astype("uint8")
    heat = rng.uniform(0, 1, (50, 40))
    r1 = SimpleNamespace(method="gradcam", layer="conv2", heat=heat, faithfulness={"deletion_auc": 0.1234, "insertion_auc": 0.8},
                         info={"clip_percent": 2.5, "completeness_error": 0.07, "centres_span": (12.0, 36.0, 10.0, 30.0),
                               "grid": (4, 5)})
    r2 = SimpleNamespace(method="scorecam", layer=None, heat=heat, faithfulness=None,
                         info={"signed_maps": True, "completeness_error": 0.01, "blanked_beyond_centres": True})
    rand = {"deletion_auc": 0.3, "insertion_auc": 0.9, "patch": 8}
    out = heatmaps.attribution_panel(img, "cat", 0.25, [r1, r2], rand)
    h = 200  # MIN_TILE: the row is enlarged by 4
    held, _ = heatmaps.within_centres(heat, (12.0, 36.0, 10.0, 30.0), (4, 5))
    titles = [("class 'cat'  p 0.2500\nlower deletion, higher insertion\n= more faithful; reference:\n"
               "random smooth maps, 8-px patches:\ndeletion 0.3 insertion 0.9"),
              ("gradcam @ conv2\ndeletion 0.123  insertion 0.8\nmixed: better on deletion only\ntop 2.5% of heat mass clipped\n"
               "completeness error 7.0% (raise --steps)\n4x5 units: no heat drawn beyond the outer unit centres"),
              ("scorecam\nlayer maps are signed: use the layer after its activation\ncompleteness error 1.0%\n"
               "?x? units: no heat drawn beyond the outer unit centres"),
              "heat (each map\nscaled to its max,\nor its clip point)"]
    panels = [_fit(img, h), _fit(heatmaps.heat_over_grey(img, held), h), _fit(heatmaps.heat_over_grey(img, heat), h),
              heatmaps.colorbar(h)]
    np.testing.assert_array_equal(out, layout.hstack_panels(panels, titles, min_tile=0))
    big = rng.integers(0, 256, (240, 120)).astype("uint8")  # taller than MIN_TILE: shrunk by nothing, kept
    out = heatmaps.attribution_panel(big, "y", 3.14159, [], None, value_word="value")
    expect = layout.hstack_panels([_fit(big, 240), heatmaps.colorbar(240)], ["y\nvalue 3.142", "heat (each map\nscaled to its max,\nor its clip point)"],
                                  min_tile=0)
    np.testing.assert_array_equal(out, expect)


def test_attribution_panel_shrinks_a_wide_tile_with_the_row() -> None:
    """A 300 px tall image: factor 1, the heat tile (same size) kept; a tile of another size is resized by area."""
    img = np.random.default_rng(6).integers(0, 256, (300, 30, 3)).astype("uint8")
    r = SimpleNamespace(method="saliency", layer="", heat=np.full((300, 30), 0.5), faithfulness=None, info={})
    out = heatmaps.attribution_panel(img, "c", 0.5, [r], None)
    expect = layout.hstack_panels([img, heatmaps.heat_over_grey(img, r.heat), heatmaps.colorbar(300)],
                                  ["class 'c'  p 0.5000", "saliency", "heat (each map\nscaled to its max,\nor its clip point)"], min_tile=0)
    np.testing.assert_array_equal(out, expect)


def test_sanity_panel_grid_and_captions() -> None:
    img = np.full((8, 8, 3), 120, "uint8")
    heats = {"gradcam": [np.zeros((8, 8)), np.ones((8, 8))], "saliency": [np.eye(8), np.eye(8) * 0.5]}
    rho = {"gradcam": [0.123], "saliency": [-0.9]}
    out = heatmaps.sanity_panel(img, heats, rho, ["top layer (dense)"], ["saliency"])
    tiles = [heatmaps.heat_over_grey(img, h) for maps in heats.values() for h in maps]
    captions = ["gradcam\ntrained", "top layer\nrho +0.12", "saliency\ntrained\nFLAG: ignores weights", "top layer\nrho -0.90"]
    np.testing.assert_array_equal(out, layout.make_grid(tiles, captions, cols=2, min_tile=100))


def test_within_centres_boundaries_and_default_grid() -> None:
    # bands exactly one spacing wide are kept: y spacing (16 - 4) / 3 = 4, bands 4 and 20 - 16 = 4; x spacing
    # (25 - 5) / 4 = 5, bands 5 and 30 - 25 = 5
    heat = np.ones((21, 31))
    out, held = heatmaps.within_centres(heat, (4.0, 16.0, 5.0, 25.0), (4, 5))
    assert not held and np.array_equal(out, heat)
    # x spacing 24.5 / 5 = 4.9: the right band 30 - 24.5 = 5.5 is wider (blanked from column 26), the left kept
    out, held = heatmaps.within_centres(heat, (0.0, 20.0, 0.0, 24.5), (2, 6, 16))  # a third entry is ignored
    assert held and out[:, :26].all() and not out[:, 26:].any()
    # y: two units, spacing 12 - 4 = 8: the top band 4 is narrower (kept), the bottom band 8 is not wider (kept)
    out, held = heatmaps.within_centres(heat, (4.0, 12.0, 6.0, 21.0), (2, 4))
    # x: four units, spacing 15 / 3 = 5: the left band 6 is wider (blanked), the right band 30 - 21 = 9 too
    assert held and out[:, 6:22].all() and not out[:, :6].any() and not out[:, 22:].any() and out[0].any()
    # no grid: (2, 2), the spacing is the whole span: y 10 - 4 = 6, the top band 4 kept, the bottom 10 wider
    out, held = heatmaps.within_centres(np.ones((21, 8)), (4.0, 10.0, 0.0, 7.0))
    assert held and out[:11].all() and not out[11:].any()


def test_colorbar_odd_height_and_tiny() -> None:
    labels = ("a", "b", "c")
    f = ImageFont.load_default(size=11)
    for height in (81, 13):
        out = heatmaps.colorbar(height, "viridis", labels)
        canvas = np.full((height, 6 + 16 + 4 + int(f.getlength("a")) + 2 + 6, 3), 255, "uint8")
        canvas[6 : height - 6, 6:22] = lut("viridis", np.linspace(1, 0, height - 12))[:, None]
        img = Image.fromarray(canvas)
        d = ImageDraw.Draw(img)
        for y, t in zip((6, height // 2, height - 6), labels):
            d.line([(22, y), (25, y)], fill=(20, 20, 20))
            d.text((27, max(0, min(height - 13, y - 5))), t, fill=(20, 20, 20), font=f)
        np.testing.assert_array_equal(out, np.asarray(img))


def test_attribution_panel_lines_by_method_and_thresholds() -> None:
    """Image 160 px tall: enlarged by 200 / 160 = 1.25 (nearest); the reference without a patch size says 1-px."""
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (160, 8, 3)).astype("uint8")
    heat = rng.uniform(0, 1, (160, 8))
    rs = [SimpleNamespace(method="scorecam", layer="c", heat=heat, faithfulness=None, info={"signed_maps": False}),
          SimpleNamespace(method="layercam", layer="c", heat=heat, faithfulness=None, info={"signed_maps": True}),
          SimpleNamespace(method="ig", layer="", heat=heat, faithfulness=None, info={"completeness_error": 0.05})]
    out = heatmaps.attribution_panel(img, "k", 0.5, rs, {"deletion_auc": 0.25, "insertion_auc": 0.75})
    titles = [("class 'k'  p 0.5000\nlower deletion, higher insertion\n= more faithful; reference:\n"
               "random smooth maps, 1-px patches:\ndeletion 0.25 insertion 0.75"), "scorecam @ c",
              "layercam @ c\nlayer maps are signed: use the layer after its activation", "ig\ncompleteness error 5.0%",
              "heat (each map\nscaled to its max,\nor its clip point)"]
    tile = _fit(heatmaps.heat_over_grey(img, heat), 200)
    assert tile.shape == (200, 10, 3)
    np.testing.assert_array_equal(out, layout.hstack_panels([_fit(img, 200), tile, tile, tile, heatmaps.colorbar(200)], titles,
                                                            min_tile=0))


def test_sanity_panel_two_stages_one_column_each() -> None:
    img = np.full((8, 8, 3), 60, "uint8")
    heats = {"m": [np.zeros((8, 8)), np.eye(8), np.ones((8, 8))]}
    out = heatmaps.sanity_panel(img, heats, {"m": [0.5, -0.25]}, ["top (a)", "top 2 (b)"], [])
    captions = ["m\ntrained", "top\nrho +0.50", "top 2\nrho -0.25"]
    tiles = [heatmaps.heat_over_grey(img, h) for h in heats["m"]]
    np.testing.assert_array_equal(out, layout.make_grid(tiles, captions, cols=3, min_tile=100))


def test_attribution_panel_keeps_a_one_pixel_wide_image() -> None:
    img = np.full((200, 1, 3), 30, "uint8")  # as tall as the row: kept 1 px wide, then padded white to its title
    out = heatmaps.attribution_panel(img, "c", 0.5, [], None)
    expect = layout.hstack_panels([img, heatmaps.colorbar(200)], ["class 'c'  p 0.5000", "heat (each map\nscaled to its max,\nor its clip point)"],
                                  min_tile=0)
    np.testing.assert_array_equal(out, expect)
    assert (out[6:206, 6] == 30).all() and (out[6:206, 7] == 255).all()
