import numpy as np
import pytest
from conv_reference import reference_pool2d
from layer_helpers import layer_test

import featherflow as ff
from featherflow.keras import layers


@pytest.mark.parametrize("cls,kind", [(layers.MaxPooling2D, "max"), (layers.AveragePooling2D, "avg")])
@pytest.mark.parametrize("kwargs,in_shape,out_shape", [
    ({}, (2, 6, 5, 3), (None, 3, 2, 3)),
    ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 2), (None, 4, 3, 2)),
    ({"pool_size": (2, 3), "strides": 1}, (1, 4, 5, 2), (None, 3, 3, 2)),
])
def test_pooling2d(cls, kind, kwargs, in_shape, out_shape):
    x = np.random.default_rng(0).uniform(-1, 1, in_shape).astype("float32")
    k = kwargs.get("pool_size", 2)
    k = (k, k) if isinstance(k, int) else k
    s = kwargs.get("strides", k)
    s = (s, s) if isinstance(s, int) else s
    ref = reference_pool2d(x.astype("float64"), kind, k, s, kwargs.get("padding", "valid").upper())
    layer_test(cls, kwargs, input_data=x, expected_output_shape=out_shape, expected_output=ref,
               expected_num_trainable_weights=0)


def test_pooling_channels_first_and_config():
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 6, 4)).astype("float32")
    ref = reference_pool2d(x.transpose(0, 2, 3, 1).astype("float64"), "max", (2, 2), (2, 2), "VALID")
    layer_test(layers.MaxPooling2D, {"data_format": "channels_first"}, input_data=x,
               expected_output=ref.transpose(0, 3, 1, 2), expected_output_shape=(None, 3, 3, 2))
    config = layers.MaxPooling2D().get_config()
    assert config["pool_size"] == (2, 2) and config["strides"] == (2, 2) and config["padding"] == "valid"
    assert layers.MaxPool2D is layers.MaxPooling2D


@pytest.mark.parametrize("cls,kind", [(layers.MaxPooling1D, "max"), (layers.AveragePooling1D, "avg")])
def test_pooling1d(cls, kind):
    x = np.random.default_rng(2).uniform(-1, 1, (2, 7, 3)).astype("float32")
    ref = reference_pool2d(x[:, None].astype("float64"), kind, (1, 3), (1, 2), "SAME")[:, 0]
    layer_test(cls, {"pool_size": 3, "strides": 2, "padding": "same"}, input_data=x, expected_output=ref,
               expected_output_shape=(None, 4, 3))
    layer_test(cls, {}, input_shape=(2, 6, 3), expected_output_shape=(None, 3, 3))


def test_pooling_errors():
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.MaxPooling2D()(np.zeros((2, 4, 4), "float32"))
    with pytest.raises(ValueError, match="padding"):
        layers.MaxPooling2D(padding="full")


@pytest.mark.parametrize("cls,fn,rank", [
    (layers.GlobalMaxPooling2D, np.max, 2), (layers.GlobalAveragePooling2D, np.mean, 2),
    (layers.GlobalMaxPooling1D, np.max, 1), (layers.GlobalAveragePooling1D, np.mean, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(cls, fn, rank, keepdims):
    shape = (2, 3, 4, 5) if rank == 2 else (2, 6, 5)
    x = np.random.default_rng(3).uniform(-1, 1, shape).astype("float32")
    axes = tuple(range(1, rank + 1))
    ref = fn(x, axis=axes, keepdims=keepdims)
    layer_test(cls, {"keepdims": keepdims}, input_data=x, expected_output=ref,
               expected_output_shape=(None,) + ref.shape[1:])


def test_global_pooling_channels_first():
    x = np.random.default_rng(4).uniform(-1, 1, (2, 5, 3, 4)).astype("float32")
    layer_test(layers.GlobalAveragePooling2D, {"data_format": "channels_first"}, input_data=x,
               expected_output=x.mean(axis=(2, 3)), expected_output_shape=(None, 5))


def test_global_average_pooling1d_masked():
    x = np.random.default_rng(5).uniform(-1, 1, (2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    xt = ff.constant(x)
    xt._keras_mask = ff.constant(mask)
    out = layers.GlobalAveragePooling1D()(xt)
    ref = np.stack([x[0, :2].mean(0), x[1].mean(0)])
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    assert out._keras_mask is None
