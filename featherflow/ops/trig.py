"""Inverse trigonometric and hyperbolic functions, and ``atan2``.

Each derivative is one formula (``ops._dual``) used by the raw first-order rule and by the
differentiable rule for higher-order gradients. Outside the real domain the result is NaN (or
+-inf at the edges), as in TensorFlow.

>>> import featherflow as ff
>>> ff.math.asin([0.0, 1.0]).numpy()
array([0.       , 1.5707964], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.tensor import Tensor
from featherflow.ops._dual import binary, register_binary, register_unary, unary


def _d_asin(x, y, m):
    return m.rsqrt(1 - x * x)


def _d_acos(x, y, m):
    return -m.rsqrt(1 - x * x)


def _d_asinh(x, y, m):
    return m.rsqrt(x * x + 1)


def _d_acosh(x, y, m):
    return m.rsqrt(x * x - 1)


def _d_atanh(x, y, m):
    return 1 / (1 - x * x)


for _name, _derivative in (("asin", _d_asin), ("acos", _d_acos), ("asinh", _d_asinh), ("acosh", _d_acosh),
                           ("atanh", _d_atanh)):
    register_unary(_name, _derivative)


def asin(x, name=None) -> Tensor:
    """Inverse sine, in ``[-pi/2, pi/2]``; gradient ``1 / sqrt(1 - x^2)``.

    >>> asin([0.5]).numpy()
    array([0.5235988], dtype=float32)
    """
    return unary(x, "asin", lambda a: array_module(a).arcsin(a), _d_asin)


def acos(x, name=None) -> Tensor:
    """Inverse cosine, in ``[0, pi]``; gradient ``-1 / sqrt(1 - x^2)``.

    >>> acos([1.0]).numpy()
    array([0.], dtype=float32)
    """
    return unary(x, "acos", lambda a: array_module(a).arccos(a), _d_acos)


def asinh(x, name=None) -> Tensor:
    """Inverse hyperbolic sine; gradient ``1 / sqrt(x^2 + 1)``.

    >>> asinh([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return unary(x, "asinh", lambda a: array_module(a).arcsinh(a), _d_asinh)


def acosh(x, name=None) -> Tensor:
    """Inverse hyperbolic cosine (``x >= 1``); gradient ``1 / sqrt(x^2 - 1)``.

    >>> acosh([1.0]).numpy()
    array([0.], dtype=float32)
    """
    return unary(x, "acosh", lambda a: array_module(a).arccosh(a), _d_acosh)


def atanh(x, name=None) -> Tensor:
    """Inverse hyperbolic tangent (``|x| < 1``); gradient ``1 / (1 - x^2)``.

    >>> atanh([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return unary(x, "atanh", lambda a: array_module(a).arctanh(a), _d_atanh)


def _atan2_gradients(y, x, out, g, m, needs):
    # d/dy atan2(y, x) = x / (x^2 + y^2); d/dx = -y / (x^2 + y^2)
    scale = g / (x * x + y * y)
    return (scale * x if needs[0] else None, -scale * y if needs[1] else None)


register_binary("atan2", _atan2_gradients)


def atan2(y, x, name=None) -> Tensor:
    """The angle of the point ``(x, y)``: ``arctan(y / x)`` in the right quadrant, in ``[-pi, pi]``.

    Args:
        y: the ordinates (float tensor).
        x: the abscissas, broadcast against ``y``.

    Gradients: ``x / (x^2 + y^2)`` w.r.t. ``y``, ``-y / (x^2 + y^2)`` w.r.t. ``x``.

    >>> atan2([1.0, -1.0], [0.0, -1.0]).numpy()
    array([ 1.5707964, -2.3561945], dtype=float32)
    """
    return binary(y, x, "atan2", lambda a, b: array_module(a).arctan2(a, b), _atan2_gradients)
