"""Reference values for cnnviz.models.receptive_field (Araujo et al., Distill 2019): padding, cropping,
default pool strides, non-square kernels, unit boxes, layers without a field, computed by hand; the
output grid is checked against Keras' own shapes."""

from __future__ import annotations

import pytest

from cnnviz.backends.runtime import keras
from cnnviz.errors import CnnvizError
from cnnviz.models import resolve_layer
from cnnviz.models.receptive_field import ReceptiveField, receptive_field


def field(model, name, hw):
    rf = receptive_field(model, resolve_layer(model, name), hw)
    assert rf.shape == tuple(model.get_layer(name).output.shape[1:3])  # Keras agrees on the grid
    return rf


class Double(keras.layers.Layer):
    """An elementwise layer of a name the module does not know."""

    def call(self, x):
        return x * 2.0


def test_padding_cropping_and_default_pool_strides_by_hand():
    m = keras.Sequential([
        keras.Input((10, 10, 1)),
        keras.layers.ZeroPadding2D(((1, 2), (3, 0)), name="pad"),  # start (-1, -3), grid 13 x 13
        keras.layers.Conv2D(2, 3, name="conv"),  # valid 3: start (0, -2), size 3, grid 11 x 11
        keras.layers.BatchNormalization(name="bn"),
        Double(name="double"),
        keras.layers.Cropping2D(((1, 0), (0, 2)), name="crop"),  # start (1, -2), grid 10 x 9
        keras.layers.AveragePooling2D(2, name="pool"),  # strides default to the pool: start (1.5, -1.5), jump 2, size 4
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(2, name="dense"),
    ])
    assert field(m, "pad", (10, 10)) == ReceptiveField((1.0, 1.0), (1.0, 1.0), (-1.0, -3.0), (13, 13))
    assert field(m, "conv", (10, 10)) == ReceptiveField((3.0, 3.0), (1.0, 1.0), (0.0, -2.0), (11, 11))
    assert field(m, "double", (10, 10)) == field(m, "conv", (10, 10))
    assert field(m, "crop", (10, 10)) == ReceptiveField((3.0, 3.0), (1.0, 1.0), (1.0, -2.0), (10, 9))
    pool = field(m, "pool", (10, 10))
    assert pool == ReceptiveField((4.0, 4.0), (2.0, 2.0), (1.5, -1.5), (5, 4))
    assert pool.centres() == ([1.5, 3.5, 5.5, 7.5, 9.5], [-1.5, 0.5, 2.5, 4.5])
    # unit (1, 2): centre (3.5, 2.5), 4 wide -> pixels 2..5 and 1..4; unit (0, 0) clipped to the image
    assert pool.box(1, 2) == (2, 1, 6, 5) and pool.box(0, 0) == (0, -3, 4, 1) and pool.box(0, 0, (10, 10)) == (0, 0, 4, 1)
    assert pool.box(4, 3, (10, 8)) == (8, 3, 10, 7)
    with pytest.raises(CnnvizError, match="layer 'flat' has no spatial receptive field"):
        receptive_field(m, resolve_layer(m, "flat"), (10, 10))


def test_non_square_kernel_strides_and_dilation_by_hand():
    x = keras.Input((9, 12, 1))
    a = keras.layers.Conv2D(2, (3, 1), strides=(1, 2), padding="same", name="a")(x)
    b = keras.layers.Conv2D(2, (1, 2), dilation_rate=(1, 3), name="b")(a)
    m = keras.Model(x, b)
    # y: k 3, s 1, same: pad 2 -> 1 before, start 0; x: k 1, s 2, n 12 -> out 6, pad max(5*2+1-12, 0) = 0
    assert field(m, "a", (9, 12)) == ReceptiveField((3.0, 1.0), (1.0, 2.0), (0.0, 0.0), (9, 6))
    # y: k 1: unchanged; x: k' = 3*(2-1)+1 = 4 on jump 2: size 1+3*2 = 7, start 0+1.5*2 = 3, grid 6-3 = 3
    assert field(m, "b", (9, 12)) == ReceptiveField((3.0, 7.0), (1.0, 2.0), (0.0, 3.0), (9, 3))


