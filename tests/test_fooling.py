import numpy as np
import pytest

from cnnviz.errors import CnnvizError
from cnnviz.models import Classifier
from cnnviz.methods.fooling import adversarial, fool_from_noise
from cnnviz.inputs.labels import imagenet_classes, resolve_class
from cnnviz.models import load_model

from conftest import assert_unchanged, snapshot, wrap


def test_imagenet_class_table():
    names = imagenet_classes()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[65] == "sea snake" and names[18] == "magpie"
    assert resolve_class("sea snake", names, 1000) == 65
    assert resolve_class("Tinca tinca", names, 1000) == 0  # a WordNet synonym
    with pytest.raises(CnnvizError, match="unknown class name 'sea snak'; nearest: 'sea snake'"):
        resolve_class("sea snak", names, 1000)
    with pytest.raises(CnnvizError, match="class 1000 is out of range; this model has classes 0-999"):
        resolve_class("1000", names, 1000)


def test_every_digit_from_noise(lenet):
    snap = snapshot(lenet.model)
    clf = Classifier(lenet)
    r = fool_from_noise(lenet, list(range(10)), confidence=0.999, seed=0, classifier=clf)
    assert r.reached.all()
    # the verdict is on the saved 8-bit pixels: recompute independently with the model itself
    probs = lenet.model.predict(r.images.astype("float32") / 255.0, verbose=0)
    assert (probs[np.arange(10), np.arange(10)] >= 0.999).all()
    assert r.images.dtype == np.uint8 and r.images.shape == (10, 28, 28, 1)
    assert max(r.steps) < 300  # early stopping stopped
    assert_unchanged(lenet.model, snap)


def test_early_stopping_stops_at_low_confidence(lenet):
    low = fool_from_noise(lenet, [4], confidence=0.5, max_steps=300)
    high = fool_from_noise(lenet, [4], confidence=0.999, max_steps=300)
    assert low.reached.all() and low.steps[0] <= high.steps[0] and low.steps[0] < 300


def test_adversarial_digit_within_budget(lenet, digits):
    x, y = digits
    i = int(np.where(y == 3)[0][0])
    r = adversarial(lenet, x[i], 8, epsilon=64, confidence=0.99)
    assert r.before[0].index == 3
    assert r.reached and r.after[0].index == 8
    delta = r.adversarial.astype(int) - x[i].astype(int)
    assert np.abs(delta).max() <= 64 and r.linf == np.abs(delta).max()
    assert r.l2 == pytest.approx(float(np.sqrt((delta.astype(float) ** 2).sum())))
    p = lenet.model.predict(r.adversarial[None].astype("float32") / 255.0, verbose=0)[0, 8]
    assert p >= 0.99


def test_adversarial_budget_too_small_is_not_success(lenet, digits):
    x, y = digits
    r = adversarial(lenet, x[0], 8, epsilon=2, max_steps=20)
    assert not r.reached and r.probability < 0.999 and r.linf <= 2


def test_bad_class_requests(lenet):
    with pytest.raises(CnnvizError, match="class 10 is out of range; this model has classes 0-9"):
        fool_from_noise(lenet, [10])
    with pytest.raises(CnnvizError, match="unknown class name 'seven'; this model's classes are: 0, 1, 2"):
        fool_from_noise(lenet, ["seven"])
    with pytest.raises(CnnvizError, match="between 0 and 1"):
        fool_from_noise(lenet, [1], confidence=1.0)


def test_visualize_method_gives_class(lenet):
    r = fool_from_noise(lenet, [0, 7], method="visualize", max_steps=30)
    assert (r.probabilities > 0.9).all()


@pytest.mark.slow
def test_vgg16_head_pipeline_at_224():
    vgg = load_model("vgg16", include_top=True, weights=None)
    assert vgg.image_size() == (224, 224)
    clf = Classifier(vgg)
    assert clf.resolve("sea snake") == 65
    r = fool_from_noise(vgg, ["sea snake", 18], max_steps=2, classifier=clf)
    assert r.images.shape == (2, 224, 224, 3) and r.images.dtype == np.uint8 and r.steps == [2, 2]
    # the verdict is the model's own on the saved 8-bit pictures, Caffe-preprocessed (BGR, ImageNet means)
    import keras

    from cnnviz.inputs.preprocessing import to_model_input

    probs = keras.ops.convert_to_numpy(vgg.model(to_model_input(r.images.astype("float32"), "caffe")))
    np.testing.assert_allclose(r.probabilities, probs[[0, 1], [65, 18]], rtol=1e-3, atol=1e-6)
    assert [t.name for t in r.top5[0]] == [imagenet_classes()[i] for i in np.argsort(-probs[0])[:5]]


def test_classifier_labels_file(tmp_path, tiny_conv_model):
    (tmp_path / "labels.txt").write_text("cat\ndog\n\nbird\n")
    from cnnviz.inputs.labels import read_labels_file

    loaded = wrap(tiny_conv_model, classes=read_labels_file(tmp_path / "labels.txt"))
    assert Classifier(loaded).resolve("bird") == 2
