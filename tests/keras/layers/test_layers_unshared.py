"""LocallyConnected1D/2D, DepthwiseConv1D, SpectralNormalization, AbstractRNNCell and layers.experimental:
values against direct NumPy loops, the layer-test helper (shapes, weights, config, training step, gradients)."""

import numpy as np
import pytest
from conv_reference import reference_conv2d
from layer_helpers import layer_test

from featherflow import keras
from featherflow.keras import backend as K


def _local_1d(x, kernel, bias, k, s):
    steps = kernel.shape[0]
    return np.stack([x[:, t * s:t * s + k].reshape(len(x), -1) @ kernel[t] for t in range(steps)], 1) + bias


def test_locally_connected_1d():
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype("float32")
    layer = keras.layers.LocallyConnected1D(4, 3, strides=2, bias_initializer="glorot_uniform")
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 9, 4) and bias.shape == (3, 4)
    np.testing.assert_allclose(out, _local_1d(x, kernel, bias, 3, 2), rtol=1e-5)
    layer_test(keras.layers.LocallyConnected1D, {"filters": 2, "kernel_size": 2}, input_shape=(2, 5, 3),
               expected_output_shape=(None, 4, 2), expected_num_trainable_weights=2)
    first = keras.layers.LocallyConnected1D(2, 2, data_format="channels_first")
    assert first(np.zeros((1, 3, 5), "float32")).shape == (1, 2, 4)
    with pytest.raises(ValueError, match="only \"valid\""):
        keras.layers.LocallyConnected1D(2, 2, padding="same")
    with pytest.raises(ValueError, match="implementation=1"):
        keras.layers.LocallyConnected1D(2, 2, implementation=2)


def test_locally_connected_2d():
    x = np.random.default_rng(1).normal(size=(2, 4, 5, 2)).astype("float32")
    layer = keras.layers.LocallyConnected2D(3, (2, 3), strides=(2, 1), activation="relu")
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    expected = np.zeros((2, 2, 3, 3))
    for i in range(2):
        for j in range(3):
            patch = x[:, 2 * i:2 * i + 2, j:j + 3, :].reshape(2, -1)
            expected[:, i, j] = patch @ kernel[i * 3 + j] + bias[i, j]
    np.testing.assert_allclose(out, np.maximum(expected, 0), rtol=1e-5, atol=1e-6)
    layer_test(keras.layers.LocallyConnected2D, {"filters": 2, "kernel_size": (2, 2)}, input_shape=(2, 3, 4, 2),
               expected_output_shape=(None, 2, 3, 2), expected_num_trainable_weights=2)


def test_depthwise_conv_1d():
    x = np.random.default_rng(2).normal(size=(2, 8, 3)).astype("float32")
    layer = keras.layers.DepthwiseConv1D(3, depth_multiplier=2, strides=2, dilation_rate=1)
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 2)
    expected = np.concatenate([reference_conv2d(x[:, None, :, c:c + 1], kernel[None, :, c:c + 1, :], (1, 2))[:, 0]
                               for c in range(3)], -1) + bias
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    causal = keras.layers.DepthwiseConv1D(3, padding="causal", dilation_rate=2)
    y = causal(x).numpy()
    k, b = causal.get_weights()
    padded = np.pad(x, ((0, 0), (4, 0), (0, 0)))
    expected = np.stack([(padded[:, t:t + 5:2, :] * k[:, :, 0]).sum(1) for t in range(8)], 1) + b
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    layer_test(keras.layers.DepthwiseConv1D, {"kernel_size": 2, "depth_multiplier": 2}, input_shape=(2, 5, 3),
               expected_output_shape=(None, 4, 6), expected_num_trainable_weights=2)


