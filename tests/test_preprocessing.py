import numpy as np
import pytest

from cnnviz.errors import CnnvizError
from cnnviz.inputs.preprocessing import MODES, check_mode, to_model_input, to_pixels


@pytest.mark.parametrize("mode", MODES)
def test_round_trip(mode):
    rng = np.random.default_rng(0)
    for channels in (1, 3):
        px = rng.uniform(0, 255, (2, 5, 5, channels)).astype("float64")
        np.testing.assert_allclose(to_pixels(to_model_input(px, mode), mode), px, atol=1e-9)


@pytest.mark.parametrize("mode, app", [("caffe", "vgg16"), ("tf", "mobilenet_v2"), ("torch", "densenet")])
def test_matches_keras_applications(mode, app):
    import importlib

    rng = np.random.default_rng(1)
    px = rng.uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    ref = importlib.import_module(f"keras.applications.{app}").preprocess_input(px.copy())
    np.testing.assert_allclose(to_model_input(px, mode), ref, rtol=1e-5, atol=1e-4)


def test_caffe_by_hand():
    red = np.array([[[[255.0, 0.0, 0.0]]]])
    np.testing.assert_allclose(to_model_input(red, "caffe")[0, 0, 0], [-103.939, -116.779, 255 - 123.68])


def test_unknown_mode():
    with pytest.raises(CnnvizError, match="unknown preprocessing 'rgb'.*caffe"):
        check_mode("rgb")
