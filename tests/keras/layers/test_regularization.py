import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers


def test_dropout_layer_test():
    out = layer_test(layers.Dropout, {"rate": 0.5}, input_shape=(3, 4), expected_output_shape=(None, 4),
                     expected_num_trainable_weights=0, supports_masking=True, gradient_training=True)
    assert out.shape == (3, 4)


def test_dropout_inference_is_identity():
    x = np.random.default_rng(0).uniform(size=(4, 5)).astype("float32")
    np.testing.assert_array_equal(layers.Dropout(0.9)(x).numpy(), x)
    np.testing.assert_array_equal(layers.Dropout(0.9)(x, training=False).numpy(), x)


def test_dropout_training_is_inverted_and_rate_correct():
    x = np.ones((200, 500), "float32")
    out = layers.Dropout(0.2)(x, training=True).numpy()
    assert set(np.unique(out).tolist()) <= {0.0, np.float32(1 / 0.8)}
    assert abs((out == 0).mean() - 0.2) < 0.01
    assert abs(out.mean() - 1.0) < 0.02


def test_dropout_gradient_is_mask():
    x = ff.constant(np.ones((3, 6), "float32"))
    layer = layers.Dropout(0.5, seed=3)
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        total = ff.reduce_sum(y)
    g = tape.gradient(total, x).numpy()
    np.testing.assert_array_equal(g, y.numpy())


def test_dropout_seeded_is_reproducible_and_global_seed_too():
    x = np.ones((4, 8), "float32")
    a = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    b = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    keras_seed = getattr(getattr(keras, "utils", None), "set_random_seed", None) or ff.random.set_seed
    keras_seed(11)
    c = layers.Dropout(0.5)(x, training=True).numpy()
    keras_seed(11)
    d = layers.Dropout(0.5)(x, training=True).numpy()
    np.testing.assert_array_equal(c, d)
    # a seeded layer draws a new mask on every call
    layer = layers.Dropout(0.5, seed=1)
    assert not np.array_equal(layer(x, training=True).numpy(), layer(x, training=True).numpy())


def test_dropout_noise_shape():
    x = np.ones((3, 10, 4), "float32")
    out = layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=0)(x, training=True).numpy()
    assert (out == out[:, :1, :]).all()
    layer_test(layers.Dropout, {"rate": 0.3, "noise_shape": (None, 1, 4), "seed": 2}, input_shape=(2, 5, 4),
               expected_output_shape=(None, 5, 4), gradient_training=True)


def test_dropout_rate_validation():
    with pytest.raises(ValueError, match="expected a value between 0 and 1"):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match="expected a value between 0 and 1"):
        layers.Dropout(-0.1)
    out = layers.Dropout(1.0)(np.ones((2, 2), "float32"), training=True).numpy()
    np.testing.assert_array_equal(out, np.zeros((2, 2)))


def test_dropout_passes_mask():
    x = ff.constant(np.ones((2, 3, 4), "float32"))
    x._keras_mask = ff.constant(np.array([[True, True, False], [True, False, False]]))
    y = layers.Dropout(0.5)(x, training=True)
    np.testing.assert_array_equal(np.asarray(y._keras_mask.numpy()), [[True, True, False], [True, False, False]])


def test_spatial_dropout_1d():
    x = np.ones((4, 6, 5), "float32")
    out = layers.SpatialDropout1D(0.5, seed=0)(x, training=True).numpy()
    assert (out == out[:, :1, :]).all()
    assert set(np.unique(out).tolist()) <= {0.0, 2.0}
    layer_test(layers.SpatialDropout1D, {"rate": 0.4, "seed": 1}, input_shape=(2, 3, 4),
               expected_output_shape=(None, 3, 4), gradient_training=True)
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.SpatialDropout1D(0.5)(np.ones((2, 3), "float32"))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout_2d(data_format):
    x = np.ones((3, 4, 5, 6), "float32")
    out = layers.SpatialDropout2D(0.5, data_format=data_format, seed=0)(x, training=True).numpy()
    if data_format == "channels_last":
        assert (out == out[:, :1, :1, :]).all()
    else:
        assert (out == out[:, :, :1, :1]).all()
    layer_test(layers.SpatialDropout2D, {"rate": 0.4, "data_format": data_format, "seed": 1},
               input_shape=(2, 3, 4, 2), expected_output_shape=(None, 3, 4, 2), gradient_training=True)


def test_gaussian_noise():
    x = np.zeros((400, 500), "float32")
    out = layers.GaussianNoise(0.5)(x, training=True).numpy()
    assert abs(out.std() - 0.5) < 0.01 and abs(out.mean()) < 0.01
    np.testing.assert_array_equal(layers.GaussianNoise(0.5)(x).numpy(), x)
    layer_test(layers.GaussianNoise, {"stddev": 0.3, "seed": 4}, input_shape=(2, 3),
               expected_output_shape=(None, 3), gradient_training=True, supports_masking=True)


def test_gaussian_dropout():
    x = np.ones((400, 500), "float32")
    out = layers.GaussianDropout(0.2)(x, training=True).numpy()
    assert abs(out.std() - np.sqrt(0.2 / 0.8)) < 0.01 and abs(out.mean() - 1) < 0.01
    layer_test(layers.GaussianDropout, {"rate": 0.3, "seed": 4}, input_shape=(2, 3),
               expected_output_shape=(None, 3), gradient_training=True)
    with pytest.raises(ValueError):
        layers.GaussianDropout(2.0)


def test_alpha_dropout_keeps_selu_statistics():
    x = np.random.default_rng(0).standard_normal((500, 400)).astype("float32")
    out = layers.AlphaDropout(0.2, seed=0)(x, training=True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1.0) < 0.02
    layer_test(layers.AlphaDropout, {"rate": 0.2, "seed": 3}, input_shape=(2, 3),
               expected_output_shape=(None, 3), gradient_training=True)


def test_activity_regularization():
    x = np.array([[1.0, -2.0], [3.0, 0.5]], "float32")
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), x)
    expected = (0.1 * np.abs(x).sum() + 0.01 * (x ** 2).sum()) / 2
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-6)
    layer_test(layers.ActivityRegularization, {"l1": 0.1, "l2": 0.2}, input_shape=(2, 3),
               expected_output_shape=(None, 3))
