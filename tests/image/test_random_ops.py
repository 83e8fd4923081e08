import numpy as np
import pytest

import featherflow as tf


def test_stateless_ops_are_deterministic_and_seed_dependent():
    image = np.random.default_rng(0).uniform(size=(8, 4, 5, 3)).astype("float32")
    ops = [lambda s: tf.image.stateless_random_flip_left_right(image, s),
           lambda s: tf.image.stateless_random_flip_up_down(image, s),
           lambda s: tf.image.stateless_random_brightness(image, 0.3, s),
           lambda s: tf.image.stateless_random_contrast(image, 0.2, 1.8, s),
           lambda s: tf.image.stateless_random_saturation(image, 0.2, 1.8, s),
           lambda s: tf.image.stateless_random_hue(image, 0.4, s),
           lambda s: tf.image.stateless_random_crop(image, (8, 2, 3, 3), s)]
    for op in ops:
        a, b = op((1, 2)).numpy(), op((1, 2)).numpy()
        np.testing.assert_array_equal(a, b)
        assert any(not np.array_equal(a, op((s, 7)).numpy()) for s in range(3, 8))
    with pytest.raises(ValueError, match="shape \\[2\\]"):
        tf.image.stateless_random_flip_left_right(image, 3)


def test_random_flip_flips_each_image_independently():
    tf.random.set_seed(0)
    image = np.arange(2 * 32, dtype="float32").reshape(32, 1, 2, 1)
    out = tf.image.random_flip_left_right(image).numpy()
    flipped = out[:, 0, 0, 0] != image[:, 0, 0, 0]
    assert 4 < flipped.sum() < 28
    np.testing.assert_array_equal(out[flipped], image[flipped][:, :, ::-1])
    np.testing.assert_array_equal(out[~flipped], image[~flipped])


def test_random_adjustments_stay_in_their_ranges():
    image = np.full((4, 4, 3), 0.5, "float32")
    image[0, 0] = [0.2, 0.6, 0.9]
    for seed in range(5):
        delta = tf.image.random_brightness(image, 0.2, seed=seed).numpy() - image
        assert np.allclose(delta, delta[0, 0, 0]) and abs(delta[0, 0, 0]) <= 0.2
    crop = tf.image.random_crop(np.arange(25.0).reshape(5, 5), (2, 3)).numpy()
    top, left = divmod(int(crop[0, 0]), 5)
    np.testing.assert_array_equal(crop, np.arange(25.0).reshape(5, 5)[top:top + 2, left:left + 3])
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(image, 0.5, 0.5)
    with pytest.raises(ValueError, match="<= 0.5"):
        tf.image.random_hue(image, 0.7)
    with pytest.raises(ValueError, match="value.shape >= size"):
        tf.image.random_crop(image, (5, 4, 3))
