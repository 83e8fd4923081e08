"""Activation functions beyond relu/sigmoid/tanh/softmax (those live in ``ops/nn.py``).

Every function is an elementwise op with its derivative beside it, written in forms that
do not overflow (``softplus`` via ``log1p(exp(-|x|))``, ``sigmoid`` via ``exp(-|x|)``).

>>> import featherflow as ff
>>> ff.nn.relu6([-1.0, 3.0, 8.0]).numpy()
array([0., 3., 6.], dtype=float32)
"""

from __future__ import annotations

import math as _math

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor
from featherflow.ops._dual import locally_constant
from featherflow.ops.array_kernels import sigmoid as _sigmoid_array
from featherflow.ops.elementwise import _TWO_OVER_SQRT_PI, _erf_array

# SELU constants (Klambauer et al., 2017, "Self-Normalizing Neural Networks").
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = _math.sqrt(2.0 / _math.pi)
_INV_SQRT_2 = 1.0 / _math.sqrt(2.0)


def relu6(features, name=None) -> Tensor:
    """``min(max(x, 0), 6)``; gradient 1 on ``0 < x < 6``.

    >>> relu6([-2.0, 2.0, 7.0]).numpy()
    array([0., 2., 6.], dtype=float32)
    """
    x = as_tensor(features, "relu6", "features")
    xv = x.value
    out = array_module(xv).clip(xv, 0, 6)
    return record("relu6", (x,), out, lambda g, needs: (g * ((xv > 0) & (xv < 6)),))


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    """``x`` for ``x > 0``, ``alpha * x`` otherwise (TensorFlow's default ``alpha=0.2``).

    >>> leaky_relu([-1.0, 2.0]).numpy()
    array([-0.2,  2. ], dtype=float32)
    """
    x = as_float_tensor(features, "leaky_relu", "features")
    xv = x.value
    xp = array_module(xv)
    slope = xp.where(xv > 0, xv.dtype.type(1), xv.dtype.type(alpha))
    return record("leaky_relu", (x,), xv * slope, lambda g, needs: (g * slope,))


def elu(features, name=None, alpha=1.0) -> Tensor:
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        features: float tensor.
        alpha: scale of the negative part (Keras's ``elu(x, alpha)``; TensorFlow's is 1).

    >>> elu([-1.0, 2.0]).numpy()
    array([-0.63212055,  2.        ], dtype=float32)
    """
    x = as_float_tensor(features, "elu", "features")
    xv = x.value
    xp = array_module(xv)
    positive = xv > 0
    neg = alpha * xp.expm1(xp.minimum(xv, 0))
    out = xp.where(positive, xv, neg).astype(xv.dtype, copy=False)
    return record("elu", (x,), out, lambda g, needs: (g * xp.where(positive, 1, neg + alpha),))


def selu(features, name=None) -> Tensor:
    """Scaled ELU: ``scale * elu(x, alpha)`` with the self-normalizing constants
    ``alpha ~ 1.6733``, ``scale ~ 1.0507``.

    >>> selu([-1.0, 1.0]).numpy()
    array([-1.1113307,  1.050701 ], dtype=float32)
    """
    x = as_float_tensor(features, "selu", "features")
    xv = x.value
    xp = array_module(xv)
    positive = xv > 0
    neg = SELU_SCALE * SELU_ALPHA * xp.expm1(xp.minimum(xv, 0))
    out = xp.where(positive, SELU_SCALE * xv, neg).astype(xv.dtype, copy=False)
    return record("selu", (x,), out,
                  lambda g, needs: (g * xp.where(positive, SELU_SCALE, neg + SELU_SCALE * SELU_ALPHA),))


def gelu(features, approximate=False, name=None) -> Tensor:
    """Gaussian error linear unit (Hendrycks & Gimpel, 2016).

    ``approximate=False`` (default): ``x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))``;
    ``approximate=True``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    >>> gelu([-1.0, 0.0, 1.0]).numpy()
    array([-0.15865526,  0.        ,  0.8413447 ], dtype=float32)
    >>> gelu([1.0], approximate=True).numpy()
    array([0.8411920], dtype=float32)
    """
    x = as_float_tensor(features, "gelu", "features")
    xv = x.value
    xp = array_module(xv)
    if approximate:
        inner = _SQRT_2_OVER_PI * (xv + 0.044715 * xv ** 3)
        t = xp.tanh(inner)
        out = 0.5 * xv * (1 + t)

        def backward(g, needs):
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * xv * xv)
            return (g * (0.5 * (1 + t) + 0.5 * xv * (1 - t * t) * d_inner),)

        return record("gelu", (x,), out.astype(xv.dtype, copy=False), backward)
    cdf = 0.5 * (1 + _erf_array(xv * _INV_SQRT_2))
    out = xv * cdf

    def backward_exact(g, needs):
        pdf = (_TWO_OVER_SQRT_PI * _INV_SQRT_2 * 0.5) * xp.exp(-0.5 * xv * xv)
        return (g * (cdf + xv * pdf),)

    return record("gelu", (x,), out.astype(xv.dtype, copy=False), backward_exact)


def hard_sigmoid(x, name=None) -> Tensor:
    """Keras's piecewise-linear sigmoid: 0 for ``x < -2.5``, 1 for ``x > 2.5``, else ``0.2 x + 0.5``.

    >>> hard_sigmoid([-3.0, -1.0, 0.0, 1.0, 3.0]).numpy()
    array([0. , 0.3, 0.5, 0.7, 1. ], dtype=float32)
    """
    x = as_float_tensor(x, "hard_sigmoid")
    xv = x.value
    xp = array_module(xv)
    out = xp.clip(xv * xv.dtype.type(0.2) + xv.dtype.type(0.5), 0, 1)
    return record("hard_sigmoid", (x,), out, lambda g, needs: (g * (0.2 * ((xv > -2.5) & (xv < 2.5))),))


def _softplus_array(xv):
    xp = array_module(xv)
    return xp.maximum(xv, 0) + xp.log1p(xp.exp(-xp.abs(xv)))


def softplus(features, name=None) -> Tensor:
    """``log(1 + exp(x))`` in the overflow-free form ``max(x, 0) + log1p(exp(-|x|))``; gradient ``sigmoid(x)``.

    >>> softplus([0.0, 100.0]).numpy()
    array([  0.6931472, 100.       ], dtype=float32)
    """
    x = as_float_tensor(features, "softplus", "features")
    xv = x.value
    return record("softplus", (x,), _softplus_array(xv), lambda g, needs: (g * _sigmoid_array(xv),))


def log_sigmoid(x, name=None) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for large ``|x|``; gradient ``sigmoid(-x)``.

    >>> log_sigmoid([0.0]).numpy()
    array([-0.6931472], dtype=float32)
    """
    x = as_float_tensor(x, "log_sigmoid")
    xv = x.value
    return record("log_sigmoid", (x,), -_softplus_array(-xv), lambda g, needs: (g * _sigmoid_array(-xv),))


