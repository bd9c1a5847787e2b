"""Issue 22.2: a model file gets the preprocessing of the keras.applications family it is (recognised
from its layers, not its file name), checked against keras' own ``preprocess_input``."""

import importlib

import keras
import numpy as np
import pytest

from cnnviz.inputs.preprocessing import to_model_input
from cnnviz.models.families import recognise

#: (constructor, keras.applications module with its preprocess_input, smallest input it builds at)
FAMILIES = [
    ("VGG16", "vgg16", 32), ("VGG19", "vgg19", 32), ("ResNet50", "resnet", 32), ("ResNet50V2", "resnet_v2", 32),
    ("MobileNet", "mobilenet", 32), ("MobileNetV2", "mobilenet_v2", 32), ("MobileNetV3Small", "mobilenet_v3", 32),
    ("Xception", "xception", 71), ("EfficientNetB0", "efficientnet", 32), ("ConvNeXtTiny", "convnext", 32),
    pytest.param("DenseNet121", "densenet", 32, marks=pytest.mark.slow),
    pytest.param("InceptionV3", "inception_v3", 75, marks=pytest.mark.slow),
    pytest.param("InceptionResNetV2", "inception_resnet_v2", 75, marks=pytest.mark.slow),
    pytest.param("NASNetMobile", "nasnet", 32, marks=pytest.mark.slow),
    pytest.param("EfficientNetV2B0", "efficientnet_v2", 32, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("ctor, module, size", FAMILIES)
def test_recognised_preprocessing_matches_keras(ctor, module, size):
    model = getattr(keras.applications, ctor)(weights=None, include_top=False, input_shape=(size, size, 3))
    found = recognise(model)
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 5, 7, 3)).astype("float32")
    expected = importlib.import_module(f"keras.applications.{module}").preprocess_input(pixels.copy())
    np.testing.assert_allclose(to_model_input(pixels, found.mode), np.asarray(expected), rtol=1e-5, atol=1e-4,
                               err_msg=f"{ctor}: recognised as {found}")
    assert found.family is not None


def test_efficientnet_lite_is_recognised_as_tf():
    from cnnviz.models import efficientnet_lite, load_model

    assert recognise(efficientnet_lite.build(include_top=False)).mode == "tf"
    assert load_model("efficientnet-lite0", include_top=False, weights=None).preprocess == "tf"


def test_model_file_gets_its_family_and_says_so(tmp_path):
    """A VGG16 saved under a neutral name, bare and nested in the user's own model."""
    from cnnviz.models import load_model

    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    base.save(tmp_path / "mine.keras")
    loaded = load_model(str(tmp_path / "mine.keras"))
    assert loaded.preprocess == "caffe"
    assert "caffe: recognised as VGG16/VGG19" in loaded.describe()["preprocess_assumed"]
    assert any("looks like VGG16/VGG19" in n and "--preprocess" in n for n in loaded.notes)
    overridden = load_model(str(tmp_path / "mine.keras"), preprocess="unit")
    assert overridden.preprocess == "unit" and not any("looks like" in n for n in overridden.notes)
    assert overridden.describe()["preprocess_assumed"] == "unit: --preprocess"

    nested = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(),
                               keras.layers.Dense(2)])
    nested.save(tmp_path / "head.keras")
    assert load_model(str(tmp_path / "head.keras")).preprocess == "caffe"


def test_unknown_model_assumes_unit_and_says_how_to_override(tmp_path, tiny_conv_model):
    from cnnviz.models import load_model

    tiny_conv_model.save(tmp_path / "tiny.keras")
    loaded = load_model(str(tmp_path / "tiny.keras"))
    assert loaded.preprocess == "unit" and loaded.describe()["preprocess_assumed"].startswith("unit: assumed")
    note, = [n for n in loaded.notes if "assuming" in n]
    assert "pixels / 255" in note and "--preprocess caffe|tf|torch|none" in note
    assert load_model("lenet").notes == []  # the bundled model is known: nothing to say


def test_layers_shows_the_cat_with_the_assumed_preprocessing(tmp_path, tiny_conv_model):
    from cnnviz.models import Classifier, load_model
    from cnnviz.inputs.images import load_input

    from test_cli import run

    tiny_conv_model.save(tmp_path / "tiny.keras")
    r = run("layers", tmp_path / "tiny.keras")
    assert r.exit_code == 0, r.output
    line, = [s for s in r.output.splitlines() if s.startswith("on the bundled cat")]
    assert "preprocess unit" in line
    # the same numbers as a direct forward pass on the fitted cat, fed as pixels / 255
    pixels, _, _ = load_input(None, 16, 16, 3)
    p = tiny_conv_model.predict(pixels[None].astype("float32") / 255.0, verbose=0)[0]
    best = int(np.argmax(p))
    assert line.split(": ", 1)[1].startswith(f"{best} {p[best]:.3f}")
    assert Classifier(load_model(str(tmp_path / "tiny.keras"))).num_classes == 3


@pytest.mark.slow
def test_efficientnet_lite_file_scores_the_cat_as_by_name(tmp_path):
    """The issue's case: EfficientNet-Lite0 saved as a file is fed like the named model (tf), not pixels / 255."""
    from cnnviz.models import load_model
    from cnnviz.models.classifier import cat_predictions

    named = load_model("efficientnet-lite0", include_top=True)
    named.model.save(tmp_path / "classifier.keras")
    from_file = load_model(str(tmp_path / "classifier.keras"))
    assert from_file.preprocess == "tf"
    a, b = cat_predictions(named, 1)[0], cat_predictions(from_file, 1)[0]
    # the same top class and probability; a cat class (281-285: centre-cropped, the cat's ears are cut off)
    assert a.index == b.index and abs(a.probability - b.probability) < 1e-5 and 281 <= a.index <= 285 and a.probability > 0.3
