"""Reference values for cnnviz.methods.attribution.subject: the head values and layer maps of a tiny linear
model against the same products in NumPy, the class probability (softmax by hand; a user's score as it is),
the one-hot class score, which conv layer is chosen and why, and where its maps land on the input."""

from __future__ import annotations

import cv2
import keras
import numpy as np
import pytest
from conftest import wrap

from cnnviz.errors import CnnvizError
from cnnviz.methods.attribution.subject import (
    EPS,
    class_score,
    conv_path,
    make_subject,
    place_layer_maps,
    probabilities,
)
from cnnviz.models.heads import Score


def _conv_dense(activation="softmax"):
    """(6, 6, 2) -> 1x1 Conv2D(3) 'conv', linear -> Flatten -> Dense(4, activation) 'out'."""
    rng = np.random.default_rng(0)
    inputs = keras.Input((6, 6, 2))
    conv = keras.layers.Conv2D(3, 1, name="conv")
    dense = keras.layers.Dense(4, activation=activation, name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten(name="flat")(conv(inputs))), name="cd")
    k, b = rng.normal(0, 1, (1, 1, 2, 3)).astype("float32"), rng.normal(0, 1, 3).astype("float32")
    w, c = rng.normal(0, 0.5, (108, 4)).astype("float32"), rng.normal(0, 1, 4).astype("float32")
    conv.set_weights([k, b])
    dense.set_weights([w, c])

    def maps(x):
        return np.einsum("nhwc,cj->nhwj", x.astype("float64"), k[0, 0]) + b

    def logits(x):
        return maps(x).reshape(len(x), -1) @ w + c

    return model, maps, logits


def test_forward_and_layer_forward_are_the_model_before_its_softmax():
    model, maps, logits = _conv_dense()
    subject = make_subject(wrap(model, preprocess="none"), (6, 6), layer="conv", needs_layer=True)
    x = np.random.default_rng(1).uniform(-1, 1, (5, 6, 6, 2)).astype("float32")
    got = subject.forward(x, batch_size=2)  # chunks of 2, 2 and 1
    assert got.dtype == np.float64 and got.shape == (5, 4)
    np.testing.assert_allclose(got, logits(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(subject.forward(x), logits(x), rtol=1e-5, atol=1e-5)
    head, layer = subject.layer_forward(x)
    np.testing.assert_allclose(head, logits(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer, maps(x), rtol=1e-5, atol=1e-5)
    assert subject.num_classes == 4 and subject.layer == "conv" and subject.placement == "receptive-field"
    assert subject.layer_reason == "given with --layer"
    np.testing.assert_array_equal(subject.centres[0], np.arange(6))  # 1x1 conv: unit i looks at pixel i


def test_probability_and_score():
    model, _, logits = _conv_dense()
    subject = make_subject(wrap(model, preprocess="none"), (6, 6))
    assert subject.layer is None and subject.layer_model is None and subject.centres is None
    x = np.random.default_rng(2).uniform(-1, 1, (3, 6, 6, 2)).astype("float32")
    z = logits(x)
    soft = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    score = subject.score(2)
    assert score.cls == 2 and score.unit == 2 and subject.score(score) is score and subject.loaded.model is model
    np.testing.assert_allclose(subject.probability(x, score), soft[:, 2], rtol=1e-5)
    own = Score(score.head, function=lambda v: v[:, 1] - v[:, 3])  # a user's score: no class, its value
    np.testing.assert_allclose(subject.probability(x, own), z[:, 1] - z[:, 3], rtol=1e-4, atol=1e-5)


def test_probabilities_and_class_score_by_hand():
    z = np.array([[1000.0, 1001.0, 999.0], [0.0, 0.0, np.log(2.0)]])
    e = np.exp([0.0, 1.0, -1.0])
    np.testing.assert_allclose(probabilities(z), [e / e.sum(), [0.25, 0.25, 0.5]], rtol=1e-12)
    logits = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], "float32")
    got = keras.ops.convert_to_numpy(class_score(2, 2, 3)(keras.ops.convert_to_tensor(logits)))
    np.testing.assert_array_equal(got, [3.0, -6.0])
    assert EPS == 1e-8


def test_conv_path_default_and_errors():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 1, name="c0")(inputs)
    x = keras.layers.Conv2D(2, 3, name="c1")(x)
    x = keras.layers.Conv2D(2, 3, name="c2")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="act")(x)
    out = keras.layers.Dense(3, name="out")(keras.layers.Flatten(name="flat")(x))
    loaded = wrap(keras.Model(inputs, out, name="m"), preprocess="none")
    path, why = conv_path(loaded, None)
    assert path[-1].name == "act" and "nonlinearity after the last conv c2" in why
    assert conv_path(loaded, "c1")[0][-1].name == "c1"
    with pytest.raises(CnnvizError, match="layer 'flat' has no spatial output; gradcam needs a conv layer such as c2"):
        conv_path(loaded, "flat", "gradcam")
    flat_in = keras.Input((4,))
    dense = wrap(keras.Model(flat_in, keras.layers.Dense(2, name="d")(flat_in), name="mlp"), preprocess="none")
    with pytest.raises(CnnvizError, match="scorecam needs a conv layer and mlp has none; use saliency"):
        conv_path(dense, None, "scorecam")
    with pytest.raises(CnnvizError, match="^this method needs a conv layer and mlp has none"):
        conv_path(dense, None)
    img_in = keras.Input((4, 4, 1))
    flat = wrap(keras.Model(img_in, keras.layers.Dense(2)(keras.layers.Flatten()(img_in)), name="flat"), preprocess="none")
    with pytest.raises(CnnvizError, match="^this method needs a conv layer and flat has none"):
        make_subject(flat, (4, 4), needs_layer=True)
    with pytest.raises(CnnvizError, match="^scorecam needs a conv layer and flat has none"):
        make_subject(flat, (4, 4), needs_layer=True, method="scorecam")
    with pytest.raises(CnnvizError, match="^layer 'd' has no spatial output; this method needs a conv layer$"):
        conv_path(dense, "d")  # no conv to suggest
    subject = make_subject(loaded, (8, 8), needs_layer=True)
    assert subject.layer == "act" and subject.layer_reason == why and subject.placement == "receptive-field"
    np.testing.assert_array_equal(subject.centres[0], np.arange(2, 6))  # two valid 3x3 convs: 4 units from pixel 2


