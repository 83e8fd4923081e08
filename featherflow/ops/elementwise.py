"""More elementwise math: reciprocal, erf, trigonometry, rounding and float predicates.

Rounding ops (``round``, ``floor``, ``ceil``) and predicates (``is_nan``, ...) have no
gradient, as in TensorFlow. ``erf`` is computed with NumPy only (SciPy is not a runtime
dependency): a power series for ``|x| < 2`` and a continued fraction for ``erfc`` above,
accurate to about 1e-15 in float64.

>>> import featherflow as ff
>>> ff.math.reciprocal([2.0, 4.0]).numpy()
array([0.5 , 0.25], dtype=float32)
"""

from __future__ import annotations

import math as _math

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor

_TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)


def _series_coefficients(terms: int) -> list:
    """Horner coefficients of ``erf(x) = 2/sqrt(pi) * x * exp(-x^2) * sum_n (2x^2)^n / (2n+1)!!``."""
    coefficients = [1.0]
    for n in range(1, terms):
        coefficients.append(coefficients[-1] * 2.0 / (2 * n + 1))
    return coefficients[::-1]


# (series terms, continued-fraction terms): enough for full precision of each float width.
_ERF_PLAN = {8: (_series_coefficients(32), 44), 4: (_series_coefficients(20), 24),
             2: (_series_coefficients(20), 24)}


def _erf_parts(a):
    """``(erf(a), erfc(a))`` for ``a >= 0``; each is accurate where it is not close to 0."""
    xp = array_module(a)
    coefficients, cf_terms = _ERF_PLAN.get(a.dtype.itemsize, _ERF_PLAN[8])
    small = a < 2.0
    erf = xp.empty_like(a)
    erfc = xp.empty_like(a)
    # |x| < 2: the all-positive series (no cancellation).
    xs = a[small]
    y = xs * xs
    acc = xp.full_like(xs, coefficients[0])
    for c in coefficients[1:]:
        acc *= y
        acc += c
    acc *= xs * xp.exp(-y) * _TWO_OVER_SQRT_PI
    erf[small] = acc
    erfc[small] = 1 - acc
    # |x| >= 2: erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
    xl = xp.minimum(a[~small], 30.0)  # exp(-900) underflows to 0 in any float width already
    k = xl.copy()
    for j in range(cf_terms, 0, -1):
        xp.divide(j / 2.0, k, out=k)
        k += xl
    tail = xp.exp(-xl * xl) / k * (_TWO_OVER_SQRT_PI / 2)
    erfc[~small] = tail
    erf[~small] = 1 - tail
    return erf, erfc


def _erf_array(x):
    xp = array_module(x)
    erf, _ = _erf_parts(xp.abs(x))
    return xp.copysign(erf, x)


def erf(x, name=None) -> Tensor:
    """Gauss error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    Gradient: ``2/sqrt(pi) * exp(-x^2)``.

    >>> erf([0.0, 1.0]).numpy()
    array([0.       , 0.8427008], dtype=float32)
    """
    x = as_float_tensor(x, "erf")
    xv = x.value
    xp = array_module(xv)
    return record("erf", (x,), _erf_array(xv),
                  lambda g, needs: (g * (_TWO_OVER_SQRT_PI * xp.exp(-xv * xv)),))


def erfc(x, name=None) -> Tensor:
    """Complementary error function ``1 - erf(x)``, accurate for large ``x``.

    >>> erfc([0.0, 1.0]).numpy()
    array([1.       , 0.1572992], dtype=float32)
    """
    x = as_float_tensor(x, "erfc")
    xv = x.value
    xp = array_module(xv)
    erf_abs, erfc_abs = _erf_parts(xp.abs(xv))
    out = xp.where(xv >= 0, erfc_abs, 1 + erf_abs)
    return record("erfc", (x,), out, lambda g, needs: (g * (-_TWO_OVER_SQRT_PI * xp.exp(-xv * xv)),))


def reciprocal(x, name=None) -> Tensor:
    """``1 / x`` elementwise; gradient ``-1 / x^2``.

    >>> reciprocal([2.0]).numpy()
    array([0.5], dtype=float32)
    """
    x = as_float_tensor(x, "reciprocal")
    out = 1 / x.value
    return record("reciprocal", (x,), out, lambda g, needs: (-g * out * out,))


