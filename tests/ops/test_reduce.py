"""Reductions and cumsum: values against NumPy float64, gradients by finite differences."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


REDUCTIONS = [
    ("reduce_sum", ff.reduce_sum, np.sum),
    ("reduce_mean", ff.reduce_mean, np.mean),
    ("reduce_max", ff.reduce_max, np.max),
    ("reduce_min", ff.reduce_min, np.min),
    ("reduce_prod", ff.reduce_prod, np.prod),
    ("reduce_logsumexp", ff.reduce_logsumexp, _logsumexp),
    ("reduce_variance", ff.math.reduce_variance, np.var),
    ("reduce_std", ff.math.reduce_std, np.std),
    ("reduce_euclidean_norm", ff.math.reduce_euclidean_norm, lambda x, axis, keepdims: np.sqrt(
        np.sum(x * x, axis=axis, keepdims=keepdims))),
]
CASES = [((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), (0, 2)),
         ((2, 3, 4), [1]), ((1, 3), 0), ((4, 1, 2), 1), ((0, 3), 1), ((), None)]


@pytest.mark.parametrize("name,op,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@pytest.mark.parametrize("shape,axis", CASES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_value_and_gradient(name, op, ref, shape, axis, keepdims):
    x = random_array(shape, low=0.2, high=2.0) if name == "reduce_prod" else random_array(shape, low=-2, high=2)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    out = op(ff.constant(x), axis=axis, keepdims=keepdims)
    expected = ref(x, axis=np_axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert op(ff.constant(x.astype("float32")), axis=axis).dtype == ff.float32
    check_gradient(lambda t: op(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("shape,axis", [((4,), None), ((3, 4), 1), ((2, 3, 2), (0, 2))], ids=str)
def test_reduce_prod_gradient_with_zeros(shape, axis):
    x = random_array(shape, low=0.5, high=1.5)
    x.reshape(-1)[0] = 0.0
    check_gradient(lambda t: ff.reduce_prod(t, axis=axis), [x])
    y = x.copy()
    y.reshape(-1)[1] = 0.0  # two zeros in one product: every gradient entry of that product is 0
    check_gradient(lambda t: ff.reduce_prod(t, axis=None), [y])


def test_reduce_max_ties_share_the_gradient():
    x = ff.constant([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    with ff.GradientTape() as tape:
        tape.watch(x)
        out = ff.reduce_max(x, axis=1)
    np.testing.assert_allclose(tape.gradient(out, x).numpy(), [[0, 0.5, 0.5], [1, 0, 0]])


def test_empty_reductions_match_tensorflow():
    empty = ff.zeros((0, 3))
    np.testing.assert_array_equal(ff.reduce_max(empty, axis=0).numpy(), [-np.inf] * 3)
    np.testing.assert_array_equal(ff.reduce_min(empty, axis=0).numpy(), [np.inf] * 3)
    np.testing.assert_array_equal(ff.reduce_sum(empty, axis=0).numpy(), [0.0] * 3)
    np.testing.assert_array_equal(ff.reduce_prod(empty, axis=0).numpy(), [1.0] * 3)
    assert np.isnan(ff.reduce_mean(empty).numpy())
    np.testing.assert_array_equal(ff.reduce_logsumexp(empty, axis=0).numpy(), [-np.inf] * 3)
    assert ff.reduce_max(ff.zeros((0, 3)), axis=1).shape == (0,)
    assert int(ff.reduce_max(ff.constant(np.zeros((0,), "int32")))) == np.iinfo("int32").min


def test_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [-np.inf, 0.0]])
    np.testing.assert_allclose(ff.reduce_logsumexp(x, axis=1).numpy(), [1000 + np.log(2), -1000 + np.log(2), 0.0])


def test_integer_reductions_keep_dtype_and_truncate_mean():
    x = ff.constant([[1, -2], [3, -4]])
    assert ff.reduce_sum(x).dtype == ff.int32
    assert ff.reduce_prod(x, axis=0).dtype == ff.int32
    np.testing.assert_array_equal(ff.reduce_prod(x, axis=0).numpy(), [3, 8])
    np.testing.assert_array_equal(ff.reduce_mean(ff.constant([-1, -2])).numpy(), -1)  # trunc(-1.5)
    np.testing.assert_array_equal(ff.reduce_mean(ff.constant([1, 2])).numpy(), 1)
    assert ff.reduce_max(x, axis=1).dtype == ff.int32


def test_std_and_variance_refuse_integers_and_std_gradient_at_constant_is_finite():
    with pytest.raises(TypeError, match="reduce_std"):
        ff.math.reduce_std(ff.constant([1, 2]))
    with pytest.raises(TypeError, match="reduce_variance"):
        ff.math.reduce_variance(ff.constant([1, 2]))
    x = ff.constant([2.0, 2.0, 2.0])
    with ff.GradientTape() as tape:
        tape.watch(x)
        s = ff.math.reduce_std(x)
    np.testing.assert_array_equal(tape.gradient(s, x).numpy(), [0.0, 0.0, 0.0])


def test_axis_validation():
    with pytest.raises(ValueError, match="reduce_sum: axis 2 is out of bounds"):
        ff.reduce_sum(ff.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="reduce_mean"):
        ff.reduce_mean(ff.constant(1.0), axis=0)
    with pytest.raises(TypeError, match="axis"):
        ff.reduce_sum(ff.ones((2, 3)), axis=1.5)
    np.testing.assert_allclose(ff.reduce_sum(ff.ones((2, 3)), axis=ff.constant([0, 1])).numpy(), 6.0)


def test_reduce_any_all_and_count_nonzero():
    b = np.array([[True, False, False], [True, True, True]])
    np.testing.assert_array_equal(ff.reduce_any(b, axis=1).numpy(), [True, True])
    np.testing.assert_array_equal(ff.reduce_all(b, axis=1).numpy(), [False, True])
    np.testing.assert_array_equal(ff.reduce_all(b, axis=0, keepdims=True).numpy(), [[True, False, False]])
    assert bool(ff.reduce_any(b)) and not bool(ff.reduce_all(b))
    with pytest.raises(TypeError, match="reduce_any: `input_tensor` must be a boolean"):
        ff.reduce_any([1.0, 0.0])
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ff.math.count_nonzero(x, axis=1).numpy(), [2, 1])
    assert ff.math.count_nonzero(x).dtype == ff.int64 and int(ff.math.count_nonzero(x)) == 3


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((0, 3), 1)], ids=str)
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_value_and_gradient(shape, axis, exclusive, reverse):
    x = random_array(shape)
    expected = x
    if reverse:
        expected = np.flip(expected, axis)
    expected = np.cumsum(expected, axis=axis)
    if exclusive:
        expected = expected - (np.flip(x, axis) if reverse else x)
    if reverse:
        expected = np.flip(expected, axis)
    out = ff.math.cumsum(x, axis=axis, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    check_gradient(lambda t: ff.math.cumsum(t, axis=axis, exclusive=exclusive, reverse=reverse), [x])


def test_cumsum_int_keeps_dtype():
    out = ff.math.cumsum(ff.constant([1, 2, 3]))
    assert out.dtype == ff.int32
    np.testing.assert_array_equal(out.numpy(), [1, 3, 6])
