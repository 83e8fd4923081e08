"""Zero-safe arithmetic, truncating division, rint, nextafter, polyval, cumulative ops, complex numbers."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


@pytest.mark.parametrize("op", [ff.math.xlogy, ff.math.xdivy, ff.math.xlog1py, ff.math.multiply_no_nan],
                         ids=lambda f: f.__name__)
def test_guarded_ops_gradient(op):
    x = random_array((3, 4), low=0.2, high=2)
    y = random_array((4,), low=0.2, high=2, seed=1)
    check_gradient(op, [x, y])


def test_guarded_ops_are_zero_where_x_is_zero_even_for_bad_y():
    x = ff.constant([0.0, 0.0, 2.0], "float64")
    y = ff.constant([0.0, -1.0, np.e], "float64")
    with ff.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        a, b, c = ff.math.xlogy(x, y), ff.math.xdivy(x, y), ff.math.xlog1py(x, y)
    np.testing.assert_array_equal(a.numpy(), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(b.numpy(), [0.0, 0.0, 2.0 / np.e])
    assert c.numpy()[:2].tolist() == [0.0, 0.0]
    for out in (a, b, c):
        gx, gy = tape.gradient(out, [x, y])
        assert np.isfinite(gx.numpy()).all() and np.isfinite(gy.numpy()).all()
        assert gy.numpy()[:2].tolist() == [0.0, 0.0]
    assert ff.math.multiply_no_nan([np.inf, np.nan], [0.0, 0.0]).numpy().tolist() == [0.0, 0.0]


def test_truncating_division_and_rint():
    assert ff.truncatediv([-7, 7], [5, 5]).numpy().tolist() == [-1, 1]
    assert ff.truncatemod([-7, 7], [5, -5]).numpy().tolist() == [-2, 2]
    with pytest.raises(ValueError, match="division by zero"):
        ff.truncatediv([1], [0])
    assert ff.math.rint([0.5, 1.5, -2.5]).numpy().tolist() == [0.0, 2.0, -2.0]
    with pytest.raises(TypeError):
        ff.realdiv([1, 2], 3)
    assert ff.math.nextafter([1.0], [2.0]).numpy()[0] == np.nextafter(np.float32(1), np.float32(2))


def test_polyval_value_and_gradient_wrt_coefficients():
    x = random_array((5,))
    c = [random_array((), seed=s) for s in range(3)]
    np.testing.assert_allclose(ff.math.polyval([ff.constant(v) for v in c], x).numpy(), np.polyval(c, x))
    check_gradient(lambda a, b, cc, xx: ff.math.polyval([a, b, cc], xx), c + [x])
    assert ff.math.polyval([], ff.constant([1.0, 2.0])).numpy().tolist() == [0.0, 0.0]


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumprod_gradient_exact_with_zeros(exclusive, reverse):
    x = random_array((3, 5), seed=3)
    x[0, 1] = 0.0
    x[2, [0, 3]] = 0.0
    f = lambda t: ff.math.cumprod(t, axis=1, exclusive=exclusive, reverse=reverse)  # noqa: E731
    expected = np.cumprod(x[:, ::-1] if reverse else x, axis=1)
    if exclusive:
        expected = np.concatenate([np.ones((3, 1)), expected[:, :-1]], axis=1)
    np.testing.assert_allclose(f(x).numpy(), expected[:, ::-1] if reverse else expected)
    check_gradient(f, [x])
    check_gradient(f, [random_array((3, 5), low=0.5, high=1.5, seed=4)])


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative_logsumexp(exclusive, reverse):
    x = random_array((2, 6), low=-30, high=30, seed=5)
    f = lambda t: ff.math.cumulative_logsumexp(t, axis=1, exclusive=exclusive, reverse=reverse)  # noqa: E731
    xs = x[:, ::-1] if reverse else x
    ref = np.logaddexp.accumulate(xs, axis=1)
    if exclusive:
        ref = np.concatenate([np.full((2, 1), -np.inf), ref[:, :-1]], axis=1)
    np.testing.assert_allclose(f(x).numpy(), ref[:, ::-1] if reverse else ref, rtol=1e-14)
    check_gradient(lambda t: f(t)[:, 1:] if exclusive and not reverse else (f(t)[:, :-1] if exclusive else f(t)),
                   [random_array((2, 6), low=-3, high=3, seed=6)])


def test_complex_parts_and_gradients():
    re, im = random_array((3,), seed=7), random_array((3,), seed=8)
    z = ff.complex(re, im)
    assert z.dtype == np.complex128
    np.testing.assert_allclose(ff.math.real(z).numpy(), re)
    np.testing.assert_allclose(ff.math.imag(z).numpy(), im)
    np.testing.assert_allclose(ff.math.conj(z).numpy(), re - 1j * im)
    np.testing.assert_allclose(ff.math.angle(z).numpy(), np.arctan2(im, re))
    # |z|, angle, real(z^2) through complex intermediates, checked as real functions of (re, im)
    check_gradient(lambda a, b: ff.abs(ff.complex(a, b)), [re, im])
    check_gradient(lambda a, b: ff.math.angle(ff.complex(a, b)), [re, im])
    check_gradient(lambda a, b: ff.math.imag(ff.math.conj(ff.complex(a, b))), [re, im])
    with pytest.raises(TypeError, match="float32 or both float64"):
        ff.complex(1, 2)
