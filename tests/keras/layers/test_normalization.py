import numpy as np
import pytest
from layer_helpers import check_layer_gradients, layer_test

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers


def _bn_reference(x, gamma, beta, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var


def test_batch_norm_weights_and_inference():
    x = np.random.default_rng(0).normal(2.0, 3.0, (8, 5)).astype("float32")
    layer = layers.BatchNormalization()
    out = layer(x)  # inference: moving mean 0, variance 1
    np.testing.assert_allclose(out.numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-6)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(5))
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(5))


def test_batch_norm_training_updates_moving_stats_2d():
    x = np.random.default_rng(1).normal(2.0, 3.0, (16, 4))
    layer = layers.BatchNormalization(momentum=0.9, dtype="float64")
    out = layer(x, training=True).numpy()
    ref, mean, var = _bn_reference(x, 1.0, 0.0, (0,), 1e-3)
    np.testing.assert_allclose(out, ref, rtol=1e-10)
    # non-fused (2-D) Keras updates the moving variance with the biased batch variance
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean.ravel(), rtol=1e-10)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var.ravel(), rtol=1e-10)
    before = layer.moving_mean.numpy()
    layer(x, training=False)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), before)


def test_batch_norm_4d_fused_uses_unbiased_moving_variance():
    x = np.random.default_rng(2).normal(1.0, 2.0, (4, 3, 3, 2))
    layer = layers.BatchNormalization(momentum=0.5, dtype="float64")
    out = layer(x, training=True).numpy()
    ref, mean, var = _bn_reference(x, 1.0, 0.0, (0, 1, 2), 1e-3)
    np.testing.assert_allclose(out, ref, rtol=1e-10)
    n = 4 * 3 * 3
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.5 + 0.5 * var.ravel() * n / (n - 1), rtol=1e-10)


def test_batch_norm_channels_first_axis():
    x = np.random.default_rng(3).normal(size=(4, 3, 5, 2))
    layer = layers.BatchNormalization(axis=1, center=True, scale=True, dtype="float64")
    layer(x)
    layer.set_weights([np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.0, -1.0]), np.zeros(3), np.ones(3)])
    ref, _, _ = _bn_reference(x, np.array([1.0, 2.0, 3.0])[None, :, None, None],
                              np.array([0.5, 0.0, -1.0])[None, :, None, None], (0, 2, 3), 1e-3)
    np.testing.assert_allclose(layer(x, training=True).numpy(), ref, rtol=1e-10)
    assert layer.gamma.shape == (3,)


def test_batch_norm_frozen_runs_in_inference_mode():
    x = np.random.default_rng(4).normal(3.0, 1.0, (8, 3)).astype("float32")
    layer = layers.BatchNormalization()
    layer(x)
    layer.trainable = False
    out = layer(x, training=True).numpy()
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_norm_shape_inference_does_not_update():
    layer = layers.BatchNormalization()
    layer(keras.Input(shape=(4,)))
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(4))


@pytest.mark.parametrize("kwargs,shape", [({}, (4, 3)), ({"axis": 1}, (3, 2, 4)), ({}, (2, 3, 3, 2)),
                                          ({"center": False, "scale": False}, (4, 3)),
                                          ({"axis": [1, 2]}, (3, 2, 2))])
def test_batch_norm_layer_test(kwargs, shape):
    n_trainable = 2 * (kwargs.get("center", True) is not False)
    layer_test(layers.BatchNormalization, kwargs, input_shape=shape, expected_output_shape=(None,) + shape[1:],
               expected_num_trainable_weights=n_trainable if kwargs.get("scale", True) else 0,
               expected_num_non_trainable_weights=2, supports_masking=True)
    x = np.random.default_rng(5).normal(size=shape)
    check_layer_gradients(layers.BatchNormalization, kwargs, [x], training=True)


def test_batch_norm_masked_statistics():
    x = np.random.default_rng(6).normal(size=(2, 4, 3))
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    layer = layers.BatchNormalization(momentum=0.0, dtype="float64")
    xt = ff.constant(x)
    xt._keras_mask = ff.constant(mask)
    out = layer(xt, training=True).numpy()
    selected = x[mask]
    mean, var = selected.mean(0), selected.var(0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-10)


def test_batch_norm_config_and_errors():
    config = layers.BatchNormalization(axis=1, momentum=0.9).get_config()
    assert config["axis"] == 1 and config["momentum"] == 0.9 and config["epsilon"] == 1e-3
    assert config["moving_variance_initializer"]["class_name"] == "Ones"
    with pytest.raises(ValueError, match="Invalid axis"):
        layers.BatchNormalization(axis=3)(np.zeros((2, 3), "float32"))
    with pytest.raises(NotImplementedError):
        layers.BatchNormalization(renorm=True)


@pytest.mark.parametrize("kwargs,shape", [({}, (2, 5)), ({}, (2, 3, 4)), ({"axis": [1, 2]}, (2, 3, 4)),
                                          ({"axis": 1}, (2, 3, 4)), ({"center": False}, (3, 4))])
def test_layer_normalization(kwargs, shape):
    x = np.random.default_rng(7).normal(size=shape)
    axes = kwargs.get("axis", -1)
    axes = tuple(a % len(shape) for a in (axes if isinstance(axes, list) else [axes]))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    ref = (x - mean) / np.sqrt(var + 1e-3)
    layer_test(layers.LayerNormalization, kwargs, input_data=x.astype("float32"), expected_output=ref,
               expected_output_shape=(None,) + shape[1:], rtol=1e-4, atol=1e-5,
               expected_num_trainable_weights=1 + kwargs.get("center", True))
    layer = layers.LayerNormalization(**kwargs)
    layer(x.astype("float32"))
    assert layer.gamma.shape == tuple(shape[a] for a in axes)


def test_unit_normalization():
    x = np.random.default_rng(8).normal(size=(3, 4))
    layer_test(layers.UnitNormalization, {}, input_data=x.astype("float32"),
               expected_output=x / np.linalg.norm(x, axis=1, keepdims=True), expected_output_shape=(None, 4))
