"""Arithmetic that is safe at zero (``xlogy``, ``xdivy``, ``multiply_no_nan``, ...), truncating division,
``rint``, ``nextafter`` and ``polyval``.

The ``x``-guarded ops return 0 wherever ``x == 0`` whatever ``y`` is, and so do their gradients
(TensorFlow's rules: ``d xlogy / dx = xlogy(x != 0, y)``, ``d xlogy / dy = xdivy(x, y)``).

>>> import featherflow as ff
>>> ff.math.xlogy([0.0, 2.0], [0.0, 1.0]).numpy()
array([0., 0.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor, binary_operands, broadcast_error
from featherflow.ops._dual import binary, register_binary, register_unary, unary


def _guarded(x, value, m):
    """``value`` where ``x != 0``, else 0 (the zero is taken even if ``value`` is NaN or inf)."""
    return m.where(x == 0, m.zeros_like(value), value)


def _xlogy(x, y, m):
    return _guarded(x, x * m.log(m.where(x == 0, m.ones_like(y), y)), m)


def _xdivy(x, y, m):
    return _guarded(x, x / m.where(x == 0, m.ones_like(y), y), m)


def _xlog1py(x, y, m):
    return _guarded(x, x * m.log1p(m.where(x == 0, m.zeros_like(y), y)), m)


def _nonzero(x, m):
    return m.where(x == 0, m.zeros_like(x), m.ones_like(x))


def _xlogy_gradients(x, y, out, g, m, needs):
    return (g * _xlogy(_nonzero(x, m), y, m) if needs[0] else None, g * _xdivy(x, y, m) if needs[1] else None)


def _xdivy_gradients(x, y, out, g, m, needs):
    return (g * _xdivy(_nonzero(x, m), y, m) if needs[0] else None,
            g * _xdivy(-x, y * y, m) if needs[1] else None)


def _xlog1py_gradients(x, y, out, g, m, needs):
    return (g * _xlog1py(_nonzero(x, m), y, m) if needs[0] else None,
            g * _xdivy(x, 1 + y, m) if needs[1] else None)


def _multiply_no_nan(x, y, m):
    return m.where(y == 0, m.zeros_like(x * y), x * m.where(y == 0, m.zeros_like(y), y))


def _multiply_no_nan_gradients(x, y, out, g, m, needs):
    return (_multiply_no_nan(g, y, m) if needs[0] else None, _multiply_no_nan(x, g, m) if needs[1] else None)


for _name, _rule in (("xlogy", _xlogy_gradients), ("xdivy", _xdivy_gradients), ("xlog1py", _xlog1py_gradients),
                     ("multiply_no_nan", _multiply_no_nan_gradients)):
    register_binary(_name, _rule)


def _array(fn):
    from featherflow.ops._dual import ARRAY

    return lambda a, b: fn(a, b, ARRAY)


def xlogy(x, y, name=None) -> Tensor:
    """``x * log(y)``, and 0 where ``x == 0`` (even for ``y == 0``).

    >>> xlogy([0.0, 1.0], [0.0, 2.0]).numpy()
    array([0.       , 0.6931472], dtype=float32)
    """
    return binary(x, y, "xlogy", _array(_xlogy), _xlogy_gradients)


def xdivy(x, y, name=None) -> Tensor:
    """``x / y``, and 0 where ``x == 0`` (even for ``y == 0``).

    >>> xdivy([0.0, 1.0], [0.0, 2.0]).numpy()
    array([0. , 0.5], dtype=float32)
    """
    return binary(x, y, "xdivy", _array(_xdivy), _xdivy_gradients)


def xlog1py(x, y, name=None) -> Tensor:
    """``x * log1p(y)``, and 0 where ``x == 0`` (even for ``y == -1``).

    >>> xlog1py([0.0, 1.0], [-1.0, 0.0]).numpy()
    array([0., 0.], dtype=float32)
    """
    return binary(x, y, "xlog1py", _array(_xlog1py), _xlog1py_gradients)


def multiply_no_nan(x, y, name=None) -> Tensor:
    """``x * y``, but 0 wherever ``y == 0`` even if ``x`` is inf or NaN.

    Gradients: ``multiply_no_nan(g, y)`` w.r.t. ``x``, ``multiply_no_nan(x, g)`` w.r.t. ``y``.

    >>> multiply_no_nan([float("inf"), 2.0], [0.0, 3.0]).numpy()
    array([0., 6.], dtype=float32)
    """
    return binary(x, y, "multiply_no_nan", _array(_multiply_no_nan), _multiply_no_nan_gradients)


def _d_reciprocal_no_nan(x, y, m):
    return -y * y


register_unary("reciprocal_no_nan", _d_reciprocal_no_nan)


def reciprocal_no_nan(x, name=None) -> Tensor:
    """``1 / x``, and 0 where ``x == 0``; gradient ``-y^2`` (0 at 0).

    >>> reciprocal_no_nan([0.0, 4.0]).numpy()
    array([0.  , 0.25], dtype=float32)
    """
    def forward(a):
        xp = array_module(a)
        zero = a == 0
        return xp.where(zero, xp.zeros((), a.dtype), 1 / xp.where(zero, xp.ones((), a.dtype), a))

    return unary(x, "reciprocal_no_nan", forward, _d_reciprocal_no_nan)


def truncatediv(x, y, name=None) -> Tensor:
    """Division rounded toward zero (C semantics): ``truncatediv(-7, 5) == -1``; no gradient.

    Integer division by zero raises, as in TensorFlow.

    >>> truncatediv([-7, 7], [5, 5]).numpy()
    array([-1,  1], dtype=int32)
    """
    x, y = binary_operands(x, y, "truncatediv")
    xv, yv = x.value, y.value
    xp = array_module(xv)
    if xv.dtype.kind in "iu" and (yv == 0).any():
        raise ValueError("truncatediv: integer division by zero. Received: a zero in `y`.")
    try:
        with np.errstate(all="ignore"):
            out = xp.trunc(xv / yv) if xv.dtype.kind in "fc" else xp.sign(xv) * xp.sign(yv) * (xp.abs(xv) // xp.abs(yv))
    except ValueError:
        raise broadcast_error("truncatediv", x, y) from None
    return Tensor(out.astype(xv.dtype, copy=False))


def truncatemod(x, y, name=None) -> Tensor:
    """Remainder of the division rounded toward zero (C's ``fmod``): the result has the sign of ``x``.

    >>> truncatemod([-7, 7], [5, -5]).numpy()
    array([-2,  2], dtype=int32)
    """
    x, y = binary_operands(x, y, "truncatemod")
    xv, yv = x.value, y.value
    if xv.dtype.kind in "iu" and (yv == 0).any():
        raise ValueError("truncatemod: integer division by zero. Received: a zero in `y`.")
    try:
        with np.errstate(all="ignore"):
            return Tensor(array_module(xv).fmod(xv, yv))
    except ValueError:
        raise broadcast_error("truncatemod", x, y) from None


def realdiv(x, y, name=None) -> Tensor:
    """``x / y`` for real floating-point tensors (``divide`` with float inputs only).

    >>> realdiv([1.0, 2.0], 4.0).numpy()
    array([0.25, 0.5 ], dtype=float32)
    """
    from featherflow.ops.math import divide

    x, y = binary_operands(x, y, "realdiv")
    as_float_tensor(x, "realdiv", "x")
    return divide(x, y)


def rint(x, name=None) -> Tensor:
    """Round to the nearest integer, halves to even; float in, float out, no gradient.

    >>> rint([0.5, 1.5, -2.5, 2.7]).numpy()
    array([ 0.,  2., -2.,  3.], dtype=float32)
    """
    x = as_float_tensor(x, "rint")
    return Tensor(array_module(x.value).rint(x.value))


def nextafter(x1, x2, name=None) -> Tensor:
    """The next representable float after ``x1`` in the direction of ``x2`` (no gradient).

    >>> float(nextafter([1.0], [2.0])[0]) > 1.0
    True
    """
    x1, x2 = binary_operands(x1, x2, "nextafter")
    as_float_tensor(x1, "nextafter", "x1")
    try:
        return Tensor(array_module(x1.value).nextafter(x1.value, x2.value))
    except ValueError:
        raise broadcast_error("nextafter", x1, x2) from None


def polyval(coeffs, x, name=None) -> Tensor:
    """Evaluate the polynomial ``coeffs[0] * x^(n-1) + ... + coeffs[n-1]`` by Horner's rule.

    Args:
        coeffs: a list of tensors (each broadcast against ``x``), highest degree first.
        x: the points.

    Differentiable w.r.t. ``x`` and the coefficients (it is built from ``multiply`` and ``add``).

    >>> polyval([1.0, 2.0, 3.0], [1.0, 2.0]).numpy()  # x^2 + 2x + 3
    array([ 6., 11.], dtype=float32)
    """
    from featherflow.ops.creation import zeros_like

    if isinstance(coeffs, Tensor) or not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"polyval: `coeffs` must be a list of tensors or numbers. Received: coeffs={coeffs!r:.60}")
    x = as_tensor(x, "polyval", "x")
    if not coeffs:
        return zeros_like(x)
    result = as_tensor(coeffs[0], "polyval", "coeffs[0]", dtype=x.value.dtype) if not isinstance(
        coeffs[0], Tensor) else coeffs[0]
    for c in coeffs[1:]:
        result = result * x + c
    return result
