"""Special functions: log-gamma, digamma, inverse error functions (NumPy only), and the SciPy-backed rest.

``lgamma``, ``digamma``, ``erfinv``, ``erfcinv`` and ``ndtri`` are computed with NumPy alone:

- ``lgamma``: Lanczos' approximation (g = 7, 9 terms) for ``x >= 1/2``, the reflection
  ``lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x)`` below; ``+inf`` at the poles.
- ``digamma``: the recurrence ``psi(x) = psi(x + 1) - 1/x`` up to ``x >= 10``, then the asymptotic
  series ``log x - 1/(2x) - sum B_2k / (2k x^2k)``; reflection ``psi(1 - x) - pi / tan(pi x)`` below 1/2.
- ``erfinv`` / ``erfcinv``: Giles' approximation ("Approximating the erfinv function", 2010) refined
  by Halley steps on ``erf`` (central part) or ``erfc`` (tails, so tiny tail probabilities keep
  their precision).

``polygamma``, ``zeta``, ``igamma``, ``igammac``, ``betainc`` and the Bessel functions use
``scipy.special`` (``pip install "featherflow[scipy]"``). All compute in float64 and return the input's
dtype. Gradients follow TensorFlow's: none w.r.t. the order of ``polygamma``, the ``x`` of ``zeta`` or
the ``a, b`` of ``betainc``.

>>> import featherflow as ff
>>> ff.math.lgamma([1.0, 0.5]).numpy()
array([0.       , 0.5723649], dtype=float32)
"""

from __future__ import annotations

import math as _math

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor
from featherflow.ops._dual import define_special, register_unary, unary

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * _math.log(2 * _math.pi)
_SQRT_PI = _math.sqrt(_math.pi)


def scipy_special():
    """``scipy.special``, or an ImportError naming the extra to install."""
    try:
        import scipy.special
    except ImportError as exc:  # pragma: no cover - scipy is in the dev extra
        raise ImportError('This special function needs SciPy. Install it with: pip install "featherflow[scipy]"') \
            from exc
    return scipy.special


def _f64(a):
    return a.astype(np.float64) if a.dtype != np.float64 else a


def _lgamma_array(x):
    xp = array_module(x)
    v = _f64(x)
    out = xp.empty_like(v)
    high = v >= 0.5
    z = v[high] - 1.0
    series = xp.full_like(z, _LANCZOS[0])
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series += c / (z + i)
    t = z + _LANCZOS_G + 0.5
    out[high] = _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(series)
    low = ~high & ~xp.isnan(v)
    if low.any():
        xl = v[low]
        sin_pi = xp.abs(xp.sin(np.pi * (xl - xp.round(xl))))
        with np.errstate(divide="ignore"):
            out[low] = xp.log(np.pi / sin_pi) - _lgamma_array(1.0 - xl)
    out[xp.isnan(v)] = np.nan
    out[(v == 1) | (v == 2)] = 0.0  # exact zeros of log Gamma, which the series misses by an ulp
    return out.astype(x.dtype, copy=False)


_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma_array(x):
    xp = array_module(x)
    v = _f64(x)
    out = xp.zeros_like(v)
    low = v < 0.5
    y = xp.where(low, 1.0 - v, v)
    for _ in range(10):  # psi(y) = psi(y + 1) - 1/y until y >= 10
        small = y < 10
        out -= xp.where(small, 1.0 / xp.where(small, y, 1.0), 0.0)
        y = xp.where(small, y + 1, y)
    inv2 = 1.0 / (y * y)
    series = xp.zeros_like(y)
    for c in reversed(_DIGAMMA_SERIES):
        series = (series + c) * inv2
    out += xp.log(y) - 0.5 / y - series
    if low.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            reduced = v - xp.round(v)
            reflection = np.pi / xp.tan(np.pi * reduced)
            out = xp.where(low, out - reflection, out)
            out = xp.where(low & (reduced == 0), np.nan, out)
    return out.astype(x.dtype, copy=False)


