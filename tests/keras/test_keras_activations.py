"""keras.activations against float64 NumPy formulas, with gradient checks and name resolution."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import check_gradient

import featherflow as ff
from featherflow.keras import activations as A

X = np.array([[-7.0, -3.0, -2.4, -1.0, -0.3, 0.2, 0.9, 2.6, 4.0, 7.5]])
SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805
ERF = np.vectorize(math.erf)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


REFS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: SELU_S * np.where(x > 0, x, SELU_A * (np.exp(x) - 1)),
    "gelu": lambda x: 0.5 * x * (1 + ERF(x / np.sqrt(2))),
    "sigmoid": _sig,
    "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "tanh": np.tanh,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "swish": lambda x: x * _sig(x),
    "silu": lambda x: x * _sig(x),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "exponential": np.exp,
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
}


@pytest.mark.parametrize("name", sorted(REFS))
def test_values(name):
    fn = A.get(name)
    np.testing.assert_allclose(fn(X.astype("float32")).numpy(), REFS[name](X), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(fn(X).numpy(), REFS[name](X), rtol=1e-12, atol=1e-12)
    assert A.serialize(fn) in (name, "swish")
    assert A.deserialize(A.serialize(fn)) is fn or name == "silu"


@pytest.mark.parametrize("name", sorted(REFS))
def test_gradients(name):
    x = np.array([[-2.3, -0.7, 0.4, 1.9], [3.1, -4.2, 0.15, -0.05]])
    check_gradient(A.get(name), [x])


@pytest.mark.parametrize("kwargs", [{"alpha": 0.1}, {"max_value": 2.5}, {"threshold": 1.0},
                                    {"alpha": 0.1, "max_value": 5.0, "threshold": 1.0}, {"max_value": 6.0},
                                    {"alpha": 0.3, "threshold": -1.0}])
def test_relu_options(kwargs):
    alpha, max_value, threshold = kwargs.get("alpha", 0.0), kwargs.get("max_value"), kwargs.get("threshold", 0.0)
    x = X[0]
    expected = np.where(x > threshold, x, alpha * (x - threshold))
    if max_value is not None:
        expected = np.where(x >= max_value, max_value, expected)
    np.testing.assert_allclose(A.relu(x, **kwargs).numpy(), expected, rtol=1e-12)
    check_gradient(lambda t: A.relu(t, **kwargs), [np.array([-2.3, -0.7, 0.4, 1.9, 3.1, 7.2])])


def test_parameterized_variants():
    np.testing.assert_allclose(A.elu(X, alpha=0.5).numpy(), np.where(X > 0, X, 0.5 * (np.exp(X) - 1)))
    np.testing.assert_allclose(A.leaky_relu(X, alpha=0.1).numpy(), np.where(X > 0, X, 0.1 * X))
    np.testing.assert_allclose(A.leaky_relu(X, negative_slope=0.3).numpy(), np.where(X > 0, X, 0.3 * X))
    approx = 0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X ** 3)))
    np.testing.assert_allclose(A.gelu(X, approximate=True).numpy(), approx, rtol=1e-10)
    np.testing.assert_allclose(A.softmax(X.T, axis=0).numpy(), _softmax(X).T, rtol=1e-12)


def test_softmax_keeps_its_logits():
    logits = ff.constant([[1.0, 2.0]])
    assert A.softmax(logits)._logits is logits


def test_softmax_rejects_1d():
    with pytest.raises(ValueError, match="1D"):
        A.softmax([1.0, 2.0])


def test_get():
    assert A.get(None) is A.linear
    assert A.get("relu") is A.relu
    fn = lambda x: x  # noqa: E731
    assert A.get(fn) is fn
    assert A.get({"class_name": "Activation", "config": {"activation": "tanh"}}) is A.tanh
    with pytest.raises(ValueError, match="Unknown activation function: 'rellu'.*'relu'"):
        A.get("rellu")
    with pytest.raises(TypeError):
        A.get(3)
