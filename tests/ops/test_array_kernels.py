"""The raw-array kernels (ops/array_kernels.py) against formulas written out in the test, and the paths that
share them: the ops, the layers and the array programs give the same bits because they call the same code."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow import keras
from featherflow.ops import array_kernels as kernels
from featherflow.ops.nn import dense


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 10), (1, 9), (1, 1000), (1, 20000), (3, 10), (2, 3, 7)])
def test_softmax_one_row_shortcut_gives_the_bits_of_the_axis_reduction(dtype, shape):
    def reference(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    rng = np.random.default_rng(12)
    for scale in (0.1, 5.0, 60.0):
        z = (rng.standard_normal(shape) * scale).astype(dtype)
        out = kernels.softmax(z)
        assert out.dtype == z.dtype
        assert np.array_equal(out, reference(z))
    z = np.array([[-np.inf, 0.0, 1.0, np.nan]], dtype)[:, :shape[-1]]
    with np.errstate(invalid="ignore"):  # -inf - -inf
        assert np.array_equal(kernels.softmax(z), reference(z), equal_nan=True)


def test_softmax_along_another_axis():
    z = np.random.default_rng(0).standard_normal((4, 3, 5))
    out = kernels.softmax(z, axis=1)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(out, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("activation", [None, "linear", "relu", "sigmoid", "tanh"])
def test_dense_forward_and_backward_match_the_formulas(activation):
    rng = np.random.default_rng(3)
    x, kernel, bias = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    z = x @ kernel + bias
    want = {None: z, "linear": z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z)}
    out = kernels.dense_forward(x, kernel, bias, activation)
    np.testing.assert_allclose(out, want[activation], rtol=1e-12)
    g = rng.standard_normal(out.shape)
    slope = {None: 1.0, "linear": 1.0, "relu": (z > 0) * 1.0, "sigmoid": out * (1 - out), "tanh": 1 - out * out}
    dz = g * slope[activation]
    gx, gw, gb = kernels.dense_backward(g, x, kernel, out, activation, need_bias=True)
    np.testing.assert_allclose(gx, dz @ kernel.T, rtol=1e-12)
    np.testing.assert_allclose(gw, x.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(gb, dz.sum(axis=0), rtol=1e-12)
    kernel_out, bias_out = np.empty_like(kernel), np.empty_like(bias)
    none_x, into_w, into_b = kernels.dense_backward(g, x, kernel, out, activation, need_input=False,
                                                     kernel_out=kernel_out, bias_out=bias_out)
    assert none_x is None and into_w is kernel_out and into_b is bias_out
    assert np.array_equal(kernel_out, gw) and np.array_equal(bias_out, gb)


def test_dense_op_gradients_pass_the_finite_difference_check():
    for activation in ("relu", "sigmoid", "tanh", None):
        check_gradient(lambda x, w, b, a=activation: dense(x, w, b, a),
                       [random_array((3, 2, 4), seed=1), random_array((4, 3), seed=2), random_array((3,), seed=3)])


def test_sparse_cross_entropy_rows_and_gradient():
    rng = np.random.default_rng(4)
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    rows, lse, per_row = kernels.sparse_xent_rows(logits, labels)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(per_row, -np.log(probabilities[np.arange(6), labels]), rtol=1e-12)
    grad = kernels.sparse_xent_grad(logits, lse, rows, labels, 0.5)
    np.testing.assert_allclose(grad, (probabilities - np.eye(4)[labels]) * 0.5, rtol=1e-12, atol=1e-15)
    big = np.array([[1000.0, 0.0], [-1000.0, 0.0]])  # the log-sum-exp form stays finite
    assert np.isfinite(kernels.sparse_xent_rows(big, np.array([1, 0]))[2]).all()


def test_dropout_mask_values_and_draw_dtypes():
    uniform = np.array([0.1, 0.5, 0.49, 0.9])
    mask = kernels.dropout_mask(uniform, 0.5, np.float32)
    assert mask.dtype == np.float32 and mask.tolist() == [0.0, 2.0, 0.0, 2.0]
    rng = np.random.default_rng(0)
    assert kernels.dropout_uniform(rng, (3,), np.float32).dtype == np.float32
    assert kernels.dropout_uniform(rng, (3,), np.float64).dtype == np.float64
    assert kernels.dropout_uniform(rng, (3,), np.float16).dtype == np.float32


def test_the_dropout_layer_the_op_and_the_recurrent_cells_draw_masks_through_the_kernel():
    from featherflow.ops import _kernels

    _kernels.use_kernels(False)  # the NumPy path (with Numba, tests/ops/test_dropout_compiled.py: one hash kernel)
    keras.utils.set_random_seed(7)
    x = np.ones((4, 6), np.float32)
    layer_out = keras.layers.Dropout(0.25)(x, training=True).numpy()
    keras.utils.set_random_seed(7)
    from featherflow.backend import random as backend_random

    expected = kernels.dropout_mask(kernels.dropout_uniform(backend_random.generator(), x.shape, x.dtype), 0.25,
                                    x.dtype)
    assert np.array_equal(layer_out, x * expected)
    keras.utils.set_random_seed(7)
    assert np.array_equal(ff.nn.dropout(x, 0.25).numpy(), layer_out)  # the op draws the same way


def test_relu_inplace_against_maximum_in_both_block_paths():
    for size in (10, 70_000):  # below and above the blocked in-place path
        z = np.random.default_rng(size).standard_normal(size).astype(np.float32)
        z[::7] = np.nan
        want = np.maximum(z, 0)
        kernels.relu_inplace(z)
        assert np.array_equal(z, want, equal_nan=True)


def test_cross_entropies_of_probabilities_are_keras_losses():
    from featherflow import keras

    rng = np.random.default_rng(8)
    probabilities = rng.random((5, 4)) + 0.01
    probabilities[0] = [1.0, 0.0, 0.0, 0.0]  # clipped at both ends
    labels = np.array([1, 0, 3, 2, 1])
    one_hot = np.eye(4)[labels]
    eps = 1e-7
    sparse = keras.losses.sparse_categorical_crossentropy(labels, probabilities).numpy()
    np.testing.assert_allclose(kernels.sparse_xent_from_probabilities(probabilities, labels, eps), sparse, rtol=1e-6)
    categorical = keras.losses.categorical_crossentropy(one_hot, probabilities).numpy()
    np.testing.assert_allclose(kernels.categorical_xent_from_probabilities(probabilities, one_hot, eps), categorical,
                               rtol=1e-6)
    normalised = probabilities[1:] / probabilities[1:].sum(axis=1, keepdims=True)  # no clipping in these rows
    np.testing.assert_allclose(kernels.categorical_xent_from_probabilities(probabilities[1:], one_hot[1:], eps),
                               -np.log(normalised[np.arange(4), labels[1:]]), rtol=1e-12)
