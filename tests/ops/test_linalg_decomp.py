"""Decompositions, solves and structured matrices of tf.linalg: reconstructions, float64 gradients (first and
second order), errors."""

import numpy as np
import pytest
from gradcheck import check_gradient, check_second_order, random_array

import featherflow as ff

LA = ff.linalg


def _spd_fn(b):
    """A symmetric positive-definite matrix built from an unconstrained one (perturbations stay symmetric)."""
    return ff.matmul(b, b, transpose_b=True) + 3.0 * ff.eye(b.shape[-1], dtype="float64")


def test_inverse_determinant_and_log_determinant():
    a = random_array((2, 3, 3), seed=1) + 3 * np.eye(3)
    np.testing.assert_allclose(LA.inv(a).numpy(), np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(LA.det(a).numpy(), np.linalg.det(a), rtol=1e-12)
    sign, logabs = LA.slogdet(a)
    np.testing.assert_allclose(logabs.numpy(), np.linalg.slogdet(a)[1], rtol=1e-12)
    for op in (LA.inv, LA.det, lambda x: LA.slogdet(x)[1], lambda x: LA.inv(x, adjoint=True)):
        check_gradient(op, [a])
        check_second_order(op, [a])
    check_gradient(lambda b: LA.logdet(_spd_fn(b)), [random_array((3, 3), seed=2)])
    with pytest.raises(ff.errors.InvalidArgumentError, match="not invertible"):
        LA.inv(np.zeros((2, 2)))


def test_cholesky_qr_svd_eigh_reconstruct_and_differentiate():
    b = random_array((3, 3), seed=3)
    spd = _spd_fn(ff.constant(b)).numpy()
    chol = LA.cholesky(spd).numpy()
    np.testing.assert_allclose(chol @ chol.T, spd, rtol=1e-12)
    check_gradient(lambda x: LA.cholesky(_spd_fn(x)), [b])
    check_second_order(lambda x: LA.cholesky(_spd_fn(x)), [b])
    a = random_array((4, 3), seed=4)
    q, r = LA.qr(a)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, rtol=1e-12, atol=1e-14)
    check_gradient(lambda x: LA.qr(x), [a])
    s, u, v = LA.svd(a)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ v.numpy().T, a, rtol=1e-12, atol=1e-14)
    # singular vectors are defined up to sign: differentiate sign-invariant functions of them
    check_gradient(lambda x: [LA.svd(x)[0], ff.square(LA.svd(x)[1]), ff.square(LA.svd(x)[2])], [a])
    check_gradient(lambda x: LA.svd(x, compute_uv=False), [a])
    check_second_order(lambda x: LA.svd(x, compute_uv=False), [a])
    sym = random_array((4, 4), seed=5)
    sym = sym + sym.T
    e, vec = LA.eigh(sym)
    np.testing.assert_allclose((vec.numpy() * e.numpy()) @ vec.numpy().T, sym, rtol=1e-12, atol=1e-13)
    symmetric = lambda x: (x + ff.linalg.matrix_transpose(x)) * 0.5  # noqa: E731
    check_gradient(lambda x: [LA.eigh(symmetric(x))[0], ff.square(LA.eigh(symmetric(x))[1])], [sym])
    check_second_order(lambda x: LA.eigvalsh(symmetric(x)), [sym])


def test_lu_family():
    a = random_array((2, 4, 4), seed=6) + np.eye(4)
    lu, p = LA.lu(a)
    np.testing.assert_allclose(LA.lu_reconstruct(lu, p).numpy(), a, rtol=1e-12, atol=1e-14)
    b = random_array((2, 4, 2), seed=7)
    np.testing.assert_allclose(LA.lu_solve(lu, p, b).numpy(), np.linalg.solve(a, b), rtol=1e-10)
    np.testing.assert_allclose(LA.lu_matrix_inverse(lu, p).numpy(), np.linalg.inv(a), rtol=1e-10)
    check_gradient(lambda x: LA.lu(x).lu, [a])
    check_gradient(lambda x, y: LA.lu_solve(LA.lu(x).lu, LA.lu(x).p, y), [a, b])


