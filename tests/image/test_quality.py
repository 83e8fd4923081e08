import image_reference
import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as tf

tf_ref = image_reference.load()  # TF 2.21 outputs (tests/image/fixtures/tf_reference.npz)


def test_measures_match_tensorflow():
    grid, other = tf_ref["misc/input"], tf_ref["misc/other"]
    np.testing.assert_allclose(tf.image.total_variation(grid).numpy(), tf_ref["misc/total_variation"], rtol=1e-6)
    dy, dx = tf.image.image_gradients(grid)
    np.testing.assert_allclose(dy.numpy(), tf_ref["misc/image_gradients/dy"])
    np.testing.assert_allclose(dx.numpy(), tf_ref["misc/image_gradients/dx"])
    np.testing.assert_allclose(tf.image.sobel_edges(grid).numpy(), tf_ref["misc/sobel_edges"], atol=1e-6)
    np.testing.assert_allclose(tf.image.psnr(grid, other, 1.0).numpy(), tf_ref["misc/psnr"], rtol=1e-6)
    a, b = tf_ref["misc/ssim_a"], tf_ref["misc/ssim_b"]
    np.testing.assert_allclose(tf.image.ssim(a, b, 1.0).numpy(), tf_ref["misc/ssim"], atol=1e-6)
    np.testing.assert_allclose(tf.image.ssim(a, b, 1.0, filter_size=5, filter_sigma=1.0).numpy(),
                               tf_ref["misc/ssim_k5"], atol=1e-6)


def test_ssim_multiscale_properties():
    a = random_array((2, 23, 25, 2), low=0, high=1, seed=1)
    same = tf.image.ssim_multiscale(a, a, 1.0, power_factors=(0.3, 0.3, 0.4), filter_size=3).numpy()
    np.testing.assert_allclose(same, 1.0, atol=1e-6)
    noisy = np.clip(a + random_array(a.shape, seed=2) * 0.2, 0, 1)
    score = tf.image.ssim_multiscale(a, noisy, 1.0, power_factors=(0.3, 0.3, 0.4), filter_size=3).numpy()
    assert score.shape == (2,) and (score < 0.99).all() and (score > 0).all()
    # a single scale is SSIM itself
    np.testing.assert_allclose(tf.image.ssim_multiscale(a, noisy, 1.0, power_factors=(1.0,), filter_size=3).numpy(),
                               tf.image.ssim(a, noisy, 1.0, filter_size=3).numpy(), rtol=1e-10)


def test_total_variation_of_one_image_is_a_scalar():
    image = np.array([[[0.0], [1.0]], [[1.0], [3.0]]])
    # vertical |1 - 0| + |3 - 1|, horizontal |1 - 0| + |3 - 1|
    assert float(tf.image.total_variation(image).numpy()) == 6.0


@pytest.mark.parametrize("fn", [lambda x: tf.image.image_gradients(x)[0], lambda x: tf.image.image_gradients(x)[1],
                                tf.image.sobel_edges, tf.image.total_variation,
                                lambda x: tf.image.psnr(x, x * 0.9 + 0.05, 1.0),
                                lambda x: tf.image.ssim(x, x * 0.8 + 0.1, 1.0, filter_size=3),
                                lambda x: tf.image.ssim_multiscale(x, x * 0.8 + 0.1, 1.0, power_factors=(0.5, 0.5),
                                                                   filter_size=3)])
def test_measure_gradients(fn):
    check_gradient(fn, [random_array((2, 7, 8, 2), low=0.1, high=0.9, seed=4)])


def test_ssim_needs_images_as_large_as_the_window():
    with pytest.raises(ValueError, match="filter_size"):
        tf.image.ssim(np.zeros((5, 5, 1)), np.zeros((5, 5, 1)), 1.0)
    with pytest.raises(ValueError, match="same shape"):
        tf.image.psnr(np.zeros((5, 5, 1)), np.zeros((5, 4, 1)), 1.0)
