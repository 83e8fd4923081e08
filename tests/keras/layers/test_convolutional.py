import numpy as np
import pytest
from conv_reference import reference_conv2d, reference_conv2d_transpose
from layer_helpers import layer_test

from featherflow import keras
from featherflow.keras import layers


def _weights(layer):
    return [w.numpy().astype("float64") for w in layer.weights]


@pytest.mark.parametrize("kwargs,in_shape,out_shape", [
    ({"filters": 4, "kernel_size": 3}, (2, 7, 6, 3), (None, 5, 4, 4)),
    ({"filters": 4, "kernel_size": (3, 2), "padding": "same", "strides": 2}, (2, 7, 6, 3), (None, 4, 3, 4)),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same", "activation": "relu"},
     (1, 7, 7, 2), (None, 7, 7, 2)),
    ({"filters": 3, "kernel_size": 1, "use_bias": False}, (2, 4, 4, 2), (None, 4, 4, 3)),
    ({"filters": 4, "kernel_size": 3, "activation": "tanh", "data_format": "channels_first"}, (2, 3, 6, 5),
     (None, 4, 4, 3)),
])
def test_conv2d(kwargs, in_shape, out_shape):
    x = np.random.default_rng(0).uniform(-1, 1, in_shape).astype("float32")
    out = layer_test(layers.Conv2D, kwargs, input_data=x, expected_output_shape=out_shape,
                     expected_num_trainable_weights=1 + kwargs.get("use_bias", True),
                     expected_num_non_trainable_weights=0)
    # recompute with the layer's weights by a direct loop
    layer = layers.Conv2D(**kwargs)
    y = layer(x).numpy()
    ws = _weights(layer)
    xl = x.astype("float64")
    if kwargs.get("data_format") == "channels_first":
        xl = xl.transpose(0, 2, 3, 1)
    strides = (kwargs.get("strides", 1),) * 2
    dil = (kwargs.get("dilation_rate", 1),) * 2
    ref = reference_conv2d(xl, ws[0], strides, kwargs.get("padding", "valid").upper(), dil)
    if len(ws) > 1:
        ref = ref + ws[1]
    ref = {"relu": np.maximum(ref, 0), "tanh": np.tanh(ref)}.get(kwargs.get("activation"), ref)
    if kwargs.get("data_format") == "channels_first":
        ref = ref.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    assert out.shape == y.shape


def test_conv2d_weights_and_config():
    layer = layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))
    layer.build((None, 28, 28, 1))
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 1, 32), (32,)]
    assert layer.count_params() == 320
    assert not layer.get_weights()[1].any()
    config = layer.get_config()
    for key in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups",
                "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"):
        assert key in config
    assert config["kernel_size"] == (3, 3) and config["strides"] == (1, 1) and config["padding"] == "valid"
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    # glorot-uniform limit with receptive-field fans: sqrt(6 / (9*1 + 9*32))
    assert np.abs(layer.get_weights()[0]).max() <= np.sqrt(6 / (9 + 288))


def test_conv2d_errors():
    with pytest.raises(ValueError, match="strictly positive"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="`kernel_size` argument must be a tuple of 2 integers"):
        layers.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="dilation_rate > 1"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="expected min_ndim=4"):
        layers.Conv2D(2, 3)(np.zeros((2, 5, 5), "float32"))
    layer = layers.Conv2D(2, 3)
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.zeros((1, 5, 5, 4), "float32"))
    with pytest.raises(ValueError, match="<= 0"):
        layers.Conv2D(2, 5).compute_output_shape((None, 3, 3, 1))
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        layers.Conv2D(2, 3)(keras.Input(shape=(5, 5, None)))


def test_conv2d_groups():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 5, 5, 4)).astype("float32")
    layer_test(layers.Conv2D, {"filters": 6, "kernel_size": 3, "groups": 2, "activation": "relu"}, input_data=x,
               expected_output_shape=(None, 3, 3, 6), expected_num_trainable_weights=2)
    layer = layers.Conv2D(6, 3, groups=2)
    y = layer(x).numpy()
    k, b = _weights(layer)
    assert k.shape == (3, 3, 2, 6)
    ref = np.concatenate([reference_conv2d(x[..., :2].astype("float64"), k[..., :3]),
                          reference_conv2d(x[..., 2:].astype("float64"), k[..., 3:])], axis=-1) + b
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="evenly divisible"):
        layers.Conv2D(5, 3, groups=2)


