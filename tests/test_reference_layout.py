"""Reference pictures for cnnviz.output.layout: every band, tile, tick and text position computed by hand
from the documented geometry and drawn with Pillow's own primitives, compared pixel for pixel; colour bars
against matplotlib's colour map; wrapping against the font's measured widths."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

from cnnviz.errors import CnnvizError
from cnnviz.output import layout

WHITE = 255


def font(size: int = 11) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def drawn(canvas: np.ndarray, texts: list[tuple[tuple[int, int], str, tuple[int, int, int], int]]) -> np.ndarray:
    img = Image.fromarray(np.ascontiguousarray(canvas))
    d = ImageDraw.Draw(img)
    for xy, text, fill, size in texts:
        d.text(xy, text, fill=fill, font=font(size))
    return np.asarray(img)


def lut(name: str, v: np.ndarray) -> np.ndarray:
    table = (colormaps[name].resampled(256)(np.arange(256))[:, :3] * 255.0).round().astype("uint8")
    return table[np.clip(np.rint(v * 255.0), 0, 255).astype(int)]


@pytest.mark.parametrize("n, cols, shape", [(1, None, (1, 1)), (2, None, (1, 2)), (3, None, (2, 2)), (5, None, (2, 3)),
                                            (10, None, (3, 4)), (3, 7, (1, 3)), (7, 3, (3, 3)), (4, 1, (4, 1))])
def test_grid_shape(n: int, cols: int | None, shape: tuple[int, int]) -> None:
    assert layout.grid_shape(n, cols) == shape


def test_grid_shape_and_make_grid_refuse_nothing() -> None:
    with pytest.raises(CnnvizError, match="^nothing to lay out: the grid has no tiles$"):
        layout.grid_shape(0)
    with pytest.raises(CnnvizError, match="^nothing to lay out: the grid has no tiles$"):
        layout.make_grid([])
    with pytest.raises(CnnvizError, match=r"^grid tiles differ in size: \[\(4, 4\), \(4, 5\)\]$"):
        layout.make_grid([np.zeros((4, 5)), np.zeros((4, 4))])


def test_caption_height() -> None:
    assert (layout.caption_height(), layout.caption_height(2), layout.caption_height(2, 15)) == (16, 30, 38)


def test_make_grid_with_captions_pixel_for_pixel() -> None:
    """3 tiles of 5 x 7 (grey, RGB and float), min_tile 20 -> factor ceil(20 / 7) = 3: tiles 15 x 21; 2 columns,
    margin 2, the longest caption 2 lines: band 2 * 14 + 2 = 30; width 2*21 + 3*2 = 48, height 2*(15+30) + 3*2 = 96."""
    rng = np.random.default_rng(1)
    t0 = rng.integers(0, 256, (5, 7)).astype("uint8")
    t1 = rng.integers(0, 256, (5, 7, 3)).astype("uint8")
    t2 = np.full((5, 7, 1), 99.6)  # rounds to 100
    g = layout.make_grid([t0, t1, t2], ["a", "b\nc", "d"], cols=2, margin=2, min_tile=20)
    expect = np.full((96, 48, 3), WHITE, "uint8")
    up = lambda t: np.repeat(np.repeat(t, 3, 0), 3, 1)
    expect[2:17, 2:23] = up(t0)[..., None]
    expect[2:17, 25:46] = up(t1)
    expect[49:64, 2:23] = 100
    texts = [((3, 18), "a", (20, 20, 20), 11), ((26, 18), "b", (20, 20, 20), 11), ((26, 32), "c", (20, 20, 20), 11),
             ((3, 65), "d", (20, 20, 20), 11)]
    np.testing.assert_array_equal(g, drawn(expect, texts))
    assert g.dtype == np.uint8


def test_make_grid_factor_uses_the_longer_side_and_min_tile_zero() -> None:
    t = np.arange(12, dtype="uint8").reshape(3, 4)
    g = layout.make_grid([t], cols=1, margin=1, min_tile=9)  # ceil(9 / 4) = 3 (the shorter side would give 3 too: use 10)
    assert g.shape == (3 * 3 + 2, 4 * 3 + 2, 3)
    g = layout.make_grid([t], cols=1, margin=1, min_tile=10)  # ceil(10 / 4) = 3, ceil(10 / 3) would be 4
    np.testing.assert_array_equal(g[1:10, 1:13, 0], np.repeat(np.repeat(t, 3, 0), 3, 1))
    assert g.shape == (11, 14, 3)
    g = layout.make_grid([t], cols=1, margin=0, min_tile=0)
    np.testing.assert_array_equal(g[..., 1], t)
    g = layout.make_grid([t], margin=0, min_tile=2)  # tile larger than min_tile: factor 1
    np.testing.assert_array_equal(g[..., 2], t)
    g = layout.make_grid([t], [""], margin=0, min_tile=0)  # an empty caption still gets its band
    assert g.shape == (3 + 16, 4, 3) and (g[3:] == WHITE).all()


@pytest.mark.parametrize("text, width, out", [
    ("hello world", 62, "hello world"),  # 60 px: fits exactly in width - 2
    ("hello world", 61, "hello\nworld"),
    ("xxx", 12, "xx\nx"),  # one word wider than the tile: cut where it still fits (10 px)
    ("xxx", 11, "x\nx\nx"),
    ("xxx", 17, "xxx"),
    ("ab\ncd", 100, "ab\ncd"),  # existing lines kept
    ("a xxx b", 12, "a\nxx\nx\nb"),  # "x b" is 14 px
    ("", 0, ""),
])
def test_wrap_text_at_measured_widths(text: str, width: int, out: str) -> None:
    """Widths measured with the default 11 px font: 'hello world' 60, 'x' 5, 'xx' 10, 'a' 7, 'x b' 7 + ... ."""
    assert font().getlength("hello world") == 60 and font().getlength("xx") == 10
    assert layout.wrap_text(text, width) == out


def test_wrap_text_title_size_measures_with_its_font() -> None:
    assert font(15).getlength("ab cd") == 37
    assert layout.wrap_text("ab cd", 39, 15) == "ab cd" and layout.wrap_text("ab cd", 38, 15) == "ab\ncd"


def test_titled_pixel_for_pixel() -> None:
    """A 10 x 20 picture: widened to 360 with white; title band 6 + 1 * 19 + 1 * 14 + 6 = 45 rows."""
    pic = np.full((10, 20, 3), 50, "uint8")
    out = layout.titled(pic, "Title", "sub")
    band = drawn(np.full((45, 360, 3), WHITE, "uint8"), [((6, 6), "Title", (0, 0, 0), 15), ((6, 25), "sub", (70, 70, 70), 11)])
    expect = np.concatenate([band, np.full((10, 360, 3), WHITE, "uint8")])
    expect[45:, :20] = 50
    np.testing.assert_array_equal(out, expect)
    wide = np.zeros((4, 400), "uint8")
    out = layout.titled(wide, "T", margin=3)  # no subtitle: 3 + 19 + 3 = 25 rows; grey becomes RGB
    band = drawn(np.full((25, 400, 3), WHITE, "uint8"), [((3, 3), "T", (0, 0, 0), 15)])
    np.testing.assert_array_equal(out, np.concatenate([band, np.zeros((4, 400, 3), "uint8")]))


def test_untrained_band_pixel_for_pixel() -> None:
    lines = layout.wrap_text(layout.UNTRAINED_MARK, 400 - 12, 15).split("\n")
    assert len(lines) == 2
    band = np.zeros((12 + 2 * 19, 400, 3), "uint8")
    band[:] = (200, 0, 0)
    expect = drawn(band, [((6, 6 + 19 * k), line, (255, 255, 255), 15) for k, line in enumerate(lines)])
    np.testing.assert_array_equal(layout.untrained_band(400), expect)
    out = layout.titled(np.zeros((5, 400, 3), "uint8"), "T", untrained=True)
    np.testing.assert_array_equal(out[31:31 + 50], expect)  # under a 6 + 19 + 6 px title band
    assert out.shape == (31 + 50 + 5, 400, 3)


def test_colorbar_ramp_ticks_and_frame() -> None:
    """height 100: a ramp of 72 rows at y 12..83, x 2..17 (width 16), framed in grey; ticks at hi, mid, lo."""
    out = layout.colorbar(100, 0.0, 2.0, "magma")
    assert out.shape[0] == 100 and out.dtype == np.uint8
    ramp = np.linspace(1.0, 0.0, 72)
    np.testing.assert_array_equal(out[13:83, 3:17], lut("magma", ramp[1:71])[:, None].repeat(14, 1))
    assert (out[12, 2:18] == 90).all() and (out[83, 2:18] == 90).all() and (out[12:84, 2] == 90).all()
    assert (out[12:84, 17] == 90).all()
    for y in (12, 12 + round(0.5 * 71), 83):  # hi, mid, lo
        assert (out[y, 18:23] == 40).all()
    assert (out[:12, :18] == WHITE).all() and (out[84:, :18] == WHITE).all() and (out[:, :2] == WHITE).all()
    grey = layout.colorbar(30, -1.0, 1.0, None, width=4, ticks=[(0.5, "a")])  # at least 60 px; grey ramp
    assert grey.shape[0] == 60
    np.testing.assert_array_equal(grey[13:43, 3:5, 0], np.rint(np.linspace(255, 0, 32)[1:31])[:, None].repeat(2, 1))
    assert (grey[12 + round(0.25 * 31), 6:11] == 40).all() and not (grey[12 + 31, 6:11] == 40).all()
    flat = layout.colorbar(60, 1.0, 1.0, ticks=[(1.0, "x")])  # lo == hi: no division by zero, the tick on top
    assert (flat[12, 18:23] == 40).all()


def test_colorbar_label_is_drawn_under_the_middle_tick() -> None:
    plain = layout.colorbar(120, 0.0, 1.0, label="")
    lab = layout.colorbar(120, 0.0, 1.0, label="")
    np.testing.assert_array_equal(plain, lab)
    lab = layout.colorbar(120, 0.0, 1.0, label="ab")
    diff = np.argwhere((lab != layout.colorbar(120, 0.0, 1.0, label=" ")).any(-1))
    y0 = 12 + 92 // 2 + 11 + 2  # the bar is 92 rows
    assert diff[:, 0].min() >= y0 and diff[:, 0].max() < y0 + 14 and diff[:, 1].min() >= 16 + 8
    text_w = int(max(font().getlength(t) for t in ("1", "0.5", "0", "ab", "10"))) + 8
    assert lab.shape == (120, 16 + text_w + 6, 3)


def test_beside_pads_with_white_and_gaps() -> None:
    a = np.full((3, 2), 10, "uint8")
    b = np.full((5, 1, 3), 20, "uint8")
    out = layout.beside(a, b, gap=2)
    expect = np.full((5, 5, 3), WHITE, "uint8")
    expect[:3, :2] = 10
    expect[:, 4:] = 20
    np.testing.assert_array_equal(out, expect)
    assert layout.beside(a, b).shape == (5, 2 + 6 + 1, 3)


def test_hstack_panels_geometry() -> None:
    """Panels 10 x 20 and 20 x 10 with min_tile 0: row height 20; the first enlarged (nearest) to 20 x 40,
    the second kept; a title under each (16 px band), gap and border 3."""
    rng = np.random.default_rng(0)
    p0 = rng.integers(0, 256, (10, 20, 3)).astype("uint8")
    p1 = rng.integers(0, 256, (20, 10, 3)).astype("uint8")
    out = layout.hstack_panels([p0, p1], ["a", "bb"], margin=3, min_tile=0)
    w1 = max(10, int(font().getlength("bb")) + 2)
    assert out.shape == (3 + 20 + 16 + 3, 3 + 40 + 3 + w1 + 3, 3)
    np.testing.assert_array_equal(out[3:23, 3:43], cv2.resize(p0, (40, 20), interpolation=cv2.INTER_NEAREST))
    np.testing.assert_array_equal(out[3:23, 46:56], p1)
    np.testing.assert_array_equal(out[23:39, 3:43], drawn(np.full((16, 40, 3), WHITE, "uint8"), [((1, 1), "a", (20, 20, 20), 11)]))
    assert (out[:3] == WHITE).all() and (out[:, 43:46] == WHITE).all() and (out[-3:] == WHITE).all()
    tall = layout.hstack_panels([p0], ["a"], margin=0, min_tile=30)  # min_tile raises the height to 30: width 60
    np.testing.assert_array_equal(tall[:30], cv2.resize(p0, (60, 30), interpolation=cv2.INTER_NEAREST))
    two = layout.hstack_panels([p0[:, :2]], ["a\nlong title"], margin=0, min_tile=0)  # widened to the longer line
    assert two.shape == (10 + 30, int(font().getlength("long title")) + 2, 3)


def test_table_image_pixel_for_pixel() -> None:
    cols, rows = ["n", "value"], [["1", "2.5"], ["10", "0.25"]]
    w = [max(font().getlength(r[i]) for r in [cols, *rows]) for i in range(2)]
    width, height = int(sum(w) + 18 + 16), 16 * 3 + 16 + 4
    out = layout.table_image(cols, rows, right=[1])
    canvas = Image.new("RGB", (width, height), (WHITE,) * 3)
    d = ImageDraw.Draw(canvas)
    d.text((8, 8), "n", fill=(40, 40, 120), font=font())
    d.text((8 + w[0] + 18, 8), "value", fill=(40, 40, 120), font=font())
    d.line([(8, 22), (width - 8, 22)], fill=(150, 150, 150))
    for k, (a, b) in enumerate(rows):
        y = 8 + 16 + 4 + 16 * k
        d.text((8, y), a, fill=(0, 0, 0), font=font())
        d.text((8 + w[0] + 18 + w[1] - font().getlength(b), y), b, fill=(0, 0, 0), font=font())
    np.testing.assert_array_equal(out, np.asarray(canvas))


def test_make_grid_defaults_and_explicit_columns() -> None:
    t = np.zeros((32, 32), "uint8")
    g = layout.make_grid([t] * 3)  # min_tile 96: factor ceil(96 / 32) = 3; margin 4; near-square 2 x 2
    assert g.shape == (2 * 96 + 3 * 4, 2 * 96 + 3 * 4, 3)
    g = layout.make_grid([t] * 3, ["a b", "c", "d"], cols=3, margin=1, min_tile=0)  # one row of three
    assert g.shape == (32 + 16 + 2, 3 * 32 + 4, 3)
    band = drawn(np.full((16, 32, 3), WHITE, "uint8"), [((1, 1), "a b", (20, 20, 20), 11)])  # a space stays on its line
    np.testing.assert_array_equal(g[33:49, 1:33], band)


@pytest.mark.parametrize("text, width, size, out", [
    ("a  b", 100, 11, "a  b"),  # runs of spaces kept
    ("xx ", 12, 11, "xx\n"),  # 'xx' is 10 px; 'xx ' 12 px does not fit in 10
    ("a xx", 12, 11, "a\nxx"),  # a word exactly as wide as the room is not cut
    ("ab", 4, 11, "a\nb"),  # down to one character per line, never an empty piece
    ("xxxx", 23, 15, "xxx\nx"),  # cut at the 15 px font's widths: 'xxx' is 21 px ('xxxx' at 11 px: 20, it would fit)
])
def test_wrap_text_edges(text: str, width: int, size: int, out: str) -> None:
    assert font(15).getlength("xxx") == 21 and font().getlength("xxxx") == 20
    assert layout.wrap_text(text, width, size) == out


def band_of(width: int, margin: int, head: list[str], sub: list[str]) -> np.ndarray:
    h = margin + 19 * len(head) + 14 * len(sub) + margin
    texts = [((margin, margin + 19 * k), line, (0, 0, 0), 15) for k, line in enumerate(head)]
    texts += [((margin, margin + 19 * len(head) + 14 * k), line, (70, 70, 70), 11) for k, line in enumerate(sub)]
    return drawn(np.full((h, width, 3), WHITE, "uint8"), texts)


def test_titled_wraps_title_and_subtitle_at_the_width_less_the_margins() -> None:
    """Widths measured: the title phrases at 15 px are 346 and 347 px, the subtitle phrase at 11 px 347 px;
    a 360 px figure with 6 px margins has 360 - 12 - 2 = 346 px for text."""
    fits, wraps = "alpha beta gamma epsilon zeta kappa lambda sigma", "alpha beta gamma delta epsilon theta omicron sigma"
    sub = "alpha beta gamma delta epsilon eta kappa lambda omicron sigma"
    assert (font(15).getlength(fits), font(15).getlength(wraps), font().getlength(sub)) == (346, 347, 347)
    pic = np.full((3, 360, 3), 9, "uint8")
    out = layout.titled(pic, fits)
    np.testing.assert_array_equal(out, np.concatenate([band_of(360, 6, [fits], []), pic]))
    out = layout.titled(pic, wraps, sub)
    head = ["alpha beta gamma delta epsilon theta omicron", "sigma"]
    subl = ["alpha beta gamma delta epsilon eta kappa lambda omicron", "sigma"]
    np.testing.assert_array_equal(out, np.concatenate([band_of(360, 6, head, subl), pic]))
    sub_fits = "alpha beta gamma delta epsilon zeta theta lambda omicron sigma"  # 346 px at 11 px
    assert font().getlength(sub_fits) == 346
    np.testing.assert_array_equal(layout.titled(pic, "T", sub_fits), np.concatenate([band_of(360, 6, ["T"], [sub_fits]), pic]))
    wide = np.full((2, 500, 3), 9, "uint8")  # wider than 360: kept as it is
    np.testing.assert_array_equal(layout.titled(wide, "A b", margin=2), np.concatenate([band_of(500, 2, ["A b"], []), wide]))


def test_untrained_band_wraps_at_the_width_less_the_margins_and_follows_the_margin() -> None:
    lines = ["UNTRAINED: random weights, not a trained", "model; nothing here was learned"]
    assert layout.wrap_text(layout.UNTRAINED_MARK, 301 - 12, 15).split("\n") == lines
    band = np.zeros((12 + 2 * 19, 301, 3), "uint8")
    band[:] = (200, 0, 0)
    expect = drawn(band, [((6, 6 + 19 * k), line, (255, 255, 255), 15) for k, line in enumerate(lines)])
    np.testing.assert_array_equal(layout.untrained_band(301), expect)
    out = layout.titled(np.zeros((2, 400, 3), "uint8"), "T", margin=3, untrained=True)
    np.testing.assert_array_equal(out[25:], np.concatenate([layout.untrained_band(400, 3), np.zeros((2, 400, 3), "uint8")]))


def colorbar_by_hand(height: int, lo: float, hi: float, width: int, ticks: list[tuple[float, str]], label: str,
                     grey: bool = False) -> np.ndarray:
    """The documented colour bar: ramp pasted at (2, 12), height - 28 rows, grey frame; tick marks from x = width + 2
    to width + 6 at 12 + round((hi - v) / (hi - lo or 1) * (rows - 1)); tick text at (width + 8, y - 6); the label
    wrapped to the text column less 4 px, from y0 = 12 + rows // 2 + 13, a line only while it ends above height - 12."""
    n = height - 28
    ramp = np.linspace(1.0, 0.0, n)[:, None] * np.ones((1, width))
    bar = np.repeat(np.rint(ramp * 255).astype("uint8")[..., None], 3, -1) if grey else lut("viridis", ramp)
    text_w = int(max([font().getlength(t) for _, t in ticks] + [font().getlength(w) for w in label.split(" ")] + [10])) + 8
    canvas = Image.new("RGB", (width + text_w + 6, height), (WHITE,) * 3)
    canvas.paste(Image.fromarray(bar), (2, 12))
    d = ImageDraw.Draw(canvas)
    d.rectangle((2, 12, width + 1, 12 + n - 1), outline=(90, 90, 90))
    for v, t in ticks:
        y = 12 + round((hi - v) / ((hi - lo) or 1.0) * (n - 1))
        d.line((width + 2, y, width + 6, y), fill=(40, 40, 40))
        d.text((width + 8, y - 6), t, fill=(20, 20, 20), font=font())
    if label:
        y0 = 12 + n // 2 + 13
        for k, line in enumerate(layout.wrap_text(label, text_w - 4).split("\n")):
            if y0 + (k + 1) * 14 < height - 12:
                d.text((width + 8, y0 + 14 * k), line, fill=(90, 90, 90), font=font())
    return np.asarray(canvas)