def softsign(features, name=None) -> Tensor:
    """``x / (1 + |x|)``; gradient ``1 / (1 + |x|)^2``.

    >>> softsign([-1.0, 3.0]).numpy()
    array([-0.5 ,  0.75], dtype=float32)
    """
    x = as_float_tensor(features, "softsign", "features")
    xv = x.value
    denominator = 1 + array_module(xv).abs(xv)
    return record("softsign", (x,), xv / denominator,
                  lambda g, needs: (g / (denominator * denominator),))


def silu(features, beta=1.0, name=None) -> Tensor:
    """SiLU / swish: ``x * sigmoid(beta * x)``.

    >>> silu([0.0, 1.0]).numpy()
    array([0.       , 0.7310586], dtype=float32)
    """
    x = as_float_tensor(features, "silu", "features")
    xv = x.value
    s = _sigmoid_array(xv * xv.dtype.type(beta))
    out = xv * s

    def backward(g, needs):
        return (g * (s + beta * out * (1 - s)),)

    return record("silu", (x,), out, backward)


swish = silu


# -- differentiable rules (higher-order gradients; core/gradients.py) ----------------------------------------------

@register_gradient("relu6")
def _relu6_rule(op, g):
    xv = op.inputs[0].value
    return (g * locally_constant((xv > 0) & (xv < 6), op.inputs[0], g.value.dtype),)


@register_gradient("leaky_relu")
def _leaky_relu_rule(op, g):
    return (g * locally_constant(op.captured["slope"], op.inputs[0], g.value.dtype),)


@register_gradient("elu")
def _elu_rule(op, g):
    from featherflow.ops.compare import where

    positive = Tensor(op.inputs[0].value > 0)
    alpha = op.captured["alpha"]
    return (g * where(positive, op.output * 0 + 1, op.output + alpha),)


@register_gradient("selu")
def _selu_rule(op, g):
    from featherflow.ops.compare import where

    positive = Tensor(op.inputs[0].value > 0)
    return (g * where(positive, op.output * 0 + SELU_SCALE, op.output + SELU_SCALE * SELU_ALPHA),)


@register_gradient("gelu")
def _gelu_rule(op, g):
    from featherflow.ops.elementwise import erf
    from featherflow.ops.math import exp
    from featherflow.ops.nn import tanh

    x = op.inputs[0]
    if "t" in op.captured:  # the tanh approximation
        t = tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner),)
    cdf = 0.5 * (1 + erf(x * _INV_SQRT_2))
    pdf = (_TWO_OVER_SQRT_PI * _INV_SQRT_2 * 0.5) * exp(-0.5 * x * x)
    return (g * (cdf + x * pdf),)


@register_gradient("hard_sigmoid")
def _hard_sigmoid_rule(op, g):
    xv = op.inputs[0].value
    return (g * locally_constant(0.2 * ((xv > -2.5) & (xv < 2.5)), op.inputs[0], g.value.dtype),)


@register_gradient("softplus")
def _softplus_rule(op, g):
    from featherflow.ops.nn import sigmoid

    return (g * sigmoid(op.inputs[0]),)


@register_gradient("log_sigmoid")
def _log_sigmoid_rule(op, g):
    from featherflow.ops.nn import sigmoid

    return (g * sigmoid(-op.inputs[0]),)


@register_gradient("softsign")
def _softsign_rule(op, g):
    from featherflow.ops.math import abs as abs_

    d = 1 + abs_(op.inputs[0])
    return (g / (d * d),)


@register_gradient("silu")
def _silu_rule(op, g):
    from featherflow.ops.nn import sigmoid

    x = op.inputs[0]
    beta = op.captured["beta"]
    s = sigmoid(x * beta)
    return (g * (s + beta * op.output * (1 - s)),)
