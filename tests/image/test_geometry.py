import image_reference
import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as tf

tf_ref = image_reference.load()  # TF 2.21 outputs (tests/image/fixtures/tf_reference.npz)


def test_flips_transpose_rot90_match_numpy():
    batch = random_array((2, 3, 4, 2))
    np.testing.assert_array_equal(tf.image.flip_left_right(batch).numpy(), batch[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(batch).numpy(), batch[:, ::-1])
    np.testing.assert_array_equal(tf.image.transpose(batch).numpy(), batch.transpose(0, 2, 1, 3))
    for k in range(-1, 5):
        np.testing.assert_array_equal(tf.image.rot90(batch, k).numpy(), np.rot90(batch, k, axes=(1, 2)))
        np.testing.assert_array_equal(tf.image.rot90(batch[0], k).numpy(), np.rot90(batch[0], k))


@pytest.mark.parametrize("fn", [tf.image.flip_left_right, tf.image.flip_up_down, tf.image.transpose,
                                lambda x: tf.image.rot90(x, 1), lambda x: tf.image.rot90(x, 3),
                                lambda x: tf.image.central_crop(x, 0.6),
                                lambda x: tf.image.crop_to_bounding_box(x, 1, 2, 3, 2),
                                lambda x: tf.image.pad_to_bounding_box(x, 1, 2, 7, 9),
                                lambda x: tf.image.resize_with_crop_or_pad(x, 3, 8),
                                lambda x: tf.image.resize_with_pad(x, 8, 8, method="bicubic")])
def test_geometry_gradients(fn):
    check_gradient(fn, [random_array((2, 5, 6, 2), seed=2)])


def test_crops_and_pads():
    grid = tf_ref["misc/input"]
    np.testing.assert_array_equal(tf.image.central_crop(grid, 0.5).numpy(), tf_ref["misc/central_crop/0.5"])
    assert tf.image.central_crop(grid, 1.0).shape == grid.shape
    image = np.arange(20.0).reshape(4, 5, 1)
    np.testing.assert_array_equal(tf.image.crop_to_bounding_box(image, 1, 2, 2, 3).numpy(), image[1:3, 2:5])
    padded = tf.image.pad_to_bounding_box(image, 1, 2, 6, 8).numpy()
    assert padded.shape == (6, 8, 1) and padded[1:5, 2:7].tolist() == image.tolist() and padded.sum() == image.sum()
    with pytest.raises(ValueError, match="height must be >= target \\+ offset"):
        tf.image.crop_to_bounding_box(image, 3, 0, 2, 2)
    with pytest.raises(ValueError, match="offset_width must be >= 0"):
        tf.image.crop_to_bounding_box(image, 0, -1, 2, 2)
    with pytest.raises(ValueError, match="width must be <= target - offset"):
        tf.image.pad_to_bounding_box(image, 0, 2, 4, 6)
    with pytest.raises(ValueError, match="central_fraction"):
        tf.image.central_crop(image, 0.0)
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        tf.image.flip_left_right(np.zeros((3, 3)))


def test_extract_patches():
    grid = tf_ref["misc/input"]
    np.testing.assert_array_equal(
        tf.image.extract_patches(grid, [1, 3, 2, 1], [1, 2, 3, 1], [1, 1, 1, 1], "VALID").numpy(),
        tf_ref["misc/extract_patches/valid"])
    np.testing.assert_array_equal(
        tf.image.extract_patches(grid, [1, 2, 3, 1], [1, 2, 2, 1], [1, 2, 1, 1], "SAME").numpy(),
        tf_ref["misc/extract_patches/same_rates"])
    check_gradient(lambda x: tf.image.extract_patches(x, [1, 2, 3, 1], [1, 2, 1, 1], [1, 1, 2, 1], "SAME"),
                   [random_array((2, 5, 6, 2))])
    with pytest.raises(ValueError, match="sizes"):
        tf.image.extract_patches(grid, [2, 2], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_crop_and_resize(method):
    out = tf.image.crop_and_resize(tf_ref["misc/input"], tf_ref["misc/crop_and_resize/boxes"], [1, 0, 1], [4, 5],
                                   method=method, extrapolation_value=0.25)
    np.testing.assert_allclose(out.numpy(), tf_ref[f"misc/crop_and_resize/{method}"], atol=1e-6)
    boxes = np.array([[0.1, 0.2, 0.8, 0.7], [-0.1, 0.3, 0.6, 1.2]])
    check_gradient(lambda x: tf.image.crop_and_resize(x, boxes, [1, 0], (3, 4), method=method,
                                                      extrapolation_value=0.5), [random_array((2, 5, 6, 2))])
    with pytest.raises(ValueError, match="box_indices"):
        tf.image.crop_and_resize(tf_ref["misc/input"], boxes, [0, 2], (3, 3))
