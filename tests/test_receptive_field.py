"""Receptive fields against hand computations (valid and same padding, strides, pools, nesting)."""

import pytest

from cnnviz.errors import CnnvizError
from cnnviz.models import load_model, resolve_layer
from cnnviz.models.receptive_field import receptive_field
from cnnviz.backends.runtime import keras


def test_lenet_conv2_centres_match_hand_computation():
    # conv1 3x3 same -> pool 2 -> conv2 5x5 valid: jump 2, size 3+1+8 = 12, centres 4.5 .. 22.5 (10 units)
    lenet = load_model("lenet")
    rf = receptive_field(lenet.model, resolve_layer(lenet.model, "conv2"), (28, 28))
    assert rf.shape == (10, 10)
    assert rf.jump == (2.0, 2.0) and rf.size == (12.0, 12.0)
    ys, xs = rf.centres()
    assert ys[0] == pytest.approx(4.5) and ys[-1] == pytest.approx(22.5) and xs == ys
    assert rf.box(0, 0) == (-1, -1, 11, 11)  # centre 4.5, 12 wide: pixels -1..10
    assert rf.box(0, 0, (28, 28)) == (0, 0, 11, 11)


def test_strided_same_padding_and_dilation_by_hand():
    x = keras.Input((17, 16, 1))
    a = keras.layers.Conv2D(2, 3, strides=2, padding="same", name="a")(x)   # n=17: out 9, pad total 2 -> 1 before
    b = keras.layers.Conv2D(2, 3, dilation_rate=2, padding="valid", name="b")(a)
    c = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="c")(b)
    m = keras.Model(x, keras.layers.GlobalAveragePooling2D()(c))
    rf_a = receptive_field(m, resolve_layer(m, "a"), (17, 16))
    # y: k=3, s=2, n=17 -> out 9, total pad max(8*2+3-17, 0)=2 -> before 1: start 0+(1-1)*1 = 0
    # x: n=16 -> out 8, total pad max(7*2+3-16, 0)=1 -> before 0: start 0+(1-0)*1 = 1
    assert rf_a.shape == (9, 8) and rf_a.start == (0.0, 1.0) and rf_a.size == (3.0, 3.0) and rf_a.jump == (2.0, 2.0)
    rf_b = receptive_field(m, resolve_layer(m, "b"), (17, 16))
    # dilated k'=5 on jump 2: size 3+4*2 = 11, start + 2*2, shape 9-4=5, 8-4=4
    assert rf_b.shape == (5, 4) and rf_b.size == (11.0, 11.0) and rf_b.start == (4.0, 5.0)
    rf_c = receptive_field(m, resolve_layer(m, "c"), (17, 16))
    # pool 3 s2 same on (5, 4): out (3, 2); pad y total max(2*2+3-5,0)=2 -> before 1; x max(1*2+3-4,0)=1 -> 0
    # jump 2 -> 4; size 11 + (3-1)*2 = 15; start y 4 + (1-1)*2, x 5 + (1-0)*2
    assert rf_c.shape == (3, 2) and rf_c.jump == (4.0, 4.0) and rf_c.size == (15.0, 15.0)
    assert rf_c.start == (4.0, 7.0)


def test_nested_base_model_and_branches():
    inner_in = keras.Input((None, None, 3))
    y = keras.layers.Conv2D(4, 3, padding="valid", name="c1")(inner_in)
    z = keras.layers.Conv2D(4, 5, padding="same", name="c2")(y)
    base = keras.Model(inner_in, keras.layers.Add(name="add")([y, z]), name="base")
    outer_in = keras.Input((20, 20, 3))
    out = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(base(outer_in)))
    m = keras.Model(outer_in, out)
    rf = receptive_field(m, resolve_layer(m, "base/add"), (20, 20))
    # widest branch: c1 (3, valid: start 1) then c2 (5 same: size 7, start 1)
    assert rf.size == (7.0, 7.0) and rf.start == (1.0, 1.0) and rf.shape == (18, 18)


def test_dense_layer_has_no_field():
    lenet = load_model("lenet")
    with pytest.raises(CnnvizError, match="no spatial receptive field"):
        receptive_field(lenet.model, resolve_layer(lenet.model, "fc1"), (28, 28))