def test_spectral_normalization_rescales_the_kernel_while_training():
    dense = keras.layers.Dense(4, kernel_initializer="glorot_uniform")
    layer = keras.layers.SpectralNormalization(dense, power_iterations=30)
    x = np.random.default_rng(3).normal(size=(2, 5)).astype("float32")
    layer(x)  # builds, training=False: unchanged
    before = dense.kernel.numpy()
    out = layer(x, training=True).numpy()
    sigma = np.linalg.svd(before, compute_uv=False)[0]
    np.testing.assert_allclose(dense.kernel.numpy(), before / sigma, rtol=1e-4)
    np.testing.assert_allclose(out, x @ (before / sigma), rtol=1e-4, atol=1e-6)
    assert [w.name for w in layer.non_trainable_weights] == [f"{layer.name}/vector_u"]
    conv = keras.layers.SpectralNormalization(keras.layers.Conv2D(2, 3), power_iterations=30)
    conv(np.ones((1, 5, 5, 2), "float32"), training=True)
    matrix = conv.layer.kernel.numpy().reshape(-1, 2)
    assert np.linalg.svd(matrix, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(ValueError, match="power_iterations"):
        keras.layers.SpectralNormalization(keras.layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="no attribute 'kernel'"):
        keras.layers.SpectralNormalization(keras.layers.Dropout(0.5))(x)


class MinimalRNNCell(keras.layers.AbstractRNNCell):
    """The cell of tf.keras's AbstractRNNCell documentation."""

    def __init__(self, units, **kwargs):
        self.units = units
        super().__init__(**kwargs)

    @property
    def state_size(self):
        return self.units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = K.dot(inputs, self.kernel)
        output = h + K.dot(prev_output, self.recurrent_kernel)
        return output, output


def test_abstract_rnn_cell():
    cell = MinimalRNNCell(3)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    x = np.random.default_rng(4).normal(size=(2, 4, 2)).astype("float32")
    out = rnn(x).numpy()
    w, u = cell.get_weights()
    h = np.zeros((2, 3))
    for t in range(4):
        h = x[:, t] @ w + h @ u
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5)
    assert cell.get_initial_state(batch_size=2).shape == (2, 3)
    with pytest.raises(NotImplementedError, match="output_size"):
        _ = keras.layers.AbstractRNNCell().output_size


def test_experimental_layers():
    from featherflow.keras.layers import experimental

    layer = experimental.RandomFourierFeatures(6, scale=2.0)
    x = np.random.default_rng(5).normal(size=(3, 4)).astype("float32")
    out = layer(x).numpy()
    w, b = layer.unscaled_kernel.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(out, np.cos(x @ (w / 2.0) + b), rtol=1e-5, atol=1e-6)
    assert [v.name.split("/")[-1] for v in layer.trainable_weights] == []  # trainable=False by default
    laplacian = experimental.RandomFourierFeatures(4, kernel_initializer="laplacian", trainable=True)
    laplacian(x)
    assert float(laplacian.kernel_scale.numpy()[0]) == 1.0 and len(laplacian.trainable_weights) == 1
    with pytest.raises(ValueError, match="Unsupported"):
        experimental.RandomFourierFeatures(4, kernel_initializer="cosine")
    assert issubclass(experimental.SyncBatchNormalization, keras.layers.BatchNormalization)
    assert experimental.preprocessing.Normalization is keras.layers.Normalization
    assert experimental.EinsumDense is keras.layers.EinsumDense


def test_experimental_layers_save_and_load(tmp_path):
    from featherflow.keras.layers import experimental

    model = keras.Sequential([keras.Input((4,)), experimental.RandomFourierFeatures(6, scale=2.0),
                              experimental.SyncBatchNormalization(), keras.layers.Dense(1)])
    x = np.random.default_rng(6).normal(size=(3, 4)).astype("float32")
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == ["RandomFourierFeatures", "SyncBatchNormalization",
                                                                 "Dense"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # the config tf_keras 2.21 writes for the layer
    tf_config = {"module": "keras.layers.experimental", "class_name": "RandomFourierFeatures", "config": {
        "name": "random_fourier_features", "trainable": True, "dtype": "float32", "output_dim": 4,
        "kernel_initializer": "gaussian", "scale": None}, "registered_name": None}
    assert keras.layers.deserialize(tf_config).output_dim == 4


@pytest.mark.parametrize("inner, shape, out", [
    (lambda: keras.layers.Dense(3), (2, 5), (None, 3)),
    (lambda: keras.layers.Conv2D(2, 2), (2, 4, 4, 3), (None, 3, 3, 2)),
])
def test_spectral_normalization_layer_helper(inner, shape, out):
    # shapes, weights, functional use, config round trip and a training step; the gradient is the wrapped
    # layer's own (the rescaling is an assignment made before the call), checked with that layer
    layer_test(keras.layers.SpectralNormalization, {"layer": inner(), "power_iterations": 2}, input_shape=shape,
               expected_output_shape=out, expected_num_trainable_weights=2, expected_num_non_trainable_weights=1,
               check_gradients=False)
