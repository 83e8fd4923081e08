import numpy as np
import pytest
from layer_helpers import layer_test

from featherflow import keras
from featherflow.keras import layers


def test_rescaling():
    x = np.random.default_rng(0).integers(0, 256, (3, 4, 4, 1)).astype("float32")
    layer_test(layers.Rescaling, {"scale": 1 / 127.5, "offset": -1.0}, input_data=x,
               expected_output=x / 127.5 - 1.0, expected_output_shape=(None, 4, 4, 1), rtol=1e-6)
    out = layers.Rescaling(1 / 255)(np.array([[0, 128, 255]], "uint8"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), [[0, 128 / 255, 1]], rtol=1e-6)


def test_normalization_adapt():
    data = np.random.default_rng(1).normal([1.0, -5.0, 10.0], [2.0, 0.5, 4.0], (200, 3))
    layer = layers.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(0), rtol=1e-4)
    assert int(layer.count.numpy()) == 200
    out = layer(data.astype("float32")).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-4)
    assert len(layer.non_trainable_weights) == 3 and not layer.trainable_weights
    # batches from an iterable give the same statistics
    batched = layers.Normalization()
    batched.adapt(iter([data[:70], data[70:]]))
    np.testing.assert_allclose(batched.adapt_mean.numpy(), layer.adapt_mean.numpy(), rtol=1e-5)


def test_normalization_fixed_and_invert():
    x = np.array([[1.0, 4.0], [3.0, 8.0]], "float32")
    layer_test(layers.Normalization, {"mean": [2.0, 6.0], "variance": [1.0, 4.0]}, input_data=x,
               expected_output=(x - [2.0, 6.0]) / [1.0, 2.0], expected_output_shape=(None, 2))
    layer_test(layers.Normalization, {"mean": 2.0, "variance": 4.0, "invert": True}, input_data=x,
               expected_output=2.0 + x * 2.0, expected_output_shape=(None, 2))
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([[1.0, 3.0], [5.0, 7.0]]))
    np.testing.assert_allclose(layer(np.array([[4.0, 4.0]])).numpy(), [[0.0, 0.0]], atol=1e-6)
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="may not be 0"):
        layers.Normalization(axis=0)


def test_resizing_and_center_crop():
    x = np.random.default_rng(2).uniform(size=(2, 6, 8, 3)).astype("float32")
    layer_test(layers.Resizing, {"height": 3, "width": 4}, input_data=x, expected_output_shape=(None, 3, 4, 3))
    # halving with bilinear half-pixel centres averages 2x2 blocks
    np.testing.assert_allclose(layers.Resizing(3, 4)(x).numpy(),
                               x.reshape(2, 3, 2, 4, 2, 3).mean(axis=(2, 4)), rtol=1e-5)
    near = layers.Resizing(12, 16, interpolation="nearest")(x).numpy()
    np.testing.assert_array_equal(near, x.repeat(2, 1).repeat(2, 2))
    layer_test(layers.CenterCrop, {"height": 4, "width": 4}, input_data=x, expected_output=x[:, 1:5, 2:6, :],
               expected_output_shape=(None, 4, 4, 3))
    assert layers.Resizing(10, 10, crop_to_aspect_ratio=True)(x).shape == (2, 10, 10, 3)
    assert layers.CenterCrop(10, 10)(x).shape == (2, 10, 10, 3)


@pytest.mark.parametrize("mode,inputs,expected", [
    ("one_hot", [3, 0, 1], [[0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]),
    ("multi_hot", [[0, 1, 1], [2, 3, 3]], [[1, 1, 0, 0], [0, 0, 1, 1]]),
    ("count", [[0, 1, 1], [2, 3, 3]], [[1, 2, 0, 0], [0, 0, 1, 2]]),
])
def test_category_encoding(mode, inputs, expected):
    layer = layers.CategoryEncoding(num_tokens=4, output_mode=mode)
    np.testing.assert_array_equal(layer(np.array(inputs)).numpy(), expected)
    assert layers.CategoryEncoding.from_config(layer.get_config()).output_mode == mode
    with pytest.raises(ValueError, match="num_tokens"):
        layer(np.array([[4]]))


def test_category_encoding_count_weights():
    out = layers.CategoryEncoding(3, output_mode="count")(np.array([[0, 0, 2]]), count_weights=np.array(
        [[0.5, 0.25, 2.0]]))
    np.testing.assert_allclose(out.numpy(), [[0.75, 0.0, 2.0]])


def test_random_flip():
    x = np.arange(2 * 2 * 3, dtype="float32").reshape(1, 2, 3, 2).repeat(50, axis=0)
    np.testing.assert_array_equal(layers.RandomFlip()(x, training=False).numpy(), x)
    out = layers.RandomFlip("horizontal", seed=0)(x, training=True).numpy()
    flipped = (out == x[:, :, ::-1]).all(axis=(1, 2, 3))
    kept = (out == x).all(axis=(1, 2, 3))
    assert (flipped | kept).all() and flipped.any() and kept.any()
    assert layers.RandomFlip("vertical")(keras.Input(shape=(4, 4, 1))).shape == (None, 4, 4, 1)


def test_layer_helper_on_category_encoding_and_random_flip():
    ids = np.array([[0, 2], [3, 3]])
    layer_test(layers.CategoryEncoding, {"num_tokens": 4, "output_mode": "multi_hot"}, input_data=ids,
               expected_output=[[1, 0, 1, 0], [0, 0, 0, 1]], expected_output_shape=(None, 4),
               expected_num_trainable_weights=0)
    layer_test(layers.RandomFlip, {"mode": "horizontal"}, input_shape=(2, 3, 3, 2),
               expected_output_shape=(None, 3, 3, 2), gradient_training=True)


def test_embedding_after_float_input_truncates_like_keras():
    inputs = keras.Input(shape=(3,))
    out = layers.Embedding(10, 2)(inputs)
    assert out.shape == (None, 3, 2)
    layer = layers.Embedding(10, 2)
    np.testing.assert_array_equal(layer(np.array([[1.7, 2.2]], "float32")).numpy(),
                                  layer(np.array([[1, 2]])).numpy())
