import keras
import numpy as np
import pytest

from cnnviz.methods.activations import activation_maps, channel_order
from cnnviz.methods.cam import class_heatmap, grad_cam_from
from cnnviz.errors import CnnvizError
from cnnviz.inputs.preprocessing import to_model_input

from conftest import assert_unchanged, save_nested_vgg16, snapshot, wrap


def test_activations_equal_direct_forward_pass(lenet, digits):
    x, _ = digits
    snap = snapshot(lenet.model)
    maps = activation_maps(lenet, x[5], ["conv1", "conv2", "pool2"])
    for name, m in maps.items():
        direct = keras.Model(lenet.model.inputs, lenet.model.get_layer(name).output)(to_model_input(x[5:6].astype("float32"), "unit"))
        np.testing.assert_allclose(m, np.asarray(direct)[0], rtol=1e-5, atol=1e-6)
    assert maps["conv2"].shape == (10, 10, 16)
    assert_unchanged(lenet.model, snap)


def test_layer_without_spatial_output(lenet, digits):
    with pytest.raises(CnnvizError, match="'fc1' has no spatial output.*conv1"):
        activation_maps(lenet, digits[0][0], ["fc1"])


def test_channel_order():
    m = np.zeros((2, 2, 3))
    m[..., 1] = 5
    m[0, 0, 2] = 9
    assert channel_order(m, "max") == [2, 1, 0]
    assert channel_order(m, "mean", 2) == [1, 2]
    with pytest.raises(CnnvizError, match="unknown --sort"):
        channel_order(m, "median")


def _one_conv_model():
    inputs = keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")
    x = conv(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(2, name="logits")
    model = keras.Model(inputs, dense(x))
    conv.set_weights([np.array([1.0, -2.0], "float32").reshape(1, 1, 1, 2)])
    dense.set_weights([np.array([[3.0, 1.0], [0.5, -1.0]], "float32"), np.zeros(2, "float32")])
    return model


def test_grad_cam_by_hand():
    model = _one_conv_model()
    loaded = wrap(model, preprocess="none")
    image = np.arange(16, dtype="float64").reshape(4, 4, 1)
    # A_k = w_k * x;  logit_c = sum_k W[k, c] * mean(A_k);  dlogit_c / dA_k = W[k, c] / 16
    w, W = np.array([1.0, -2.0]), np.array([[3.0, 1.0], [0.5, -1.0]])
    for c in (0, 1):
        alpha = W[:, c] / 16.0
        expected = np.maximum((image * w * alpha).sum(axis=-1), 0.0)
        res = class_heatmap(loaded, image, c)
        np.testing.assert_allclose(res.raw, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(res.heat, expected / (expected.max() + 1e-8), rtol=1e-5, atol=1e-6)
    predicted = int(np.argmax(W.T @ (w * image.mean())))  # logits by hand: [2, 3] * mean(x)
    assert predicted == 1 and class_heatmap(loaded, image, None).class_index == predicted


def test_all_negative_map_gives_zero_heat_not_nan():
    model = _one_conv_model()
    image = -np.ones((4, 4, 1))
    res = class_heatmap(wrap(model, preprocess="none"), image, 0)
    # by hand: channel maps -1 and +2, Grad-CAM weights 3/16 and 0.5/16 -> relu(-3/16 + 1/16) = 0 everywhere
    assert res.heat.shape == (4, 4) and (res.heat == 0).all()


def test_methods_share_the_path(lenet, digits):
    x, _ = digits
    snap = snapshot(lenet.model)
    for method in ("gradcam", "gradcam++", "smoothgrad"):
        res = class_heatmap(lenet, x[2], method=method, samples=8)
        assert res.heat.shape == (28, 28) and np.isfinite(res.heat).all()
        assert res.class_index == 1 and res.heat.max() == pytest.approx(1.0, abs=1e-6)
    assert_unchanged(lenet.model, snap)
    with pytest.raises(CnnvizError, match="unknown --method"):
        class_heatmap(lenet, x[0], method="lime")
    with pytest.raises(CnnvizError, match="class 12 is out of range"):
        class_heatmap(lenet, x[0], 12)


def test_cam_and_activations_on_nested_base(tmp_path):
    from cnnviz.models import load_model

    path = save_nested_vgg16(tmp_path, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax"))
    loaded = load_model(path, preprocess="caffe")
    image = np.random.default_rng(0).integers(0, 255, (32, 32, 3)).astype("uint8")
    res = class_heatmap(loaded, image, 2)
    assert res.layer == "vgg16/block5_conv3" and res.heat.shape == (32, 32) and np.isfinite(res.heat).all()
    # the gradient really flows from the logits to the nested maps: Grad-CAM by hand on the same maps
    from cnnviz.optvis import layer_gradients
    from cnnviz.models import logits_model, resolve_layer

    model, _ = logits_model(loaded, extra=[resolve_layer(loaded.model, "block5_conv3")])
    maps, grads, _ = layer_gradients(model, to_model_input(image[None].astype("float32"), "caffe"), lambda l: l[:, 2])
    assert np.abs(grads).sum() > 0
    np.testing.assert_allclose(res.raw, grad_cam_from(maps[0], grads[0]), rtol=1e-5, atol=1e-7)
    maps = activation_maps(loaded, image, ["vgg16/block1_conv1", "block3_pool"])
    assert maps["vgg16/block1_conv1"].shape == (32, 32, 64) and maps["vgg16/block3_pool"].shape == (4, 4, 256)