def _halley_inverse(target, y, complementary, xp):
    """Refine ``y`` so ``erf(y) == target`` (or ``erfc(y) == target``) with Halley steps."""
    from featherflow.ops.elementwise import _erf_parts

    for _ in range(4):
        erf_y, erfc_y = _erf_parts(xp.abs(y))
        value = erfc_y if complementary else erf_y
        slope = (2 / _SQRT_PI) * xp.exp(-y * y) * (-1 if complementary else 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = xp.where(slope != 0, (value - target) / slope, 0.0)
        y = y - step / (1 + y * step)
    return y


def _giles(w, xp):
    """Giles' single-precision approximation of ``erfinv(x) / x`` in terms of ``w = -log(1 - x^2)``."""
    central = w < 5
    wc = w - 2.5
    pc = xp.full_like(w, 2.81022636e-08)
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
              0.246640727, 1.50140941):
        pc = c + pc * wc
    wt = xp.sqrt(xp.maximum(w, 5.0)) - 3
    pt = xp.full_like(w, -0.000200214257)
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        pt = c + pt * wt
    return xp.where(central, pc, pt)


def _erfcinv_unit(c, xp):
    """``y >= 0`` with ``erfc(y) == c`` for ``c`` in ``(0, 1]``."""
    with np.errstate(divide="ignore"):
        w = -xp.log(c * (2 - c))
    # Giles' polynomial is fitted for w < 16 (c > ~1e-7); further out, erfc(y) ~ exp(-y^2) / (y sqrt(pi)) gives
    # y^2 = -log(c) - log(y sqrt(pi)), one fixed-point step from y = sqrt(-log c).
    deep = xp.sqrt(xp.maximum(-xp.log(c), 1.0))
    deep = xp.sqrt(xp.maximum(-xp.log(c) - xp.log(deep * _SQRT_PI), 1.0))
    guess = xp.where(w < 16, _giles(xp.minimum(w, 16.0), xp) * (1 - c), deep)
    central = c > 0.5  # erf(y) = 1 - c <= 1/2: refine on erf, where the target is exact
    y = xp.where(central, _halley_inverse(1 - c, guess, False, xp), 0.0)
    return xp.where(central, y, _halley_inverse(c, guess, True, xp))


def _erfcinv_array(x):
    xp = array_module(x)
    c = _f64(x)
    with np.errstate(invalid="ignore"):
        upper = c > 1
        unit = xp.clip(xp.where(upper, 2 - c, c), 1e-300, 1.0)
        y = _erfcinv_unit(unit, xp)
        out = xp.where(upper, -y, y)
        out = xp.where(c == 0, np.inf, xp.where(c == 2, -np.inf, out))
        out = xp.where((c < 0) | (c > 2) | xp.isnan(c), np.nan, out)
    return out.astype(x.dtype, copy=False)


