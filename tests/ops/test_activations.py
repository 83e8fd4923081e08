"""Activation ops: values against NumPy float64 formulas, gradients by finite differences."""

import math

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff

SHAPES = [(), (7,), (3, 4), (2, 1, 3), (0, 4)]
_erf = np.vectorize(math.erf, otypes=[float])
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = [
    ("relu", ff.nn.relu, lambda x: np.maximum(x, 0)),
    ("relu6", ff.nn.relu6, lambda x: np.minimum(np.maximum(x, 0), 6)),
    ("leaky_relu", ff.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    ("leaky_relu_alpha", lambda x: ff.nn.leaky_relu(x, alpha=0.05), lambda x: np.where(x > 0, x, 0.05 * x)),
    ("elu", ff.nn.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("elu_alpha", lambda x: ff.nn.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    ("selu", ff.nn.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    ("gelu", ff.nn.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    ("gelu_tanh", lambda x: ff.nn.gelu(x, approximate=True),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("sigmoid", ff.sigmoid, _sigmoid),
    ("hard_sigmoid", ff.ops.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    ("tanh", ff.tanh, np.tanh),
    ("softplus", ff.nn.softplus, lambda x: np.log1p(np.exp(x))),
    ("softsign", ff.nn.softsign, lambda x: x / (1 + np.abs(x))),
    ("silu", ff.nn.silu, lambda x: x * _sigmoid(x)),
    ("swish_beta", lambda x: ff.nn.swish(x, beta=1.7), lambda x: x * _sigmoid(1.7 * x)),
    ("log_sigmoid", ff.math.log_sigmoid, lambda x: np.log(_sigmoid(x))),
]


@pytest.mark.parametrize("name,op,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_value_and_gradient(name, op, ref, shape):
    # Range covers the kinks of relu6 (6) and hard_sigmoid (+-2.5); random points avoid them exactly.
    x = random_array(shape, low=-7, high=7)
    np.testing.assert_allclose(op(ff.constant(x)).numpy(), ref(x), rtol=1e-12, atol=1e-14)
    out32 = op(ff.constant(x.astype("float32")))
    assert out32.dtype == ff.float32
    np.testing.assert_allclose(out32.numpy(), ref(x), rtol=3e-6, atol=3e-6)
    check_gradient(op, [x])


def test_activations_stay_finite_for_extreme_inputs():
    x = ff.constant([-1000.0, -80.0, 0.0, 80.0, 1000.0])
    for op in (ff.sigmoid, ff.nn.softplus, ff.math.log_sigmoid, ff.nn.elu, ff.nn.selu, ff.nn.silu, ff.nn.gelu):
        with ff.GradientTape() as tape:
            tape.watch(x)
            out = op(x)
        assert np.isfinite(out.numpy()).all(), op.__name__
        assert np.isfinite(tape.gradient(out, x).numpy()).all(), op.__name__
    np.testing.assert_allclose(ff.nn.softplus(x).numpy()[-1], 1000.0)
    np.testing.assert_allclose(ff.math.log_sigmoid(x).numpy()[0], -1000.0)


def test_keras_hard_sigmoid_definition():
    x = ff.constant([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0])
    np.testing.assert_allclose(ff.ops.hard_sigmoid(x).numpy(), [0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0], atol=1e-7)


def test_relu_gradient_is_zero_at_zero_and_relu6_at_six():
    x = ff.constant([0.0, 6.0, 3.0])
    with ff.GradientTape(persistent=True) as tape:
        tape.watch(x)
        r = ff.nn.relu(x)
        r6 = ff.nn.relu6(x)
    np.testing.assert_array_equal(tape.gradient(r, x).numpy(), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(tape.gradient(r6, x).numpy(), [0.0, 0.0, 1.0])


def test_relu_accepts_integers_and_float_activations_refuse_them():
    np.testing.assert_array_equal(ff.nn.relu(ff.constant([-1, 2])).numpy(), [0, 2])
    for op in (ff.nn.elu, ff.nn.gelu, ff.nn.softplus, ff.sigmoid, ff.tanh):
        with pytest.raises(TypeError, match="features|x"):
            op(ff.constant([1, 2]))


def test_swish_is_silu():
    assert ff.nn.swish is ff.nn.silu
