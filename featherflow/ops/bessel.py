"""Bessel functions and the other functions of ``tf.math.special``, computed with ``scipy.special``.

Needs SciPy (``pip install "featherflow[scipy]"``), imported on first call. Values are computed in
float64 and returned in the input's dtype. Each has TensorFlow's gradient, written once for the raw
and the differentiable rule:

- ``i0' = i1``, ``i1' = i0 - i1/x``, ``k0' = -k1``, ``k1' = -k0 - k1/x``, ``j0' = -j1``,
  ``j1' = j0 - j1/x``, ``y0' = -y1``, ``y1' = y0 - y1/x``; the exponentially scaled forms
  ``i0e = exp(-|x|) i0``, ``k0e = exp(x) k0``, ... by the product rule;
- ``dawsn' = 1 - 2x dawsn``, ``expint' = exp(x)/x``, ``fresnel_cos' = cos(pi x^2/2)``,
  ``fresnel_sin' = sin(pi x^2/2)``, ``spence' = log(x)/(1 - x)`` (``-1`` at ``x = 1``).

>>> import featherflow as ff
>>> ff.math.special.bessel_i0([0.0]).numpy()
array([1.], dtype=float32)
"""

from __future__ import annotations

import math as _math

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.ops._dual import define_special, register_unary, unary
from featherflow.ops.special import _scipy_call


def _scipy(fn_name, pick=None):
    if pick is None:
        return lambda a: _scipy_call(fn_name, a)

    def forward(a):
        from featherflow.ops.special import _f64, scipy_special

        with np.errstate(all="ignore"):
            out = getattr(scipy_special(), fn_name)(_f64(np.asarray(a)))[pick]
        return np.asarray(out).astype(a.dtype, copy=False)

    return forward


def _safe_over_x(num, x, limit, m):
    """``num / x`` with the limit value at ``x == 0`` (the functions involved are odd)."""
    zero = x == 0
    return m.where(zero, m.zeros_like(x) + limit, num / m.where(zero, m.ones_like(x), x))


_FORWARD = {
    "bessel_i0": _scipy("i0"), "bessel_i0e": _scipy("i0e"), "bessel_i1": _scipy("i1"), "bessel_i1e": _scipy("i1e"),
    "bessel_k0": _scipy("k0"), "bessel_k0e": _scipy("k0e"), "bessel_k1": _scipy("k1"), "bessel_k1e": _scipy("k1e"),
    "bessel_j0": _scipy("j0"), "bessel_j1": _scipy("j1"), "bessel_y0": _scipy("y0"), "bessel_y1": _scipy("y1"),
    "dawsn": _scipy("dawsn"), "expint": _scipy("expi"), "fresnel_sin": _scipy("fresnel", 0),
    "fresnel_cos": _scipy("fresnel", 1), "spence": _scipy("spence"),
}



_DERIVATIVE = {
    "bessel_i0": lambda x, y, m: m.special("bessel_i1", x),
    "bessel_i0e": lambda x, y, m: m.special("bessel_i1e", x) - m.sign(x) * y,
    "bessel_i1": lambda x, y, m: m.special("bessel_i0", x) - _safe_over_x(y, x, 0.5, m),
    "bessel_i1e": lambda x, y, m: m.special("bessel_i0e", x) - m.sign(x) * y - _safe_over_x(y, x, 0.5, m),
    "bessel_k0": lambda x, y, m: -m.special("bessel_k1", x),
    "bessel_k0e": lambda x, y, m: y - m.special("bessel_k1e", x),
    "bessel_k1": lambda x, y, m: -m.special("bessel_k0", x) - y / x,
    "bessel_k1e": lambda x, y, m: y - m.special("bessel_k0e", x) - y / x,
    "bessel_j0": lambda x, y, m: -m.special("bessel_j1", x),
    "bessel_j1": lambda x, y, m: m.special("bessel_j0", x) - _safe_over_x(y, x, 0.5, m),
    "bessel_y0": lambda x, y, m: -m.special("bessel_y1", x),
    "bessel_y1": lambda x, y, m: m.special("bessel_y0", x) - y / x,
    "dawsn": lambda x, y, m: 1 - 2 * x * y,
    "expint": lambda x, y, m: m.exp(x) / x,
    "fresnel_cos": lambda x, y, m: m.cos((_math.pi / 2) * x * x),
    "fresnel_sin": lambda x, y, m: m.sin((_math.pi / 2) * x * x),
    "spence": lambda x, y, m: _spence_derivative(x, m),
}


def _spence_derivative(x, m):
    one = x == 1
    safe = m.where(one, m.zeros_like(x) + 2.0, x)
    return m.where(one, m.zeros_like(x) - 1.0, m.log(safe) / (1 - safe))