def test_layers_whose_field_is_not_defined_say_so():
    x = keras.Input((8, 8, 1))
    up = keras.layers.Conv2DTranspose(2, 3, name="up")(x)
    m = keras.Model(x, up)
    with pytest.raises(CnnvizError, match=r"layer 'up' \(Conv2DTranspose\) upsamples"):
        receptive_field(m, resolve_layer(m, "up"), (8, 8))
    x = keras.Input((1, 8, 8))
    cf = keras.layers.MaxPooling2D(2, data_format="channels_first", name="cf")(x)
    m = keras.Model(x, cf)
    with pytest.raises(CnnvizError, match="layer 'cf' is channels_first"):
        receptive_field(m, resolve_layer(m, "cf"), (8, 8))


def test_multi_input_model_starts_at_the_image():
    extra = keras.Input((4,), name="extra")
    image = keras.Input((12, 12, 3), name="image")
    c = keras.layers.Conv2D(2, 5, strides=2, name="c")(image)
    gap = keras.layers.GlobalAveragePooling2D()(c)
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([gap, extra]))
    m = keras.Model([extra, image], out)
    assert field(m, "c", (12, 12)) == ReceptiveField((5.0, 5.0), (2.0, 2.0), (2.0, 2.0), (4, 4))


def test_centres_and_boxes_keep_the_axes_apart():
    rf = ReceptiveField((3.0, 7.0), (1.0, 2.0), (0.0, 3.0), (9, 3))
    assert rf.centres() == ([float(i) for i in range(9)], [3.0, 5.0, 7.0])
    # unit (1, 2): centre (1, 7); 3 rows 0..2, 7 columns 4..10
    assert rf.box(1, 2) == (0, 4, 3, 11) and rf.box(1, 2, (9, 9)) == (0, 4, 3, 9)


def test_branches_keep_the_field_of_largest_area():
    x = keras.Input((12, 12, 1))
    tall = keras.layers.Conv2D(1, (5, 1), padding="same", name="tall")(x)  # 5 x 1: area 5
    wide = keras.layers.Conv2D(1, (1, 3), padding="same", name="wide")(x)  # 1 x 3: area 3
    m = keras.Model(x, keras.layers.Add(name="add")([wide, tall]))
    assert field(m, "add", (12, 12)).size == (5.0, 1.0)


class OddPool(keras.layers.Layer):
    """A custom layer with Keras-like attributes but a one-element pool size, no strides and no
    dilation_rate: the field code fills them in (pool for strides, 1 for dilation)."""

    def __init__(self, kind: str, **kwargs):
        super().__init__(**kwargs)
        self.padding = "valid"
        if kind == "pool":
            self.pool_size, self.strides = (3,), None
        else:
            self.kernel_size, self.strides = (3, 3), (1, 1)

    def call(self, x):
        if hasattr(self, "pool_size"):
            return keras.ops.average_pool(x, 3, strides=3, padding="valid")
        return keras.ops.average_pool(x, 3, strides=1, padding="valid")


def test_custom_layers_with_partial_attributes():
    x = keras.Input((9, 9, 1))
    p = OddPool("pool", name="pool")(x)
    k = OddPool("kernel", name="kernel")(x)
    m = keras.Model(x, [p, k])
    # pool (3,) -> 3 x 3, strides None -> the pool: start 1, jump 3, size 3, grid 3
    assert field(m, "pool", (9, 9)) == ReceptiveField((3.0, 3.0), (3.0, 3.0), (1.0, 1.0), (3, 3))
    # kernel 3, no dilation_rate attribute: dilation 1, size 3, start 1, grid 7
    assert field(m, "kernel", (9, 9)) == ReceptiveField((3.0, 3.0), (1.0, 1.0), (1.0, 1.0), (7, 7))


