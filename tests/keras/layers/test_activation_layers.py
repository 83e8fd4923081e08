import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as ff
from featherflow.keras import layers

X = np.array([[-2.0, -0.5, 0.3, 1.5, 7.0], [0.7, -3.0, 2.5, -0.1, 6.5]], "float32")


def keras_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    x = x.astype("float64")
    out = np.where(x > threshold, x, 0.0) if threshold else np.maximum(x, 0.0)
    if max_value is not None:
        out = np.minimum(out, max_value)
    return out - negative_slope * np.maximum(threshold - x, 0.0)


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 6.0}, {"max_value": 1.0}, {"negative_slope": 0.1},
                                    {"negative_slope": 0.2, "max_value": 2.0, "threshold": 0.4},
                                    {"threshold": 1.0}])
def test_relu(kwargs):
    layer_test(layers.ReLU, kwargs, input_data=X, expected_output=keras_relu(X, **kwargs),
               expected_output_shape=(None, 5), supports_masking=True)


def test_relu_errors():
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-0.1)


def test_leaky_relu_elu_thresholded():
    x64 = X.astype("float64")
    layer_test(layers.LeakyReLU, {}, input_data=X, expected_output=np.where(x64 > 0, x64, 0.3 * x64),
               expected_output_shape=(None, 5))
    layer_test(layers.ELU, {"alpha": 0.5}, input_data=X, expected_output=np.where(x64 > 0, x64, 0.5 * np.expm1(x64)),
               expected_output_shape=(None, 5))
    layer_test(layers.ThresholdedReLU, {"theta": 0.5}, input_data=X, expected_output=np.where(x64 > 0.5, x64, 0.0),
               expected_output_shape=(None, 5))


def test_prelu():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 2)).astype("float32")
    layer_test(layers.PReLU, {"alpha_initializer": "ones"}, input_data=x, expected_output=x,
               expected_output_shape=(None, 3, 4, 2), expected_num_trainable_weights=1)
    layer = layers.PReLU(shared_axes=[1, 2])
    layer(x)
    assert layer.alpha.shape == (1, 1, 2)
    layer.set_weights([np.array([[[0.1, 0.5]]], "float32")])
    np.testing.assert_allclose(layer(x).numpy(), np.where(x > 0, x, x * np.array([0.1, 0.5])), rtol=1e-6)
    # alpha starts at 0 by default, where d(sum(out**2))/d(alpha) = 0: start from ones to see a step
    layer_test(layers.PReLU, {"shared_axes": [1, 2], "alpha_initializer": "ones"}, input_data=x,
               expected_output_shape=(None, 3, 4, 2),
               expected_num_trainable_weights=1)


def test_softmax():
    x64 = X.astype("float64")
    ref = np.exp(x64 - x64.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    layer_test(layers.Softmax, {}, input_data=X, expected_output=ref, expected_output_shape=(None, 5))
    x3 = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
    e = np.exp(x3.astype("float64"))
    layer_test(layers.Softmax, {"axis": [1, 2]}, input_data=x3, expected_output=e / e.sum(axis=(1, 2), keepdims=True),
               expected_output_shape=(None, 3, 4))
    mask = np.array([[True, True, False, True, False], [True, False, False, False, False]])
    out = layers.Softmax()(X, mask=ff.constant(mask)).numpy()
    assert (out[~mask] < 1e-6).all()
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-6)


def test_identity_and_aliases():
    layer_test(layers.Identity, {}, input_data=X, expected_output=X, expected_output_shape=(None, 5))
    assert layers.Convolution2D is layers.Conv2D and layers.SeparableConvolution2D is layers.SeparableConv2D
