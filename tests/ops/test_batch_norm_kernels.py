"""Batch normalization over every axis but the last through the compiled kernels (``ops/_numba_norm.py``) against
an independent float64 reference and the NumPy path of ``ops.normalization._normalize``, finite differences, the
higher-order rule, the BatchNormalization layer and a compiled ``tf.function``."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops import _kernels
from featherflow.ops.normalization import batch_norm_training

pytestmark = pytest.mark.skipif(not _kernels.available(), reason="Numba is not installed: NumPy path only")


@pytest.fixture
def kernels():
    """Every size through the kernels (the default asks for 65,536 elements)."""
    _kernels.use_kernels(True)
    yield
    _kernels.use_kernels(None)


def _reference(x, gamma, beta, epsilon, weights):
    """Output, statistics and the gradients of ``sum(y * weights)`` in float64, written from the formula."""
    x, weights = x.astype("float64"), weights.astype("float64")
    axes = tuple(range(x.ndim - 1))
    n = x.size // x.shape[-1]
    gamma = np.ones(x.shape[-1]) if gamma is None else gamma.astype("float64")
    beta = np.zeros(x.shape[-1]) if beta is None else beta.astype("float64")
    mean = x.mean(axis=axes)
    var = ((x - mean) ** 2).mean(axis=axes)
    xhat = (x - mean) / np.sqrt(var + epsilon)
    y = xhat * gamma + beta
    g_beta = weights.sum(axis=axes)
    g_gamma = (weights * xhat).sum(axis=axes)
    gx = gamma / np.sqrt(var + epsilon) * (weights - g_beta / n - xhat * g_gamma / n)
    return y, mean, var, gx, g_gamma, g_beta


def _run(x, gamma, beta, epsilon, weights, use):
    _kernels.use_kernels(use)
    try:
        variables = [ff.Variable(a) for a in (x, gamma, beta) if a is not None]
        with ff.GradientTape() as tape:
            params = iter(variables[1:])
            y, mean, var = batch_norm_training(variables[0], next(params) if gamma is not None else None,
                                               next(params) if beta is not None else None,
                                               tuple(range(x.ndim - 1)), epsilon)
            loss = ff.reduce_sum(y * weights)
        grads = [g.numpy() for g in tape.gradient(loss, variables)]
        return [y.numpy(), np.asarray(mean), np.asarray(var)] + grads
    finally:
        _kernels.use_kernels(None)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-11), ("float32", 3e-5)])
@pytest.mark.parametrize("shape, params", [((6, 5, 4, 8), "both"), ((64, 49), "both"), ((7, 9), "gamma"),
                                           ((3, 4, 5), "beta"), ((5, 3, 6), None)])
def test_kernels_match_the_reference_and_the_numpy_path(dtype, rtol, shape, params):
    rng = np.random.default_rng(len(shape) + shape[-1])
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, shape[-1]).astype(dtype) if params in ("both", "gamma") else None
    beta = rng.standard_normal(shape[-1]).astype(dtype) if params in ("both", "beta") else None
    weights = rng.standard_normal(shape).astype(dtype)
    got = _run(x, gamma, beta, 1e-3, weights, True)
    numpy_path = _run(x, gamma, beta, 1e-3, weights, False)
    y, mean, var, gx, g_gamma, g_beta = _reference(x, gamma, beta, 1e-3, weights)
    want = [y, mean.reshape((1,) * (x.ndim - 1) + (-1,)), var.reshape((1,) * (x.ndim - 1) + (-1,)), gx] + \
        ([g_gamma] if gamma is not None else []) + ([g_beta] if beta is not None else [])
    assert len(got) == len(want) == len(numpy_path)
    for g, w, p in zip(got, want, numpy_path):
        assert g.dtype == np.dtype(dtype) and g.shape == p.shape
        np.testing.assert_allclose(g, w.reshape(g.shape), rtol=rtol, atol=rtol * np.abs(w).max())
        np.testing.assert_allclose(g, p, rtol=rtol, atol=rtol * np.abs(w).max())


def test_kernel_gradients_against_finite_differences(kernels):
    x = random_array((5, 4, 6), seed=1)
    gamma = random_array((6,), seed=2, low=0.5, high=1.5)
    beta = random_array((6,), seed=3)
    check_gradient(lambda a, g, b: batch_norm_training(a, g, b, (0, 1), 1e-3)[0], [x, gamma, beta])
    check_gradient(lambda a: batch_norm_training(a, None, None, (0,), 1e-5)[0], [random_array((7, 3), seed=4)])


def test_second_order_through_the_kernel_path(kernels):
    x = ff.Variable(random_array((6, 5), seed=4))
    gamma = ff.constant(random_array((5,), seed=5, low=0.5, high=1.5))

    def penalty_gradient():
        with ff.GradientTape() as outer:
            with ff.GradientTape() as inner:
                y = ff.reduce_sum(batch_norm_training(x, gamma, None, (0,), 1e-3)[0] ** 3)
            g = inner.gradient(y, x)
            penalty = ff.reduce_sum(g * g)
        return outer.gradient(penalty, x).numpy()

    got = penalty_gradient()
    _kernels.use_kernels(False)
    np.testing.assert_allclose(got, penalty_gradient(), rtol=1e-10)


def test_layer_and_compiled_function_equal_eager(kernels):
    """The BatchNormalization layer's training step (moving statistics included) compiled and eager: the same
    bits, one trace."""
    from featherflow.core.function import Function

    layer = ff.keras.layers.BatchNormalization()
    layer.build((None, 5, 4))

    def step(x):
        with ff.GradientTape() as tape:
            tape.watch(x)
            loss = ff.reduce_sum(layer(x, training=True) ** 2 * x)
        return tape.gradient(loss, [x, layer.gamma, layer.beta]) + [ff.identity(layer.moving_mean),
                                                                    ff.identity(layer.moving_variance)]

    compiled = Function(step, _on_untraceable="eager")
    for seed in range(3):
        x = ff.constant(random_array((3, 5, 4), seed=10 + seed, dtype="float32"))
        got = [t.numpy() for t in compiled(x)]
        want = [t.numpy() for t in step(x)]
        assert compiled.eager_fallback_reason is None
        for g, w in zip(got[:3], want[:3]):
            np.testing.assert_array_equal(g, w)
    assert compiled.experimental_get_tracing_count() == 1
    # each call moved the statistics once (compiled, then eager): 6 updates toward the batches' statistics
    assert np.all(layer.moving_variance.numpy() != 1.0) and np.all(layer.moving_mean.numpy() != 0.0)
