import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers


def test_dense_layer_test():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 4)).astype("float32")
    out = layer_test(layers.Dense, {"units": 5, "activation": "relu"}, input_data=x,
                     expected_output_shape=(None, 5), expected_num_trainable_weights=2,
                     expected_num_non_trainable_weights=0, supports_masking=True)
    assert out.shape == (3, 5) and (out >= 0).all()


def test_dense_3d_input():
    layer_test(layers.Dense, {"units": 2, "use_bias": False}, input_shape=(2, 3, 4),
               expected_output_shape=(None, 3, 2), expected_num_trainable_weights=1)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softmax", "linear"])
def test_activation(activation):
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    ref = {"relu": np.maximum(x, 0), "tanh": np.tanh(x), "sigmoid": 1 / (1 + np.exp(-x)),
           "softmax": np.exp(x) / np.exp(x).sum(-1, keepdims=True), "linear": x}[activation]
    layer_test(layers.Activation, {"activation": activation}, input_data=x.astype("float32"),
               expected_output_shape=(None, 4), expected_output=ref, expected_num_trainable_weights=0,
               supports_masking=True, rtol=1e-5, atol=1e-6)


def test_activation_config_keeps_name():
    assert layers.Activation("relu").get_config()["activation"] == "relu"


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 5), (2, 2, 3, 4), (2,)])
def test_flatten(shape):
    x = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    expected = x.reshape(shape[0], -1)
    layer_test(layers.Flatten, {}, input_data=x, expected_output_shape=(None, expected.shape[1]),
               expected_output=expected, expected_num_trainable_weights=0)


def test_flatten_channels_first():
    x = np.random.default_rng(0).uniform(size=(2, 3, 4, 5)).astype("float32")
    expected = np.transpose(x, (0, 2, 3, 1)).reshape(2, -1)
    layer_test(layers.Flatten, {"data_format": "channels_first"}, input_data=x, expected_output=expected,
               expected_output_shape=(None, 60))


def test_flatten_output_shape_and_errors():
    assert layers.Flatten().compute_output_shape((None, 28, 28)) == (None, 784)
    assert layers.Flatten().compute_output_shape((None, None, 3)) == (None, None)
    with pytest.raises(ValueError, match="data_format"):
        layers.Flatten(data_format="nchw")
    assert keras.layers.Flatten()(keras.Input(shape=(28, 28))).shape == (None, 784)


def test_reshape():
    x = np.arange(24, dtype="float32").reshape(2, 12)
    layer_test(layers.Reshape, {"target_shape": (3, 4)}, input_data=x, expected_output=x.reshape(2, 3, 4),
               expected_output_shape=(None, 3, 4))
    layer_test(layers.Reshape, {"target_shape": (-1, 2)}, input_data=x, expected_output=x.reshape(2, 6, 2),
               expected_output_shape=(None, 6, 2))


def test_reshape_errors():
    with pytest.raises(ValueError, match="total size of new array must be unchanged"):
        layers.Reshape((5,))(np.zeros((2, 12), "float32"))
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        layers.Reshape((-1, -1))
    assert layers.Reshape((-1, 3)).compute_output_shape((None, 12)) == (None, 4, 3)
    assert layers.Reshape((-1, 3)).compute_output_shape((None, None)) == (None, None, 3)


def test_permute():
    x = np.random.default_rng(0).uniform(size=(2, 3, 4, 5)).astype("float32")
    layer_test(layers.Permute, {"dims": (3, 1, 2)}, input_data=x, expected_output=x.transpose(0, 3, 1, 2),
               expected_output_shape=(None, 5, 3, 4))
    with pytest.raises(ValueError, match="Invalid permutation argument `dims`"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.Permute((2, 1))(np.zeros((2, 3), "float32"))


def test_repeat_vector():
    x = np.random.default_rng(0).uniform(size=(2, 3)).astype("float32")
    layer_test(layers.RepeatVector, {"n": 4}, input_data=x, expected_output=np.repeat(x[:, None, :], 4, axis=1),
               expected_output_shape=(None, 4, 3))
    with pytest.raises(TypeError, match="integer value for `n`"):
        layers.RepeatVector(2.5)
    with pytest.raises(ValueError, match="expected ndim=2"):
        layers.RepeatVector(2)(np.zeros((2, 3, 4), "float32"))


def test_keras_weight_count_helpers_catch_mismatch():
    with pytest.raises(AssertionError):
        layer_test(layers.Dense, {"units": 2}, input_shape=(2, 3), expected_num_trainable_weights=1,
                   check_gradients=False)


def test_floatx_float64_layer():
    ff.set_floatx("float64")
    out = layers.Dense(2)(np.ones((1, 3)))
    assert out.dtype == np.float64
