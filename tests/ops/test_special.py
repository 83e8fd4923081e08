"""Special functions and inverse trigonometry: values against SciPy / closed forms, float64 gradients."""

import math

import numpy as np
import pytest
import scipy.special as sp
from gradcheck import check_gradient, random_array

import featherflow as ff

UNARY = [
    # name, op, independent reference, input range
    ("asin", ff.math.asin, np.arcsin, (-0.9, 0.9)),
    ("acos", ff.math.acos, np.arccos, (-0.9, 0.9)),
    ("asinh", ff.math.asinh, np.arcsinh, (-3, 3)),
    ("acosh", ff.math.acosh, np.arccosh, (1.1, 4)),
    ("atanh", ff.math.atanh, np.arctanh, (-0.9, 0.9)),
    ("lgamma", ff.math.lgamma, sp.gammaln, (0.1, 8)),
    ("digamma", ff.math.digamma, sp.digamma, (0.2, 8)),
    ("erfinv", ff.math.erfinv, sp.erfinv, (-0.95, 0.95)),
    ("erfcinv", ff.math.erfcinv, sp.erfcinv, (0.05, 1.95)),
    ("ndtri", ff.math.ndtri, sp.ndtri, (0.02, 0.98)),
    ("reciprocal_no_nan", ff.math.reciprocal_no_nan, lambda x: 1 / x, (0.5, 2)),
    ("bessel_i0", ff.math.bessel_i0, sp.i0, (-3, 3)),
    ("bessel_i0e", ff.math.bessel_i0e, sp.i0e, (-3, 3)),
    ("bessel_i1", ff.math.bessel_i1, sp.i1, (-3, 3)),
    ("bessel_i1e", ff.math.bessel_i1e, sp.i1e, (-3, 3)),
    ("bessel_j0", ff.math.special.bessel_j0, sp.j0, (-3, 3)),
    ("bessel_j1", ff.math.special.bessel_j1, sp.j1, (-3, 3)),
    ("bessel_y0", ff.math.special.bessel_y0, sp.y0, (0.5, 3)),
    ("bessel_y1", ff.math.special.bessel_y1, sp.y1, (0.5, 3)),
    ("bessel_k0", ff.math.special.bessel_k0, sp.k0, (0.5, 3)),
    ("bessel_k0e", ff.math.special.bessel_k0e, sp.k0e, (0.5, 3)),
    ("bessel_k1", ff.math.special.bessel_k1, sp.k1, (0.5, 3)),
    ("bessel_k1e", ff.math.special.bessel_k1e, sp.k1e, (0.5, 3)),
    ("dawsn", ff.math.special.dawsn, sp.dawsn, (-2, 2)),
    ("expint", ff.math.special.expint, sp.expi, (0.2, 3)),
    ("fresnel_cos", ff.math.special.fresnel_cos, lambda x: sp.fresnel(x)[1], (-2, 2)),
    ("fresnel_sin", ff.math.special.fresnel_sin, lambda x: sp.fresnel(x)[0], (-2, 2)),
    ("spence", ff.math.special.spence, sp.spence, (0.1, 3)),
]