@pytest.mark.parametrize("height, label", [(100, ""), (100, "activation of the unit"), (74, "one two"), (75, "one two"),
                                           (200, "activation of one unit in this layer"), (199, "a b c d e f g h i j k l"),
                                           (201, "a b c d e f g h i j k l"), (120, "ab\nlonger-than-the-rest")])
def test_colorbar_pixel_for_pixel(height: int, label: str) -> None:
    """74 px: the label's first line would end exactly at height - 12 and is left out; at 75 px it is drawn."""
    ticks = [(2.0, "2"), (1.0, "1"), (0.0, "0")]
    np.testing.assert_array_equal(layout.colorbar(height, 0.0, 2.0, label=label), colorbar_by_hand(height, 0.0, 2.0, 16, ticks, label))


def test_colorbar_other_ticks_widths_and_a_flat_range() -> None:
    got = layout.colorbar(70, 1.0, 1.0, None, width=5, ticks=[(0.0, "i")])  # lo == hi: span 1
    np.testing.assert_array_equal(got, colorbar_by_hand(70, 1.0, 1.0, 5, [(0.0, "i")], "", grey=True))
    assert got.shape[1] == 5 + 18 + 6  # the text column is at least 10 + 8 px
    got = layout.colorbar(80, -1.0, 3.0, width=8, ticks=[(-1.0, "-1"), (2.0, "two")], label="a  very-long-label-word")
    np.testing.assert_array_equal(got, colorbar_by_hand(80, -1.0, 3.0, 8, [(-1.0, "-1"), (2.0, "two")], "a  very-long-label-word"))
    assert (got[13:25, 10] == WHITE).all()  # right of the frame (x = 9) is white down to the tick at y 25