def _op(name, x) -> Tensor:
    return unary(x, name, _FORWARD[name], _DERIVATIVE[name])


def bessel_i0(x, name=None) -> Tensor:
    """Modified Bessel function of the first kind of order 0, ``I0(x)``.

    >>> bessel_i0([0.0, 1.0]).numpy()
    array([1.       , 1.2660658], dtype=float32)
    """
    return _op("bessel_i0", x)


def bessel_i0e(x, name=None) -> Tensor:
    """Exponentially scaled ``I0``: ``exp(-|x|) I0(x)`` (no overflow for large ``|x|``).

    >>> bessel_i0e([0.0]).numpy()
    array([1.], dtype=float32)
    """
    return _op("bessel_i0e", x)


def bessel_i1(x, name=None) -> Tensor:
    """Modified Bessel function of the first kind of order 1, ``I1(x)``.

    >>> bessel_i1([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return _op("bessel_i1", x)


def bessel_i1e(x, name=None) -> Tensor:
    """Exponentially scaled ``I1``: ``exp(-|x|) I1(x)``.

    >>> bessel_i1e([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return _op("bessel_i1e", x)


def bessel_k0(x, name=None) -> Tensor:
    """Modified Bessel function of the second kind of order 0, ``K0(x)`` (``x > 0``).

    >>> bessel_k0([1.0]).numpy()
    array([0.42102444], dtype=float32)
    """
    return _op("bessel_k0", x)


def bessel_k0e(x, name=None) -> Tensor:
    """Exponentially scaled ``K0``: ``exp(x) K0(x)``.

    >>> bessel_k0e([1.0]).numpy()
    array([1.1444631], dtype=float32)
    """
    return _op("bessel_k0e", x)


def bessel_k1(x, name=None) -> Tensor:
    """Modified Bessel function of the second kind of order 1, ``K1(x)`` (``x > 0``).

    >>> bessel_k1([1.0]).numpy()
    array([0.6019072], dtype=float32)
    """
    return _op("bessel_k1", x)


def bessel_k1e(x, name=None) -> Tensor:
    """Exponentially scaled ``K1``: ``exp(x) K1(x)``.

    >>> bessel_k1e([1.0]).numpy()
    array([1.6361535], dtype=float32)
    """
    return _op("bessel_k1e", x)


def bessel_j0(x, name=None) -> Tensor:
    """Bessel function of the first kind of order 0, ``J0(x)``.

    >>> bessel_j0([0.0]).numpy()
    array([1.], dtype=float32)
    """
    return _op("bessel_j0", x)


def bessel_j1(x, name=None) -> Tensor:
    """Bessel function of the first kind of order 1, ``J1(x)``.

    >>> bessel_j1([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return _op("bessel_j1", x)


def bessel_y0(x, name=None) -> Tensor:
    """Bessel function of the second kind of order 0, ``Y0(x)`` (``x > 0``).

    >>> bessel_y0([1.0]).numpy()
    array([0.08825696], dtype=float32)
    """
    return _op("bessel_y0", x)


def bessel_y1(x, name=None) -> Tensor:
    """Bessel function of the second kind of order 1, ``Y1(x)`` (``x > 0``).

    >>> bessel_y1([1.0]).numpy()
    array([-0.7812128], dtype=float32)
    """
    return _op("bessel_y1", x)


def dawsn(x, name=None) -> Tensor:
    """Dawson's integral ``exp(-x^2) * integral_0^x exp(t^2) dt``.

    >>> dawsn([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return _op("dawsn", x)


def expint(x, name=None) -> Tensor:
    """The exponential integral ``Ei(x) = -integral_{-x}^inf exp(-t)/t dt``.

    >>> expint([1.0]).numpy()
    array([1.8951178], dtype=float32)
    """
    return _op("expint", x)


def fresnel_cos(x, name=None) -> Tensor:
    """Fresnel cosine integral ``integral_0^x cos(pi t^2 / 2) dt``.

    >>> fresnel_cos([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return _op("fresnel_cos", x)


def fresnel_sin(x, name=None) -> Tensor:
    """Fresnel sine integral ``integral_0^x sin(pi t^2 / 2) dt``.

    >>> fresnel_sin([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return _op("fresnel_sin", x)


def spence(x, name=None) -> Tensor:
    """Spence's function (dilogarithm) ``integral_1^x log(t) / (1 - t) dt`` for ``x >= 0``.

    >>> spence([1.0]).numpy()
    array([0.], dtype=float32)
    """
    return _op("spence", x)


for _name in _FORWARD:
    register_unary(_name, _DERIVATIVE[_name])
    define_special(_name, _FORWARD[_name], globals()[_name])