def test_a_layer_inside_a_model_nested_in_a_sequential():
    inner_in = keras.Input((None, None, 1))
    base = keras.Model(inner_in, keras.layers.Conv2D(2, 3, strides=2, name="c")(inner_in), name="base")
    m = keras.Sequential([keras.Input((11, 11, 1)), keras.layers.ZeroPadding2D(1, name="pad"), base,
                          keras.layers.Conv2D(2, 3, name="after")])
    # pad start -1, grid 13; c: valid 3 stride 2 -> start 0, jump 2, size 3, grid 6; after: start 2, size 7, grid 4
    assert receptive_field(m, resolve_layer(m, "base/c"), (11, 11)) == ReceptiveField((3.0, 3.0), (2.0, 2.0), (0.0, 0.0), (6, 6))
    assert field(m, "after", (11, 11)) == ReceptiveField((7.0, 7.0), (2.0, 2.0), (2.0, 2.0), (4, 4))


def test_padding_and_cropping_on_unequal_axes_by_hand():
    m = keras.Sequential([
        keras.Input((10, 14, 1)),
        keras.layers.Conv2D(1, (3, 1), strides=(2, 3), name="conv"),  # start (1, 0), jump (2, 3), size (3, 1), grid 4 x 5
        keras.layers.ZeroPadding2D(((1, 2), (3, 1)), name="pad"),  # start (1 - 2, 0 - 9), grid 7 x 9
        keras.layers.Cropping2D(((1, 1), (2, 1)), name="crop"),  # start (-1 + 2, -9 + 6), grid 5 x 6
    ])
    assert field(m, "conv", (10, 14)) == ReceptiveField((3.0, 1.0), (2.0, 3.0), (1.0, 0.0), (4, 5))
    assert field(m, "pad", (10, 14)) == ReceptiveField((3.0, 1.0), (2.0, 3.0), (-1.0, -9.0), (7, 9))
    assert field(m, "crop", (10, 14)) == ReceptiveField((3.0, 1.0), (2.0, 3.0), (1.0, -3.0), (5, 6))


@pytest.mark.parametrize("layer", [
    keras.layers.GlobalAveragePooling2D(name="out"),
    keras.layers.GlobalMaxPooling2D(keepdims=True, name="out"),  # 4-D, but one value per channel
    keras.layers.Reshape((1, 8 * 8 * 2, 1), name="out"),
    keras.layers.Permute((2, 1, 3), name="out"),
])
def test_layers_that_leave_the_grid_have_no_field(layer):
    x = keras.Input((10, 10, 1))
    m = keras.Model(x, layer(keras.layers.Conv2D(2, 3, name="c")(x)))
    with pytest.raises(CnnvizError, match="layer 'out' has no spatial receptive field"):
        receptive_field(m, resolve_layer(m, "out"), (10, 10))


def test_the_walk_stops_at_the_layer_asked_for():
    """Layers after the one asked for are not visited (an upsampling layer there is no error)."""
    seq = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="a"),
                            keras.layers.Conv2DTranspose(2, 3, name="up")])
    assert field(seq, "a", (8, 8)).size == (3.0, 3.0)
    x = keras.Input((8, 8, 1))
    func = keras.Model(x, keras.layers.Conv2DTranspose(2, 3, name="up")(keras.layers.Conv2D(2, 3, name="a")(x)))
    assert field(func, "a", (8, 8)).size == (3.0, 3.0)
    inner_in = keras.Input((None, None, 1))
    base = keras.Model(inner_in, keras.layers.Conv2DTranspose(2, 3, name="up")(keras.layers.Conv2D(2, 3, name="c")(inner_in)),
                       name="base")
    outer_in = keras.Input((8, 8, 1))
    nested = keras.Model(outer_in, base(outer_in))
    assert receptive_field(nested, resolve_layer(nested, "base/c"), (8, 8)).size == (3.0, 3.0)


def test_no_field_error_names_the_nested_path():
    inner_in = keras.Input((8, 8, 1))
    base = keras.Model(inner_in, keras.layers.GlobalAveragePooling2D(name="gap")(inner_in), name="base")
    outer_in = keras.Input((8, 8, 1))
    m = keras.Model(outer_in, base(outer_in))
    with pytest.raises(CnnvizError, match="^layer 'base/gap' has no spatial receptive field"):
        receptive_field(m, resolve_layer(m, "base/gap"), (8, 8))
