import image_reference
import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as tf
from featherflow.image.resizing import resize_matrix

tf_ref = image_reference.load()  # TF 2.21 outputs (tests/image/fixtures/tf_reference.npz)

METHODS = ["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"]


def test_reference_was_made_by_tensorflow():
    assert tf_ref["versions"][0].startswith("2.")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("size", [(4, 5), (3, 13), (11, 14)])
def test_resize_matches_tensorflow(method, antialias, size):
    out = tf.image.resize(tf_ref["resize/input"], size, method=method, antialias=antialias)
    expected = tf_ref[f"resize/{method}/{int(antialias)}/{size[0]}x{size[1]}"]
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, atol=3e-6)


def test_resize_options_match_tensorflow():
    image = tf_ref["resize/input"]
    np.testing.assert_allclose(tf.image.resize(image, (5, 5), preserve_aspect_ratio=True).numpy(),
                               tf_ref["resize/preserve_aspect_ratio/5x5"], atol=1e-6)
    np.testing.assert_allclose(tf.image.resize_with_pad(image, 6, 6).numpy(), tf_ref["resize/with_pad/6x6"],
                               atol=1e-6)
    np.testing.assert_array_equal(tf.image.resize_with_crop_or_pad(image, 5, 12).numpy(),
                                  tf_ref["resize/with_crop_or_pad/5x12"])
    u8 = tf_ref["resize/uint8_input"]
    nearest = tf.image.resize(u8, (3, 4), method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
    assert nearest.dtype == np.uint8
    np.testing.assert_array_equal(nearest.numpy(), tf_ref["resize/uint8/nearest/3x4"])
    bilinear = tf.image.resize(u8, (8, 9))
    assert bilinear.dtype == np.float32
    np.testing.assert_allclose(bilinear.numpy(), tf_ref["resize/uint8/bilinear/8x9"], rtol=1e-6, atol=2e-5)


def test_resize_matrices_are_averaging_filters():
    for method in METHODS:
        for sizes in [(7, 3), (5, 12)]:
            matrix = resize_matrix(*sizes, method, antialias=True)
            np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-6, err_msg=method)
    # area of an exact 2x reduction: the mean of each pair
    np.testing.assert_allclose(resize_matrix(6, 3, "area"), np.kron(np.eye(3), [[0.5, 0.5]]))


@pytest.mark.parametrize("method", METHODS)
def test_resize_gradient(method):
    image = random_array((2, 5, 6, 2), seed=3)
    check_gradient(lambda x: tf.image.resize(x, (3, 8), method=method, antialias=True), [image])
    check_gradient(lambda x: tf.image.resize(x, (7, 4), method=method), [image])


def test_resize_keeps_float64_and_single_images():
    image = random_array((5, 6, 1))
    out = tf.image.resize(image, (10, 12))
    assert out.shape == (10, 12, 1) and out.dtype == np.float64
    np.testing.assert_allclose(tf.image.resize(image, (5, 6)).numpy(), image)


def test_resize_errors():
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        tf.image.resize(np.zeros((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="2 elements"):
        tf.image.resize(np.zeros((4, 4, 1)), (2, 2, 2))
    with pytest.raises(ValueError, match="not implemented"):
        tf.image.resize(np.zeros((4, 4, 1)), (2, 2), method="cubic")
    with pytest.raises(ValueError, match="positive"):
        tf.image.resize(np.zeros((4, 4, 1)), (0, 2))