def _erfinv_array(x):
    xp = array_module(x)
    v = _f64(x)
    a = xp.abs(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = xp.minimum(a, 0.5)
        guess = _giles(-xp.log((1 - inside) * (1 + inside)), xp) * inside
        central = _halley_inverse(inside, guess, False, xp)  # erf(y) = |x| with the exact target
        tail = _erfcinv_unit(xp.clip(1 - a, 1e-300, 0.5), xp)  # 1 - |x| is exact for |x| >= 1/2
        y = xp.where(a <= 0.5, central, tail)
        y = xp.where(a == 1, np.inf, xp.where((a > 1) | xp.isnan(a), np.nan, y))
    return (xp.sign(v) * y).astype(x.dtype, copy=False)


def _ndtri_array(p):
    return (-np.sqrt(2) * _f64(_erfcinv_array(2 * _f64(p)))).astype(p.dtype, copy=False)


def _d_lgamma(x, y, m):
    return m.special("digamma", x)


def _d_digamma(x, y, m):
    return m.special("polygamma", m.ones_like(x), x)


def _d_erfinv(x, y, m):
    return (_SQRT_PI / 2) * m.exp(y * y)


def _d_erfcinv(x, y, m):
    return (-_SQRT_PI / 2) * m.exp(y * y)


def _d_ndtri(x, y, m):
    return _math.sqrt(2 * _math.pi) * m.exp(y * y / 2)


for _name, _derivative in (("lgamma", _d_lgamma), ("digamma", _d_digamma), ("erfinv", _d_erfinv),
                           ("erfcinv", _d_erfcinv), ("ndtri", _d_ndtri)):
    register_unary(_name, _derivative)


def lgamma(x, name=None) -> Tensor:
    """``log |Gamma(x)|``; ``+inf`` at 0 and the negative integers. Gradient ``digamma(x)``.

    >>> lgamma([3.0, -0.5]).numpy()
    array([0.6931472, 1.2655121], dtype=float32)
    """
    return unary(x, "lgamma", _lgamma_array, _d_lgamma)


def digamma(x, name=None) -> Tensor:
    """The digamma function ``psi(x) = d/dx log Gamma(x)``; NaN at the poles. Gradient ``polygamma(1, x)``.

    >>> digamma([1.0]).numpy()
    array([-0.5772157], dtype=float32)
    """
    return unary(x, "digamma", _digamma_array, _d_digamma)


def erfinv(x, name=None) -> Tensor:
    """Inverse error function on ``[-1, 1]`` (``+-inf`` at the ends, NaN outside).

    Gradient ``sqrt(pi)/2 * exp(erfinv(x)^2)``.

    >>> erfinv([0.0, 0.5]).numpy()
    array([0.        , 0.47693628], dtype=float32)
    """
    return unary(x, "erfinv", _erfinv_array, _d_erfinv)


def erfcinv(x, name=None) -> Tensor:
    """Inverse complementary error function on ``[0, 2]``: ``erfc(erfcinv(x)) == x``, accurate for tiny ``x``.

    >>> erfcinv([1.0, 0.5]).numpy()
    array([0.        , 0.47693628], dtype=float32)
    """
    return unary(x, "erfcinv", _erfcinv_array, _d_erfcinv)


def ndtri(x, name=None) -> Tensor:
    """Inverse of the standard normal CDF (the probit): ``sqrt(2) * erfinv(2p - 1)``.

    >>> ndtri([0.5, 0.975]).numpy()
    array([0.       , 1.959964], dtype=float32)
    """
    return unary(x, "ndtri", _ndtri_array, _d_ndtri)


for _name, _array_fn, _op in (("lgamma", _lgamma_array, lgamma), ("digamma", _digamma_array, digamma)):
    define_special(_name, _array_fn, _op)


def lbeta(x, name=None) -> Tensor:
    """``log |B(x)|`` of the multivariate beta function over the last axis:
    ``sum(lgamma(x), -1) - lgamma(sum(x, -1))``.

    >>> lbeta([[1.0, 2.0]]).numpy()
    array([-0.6931472], dtype=float32)
    """
    from featherflow.ops.reduce import reduce_sum

    x = as_float_tensor(x, "lbeta")
    if x.value.ndim == 0:
        raise ValueError("lbeta: expected a tensor of rank >= 1 (the function reduces over the last axis). "
                         f"Received: x.shape={x.shape}")
    return reduce_sum(lgamma(x), axis=-1) - lgamma(reduce_sum(x, axis=-1))


# -- SciPy-backed functions --------------------------------------------------------------------------------------

def _scipy_call(fn_name, *arrays):
    fn = getattr(scipy_special(), fn_name)
    dtype = arrays[-1].dtype
    with np.errstate(all="ignore"):
        out = fn(*[_f64(np.asarray(a)) for a in arrays])
    return array_module(arrays[-1]).asarray(np.asarray(out).astype(dtype, copy=False))


def _floats(op, args, names):
    from featherflow.ops._convert import binary_operands

    tensors = [as_float_tensor(a, op, n) for a, n in zip(args, names)]
    if len(tensors) >= 2:
        first = tensors[0]
        for i in range(1, len(tensors)):
            first, tensors[i] = binary_operands(first, tensors[i], op)
        tensors[0] = first
    shape = np.broadcast_shapes(*[t.value.shape for t in tensors])
    return tensors, shape


def _polygamma_array(a, x):
    return _scipy_call("polygamma", a, x)


def polygamma(a, x, name=None) -> Tensor:
    """The ``a``-th derivative of digamma at ``x`` (``a`` a non-negative integer-valued float).

    Gradient w.r.t. ``x``: ``polygamma(a + 1, x)``; none w.r.t. ``a``.

    >>> polygamma([1.0], [1.0]).numpy()  # pi^2 / 6
    array([1.644934], dtype=float32)
    """
    (a, x), _ = _floats("polygamma", (a, x), ("a", "x"))
    av, xv = a.value, x.value
    out = _polygamma_array(av, xv)
    with np.errstate(invalid="ignore"):
        bad = (av < 0) | (av != np.floor(av))
    if np.any(bad):
        out = np.where(bad, np.nan, out).astype(xv.dtype)
    return record("polygamma", (a, x), out,
                  lambda g, needs: (None, g * _polygamma_array(av + 1, xv) if needs[1] else None))


define_special("polygamma", _polygamma_array, polygamma)


@register_gradient("polygamma")
def _polygamma_rule(op, g):
    a, x = op.inputs
    return None, g * polygamma(a + 1, x)


def zeta(x, q, name=None) -> Tensor:
    """The Hurwitz zeta function ``sum_n (n + q)^-x`` (``x > 1``). Gradient w.r.t. ``q``: ``-x zeta(x + 1, q)``.

    >>> zeta([2.0], [1.0]).numpy()  # pi^2 / 6
    array([1.644934], dtype=float32)
    """
    (x, q), _ = _floats("zeta", (x, q), ("x", "q"))
    xv, qv = x.value, q.value
    out = _scipy_call("zeta", xv, qv)
    return record("zeta", (x, q), out,
                  lambda g, needs: (None, -g * xv * _scipy_call("zeta", xv + 1, qv) if needs[1] else None))


@register_gradient("zeta")
def _zeta_rule(op, g):
    x, q = op.inputs
    return None, -g * x * zeta(x + 1, q)


def _igamma_density(a, x, m):
    """``d/dx P(a, x) = exp(-x + (a - 1) log x - lgamma(a))``."""
    return m.exp(-x + (a - 1) * m.log(x) - m.special("lgamma", a))


def _igamma_grad_a_array(a, x):
    """``d/da P(a, x)`` from the series ``P = exp(-x) x^a sum_n x^n / Gamma(a + n + 1)``, differentiated term
    by term (all terms of ``P``'s series are positive, so it converges for every x without cancellation)."""
    xp = array_module(a)
    a64, x64 = np.broadcast_arrays(_f64(a), _f64(x))
    with np.errstate(all="ignore"):
        log_x = xp.log(x64)
        terms = int(min(5000, 40 + np.nanmax(x64 + 12 * np.sqrt(np.maximum(x64, 0)), initial=0.0)))
        log_term = a64 * log_x - x64 - _lgamma_array(a64 + 1)  # log of the n = 0 term
        total = xp.exp(log_term)
        dtotal = total * (log_x - _digamma_array(a64 + 1))
        for n in range(1, terms):
            log_term = log_term + log_x - xp.log(a64 + n)
            term = xp.exp(log_term)
            total += term
            dtotal += term * (log_x - _digamma_array(a64 + n + 1))
        out = xp.where(x64 == 0, 0.0, dtotal)
    return out.astype(a.dtype, copy=False)


def igamma(a, x, name=None) -> Tensor:
    """The regularized lower incomplete gamma function ``P(a, x)``.

    Gradients: ``exp(-x) x^(a-1) / Gamma(a)`` w.r.t. ``x``; w.r.t. ``a`` by the differentiated series.

    >>> igamma([1.0], [1.0]).numpy()  # 1 - exp(-1)
    array([0.63212055], dtype=float32)
    """
    (a, x), _ = _floats("igamma", (a, x), ("a", "x"))
    av, xv = a.value, x.value
    out = _scipy_call("gammainc", av, xv)

    def backward(g, needs):
        from featherflow.ops._dual import ARRAY

        with np.errstate(all="ignore"):
            ga = g * _igamma_grad_a_array(av, xv) if needs[0] else None
            gx = g * _igamma_density(av, xv, ARRAY) if needs[1] else None
        return ga, gx

    return record("igamma", (a, x), out, backward)


def igammac(a, x, name=None) -> Tensor:
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``.

    >>> igammac([1.0], [1.0]).numpy()  # exp(-1)
    array([0.36787945], dtype=float32)
    """
    (a, x), _ = _floats("igammac", (a, x), ("a", "x"))
    av, xv = a.value, x.value
    out = _scipy_call("gammaincc", av, xv)

    def backward(g, needs):
        from featherflow.ops._dual import ARRAY

        with np.errstate(all="ignore"):
            ga = -g * _igamma_grad_a_array(av, xv) if needs[0] else None
            gx = -g * _igamma_density(av, xv, ARRAY) if needs[1] else None
        return ga, gx

    return record("igammac", (a, x), out, backward)


def _igamma_rule(sign):
    def rule(op, g):
        from featherflow.ops._dual import TENSOR

        a, x = op.inputs
        ga = None
        if op.needs[0]:
            # d/da P is not itself differentiated: a constant for the outer tape.
            ga = g * Tensor(_igamma_grad_a_array(a.value, x.value)) * sign
        return ga, g * _igamma_density(a, x, TENSOR) * sign

    return rule


register_gradient("igamma")(_igamma_rule(1.0))
register_gradient("igammac")(_igamma_rule(-1.0))


def betainc(a, b, x, name=None) -> Tensor:
    """The regularized incomplete beta function ``I_x(a, b)``.

    Gradient w.r.t. ``x``: ``x^(a-1) (1-x)^(b-1) / B(a, b)``; none w.r.t. ``a`` and ``b`` (as in TensorFlow).

    >>> betainc([1.0], [1.0], [0.25]).numpy()
    array([0.25], dtype=float32)
    """
    (a, b, x), _ = _floats("betainc", (a, b, x), ("a", "b", "x"))
    av, bv, xv = a.value, b.value, x.value
    out = _scipy_call("betainc", av, bv, xv)

    def backward(g, needs):
        from featherflow.ops._dual import ARRAY

        with np.errstate(all="ignore"):
            return None, None, g * _betainc_density(av, bv, xv, ARRAY)

    return record("betainc", (a, b, x), out, backward)


def _betainc_density(a, b, x, m):
    log_beta = m.special("lgamma", a) + m.special("lgamma", b) - m.special("lgamma", a + b)
    return m.exp((b - 1) * m.log1p(-x) + (a - 1) * m.log(x) - log_beta)


@register_gradient("betainc")
def _betainc_rule(op, g):
    from featherflow.ops._dual import TENSOR

    a, b, x = op.inputs
    return None, None, g * _betainc_density(a, b, x, TENSOR)


def sobol_sample(dim, num_results, skip=0, dtype="float32", name=None) -> Tensor:
    """Points ``skip+1 .. skip+num_results`` of the (unscrambled, Joe-Kuo) Sobol low-discrepancy sequence in
    ``[0, 1)^dim`` (the all-zero first point is skipped, as in TensorFlow). Needs SciPy.

    >>> sobol_sample(2, 3).numpy()
    array([[0.5 , 0.5 ],
           [0.75, 0.25],
           [0.25, 0.75]], dtype=float32)
    """
    import warnings

    dim, num_results, skip = int(dim), int(num_results), int(skip)
    if dim < 1 or num_results < 0 or skip < 0:
        raise ValueError(f"sobol_sample: need dim >= 1, num_results >= 0 and skip >= 0. Received: dim={dim}, "
                         f"num_results={num_results}, skip={skip}")
    try:
        from scipy.stats import qmc
    except ImportError as exc:  # pragma: no cover - scipy is in the dev extra
        raise ImportError('sobol_sample needs SciPy. Install it with: pip install "featherflow[scipy]"') from exc
    engine = qmc.Sobol(dim, scramble=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy warns about non-power-of-two sample counts
        if skip + 1:
            engine.fast_forward(skip + 1)
        points = engine.random(num_results) if num_results else np.zeros((0, dim))
    return Tensor(points.astype(np.dtype(dtype)))
