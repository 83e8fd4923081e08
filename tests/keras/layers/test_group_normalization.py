import numpy as np
import pytest
from layer_helpers import layer_test
from tf_fixtures import check_against_tf

from featherflow import keras
from featherflow.keras import layers


def _reference(x, groups, axis, gamma, beta, eps):
    moved = np.moveaxis(x, axis, -1)
    grouped = moved.reshape(moved.shape[:-1] + (groups, -1))
    reduce = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
    mean = grouped.mean(axis=reduce, keepdims=True)
    var = grouped.var(axis=reduce, keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(var + eps)).reshape(moved.shape) * gamma + beta
    return np.moveaxis(normalized, -1, axis)


@pytest.mark.parametrize("groups, axis, shape", [(2, -1, (3, 5, 4)), (3, 1, (2, 6, 3, 2)), (1, -1, (2, 4)),
                                                  (-1, -1, (2, 3, 3))])
def test_matches_numpy(groups, axis, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=shape)
    layer = layers.GroupNormalization(groups=groups, axis=axis, dtype="float64")
    layer(x)
    channels = shape[axis]
    gamma, beta = rng.normal(size=channels), rng.normal(size=channels)
    layer.set_weights([gamma, beta])
    expected = _reference(x, channels if groups == -1 else groups, axis % len(shape), gamma, beta, 1e-3)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kwargs, call", [
    ("groupnorm_last", dict(groups=2), lambda m, x: m(x[0])),
    ("groupnorm_axis1", dict(groups=3, axis=1, epsilon=1e-5), lambda m, x: m(x[0])),
    ("groupnorm_instance", dict(groups=-1, center=False), lambda m, x: m(x[0])),
])
def test_against_tf_keras(name, kwargs, call):
    check_against_tf(layers.GroupNormalization(**kwargs), name, call)


def test_mask_weights_the_statistics_as_tf_keras():
    mask = np.ones((2, 4, 3), bool)
    mask[0, 2:] = False
    check_against_tf(layers.GroupNormalization(groups=1), "groupnorm_mask", lambda m, x: m(x[0], mask=mask))


@pytest.mark.parametrize("kwargs, shape", [(dict(groups=2), (2, 3, 4)), (dict(groups=3, axis=1), (2, 6, 2, 2)),
                                           (dict(groups=1, scale=False), (3, 4))])
def test_layer_helper(kwargs, shape):
    layer_test(layers.GroupNormalization, kwargs, input_shape=shape, expected_output_shape=(None,) + shape[1:],
               expected_num_trainable_weights=1 if kwargs.get("scale") is False else 2)


def test_config_and_errors():
    layer = layers.GroupNormalization(groups=4, epsilon=1e-5)
    config = layer.get_config()
    assert {k: config[k] for k in ("groups", "axis", "epsilon", "center", "scale")} == dict(
        groups=4, axis=-1, epsilon=1e-5, center=True, scale=True)
    with pytest.raises(ValueError, match="cannot be more than the number of channels"):
        layers.GroupNormalization(groups=8)(np.ones((1, 4), "float32"))
    with pytest.raises(ValueError, match="must be a multiple"):
        layers.GroupNormalization(groups=3)(np.ones((1, 4), "float32"))
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="defined dimension"):
        layers.GroupNormalization(groups=1)(keras.Input((None,)))