def test_beside_is_uint8() -> None:
    out = layout.beside(np.zeros((2, 2), "uint8"), np.zeros((3, 1), "uint8"))
    assert out.dtype == np.uint8 and out.shape == (3, 9, 3)


def test_hstack_panels_defaults_area_rule_and_white_padding() -> None:
    rng = np.random.default_rng(2)
    p = rng.integers(0, 256, (10, 20, 3)).astype("uint8")
    out = layout.hstack_panels([p], ["t"])  # min_tile 160: 160 x 320 by nearest; border 6
    np.testing.assert_array_equal(out[6:166, 6:326], cv2.resize(p, (320, 160), interpolation=cv2.INTER_NEAREST))
    assert out.shape == (6 + 160 + 16 + 6, 6 + 320 + 6, 3)
    q = rng.integers(0, 256, (15, 30, 3)).astype("uint8")  # p enlarged by 1.5 to the row height of 15: nearest
    out = layout.hstack_panels([p, q], ["a", "b\nc"], margin=0, min_tile=0)
    np.testing.assert_array_equal(out[:15, :30], cv2.resize(p, (30, 15), interpolation=cv2.INTER_NEAREST))
    np.testing.assert_array_equal(out[:15, 30:60], q)
    assert (out[15 + 16 :, :30] == WHITE).all()  # the one-line title's cell is padded white to the two-line one
    thin = np.zeros((20, 1, 3), "uint8")
    out = layout.hstack_panels([thin], [""], margin=0, min_tile=0)  # widened white to 0 + 2 px for an empty title
    assert out.shape == (20 + 16, 2, 3) and (out[:20, 0] == 0).all() and (out[:, 1] == WHITE).all()


def test_table_image_three_columns_width() -> None:
    cols = ["a", "bb", "ccc"]
    w = sum(font().getlength(c) for c in cols)
    assert layout.table_image(cols, []).shape == (16 + 16 + 4, int(w + 2 * 18 + 16), 3)
