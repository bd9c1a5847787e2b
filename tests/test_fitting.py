"""Issue 22.3: photos are fitted the way the model family expects (crop at a fixed size, aspect kept for
any size), one convention for every command, and heatmaps go back onto the whole original photo."""

import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from cnnviz.errors import CnnvizError
from cnnviz.inputs.fitting import default_fit, fit_image


def photo(h=300, w=451):
    """A smooth, asymmetric test photo (so a wrong window or flip shows)."""
    y, x = np.mgrid[0:h, 0:w].astype("float32")
    return np.stack([255 * x / w, 255 * y / h, 128 + 100 * np.sin(x / 30) * np.cos(y / 20)], -1).round().astype("uint8")


def test_crop_matches_pillow_centre_fit():
    img = photo()
    out, fit = fit_image(img, 224, 224, "crop")
    ref = np.asarray(ImageOps.fit(Image.fromarray(img), (224, 224), Image.BILINEAR, centering=(0.5, 0.5)))
    assert out.shape == (224, 224, 3) and fit.window == (0, 75, 300, 375)
    assert np.abs(out.astype(float) - ref).mean() < 2.0


def test_pad_keeps_everything_and_the_aspect():
    import cv2

    img = photo()
    out, fit = fit_image(img, 224, 224, "pad")
    assert fit.window == (0, 0, 300, 451) and fit.placed == (37, 0, 186, 224)
    assert out[:37].max() == 0 and out[186:].max() == 0
    inner = cv2.resize(img, (224, 149), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(out[37:186], inner)


def test_keep_and_defaults():
    out, fit = fit_image(photo(), 224, 224, "keep")
    assert out.shape[:2] == (224, 337) and fit.note().startswith("fitted the 451x300 image to 337x224")
    assert "the model's input" not in fit.note()
    assert default_fit(True) == "crop" and default_fit(False) == "keep" and default_fit(True, "squash") == "squash"
    with pytest.raises(CnnvizError, match="--fit keep needs a model that takes any size"):
        default_fit(True, "keep")
    with pytest.raises(CnnvizError, match="unknown --fit 'crp' \\(did you mean crop\\?\\)"):
        fit_image(photo(), 8, 8, "crp")


@pytest.mark.parametrize("mode", ["crop", "pad", "squash", "keep"])
def test_a_map_goes_back_onto_the_whole_photo(mode):
    """The fed image itself, mapped back, lands where it came from (resampling error only); nothing
    outside what the model saw."""
    img = photo()
    out, fit = fit_image(img, 224, 224, mode)
    back = fit.to_original(out.astype("float32"), outside=-1.0)
    assert back.shape == img.shape
    seen = fit.seen()
    assert (back[~seen] == -1).all()
    assert np.abs(back[seen] - img[seen]).mean() < 3.0, mode


def test_onto_photo_maps_each_heatmap():
    from dataclasses import dataclass

    from cnnviz.inputs.fitting import onto_photo

    @dataclass
    class R:
        heat: np.ndarray

    img = photo()
    _, fit = fit_image(img, 28, 28, "crop")
    heat = np.zeros((28, 28), "float32")
    heat[:, :14] = 1.0  # the left half of the crop
    shown, (r,) = onto_photo([R(heat)], fit, img)
    assert r.heat.shape == (300, 451) and shown.shape == img.shape
    assert r.heat[:, :75].max() == 0 and r.heat[:, 375:].max() == 0  # cropped away: no heat
    assert r.heat[150, 80] == 1.0 and r.heat[150, 370] == 0.0
    assert (shown[:, :75] >= img[:, :75]).all() and (shown[:, 75:375] == img[:, 75:375]).all()


def test_cli_crops_by_default_and_records_it(tmp_path, tiny_conv_model):
    """A 16x16 model and a wide photo: centre crop, said in a note and the manifest; --fit squash on request."""
    from test_cli import run

    tiny_conv_model.save(tmp_path / "tiny.keras")
    Image.fromarray(photo(40, 80)).save(tmp_path / "wide.png")
    r = run("activations", tmp_path / "tiny.keras", tmp_path / "wide.png", "--layer", "c1", "--out", tmp_path / "a")
    assert r.exit_code == 0, r.output
    assert "fitted the 80x40 image to 16x16: short side resized, centre cropped" in r.output
    data = json.loads(next((tmp_path / "a").glob("*.json")).read_text())
    assert data["fit"] == "crop" and data["window"] == [20, 0, 60, 40]
    r = run("cam", tmp_path / "tiny.keras", tmp_path / "wide.png", "--fit", "squash", "--faithfulness-steps", "0",
            "--out", tmp_path / "c")
    assert r.exit_code == 0, r.output
    data = json.loads(next((tmp_path / "c").glob("*.json")).read_text())
    assert data["fit"] == "squash" and data["window"] == [0, 0, 80, 40]
    r = run("cam", tmp_path / "tiny.keras", tmp_path / "wide.png", "--fit", "keep", "--out", tmp_path / "d")
    assert r.exit_code == 1 and "--fit keep needs a model that takes any size" in r.output


def test_cli_keeps_the_aspect_for_a_model_of_any_size(tmp_path):
    import keras

    from test_cli import run

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 3, name="c1")(inputs)
    keras.Model(inputs, x).save(tmp_path / "any.keras")
    Image.fromarray(photo(40, 80)).save(tmp_path / "wide.png")
    r = run("activations", tmp_path / "any.keras", tmp_path / "wide.png", "--layer", "c1", "--size", "32", "--out", tmp_path / "a")
    assert r.exit_code == 0, r.output
    assert "fitted the 80x40 image to 64x32: resized, aspect kept" in r.output and "the model's input" not in r.output
    data = json.loads(next((tmp_path / "a").glob("*.json")).read_text())
    assert data["fit"] == "keep" and data["fed_size"] == [64, 32] and data["shape"][:2] == [30, 62]


def test_heat_is_blanked_beyond_unit_centres_at_the_fed_size_then_drawn_on_the_photo():
    """A photo centre-cropped for the model: the wide-band rule (cnnviz.output.heatmaps.within_centres)
    is judged on the fed image, whose edge is the crop's, not the photo's."""
    from dataclasses import dataclass, field

    from cnnviz.inputs.fitting import onto_photo
    from cnnviz.results.attribution import _blanked

    @dataclass
    class R:
        heat: np.ndarray
        info: dict = field(default_factory=dict)

    img = photo()  # 300 x 451
    _, fit = fit_image(img, 224, 224, "crop")  # the window is x 75..375
    wide = R(np.ones((224, 224), "float32"), {"centres_span": [31.0, 223.0, 31.0, 223.0], "grid": [7, 7]})
    _, (r,) = onto_photo([_blanked(wide)], fit, img)
    assert r.heat[150, 76] > 0.99 and not r.info["blanked_beyond_centres"]  # a band within one spacing is drawn
    lenet = R(np.ones((224, 224), "float32"), {"centres_span": [36.0, 180.0, 36.0, 180.0], "grid": [10, 10]})
    _, (r,) = onto_photo([_blanked(lenet)], fit, img)
    assert r.heat[150, 80] == 0.0 and r.heat[150, 225] > 0.99 and r.info["blanked_beyond_centres"]
