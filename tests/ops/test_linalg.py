"""matmul, tensordot, einsum and the tf.linalg helpers."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff

MATMUL = [((2, 3), (3, 4), False, False), ((3, 2), (3, 4), True, False), ((2, 3), (4, 3), False, True),
          ((3, 2), (4, 3), True, True), ((5, 2, 3), (5, 3, 4), False, False), ((5, 2, 3), (3, 4), False, False),
          ((2, 1, 2, 3), (4, 3, 2), False, False), ((0, 3), (3, 2), False, False), ((2, 0), (0, 3), False, False),
          ((1, 1), (1, 1), False, False)]


@pytest.mark.parametrize("sa,sb,ta,tb", MATMUL, ids=str)
def test_matmul_value_and_gradient(sa, sb, ta, tb):
    a = random_array(sa)
    b = random_array(sb, seed=1)
    am = np.swapaxes(a, -1, -2) if ta else a
    bm = np.swapaxes(b, -1, -2) if tb else b
    out = ff.matmul(a, b, transpose_a=ta, transpose_b=tb)
    np.testing.assert_allclose(out.numpy(), am @ bm, rtol=1e-12)
    out32 = ff.matmul(a.astype("float32"), b.astype("float32"), transpose_a=ta, transpose_b=tb)
    assert out32.dtype == ff.float32
    check_gradient(lambda x, y: ff.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b])


def test_matmul_adjoint_and_errors():
    a, b = random_array((2, 3)), random_array((2, 3), seed=1)
    np.testing.assert_allclose(ff.matmul(a, b, adjoint_b=True).numpy(), a @ b.T)
    with pytest.raises(ValueError, match="matmul: inner dimensions must match"):
        ff.matmul(a, b)
    with pytest.raises(ValueError, match="rank >= 2"):
        ff.matmul([1.0, 2.0], [[1.0], [2.0]])
    np.testing.assert_allclose((np.ones((1, 2)) @ ff.constant(np.ones((2, 1)))).numpy(), [[2.0]])


TENSORDOT = [((2, 3), (3, 4), 1), ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4, 5), 0), ((3, 4), (4, 3), [[0, 1], [1, 0]]),
             ((2, 3, 4), (4, 2), [[2, 0], [0, 1]]), ((3,), (3,), 1), ((0, 3), (3, 2), [[1], [0]])]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT, ids=str)
def test_tensordot(sa, sb, axes):
    a = random_array(sa)
    b = random_array(sb, seed=1)
    np.testing.assert_allclose(ff.tensordot(a, b, axes).numpy(), np.tensordot(a, b, axes), rtol=1e-12)
    check_gradient(lambda x, y: ff.tensordot(x, y, axes), [a, b])


def test_tensordot_errors():
    with pytest.raises(ValueError, match="tensordot: contracted axes must have equal sizes"):
        ff.tensordot(ff.ones((2, 3)), ff.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="same length"):
        ff.tensordot(ff.ones((2, 3)), ff.ones((3, 2)), [[1], [0, 1]])


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(1, 3, 4), (2, 4, 5)]),
    ("abc,cd->abd", [(2, 3, 4), (4, 5)]),  # EinsumDense
    ("abcd,aecd->acbe", [(2, 3, 2, 4), (2, 5, 2, 4)]),  # attention scores
    ("acbe,aecd->abcd", [(2, 2, 3, 5), (2, 5, 2, 4)]),  # attention output
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bii,bj->bij", [(2, 3, 3), (2, 4)]),
    ("...ii->...", [(2, 3, 3)]),
    ("ij,jk->ik", [(0, 3), (3, 2)]),
    ("ij->i", [(3, 0)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM, ids=[f"{e}-{s}" for e, s in EINSUM])
def test_einsum_value_and_gradient(equation, shapes):
    arrays = [random_array(s, seed=i) for i, s in enumerate(shapes)]
    np.testing.assert_allclose(ff.einsum(equation, *arrays).numpy(), np.einsum(equation, *arrays), rtol=1e-12,
                               atol=1e-14)
    check_gradient(lambda *ts: ff.einsum(equation, *ts), arrays)


def test_einsum_large_operands_use_blas_and_agree():
    a, b = random_array((64, 100)), random_array((100, 80), seed=1)
    np.testing.assert_allclose(ff.einsum("ij,jk->ik", a, b).numpy(), a @ b, rtol=1e-12)
    check_gradient(lambda x, y: ff.einsum("ij,jk->ik", x, y), [a, b], directions=1)


def test_einsum_errors():
    with pytest.raises(ValueError, match="einsum: the equation names 2 operands but 1"):
        ff.einsum("ij,jk->ik", ff.ones((2, 2)))
    with pytest.raises(ValueError, match="einsum: subscripts 'ij' name 2 axes but the operand has rank 3"):
        ff.einsum("ij->i", ff.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="inconsistent sizes"):
        ff.einsum("ij,jk->ik", ff.ones((2, 3)), ff.ones((4, 2)))
    with pytest.raises(ValueError, match="output subscript 'z'"):
        ff.einsum("ij->z", ff.ones((2, 3)))
    with pytest.raises(TypeError, match="einsum: all inputs must have one dtype"):
        ff.einsum("i,i->", ff.ones((2,)), ff.ones((2,), dtype="float64"))


def test_trace_diag_part_matrix_transpose():
    x = random_array((2, 3, 3))
    np.testing.assert_allclose(ff.linalg.trace(x).numpy(), np.trace(x, axis1=1, axis2=2))
    np.testing.assert_allclose(ff.linalg.diag_part(x).numpy(), np.diagonal(x, axis1=1, axis2=2))
    np.testing.assert_array_equal(ff.linalg.matrix_transpose(x).numpy(), np.swapaxes(x, 1, 2))
    check_gradient(ff.linalg.trace, [x])
    check_gradient(ff.linalg.diag_part, [x])
    with pytest.raises(ValueError, match="trace: expected square"):
        ff.linalg.trace(ff.ones((2, 3)))


VECTOR_NORMS = ["euclidean", 2, 1, np.inf, 3, 0.5]


@pytest.mark.parametrize("ord", VECTOR_NORMS, ids=str)
@pytest.mark.parametrize("shape,axis", [((5,), None), ((3, 4), 1), ((3, 4), None), ((2, 3, 4), 0)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norms(ord, shape, axis, keepdims):
    x = random_array(shape, low=-2, high=2)
    flat = x.reshape(-1) if axis is None else x
    np_ord = 2 if ord == "euclidean" else ord
    expected = np.linalg.norm(flat, ord=np_ord, axis=None if axis is None else axis, keepdims=keepdims)
    if axis is None and keepdims:
        expected = np.reshape(expected, (1,) * x.ndim)
    elif axis is None and x.ndim > 1 and ord not in ("euclidean", 2):
        expected = np.linalg.norm(flat, ord=np_ord)
    out = ff.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert out.shape == np.shape(expected)
    check_gradient(lambda t: ff.norm(t, ord=ord, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("ord", ["fro", "euclidean", 1, 2, np.inf], ids=str)
@pytest.mark.parametrize("shape,axis", [((3, 4), [0, 1]), ((2, 3, 4), [1, 2]), ((3, 2, 4), [-1, 0])], ids=str)
def test_matrix_norms(ord, shape, axis):
    x = random_array(shape, low=-2, high=2)
    np_ord = "fro" if ord == "euclidean" else ord
    expected = np.linalg.norm(x, ord=np_ord, axis=tuple(axis))
    np.testing.assert_allclose(ff.norm(x, ord=ord, axis=axis).numpy(), expected, rtol=1e-10)
    check_gradient(lambda t: ff.norm(t, ord=ord, axis=axis), [x])
    kept = ff.norm(x, ord=ord, axis=axis, keepdims=True)
    np.testing.assert_allclose(kept.numpy(), np.linalg.norm(x, ord=np_ord, axis=tuple(axis), keepdims=True),
                               rtol=1e-10)


def test_norm_errors_and_zero_gradient():
    with pytest.raises(ValueError, match="norm: ord='fro' is not supported for vector norms"):
        ff.norm([1.0, 2.0], ord="fro")
    with pytest.raises(ValueError, match="norm: ord=-1"):
        ff.norm([1.0, 2.0], ord=-1)
    x = ff.zeros((3,))
    with ff.GradientTape() as tape:
        tape.watch(x)
        n = ff.norm(x)
    np.testing.assert_array_equal(tape.gradient(n, x).numpy(), [0.0, 0.0, 0.0])


def test_matrix_transpose_and_global_norm_gradients():
    check_gradient(ff.linalg.matrix_transpose, [random_array((2, 3, 4))])
    arrays = [random_array((2, 3)), random_array((4,), seed=1)]
    check_gradient(lambda a, b: ff.linalg.global_norm([a, b]), arrays)
    np.testing.assert_allclose(float(ff.linalg.global_norm(arrays)), np.sqrt(sum((a * a).sum() for a in arrays)))