def test_place_layer_maps_by_centres_or_stretched():
    model, _, _ = _conv_dense()
    subject = make_subject(wrap(model, preprocess="none"), (6, 6), layer="conv", needs_layer=True)
    maps = np.random.default_rng(3).uniform(0, 1, (2, 6, 6))
    np.testing.assert_allclose(place_layer_maps(subject, maps), maps, rtol=1e-6)  # unit centres on every pixel
    assert subject.placement == "receptive-field"
    small = np.array([[[0.0, 1.0], [2.0, 3.0]]])  # a 2x2 grid the centres do not fit: stretched, centres 1 and 4
    placed = place_layer_maps(subject, small)
    assert subject.placement == "stretched" and placed.shape == (1, 6, 6)
    np.testing.assert_allclose(placed[0, 1, [1, 4]], [0.0, 1.0], atol=1e-9)  # exactly at the stretched centres
    np.testing.assert_allclose(placed[0, 4, [1, 4]], [2.0, 3.0], atol=1e-9)
    np.testing.assert_allclose(placed[0, 1, 2], 1.0 / 3.0, rtol=1e-6)  # a third of the way from centre 1 to 4


def test_forward_runs_in_inference_mode():
    """BatchNorm with its moving statistics and Dropout off: the forward pass a model is deployed with."""
    rng = np.random.default_rng(4)
    inputs = keras.Input((6, 6, 2))
    conv = keras.layers.Conv2D(3, 1, name="conv")
    bn = keras.layers.BatchNormalization(name="bn")
    dense = keras.layers.Dense(4, name="out")
    x = keras.layers.Dropout(0.5)(bn(conv(inputs)))
    model = keras.Model(inputs, dense(keras.layers.Flatten()(x)), name="bn")
    k, b = rng.normal(0, 1, (1, 1, 2, 3)).astype("float32"), rng.normal(0, 1, 3).astype("float32")
    conv.set_weights([k, b])
    gamma, beta = np.array([1.5, 0.5, 2.0], "float32"), np.array([0.1, -0.2, 0.3], "float32")
    mean, var = np.array([2.0, -1.0, 0.5], "float32"), np.array([4.0, 0.25, 9.0], "float32")
    bn.set_weights([gamma, beta, mean, var])
    w, c = rng.normal(0, 0.5, (108, 4)).astype("float32"), np.zeros(4, "float32")
    dense.set_weights([w, c])
    subject = make_subject(wrap(model, preprocess="none"), (6, 6), layer="conv", needs_layer=True)
    img = rng.uniform(-1, 1, (3, 6, 6, 2)).astype("float32")
    a = np.einsum("nhwc,cj->nhwj", img.astype("float64"), k[0, 0]) + b
    logits = ((a - mean) / np.sqrt(var + 1e-3) * gamma + beta).reshape(3, -1) @ w + c
    np.testing.assert_allclose(subject.forward(img), logits, rtol=1e-4, atol=1e-4)
    head, maps = subject.layer_forward(img)
    np.testing.assert_allclose(head, logits, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(maps, a, rtol=1e-5, atol=1e-5)


def test_stretched_placement_on_a_wide_image():
    """No layer centres (a subject without a layer): a 2x3 map on a 6x9 image sits at rows 1, 4 and columns
    1, 4, 7, the centres of an edge-to-edge resize, (i + 0.5) * 3 - 0.5."""
    model, _, _ = _conv_dense()
    subject = make_subject(wrap(model, preprocess="none"), (6, 9))
    maps = np.arange(6.0).reshape(1, 2, 3)
    placed = place_layer_maps(subject, maps)
    assert placed.shape == (1, 6, 9) and subject.placement == "stretched"
    np.testing.assert_allclose(placed[0][np.ix_([1, 4], [1, 4, 7])], maps[0], atol=1e-9)
    layered = make_subject(wrap(model, preprocess="none"), (6, 6), layer="conv", needs_layer=True)
    tall = np.arange(12.0).reshape(1, 6, 2)  # the rows fit the layer's 6 centres, the columns do not: stretched
    placed = place_layer_maps(layered, tall)
    assert layered.placement == "stretched"
    np.testing.assert_allclose(placed[0][:, [1, 4]], tall[0], atol=1e-9)


def test_default_layer_is_the_last_conv_the_image_feeds():
    """A second, non-image input with its own (later) conv: the default layer is still the image's conv."""
    image = keras.Input((8, 8, 1), name="image")
    aux = keras.Input((8,), name="aux")
    ci = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, name="ci")(image))
    ca = keras.layers.Flatten()(keras.layers.Conv2D(2, 1, name="ca")(keras.layers.Reshape((2, 2, 2))(aux)))
    out = keras.layers.Dense(3, name="out")(keras.layers.Concatenate()([ci, ca]))
    loaded = wrap(keras.Model([image, aux], out, name="two"), preprocess="none")
    from cnnviz.models import conv_layers

    assert [p[-1].name for p in conv_layers(loaded.model)][-1] == "ca"  # the other input's conv comes last
    assert conv_path(loaded, None)[0][-1].name == "ci"
    with pytest.raises(CnnvizError):  # asked for by name, the other input's conv is refused
        make_subject(loaded, (8, 8), layer="ca", needs_layer=True)


def test_a_layer_without_a_receptive_field_is_placed_stretched():
    """A Permute between the convs: no receptive field is defined, so the maps are stretched edge to edge."""
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Permute((2, 1, 3), name="perm")(keras.layers.Conv2D(2, 3, padding="same", name="c1")(inputs))
    x = keras.layers.Conv2D(2, 2, strides=2, name="c2")(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(x)), name="perm")
    subject = make_subject(wrap(model, preprocess="none"), (8, 8), layer="c2", needs_layer=True)
    assert subject.centres is None and subject.placement == "stretched"
    maps = np.random.default_rng(0).uniform(0, 1, (1, 4, 4)).astype("float32")
    resized = cv2.resize(maps[0], (8, 8), interpolation=cv2.INTER_LINEAR)  # edge-to-edge, as stretched centres say
    np.testing.assert_allclose(place_layer_maps(subject, maps)[0], resized, rtol=1e-5, atol=1e-6)
