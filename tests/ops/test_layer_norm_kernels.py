"""Layer normalization over the trailing axes through the compiled row kernels (``ops/_numba_norm.py``) against
the NumPy path of ``ops.normalization._normalize``, finite differences, the higher-order rule and a compiled
``tf.function``."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops import _kernels
from featherflow.ops.normalization import layer_norm

pytestmark = pytest.mark.skipif(not _kernels.available(), reason="Numba is not installed: NumPy path only")


@pytest.fixture
def kernels():
    """Every size through the kernels (the default asks for 65,536 elements)."""
    _kernels.use_kernels(True)
    yield
    _kernels.use_kernels(None)


def _layer_norm(x, gamma, beta, axes, epsilon, use):
    _kernels.use_kernels(use)
    try:
        variables = [ff.Variable(a) for a in (x, gamma, beta) if a is not None]
        with ff.GradientTape() as tape:
            params = iter(variables[1:])
            y = layer_norm(variables[0], next(params) if gamma is not None else None,
                           next(params) if beta is not None else None, axes, epsilon)
            loss = ff.reduce_sum(y * np.cos(np.arange(y.shape[-1])))
        return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, variables)]
    finally:
        _kernels.use_kernels(None)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("shape, axes, params", [
    ((6, 5, 8), (2,), "both"), ((6, 5, 8), (1, 2), "both"), ((7, 9), (-1,), "gamma"), ((7, 9), (1,), "beta"),
    ((4, 3, 16), (2,), None)])
def test_kernels_match_the_numpy_path(dtype, rtol, shape, axes, params):
    rng = np.random.default_rng(len(shape) + len(axes))
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    pshape = (1,) * (len(shape) - len(axes)) + tuple(shape[a] for a in axes)
    gamma = rng.uniform(0.5, 1.5, pshape).astype(dtype) if params in ("both", "gamma") else None
    beta = rng.standard_normal(pshape).astype(dtype) if params in ("both", "beta") else None
    got = _layer_norm(x, gamma, beta, axes, 1e-3, True)
    want = _layer_norm(x, gamma, beta, axes, 1e-3, False)
    for g, w in zip(got, want):
        assert g.dtype == np.dtype(dtype) and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.abs(w).max())


def test_kernel_gradients_against_finite_differences(kernels):
    x = random_array((5, 4, 6), seed=1)
    gamma = random_array((1, 1, 6), seed=2, low=0.5, high=1.5)
    beta = random_array((1, 1, 6), seed=3)
    check_gradient(lambda a, g, b: layer_norm(a, g, b, (2,), 1e-3), [x, gamma, beta])
    check_gradient(lambda a: layer_norm(a, None, None, (1, 2), 1e-5), [x])


def test_second_order_through_the_kernel_path(kernels):
    x = ff.Variable(random_array((3, 5), seed=4))
    gamma = ff.constant(random_array((1, 5), seed=5, low=0.5, high=1.5))
    with ff.GradientTape() as outer:
        with ff.GradientTape() as inner:
            y = ff.reduce_sum(layer_norm(x, gamma, None, (1,), 1e-3) ** 3)
        g = inner.gradient(y, x)
        penalty = ff.reduce_sum(g * g)
    got = outer.gradient(penalty, x).numpy()
    _kernels.use_kernels(False)
    with ff.GradientTape() as outer:
        with ff.GradientTape() as inner:
            y = ff.reduce_sum(layer_norm(x, gamma, None, (1,), 1e-3) ** 3)
        g = inner.gradient(y, x)
        penalty = ff.reduce_sum(g * g)
    np.testing.assert_allclose(got, outer.gradient(penalty, x).numpy(), rtol=1e-10)


def test_compiled_function_equals_eager(kernels):
    from featherflow.core.function import Function

    gamma = ff.Variable(random_array((4,), seed=6, dtype="float32", low=0.5, high=1.5))
    beta = ff.Variable(random_array((4,), seed=7, dtype="float32"))

    def step(x):
        with ff.GradientTape() as tape:
            tape.watch(x)
            loss = ff.reduce_sum(layer_norm(x, gamma, beta, (2,), 1e-6) ** 2 * x)
        return tape.gradient(loss, [x, gamma, beta])

    compiled = Function(step, _on_untraceable="eager")
    for seed in range(3):
        x = ff.constant(random_array((3, 5, 4), seed=10 + seed, dtype="float32"))
        got, want = compiled(x), step(x)
        assert compiled.eager_fallback_reason is None
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert compiled.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("parts", [2, 3])
def test_rows_split_over_threads(parts, kernels, monkeypatch):
    """Rows in threads (each with its own gamma/beta sums): the values of one thread, to float rounding of the
    parameter gradients' partial sums."""
    from featherflow.ops import normalization

    rng = np.random.default_rng(9)
    x = rng.standard_normal((7, 5, 6)).astype("float32")
    gamma = rng.uniform(0.5, 1.5, (6,)).astype("float32")
    beta = rng.standard_normal((6,)).astype("float32")
    want = _layer_norm(x, gamma, beta, (2,), 1e-3, True)
    monkeypatch.setattr(normalization, "split_parts", lambda n, work, xp=np: min(parts, n))
    from featherflow.ops import conv_utils

    monkeypatch.setattr(conv_utils, "split_parts", lambda n, work, xp=np: min(parts, n))
    got = _layer_norm(x, gamma, beta, (2,), 1e-3, True)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    for g, w in zip(got[2:], want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-6)