def test_solves_and_least_squares():
    a = random_array((3, 3), seed=8) + 3 * np.eye(3)
    b = random_array((2, 3, 2), seed=9)  # batch broadcast against a
    np.testing.assert_allclose(LA.solve(a, b).numpy(), np.linalg.solve(a, b), rtol=1e-12)
    for adjoint in (False, True):
        check_gradient(lambda x, y, adj=adjoint: LA.solve(x, y, adjoint=adj), [a, b])
        check_second_order(lambda x, y, adj=adjoint: LA.solve(x, y, adjoint=adj), [a, b])
    for lower in (True, False):
        tri = np.tril(a) if lower else np.triu(a)
        np.testing.assert_allclose(LA.triangular_solve(tri, b, lower=lower).numpy(), np.linalg.solve(tri, b),
                                   rtol=1e-12)
        check_gradient(lambda x, y, lo=lower: LA.triangular_solve(x, y, lower=lo, adjoint=True),
                       [tri, b[0]])
    wide, tall = random_array((2, 4), seed=10), random_array((5, 3), seed=11)
    rhs_tall = random_array((5, 2), seed=12)
    np.testing.assert_allclose(LA.lstsq(tall, rhs_tall).numpy(), np.linalg.lstsq(tall, rhs_tall, rcond=None)[0],
                               rtol=1e-10)
    np.testing.assert_allclose(LA.lstsq(tall, rhs_tall, fast=False).numpy(),
                               np.linalg.lstsq(tall, rhs_tall, rcond=None)[0], rtol=1e-10)
    np.testing.assert_allclose(LA.lstsq(wide, rhs_tall[:2]).numpy(), np.linalg.pinv(wide) @ rhs_tall[:2], rtol=1e-10)
    check_gradient(lambda x, y: LA.lstsq(x, y, l2_regularizer=0.1), [tall, rhs_tall])
    np.testing.assert_allclose(LA.pinv(tall).numpy(), np.linalg.pinv(tall), rtol=1e-10)
    check_gradient(LA.pinv, [tall])
    assert int(LA.matrix_rank([[1.0, 2.0], [2.0, 4.0]])) == 1