@pytest.mark.parametrize("kwargs,out_len", [
    ({"filters": 3, "kernel_size": 3}, 6),
    ({"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, 8),
    ({"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same", "activation": "sigmoid"}, 4),
])
def test_conv1d(kwargs, out_len):
    x = np.random.default_rng(1).uniform(-1, 1, (2, 8, 2)).astype("float32")
    layer_test(layers.Conv1D, kwargs, input_data=x, expected_output_shape=(None, out_len, 3),
               expected_num_trainable_weights=2)
    layer = layers.Conv1D(**kwargs)
    y = layer(x).numpy()
    k, b = _weights(layer)
    d = kwargs.get("dilation_rate", 1)
    xl = x.astype("float64")
    padding = kwargs.get("padding", "valid").upper()
    if padding == "CAUSAL":
        xl = np.pad(xl, ((0, 0), ((k.shape[0] - 1) * d, 0), (0, 0)))
        padding = "VALID"
    ref = reference_conv2d(xl[:, None], k[None], (1, kwargs.get("strides", 1)), padding, (1, d))[:, 0] + b
    if kwargs.get("activation") == "sigmoid":
        ref = 1 / (1 + np.exp(-ref))
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_conv1d_causal_does_not_look_ahead():
    layer = layers.Conv1D(1, 3, padding="causal", kernel_initializer="ones")
    x = np.zeros((1, 6, 1), "float32")
    x[0, 4, 0] = 1.0
    assert (layer(x).numpy()[0, :4, 0] == 0).all()


@pytest.mark.parametrize("kwargs,in_shape,out_shape", [
    ({"filters": 3, "kernel_size": 3, "strides": 2}, (2, 3, 4, 2), (None, 7, 9, 3)),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (1, 3, 3, 2), (None, 6, 6, 2)),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 0}, (1, 3, 3, 2),
     (None, 5, 5, 2)),
    ({"filters": 2, "kernel_size": 2, "activation": "relu"}, (1, 3, 3, 1), (None, 4, 4, 2)),
])
def test_conv2d_transpose(kwargs, in_shape, out_shape):
    x = np.random.default_rng(2).uniform(-1, 1, in_shape).astype("float32")
    layer_test(layers.Conv2DTranspose, kwargs, input_data=x, expected_output_shape=out_shape,
               expected_num_trainable_weights=2)
    layer = layers.Conv2DTranspose(**kwargs)
    y = layer(x).numpy()
    k, b = _weights(layer)
    assert k.shape == (*layer.kernel_size, kwargs["filters"], in_shape[-1])
    s = (kwargs.get("strides", 1),) * 2
    ref = reference_conv2d_transpose(x.astype("float64"), k, y.shape[1:3], s, kwargs.get("padding", "valid").upper())
    ref = ref + b
    if kwargs.get("activation") == "relu":
        ref = np.maximum(ref, 0)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_conv_transpose_errors_and_1d():
    with pytest.raises(ValueError, match="Strides must be greater than output padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    layer_test(layers.Conv1DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2}, input_shape=(2, 4, 3),
               expected_output_shape=(None, 9, 2), expected_num_trainable_weights=2)


@pytest.mark.parametrize("kwargs,out_shape", [
    ({"kernel_size": 3}, (None, 3, 4, 3)),
    ({"kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2, "activation": "relu"},
     (None, 3, 3, 6)),
])
def test_depthwise_conv2d(kwargs, out_shape):
    x = np.random.default_rng(3).uniform(-1, 1, (2, 5, 6, 3)).astype("float32")
    layer_test(layers.DepthwiseConv2D, kwargs, input_data=x, expected_output_shape=out_shape,
               expected_num_trainable_weights=2)
    layer = layers.DepthwiseConv2D(**kwargs)
    y = layer(x).numpy()
    k, b = _weights(layer)
    s = (kwargs.get("strides", 1),) * 2
    ref = np.concatenate([reference_conv2d(x[..., c:c + 1].astype("float64"), k[:, :, c:c + 1, :], s,
                                           kwargs.get("padding", "valid").upper()) for c in range(3)], -1) + b
    if kwargs.get("activation") == "relu":
        ref = np.maximum(ref, 0)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    config = layer.get_config()
    assert "depthwise_initializer" in config and "filters" not in config
    assert layer.weights[0].name.endswith("depthwise_kernel")


def test_separable_conv2d():
    x = np.random.default_rng(4).uniform(-1, 1, (2, 6, 6, 3)).astype("float32")
    layer_test(layers.SeparableConv2D, {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "activation": "relu"},
               input_data=x, expected_output_shape=(None, 4, 4, 4), expected_num_trainable_weights=3)
    layer = layers.SeparableConv2D(4, 3, depth_multiplier=2)
    y = layer(x).numpy()
    dk, pk, b = _weights(layer)
    assert dk.shape == (3, 3, 3, 2) and pk.shape == (1, 1, 6, 4) and b.shape == (4,)
    hidden = np.concatenate([reference_conv2d(x[..., c:c + 1].astype("float64"), dk[:, :, c:c + 1, :])
                             for c in range(3)], -1)
    np.testing.assert_allclose(y, hidden @ pk[0, 0] + b, rtol=1e-4, atol=1e-5)
    layer_test(layers.SeparableConv1D, {"filters": 2, "kernel_size": 3, "padding": "causal"}, input_shape=(2, 5, 3),
               expected_output_shape=(None, 5, 2), expected_num_trainable_weights=3)