@pytest.mark.parametrize("name,op,ref,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_value_dtype_and_gradient(name, op, ref, domain):
    x = random_array((2, 3), low=domain[0], high=domain[1])
    np.testing.assert_allclose(op(x).numpy(), ref(x), rtol=1e-12, atol=1e-14)
    y32 = op(x.astype("float32"))
    assert y32.dtype == ff.float32
    np.testing.assert_allclose(y32.numpy(), ref(x), rtol=1e-5, atol=1e-6)
    check_gradient(op, [x])


def test_lgamma_and_digamma_over_the_line():
    x = np.concatenate([np.linspace(-10.3, 40, 1001), [1e-8, 171.3, 1e6]])
    x = x[np.abs(x - np.round(x)) > 1e-6]
    np.testing.assert_allclose(ff.math.lgamma(x).numpy(), sp.gammaln(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ff.math.digamma(x).numpy(), sp.digamma(x), rtol=1e-11, atol=1e-11)
    # closed forms: Gamma(n) = (n-1)!, psi(1) = -Euler gamma, poles
    assert ff.math.lgamma(5.0).numpy() == pytest.approx(math.log(24.0))
    assert ff.math.digamma(np.float64(1.0)).numpy() == pytest.approx(-0.5772156649015329, rel=1e-14)
    assert np.isinf(ff.math.lgamma([0.0, -3.0]).numpy()).all()
    assert np.isnan(ff.math.digamma([0.0, -3.0]).numpy()).all()


def test_inverse_error_functions_keep_tail_precision():
    c = np.logspace(-300, -1, 50)
    np.testing.assert_allclose(ff.math.erfcinv(c).numpy(), sp.erfcinv(c), rtol=1e-13)
    np.testing.assert_allclose(ff.math.ndtri(c).numpy(), sp.ndtri(c), rtol=1e-13)
    tiny = np.array([1e-12, -1e-300, 1 - 1e-12])
    np.testing.assert_allclose(ff.math.erfinv(tiny).numpy(), sp.erfinv(tiny), rtol=1e-13)
    edges = ff.math.erfinv([-1.0, 1.0, 1.5]).numpy()
    assert edges[0] == -np.inf and edges[1] == np.inf and np.isnan(edges[2])


def test_atan2_quadrants_and_gradient():
    y, x = random_array((3, 4), seed=1), random_array((4,), seed=2)
    np.testing.assert_allclose(ff.math.atan2(y, x).numpy(), np.arctan2(y, x), rtol=1e-14)
    check_gradient(ff.math.atan2, [y, x])


@pytest.mark.parametrize("op,ref", [(ff.math.polygamma, None), (ff.math.zeta, None)], ids=["polygamma", "zeta"])
def test_order_argument_has_no_gradient(op, ref):
    a, x = np.array([2.0, 3.0]), np.array([1.5, 2.5])
    check_gradient(op, [a, x], wrt=[1])
    xa, xx = ff.constant(a), ff.constant(x)
    with ff.GradientTape() as tape:
        tape.watch(xa)
        y = op(xa, xx)
    assert tape.gradient(y, xa) is None


def test_polygamma_zeta_closed_forms():
    assert float(ff.math.zeta(np.float64(2.0), np.float64(1.0))) == pytest.approx(math.pi ** 2 / 6, rel=1e-14)
    assert float(ff.math.polygamma(np.float64(1.0), np.float64(1.0))) == pytest.approx(math.pi ** 2 / 6, rel=1e-14)
    # polygamma(0, x) is digamma
    x = random_array((4,), low=0.5, high=4)
    np.testing.assert_allclose(ff.math.polygamma(np.zeros(4), x).numpy(), sp.digamma(x), rtol=1e-12)


def test_incomplete_gamma_and_beta():
    x = random_array((6,), low=0.1, high=5, seed=3)
    # P(1, x) = 1 - exp(-x); Q(1, x) = exp(-x); I_x(1, 1) = x; I_x(a, 1) = x^a
    np.testing.assert_allclose(ff.math.igamma(np.ones(6), x).numpy(), 1 - np.exp(-x), rtol=1e-13)
    np.testing.assert_allclose(ff.math.igammac(np.ones(6), x).numpy(), np.exp(-x), rtol=1e-13)
    u = random_array((5,), low=0.05, high=0.95, seed=4)
    np.testing.assert_allclose(ff.math.betainc(np.ones(5), np.ones(5), u).numpy(), u, rtol=1e-13)
    np.testing.assert_allclose(ff.math.betainc(np.full(5, 2.5), np.ones(5), u).numpy(), u ** 2.5, rtol=1e-12)
    a = random_array((5,), low=0.5, high=4, seed=5)
    check_gradient(ff.math.igamma, [a, x[:5]])
    check_gradient(ff.math.igammac, [a, x[:5]])
    check_gradient(ff.math.betainc, [a, a[::-1].copy(), u], wrt=[2])
    check_gradient(ff.math.lbeta, [random_array((3, 4), low=0.3, high=3)])


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match="floating-point"):
        ff.math.asin([1, 2])
    with pytest.raises(TypeError, match="floating-point"):
        ff.math.lgamma([1, 2])
