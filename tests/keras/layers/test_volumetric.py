"""3-D layers: Conv3D, Conv3DTranspose, Max/AveragePooling3D, Global*Pooling3D, UpSampling3D, ZeroPadding3D,
Cropping3D, SpatialDropout3D through the layer helper (shapes, config, training step, float64 gradients) and
against TensorFlow / independent references."""

import image_reference
import numpy as np
import pytest
from layer_helpers import layer_test

from featherflow import keras
from featherflow.keras import layers
from featherflow.ops.conv3d import conv3d

ref = image_reference.load()


@pytest.mark.parametrize("kwargs,out", [
    ({"filters": 3, "kernel_size": 2}, (None, 3, 4, 3, 3)),
    ({"filters": 2, "kernel_size": (2, 3, 1), "strides": 2, "padding": "same", "activation": "relu"},
     (None, 2, 3, 2, 2)),
    ({"filters": 4, "kernel_size": 2, "dilation_rate": (1, 2, 1), "groups": 2, "activation": "tanh"},
     (None, 3, 3, 3, 4)),
    ({"filters": 2, "kernel_size": 2, "data_format": "channels_first", "use_bias": False}, (None, 2, 4, 3, 1)),
])
def test_conv3d_layer(kwargs, out):
    layer_test(layers.Conv3D, kwargs, input_shape=(2, 4, 5, 4, 2), expected_output_shape=out,
               expected_num_trainable_weights=2 if kwargs.get("use_bias", True) else 1)


def test_conv3d_layer_computes_the_op():
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 4, 2)).astype("float32")
    layer = layers.Conv3D(3, (2, 2, 3), padding="same", activation="relu")
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, np.maximum(conv3d(x, kernel, 1, "SAME").numpy() + bias, 0), rtol=1e-5,
                               atol=1e-6)
    assert layers.Convolution3D is layers.Conv3D


@pytest.mark.parametrize("kwargs,out", [
    ({"filters": 3, "kernel_size": 2, "strides": 2}, (None, 6, 8, 6, 3)),
    ({"filters": 2, "kernel_size": 3, "strides": (1, 2, 2), "padding": "same", "output_padding": (0, 1, 0)},
     (None, 3, 8, 5, 2)),
])
def test_conv3d_transpose_layer(kwargs, out):
    layer_test(layers.Conv3DTranspose, kwargs, input_shape=(2, 3, 4, 3, 2), expected_output_shape=out,
               expected_num_trainable_weights=2)


def test_conv3d_transpose_matches_tf_keras():
    x = ref["vol/input"]
    layer = layers.Conv3DTranspose(3, (2, 3, 2), strides=(2, 1, 2), padding="same", output_padding=(1, 0, 1))
    layer.build(x.shape)
    layer.set_weights([ref["vol/conv3d_transpose_layer/kernel"], ref["vol/conv3d_transpose_layer/bias"]])
    np.testing.assert_allclose(layer(x).numpy(), ref["vol/conv3d_transpose_layer/output"], atol=1e-5)


@pytest.mark.parametrize("cls", [layers.MaxPooling3D, layers.AveragePooling3D])
@pytest.mark.parametrize("kwargs,out", [({}, (None, 2, 2, 2, 3)),
                                        ({"pool_size": (2, 3, 2), "strides": 1, "padding": "same"},
                                         (None, 4, 5, 4, 3)),
                                        ({"data_format": "channels_first"}, (None, 4, 2, 2, 1))])
def test_pooling3d_layers(cls, kwargs, out):
    layer_test(cls, kwargs, input_shape=(2, 4, 5, 4, 3), expected_output_shape=out)


