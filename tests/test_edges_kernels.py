import cv2
import keras
import numpy as np
import pytest
from scipy import ndimage

from cnnviz.methods.edges import apply_kernels, edge_filter, gallery, grey
from cnnviz.errors import CnnvizError
from cnnviz.inputs.images import bundled_cat, read_image
from cnnviz.methods.kernels import learned_kernels
from cnnviz.methods.kernels_classic import (LAPLACIAN, SOBEL_V, gallery_kernels, load_kernel_file, nearest_template,
                                    ring_rotate, templates)

from conftest import wrap

TOL = 1e-9  # float64 Conv2D against float64 references


def test_sobel_conv2d_equals_opencv_and_scipy():
    img = read_image(bundled_cat())[:120, :160]
    g = grey(img)
    res = edge_filter(img, "sobel")  # reflect-101 border, OpenCV's default
    np.testing.assert_allclose(res.vertical, cv2.Sobel(g, cv2.CV_64F, 1, 0, ksize=3), atol=TOL)
    np.testing.assert_allclose(res.horizontal, cv2.Sobel(g, cv2.CV_64F, 0, 1, ksize=3), atol=TOL)
    # scipy's mode="reflect" is the half-sample symmetric border
    sym = apply_kernels(g, np.stack([SOBEL_V, SOBEL_V.T], -1), border="symmetric")
    np.testing.assert_allclose(sym[..., 0], ndimage.sobel(g, axis=1, mode="reflect"), atol=TOL)
    np.testing.assert_allclose(sym[..., 1], ndimage.sobel(g, axis=0, mode="reflect"), atol=TOL)
    np.testing.assert_allclose(res.magnitude, np.hypot(res.vertical, res.horizontal))


def test_laplacian_equals_filter2d():
    g = grey(read_image(bundled_cat())[:50, :60])
    out = apply_kernels(g, LAPLACIAN)[..., 0]
    np.testing.assert_allclose(out, cv2.filter2D(g, cv2.CV_64F, LAPLACIAN, borderType=cv2.BORDER_REFLECT_101), atol=TOL)


def test_step_images_light_the_right_kernel():
    vertical_step = np.zeros((20, 20))
    vertical_step[:, 10:] = 255
    r = edge_filter(vertical_step[..., None], "sobel")
    assert np.abs(r.vertical).max() == 4 * 255 and np.abs(r.horizontal).max() == 0
    r = edge_filter(vertical_step.T[..., None], "sobel")
    assert np.abs(r.horizontal).max() == 4 * 255 and np.abs(r.vertical).max() == 0


def test_per_channel():
    img = np.zeros((10, 10, 3), "uint8")
    img[:, 5:, 0] = 200  # an edge in the red channel only
    r = edge_filter(img, "sobel", per_channel=True)
    assert r.vertical.shape == (10, 10, 3)
    assert np.abs(r.vertical[..., 0]).max() == 800 and np.abs(r.vertical[..., 1:]).max() == 0


def test_gallery_kernels_are_textbook():
    k = gallery_kernels()
    np.testing.assert_array_equal(k["sobel V"], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(k["sobel H"], [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    np.testing.assert_array_equal(k["prewitt V"], [[-1, 0, 1]] * 3)
    np.testing.assert_array_equal(k["scharr V"], [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
    np.testing.assert_array_equal(k["laplacian"], [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(k["sharpen"], [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(k["emboss"], [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    np.testing.assert_array_equal(k["outline"], [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_allclose(k["blur"], np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)
    img = np.random.default_rng(0).uniform(0, 255, (12, 12))
    resp = gallery(img[..., None])
    np.testing.assert_allclose(resp["sharpen"], cv2.filter2D(img, cv2.CV_64F, k["sharpen"], borderType=cv2.BORDER_REFLECT_101), atol=TOL)


def test_nearest_template_recovers_rotated_sobel():
    rotated = np.rot90(SOBEL_V)  # 90 degrees: the horizontal-edge kernel (up to sign)
    name, cos = nearest_template(rotated)
    assert name.startswith("sobel") and cos == pytest.approx(1.0)
    np.testing.assert_array_equal(templates()[name], rotated)
    assert ring_rotate(SOBEL_V, 8).tolist() == SOBEL_V.tolist()
    assert nearest_template(-0.3 * LAPLACIAN)[0] == "-laplacian"


def test_bad_kernels(tmp_path):
    with pytest.raises(CnnvizError, match="unknown kernel 'sobell'; use one of: sobel, prewitt"):
        edge_filter(np.zeros((5, 5, 1)), "sobell")
    (tmp_path / "k.txt").write_text("1 2\n3 4\n")
    with pytest.raises(CnnvizError, match="square 2-D array of odd size"):
        load_kernel_file(tmp_path / "k.txt")
    (tmp_path / "bad.txt").write_text("1 a 2\n")
    with pytest.raises(CnnvizError, match="not a numeric array"):
        load_kernel_file(tmp_path / "bad.txt")
    (tmp_path / "ok.txt").write_text("0,1,0\n1,-4,1\n0,1,0\n")
    np.testing.assert_array_equal(load_kernel_file(tmp_path / "ok.txt"), LAPLACIAN)
    (tmp_path / "not.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(CnnvizError, match="not a readable image"):
        read_image(tmp_path / "not.png")


def test_learned_kernels_of_lenet(lenet):
    r = learned_kernels(lenet)
    assert r.layer == "conv1" and r.weights.shape == (3, 3, 1, 6)
    np.testing.assert_array_equal(r.weights, lenet.model.get_layer("conv1").kernel.numpy())
    assert all(-1.0 <= c <= 1.0 for _, c in r.matches)
    assert any(n.split()[0] in ("sobel", "prewitt") and c > 0.7 for n, c in r.matches)


def test_kernels_need_a_conv_layer():
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    with pytest.raises(CnnvizError, match="has no convolutional layer"):
        learned_kernels(wrap(model))