def test_matrix_functions():
    a = random_array((3, 3), seed=13)
    expected = np.eye(3)
    term = np.eye(3)
    for k in range(1, 30):
        term = term @ a / k
        expected = expected + term
    np.testing.assert_allclose(LA.expm(a).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(LA.expm(a * 10).numpy(), np.linalg.matrix_power(LA.expm(a).numpy(), 10), rtol=1e-9)
    check_gradient(LA.expm, [a])
    spd = _spd_fn(ff.constant(a)).numpy()
    root = LA.sqrtm(spd).numpy()
    np.testing.assert_allclose(root @ root, spd, rtol=1e-10)
    check_gradient(LA.sqrtm, [spd])
    # second order: the gradient's Sylvester solve is itself differentiated (it was a constant before)
    check_second_order(lambda x: LA.sqrtm(_spd_fn(x)), [random_array((2, 3, 3), seed=15)])
    log = LA.logm(ff.constant(LA.expm(a * 0.3).numpy().astype("complex128"))).numpy()
    np.testing.assert_allclose(log.real, a * 0.3, rtol=1e-8, atol=1e-10)
    e = LA.eigvals([[0.0, -1.0], [1.0, 0.0]]).numpy()
    assert sorted(e.imag.tolist()) == [-1.0, 1.0]


def test_eig_gradients_match_finite_differences():
    # eig had no gradient (None); eigenvector phases are arbitrary, so differentiate phase-invariant functions
    a = random_array((3, 3), seed=16)
    weights = random_array((3, 3), seed=17)

    def spectrum(x):
        e, v = LA.eig(x)
        return [ff.math.real(e) * ff.math.real(e) + ff.math.imag(e), ff.abs(v) ** 2 * weights]

    check_gradient(spectrum, [a])
    check_gradient(lambda x: ff.abs(LA.eigvals(x)), [random_array((2, 3, 3), seed=18)])
    check_second_order(lambda x: ff.math.real(LA.eigvals(x)) ** 2, [a])
    z = ff.complex(ff.constant(a), ff.constant(weights))
    with ff.GradientTape() as tape:
        tape.watch(z)
        total = ff.reduce_sum(ff.math.real(LA.eigvals(z)))
    np.testing.assert_allclose(tape.gradient(total, z).numpy(), np.eye(3), atol=1e-12)  # d trace / dA = I


def test_structured_matrices():
    x = random_array((3, 4), seed=14)
    np.testing.assert_array_equal(LA.band_part(x, 1, 0).numpy(), np.tril(np.triu(x, -1)))
    np.testing.assert_array_equal(LA.diag_part(x, k=1).numpy(), np.diagonal(x, 1))
    np.testing.assert_array_equal(LA.diag([1.0, 2.0], k=-1).numpy(), np.diag([1.0, 2.0], -1))
    out = LA.set_diag(x, [7.0, 8.0, 9.0]).numpy()
    assert np.diagonal(out).tolist() == [7.0, 8.0, 9.0] and out[0, 1] == x[0, 1]
    np.testing.assert_allclose(LA.cross([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]).numpy(), np.cross([1, 2, 3], [4, 5, 6]))
    check_gradient(lambda a, b: LA.cross(a, b), [random_array((2, 3)), random_array((2, 3), seed=1)])
    check_gradient(lambda a: LA.diag_part(a, k=(-1, 1), padding_value=3.0), [x])
    check_gradient(lambda a, d: LA.set_diag(a, d, k=(0, 1)), [x[:3, :3], random_array((2, 3), seed=2)])
    unit, norm = LA.normalize(x, axis=1)
    np.testing.assert_allclose(unit.numpy() * norm.numpy(), x)
    t = LA.tensor_diag([[1.0, 2.0], [3.0, 4.0]]).numpy()
    assert t.shape == (2, 2, 2, 2) and t[1, 0, 1, 0] == 3.0 and t[1, 0, 0, 1] == 0.0
    diagonals = random_array((3, 4), seed=15) + np.array([[0.0], [4.0], [0.0]])
    dense = LA.tridiagonal_matmul(diagonals, np.eye(4)).numpy()
    rhs = random_array((4,), seed=16)
    np.testing.assert_allclose(LA.tridiagonal_solve(diagonals, rhs).numpy(), np.linalg.solve(dense, rhs),
                               rtol=1e-10)
    e = LA.eigh_tridiagonal([2.0, 2.0, 2.0], [1.0, 1.0]).numpy()
    np.testing.assert_allclose(e, 2 + 2 * np.cos(np.pi * np.arange(3, 0, -1) / 4), rtol=1e-6)


def test_linear_operators_agree_with_their_dense_matrices():
    d = random_array((3,), low=1, high=2, seed=17)
    full = random_array((3, 3), seed=18) + 3 * np.eye(3)
    operators = [
        LA.LinearOperatorFullMatrix(full),
        LA.LinearOperatorDiag(d),
        LA.LinearOperatorIdentity(3, dtype="float64"),
        LA.LinearOperatorScaledIdentity(3, np.float64(2.5)),
        LA.LinearOperatorLowerTriangular(np.tril(full)),
        LA.LinearOperatorComposition([LA.LinearOperatorDiag(d), LA.LinearOperatorFullMatrix(full)]),
        LA.LinearOperatorAdjoint(LA.LinearOperatorFullMatrix(full)),
        LA.LinearOperatorInversion(LA.LinearOperatorFullMatrix(full)),
        LA.LinearOperatorBlockDiag([LA.LinearOperatorDiag(d[:1]), LA.LinearOperatorFullMatrix(full[:2, :2])]),
        LA.LinearOperatorBlockLowerTriangular([[LA.LinearOperatorDiag(d[:1])],
                                               [LA.LinearOperatorFullMatrix(full[1:, :1]),
                                                LA.LinearOperatorFullMatrix(full[1:, 1:])]]),
        LA.LinearOperatorLowRankUpdate(LA.LinearOperatorDiag(d), random_array((3, 1), seed=19)),
        LA.LinearOperatorToeplitz(np.array([3.0, 1.0, 0.5]), np.array([3.0, 0.2, 0.1])),
        LA.LinearOperatorTridiag(random_array((3, 3), seed=20) + np.array([[0.0], [4.0], [0.0]])),
        LA.LinearOperatorHouseholder(np.array([1.0, 2.0, 2.0])),
        LA.LinearOperatorPermutation([2, 0, 1], dtype="float64"),
        LA.LinearOperatorCirculant(np.array([6.0, 1.0 + 1j, 2.0]), input_output_dtype="complex128"),
    ]
    x = random_array((3, 2), seed=21)
    for op in operators:
        dense = op.to_dense().numpy()
        assert op.shape == dense.shape, op.name
        xx = x.astype(dense.dtype)
        np.testing.assert_allclose(op.matmul(xx).numpy(), dense @ xx, rtol=1e-10, atol=1e-12, err_msg=op.name)
        np.testing.assert_allclose(op.matmul(xx, adjoint=True).numpy(), dense.conj().T @ xx, rtol=1e-10, atol=1e-12,
                                   err_msg=op.name)
        np.testing.assert_allclose(op.solve(xx).numpy(), np.linalg.solve(dense, xx), rtol=1e-8, atol=1e-10,
                                   err_msg=op.name)
        np.testing.assert_allclose(op.determinant().numpy(), np.linalg.det(dense), rtol=1e-8, err_msg=op.name)
        np.testing.assert_allclose(op.log_abs_determinant().numpy(), np.log(abs(np.linalg.det(dense))), rtol=1e-8,
                                   atol=1e-12, err_msg=op.name)
        np.testing.assert_allclose(op.trace().numpy(), np.trace(dense), rtol=1e-10, err_msg=op.name)
    kron = LA.LinearOperatorKronecker([LA.LinearOperatorDiag(d[:2]), LA.LinearOperatorFullMatrix(full[:2, :2])])
    np.testing.assert_allclose(kron.to_dense().numpy(), np.kron(np.diag(d[:2]), full[:2, :2]), rtol=1e-12)
    circulant = LA.LinearOperatorCirculant(np.array([6.0, 1.0 + 1j, 2.0, 1.0 - 1j]), input_output_dtype="float64")
    column = np.fft.ifft([6.0, 1.0 + 1j, 2.0, 1.0 - 1j]).real
    np.testing.assert_allclose(circulant.to_dense().numpy()[:, 0], column, rtol=1e-12)
    np.testing.assert_allclose(circulant.to_dense().numpy()[1], np.roll(column[::-1], 2), rtol=1e-12)
    assert LA.LinearOperatorZeros(2).matvec([1.0, 2.0]).numpy().tolist() == [0.0, 0.0]
    cg = LA.experimental.conjugate_gradient(LA.LinearOperatorFullMatrix(full @ full.T), d, tol=1e-12, max_iter=50)
    np.testing.assert_allclose(cg.x.numpy(), np.linalg.solve(full @ full.T, d), rtol=1e-8)
    # gradients flow through operator methods
    check_gradient(lambda m, v: LA.LinearOperatorFullMatrix(m).solvevec(v), [full, d])
    with pytest.raises(ValueError, match="self-adjoint positive definite"):
        LA.LinearOperatorFullMatrix(full).cholesky()