def expm1(x, name=None) -> Tensor:
    """``exp(x) - 1``, accurate for small ``x``; gradient ``exp(x)``.

    >>> expm1([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "expm1")
    xv = x.value
    xp = array_module(xv)
    out = xp.expm1(xv)
    return record("expm1", (x,), out, lambda g, needs: (g * (out + 1),))


def sin(x, name=None) -> Tensor:
    """Sine; gradient ``cos(x)``.

    >>> sin([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "sin")
    xv = x.value
    xp = array_module(xv)
    return record("sin", (x,), xp.sin(xv), lambda g, needs: (g * xp.cos(xv),))


def cos(x, name=None) -> Tensor:
    """Cosine; gradient ``-sin(x)``.

    >>> cos([0.0]).numpy()
    array([1.], dtype=float32)
    """
    x = as_float_tensor(x, "cos")
    xv = x.value
    xp = array_module(xv)
    return record("cos", (x,), xp.cos(xv), lambda g, needs: (-g * xp.sin(xv),))


def tan(x, name=None) -> Tensor:
    """Tangent; gradient ``1 + tan(x)^2``.

    >>> tan([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "tan")
    xv = x.value
    out = array_module(xv).tan(xv)
    return record("tan", (x,), out, lambda g, needs: (g * (1 + out * out),))


def atan(x, name=None) -> Tensor:
    """Inverse tangent; gradient ``1 / (1 + x^2)``.

    >>> atan([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "atan")
    xv = x.value
    return record("atan", (x,), array_module(xv).arctan(xv), lambda g, needs: (g / (1 + xv * xv),))


def sinh(x, name=None) -> Tensor:
    """Hyperbolic sine; gradient ``cosh(x)``.

    >>> sinh([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "sinh")
    xv = x.value
    xp = array_module(xv)
    return record("sinh", (x,), xp.sinh(xv), lambda g, needs: (g * xp.cosh(xv),))


def cosh(x, name=None) -> Tensor:
    """Hyperbolic cosine; gradient ``sinh(x)``.

    >>> cosh([0.0]).numpy()
    array([1.], dtype=float32)
    """
    x = as_float_tensor(x, "cosh")
    xv = x.value
    xp = array_module(xv)
    return record("cosh", (x,), xp.cosh(xv), lambda g, needs: (g * xp.sinh(xv),))


def round(x, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """Round to the nearest integer, halves to even (banker's rounding); no gradient.

    >>> round([0.5, 1.5, 2.7, -0.5]).numpy()
    array([ 0.,  2.,  3., -0.], dtype=float32)
    """
    x = as_tensor(x, "round")
    if x.value.dtype.kind not in "fc":
        return x
    return Tensor(array_module(x.value).round(x.value))


def floor(x, name=None) -> Tensor:
    """Largest integer not greater than ``x`` (float in, float out; no gradient).

    >>> floor([1.7, -1.2]).numpy()
    array([ 1., -2.], dtype=float32)
    """
    x = as_float_tensor(x, "floor")
    return Tensor(array_module(x.value).floor(x.value))


def ceil(x, name=None) -> Tensor:
    """Smallest integer not less than ``x`` (float in, float out; no gradient).

    >>> ceil([1.2, -1.7]).numpy()
    array([ 2., -1.], dtype=float32)
    """
    x = as_float_tensor(x, "ceil")
    return Tensor(array_module(x.value).ceil(x.value))


def is_nan(x, name=None) -> Tensor:
    """Boolean tensor: where ``x`` is NaN.

    >>> is_nan([1.0, float("nan")]).numpy()
    array([False,  True])
    """
    x = as_float_tensor(x, "is_nan")
    return Tensor(array_module(x.value).isnan(x.value))


def is_inf(x, name=None) -> Tensor:
    """Boolean tensor: where ``x`` is +inf or -inf.

    >>> is_inf([1.0, float("inf")]).numpy()
    array([False,  True])
    """
    x = as_float_tensor(x, "is_inf")
    return Tensor(array_module(x.value).isinf(x.value))


def is_finite(x, name=None) -> Tensor:
    """Boolean tensor: where ``x`` is neither infinite nor NaN.

    >>> is_finite([1.0, float("inf"), float("nan")]).numpy()
    array([ True, False, False])
    """
    x = as_float_tensor(x, "is_finite")
    return Tensor(array_module(x.value).isfinite(x.value))


# -- differentiable rules (higher-order gradients; core/gradients.py) ----------------------------------------------

@register_gradient("erf")
def _erf_rule(op, g):
    from featherflow.ops.math import exp

    x = op.inputs[0]
    return (g * _TWO_OVER_SQRT_PI * exp(-x * x),)


@register_gradient("erfc")
def _erfc_rule(op, g):
    from featherflow.ops.math import exp

    x = op.inputs[0]
    return (g * -_TWO_OVER_SQRT_PI * exp(-x * x),)


@register_gradient("reciprocal")
def _reciprocal_rule(op, g):
    y = op.output
    return (-g * y * y,)


@register_gradient("expm1")
def _expm1_rule(op, g):
    return (g * (op.output + 1),)


@register_gradient("sin")
def _sin_rule(op, g):
    return (g * cos(op.inputs[0]),)


@register_gradient("cos")
def _cos_rule(op, g):
    return (-g * sin(op.inputs[0]),)


@register_gradient("tan")
def _tan_rule(op, g):
    y = op.output
    return (g * (1 + y * y),)


@register_gradient("atan")
def _atan_rule(op, g):
    x = op.inputs[0]
    return (g / (1 + x * x),)


@register_gradient("sinh")
def _sinh_rule(op, g):
    return (g * cosh(op.inputs[0]),)


@register_gradient("cosh")
def _cosh_rule(op, g):
    return (g * sinh(op.inputs[0]),)