def test_pooling3d_values():
    x = np.arange(2 * 4 * 4 * 4, dtype="float32").reshape(2, 4, 4, 4, 1)
    blocks = x.reshape(2, 2, 2, 2, 2, 2, 2, 1)
    np.testing.assert_array_equal(layers.MaxPooling3D()(x).numpy(), blocks.max(axis=(2, 4, 6)))
    np.testing.assert_allclose(layers.AveragePooling3D()(x).numpy(), blocks.mean(axis=(2, 4, 6)))
    np.testing.assert_array_equal(layers.GlobalMaxPooling3D()(x).numpy(), x.max(axis=(1, 2, 3)))
    np.testing.assert_allclose(layers.GlobalAveragePooling3D(keepdims=True)(x).numpy(),
                               x.mean(axis=(1, 2, 3), keepdims=True))
    assert layers.MaxPool3D is layers.MaxPooling3D and layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D


@pytest.mark.parametrize("cls", [layers.GlobalMaxPooling3D, layers.GlobalAveragePooling3D])
def test_global_pooling3d(cls):
    layer_test(cls, {}, input_shape=(2, 3, 4, 2, 3), expected_output_shape=(None, 3))
    layer_test(cls, {"data_format": "channels_first", "keepdims": True}, input_shape=(2, 3, 4, 2, 3),
               expected_output_shape=(None, 3, 1, 1, 1))


def test_reshaping3d_values_and_helper():
    x = np.random.default_rng(1).normal(size=(2, 2, 3, 2, 2)).astype("float32")
    out = layer_test(layers.ZeroPadding3D, {"padding": ((1, 0), (0, 2), 1)}, input_data=x,
                     expected_output_shape=(None, 3, 5, 4, 2))
    np.testing.assert_array_equal(out, np.pad(x, [(0, 0), (1, 0), (0, 2), (1, 1), (0, 0)]))
    big = np.random.default_rng(2).normal(size=(2, 4, 5, 6, 2)).astype("float32")
    out = layer_test(layers.Cropping3D, {"cropping": ((1, 0), (1, 2), (0, 3))}, input_data=big,
                     expected_output_shape=(None, 3, 2, 3, 2))
    np.testing.assert_array_equal(out, big[:, 1:, 1:3, 0:3])
    out = layer_test(layers.UpSampling3D, {"size": (2, 1, 3)}, input_data=x, expected_output_shape=(None, 4, 3, 6, 2))
    np.testing.assert_array_equal(out, x.repeat(2, axis=1).repeat(3, axis=3))
    first = layers.UpSampling3D(2, data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(first, x.repeat(2, axis=2).repeat(2, axis=3).repeat(2, axis=4))
    with pytest.raises(ValueError, match="cropping"):
        layers.Cropping3D(2)(x)
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding3D((1, 2))


def test_spatial_dropout3d():
    x = np.ones((4, 2, 3, 3, 8), "float32")
    out = layers.SpatialDropout3D(0.5, seed=3)(x, training=True).numpy()
    assert (out == out[:, :1, :1, :1, :]).all() and set(np.unique(out)) <= {0.0, 2.0}
    assert 0 < (out[:, 0, 0, 0] == 0).sum() < 32
    first = layers.SpatialDropout3D(0.5, data_format="channels_first", seed=3)(x, training=True).numpy()
    assert (first == first[:, :, :1, :1, :1]).all()
    np.testing.assert_array_equal(layers.SpatialDropout3D(0.5)(x, training=False).numpy(), x)
    layer_test(layers.SpatialDropout3D, {"rate": 0.3}, input_shape=(2, 2, 3, 2, 3),
               expected_output_shape=(None, 2, 3, 2, 3), gradient_training=True)


def test_volumetric_model_trains():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 4, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3, 4)) > 0).astype("float32")
    model = keras.Sequential([keras.Input((4, 6, 6, 1)), layers.Conv3D(4, 3, padding="same", activation="relu"),
                              layers.MaxPooling3D((1, 2, 2)), layers.Conv3DTranspose(2, 2, strides=(1, 2, 2)),
                              layers.ZeroPadding3D(1), layers.Cropping3D(1), layers.UpSampling3D((1, 1, 1)),
                              layers.SpatialDropout3D(0.1), layers.GlobalAveragePooling3D(), layers.Dense(1)])
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
