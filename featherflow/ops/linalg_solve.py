"""Linear solves: ``solve``, ``triangular_solve``, ``cholesky_solve``, ``lstsq``, the LU helpers, banded and
tridiagonal solves, and ``experimental.conjugate_gradient``.

``solve`` and ``triangular_solve`` are ops with the rules ``g_B = A^-H g`` and ``g_A = -g_B X^H``
(restricted to the triangle for a triangular matrix); the others are built from them, so every one is
differentiable to any order. Batch axes broadcast.

>>> import featherflow as ff
>>> ff.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [2.0]]).numpy()
array([[1. ],
       [0.5]], dtype=float32)
"""

from __future__ import annotations

import collections

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.gradients import register_gradient
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor, binary_operands
from featherflow.ops._dual import record_op


def _system(matrix, rhs, op):
    a, b = binary_operands(matrix, rhs, op)
    if a.value.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected floating-point matrices. Received dtype {a.value.dtype.name}.")
    av, bv = a.value, b.value
    if av.ndim < 2 or av.shape[-1] != av.shape[-2] or bv.ndim < 2 or bv.shape[-2] != av.shape[-1]:
        raise ValueError(f"{op}: expected square matrices (..., M, M) and right-hand sides (..., M, K). Received: "
                         f"matrix.shape={av.shape}, rhs.shape={bv.shape}")
    return a, b


def _solve_arrays(av, bv, op):
    xp = array_module(av)
    try:
        batch = np.broadcast_shapes(av.shape[:-2], bv.shape[:-2])
        return xp.linalg.solve(xp.broadcast_to(av, batch + av.shape[-2:]), xp.broadcast_to(bv, batch + bv.shape[-2:]))
    except np.linalg.LinAlgError:
        raise InvalidArgumentError(None, None, f"{op}: Input matrix is not invertible.") from None


def solve(matrix, rhs, adjoint=False, name=None) -> Tensor:
    """``X`` with ``A X = B`` (``A^H X = B`` with ``adjoint=True``); singular matrices raise.

    >>> solve([[1.0, 1.0], [0.0, 1.0]], [[3.0], [1.0]]).numpy()
    array([[2.],
           [1.]], dtype=float32)
    """
    a, b = _system(matrix, rhs, "solve")
    av = np.swapaxes(a.value, -1, -2).conj() if adjoint else a.value
    out = _solve_arrays(av, b.value, "solve").astype(a.value.dtype, copy=False)
    return record_op("solve", (a, b), out, {"adjoint": bool(adjoint)})


@register_gradient("solve")
def _solve_rule(op, g):
    from featherflow.ops.linalg import matmul

    a, _ = op.inputs
    x = op.output
    adjoint = op.captured["attrs"]["adjoint"]
    gb = solve(a, g, adjoint=not adjoint)
    ga = None
    if op.needs[0]:
        ga = -matmul(x, gb, adjoint_b=True) if adjoint else -matmul(gb, x, adjoint_b=True)
    return ga, gb


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None) -> Tensor:
    """``X`` with ``T X = B`` for triangular ``T`` (only its ``lower`` or upper triangle is read).

    >>> triangular_solve([[2.0, 0.0], [1.0, 1.0]], [[2.0], [3.0]]).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    a, b = _system(matrix, rhs, "triangular_solve")
    xp = array_module(a.value)
    tri = xp.tril(a.value) if lower else xp.triu(a.value)
    if adjoint:
        tri = xp.swapaxes(tri, -1, -2).conj()
    out = _solve_arrays(tri, b.value, "triangular_solve").astype(a.value.dtype, copy=False)
    return record_op("triangular_solve", (a, b), out, {"lower": bool(lower), "adjoint": bool(adjoint)})


@register_gradient("triangular_solve")
def _triangular_solve_rule(op, g):
    from featherflow.ops.linalg import matmul
    from featherflow.ops.linalg_struct import band_part

    a, _ = op.inputs
    x = op.output
    lower, adjoint = op.captured["attrs"]["lower"], op.captured["attrs"]["adjoint"]
    gb = triangular_solve(a, g, lower=lower, adjoint=not adjoint)
    ga = None
    if op.needs[0]:
        ga = -matmul(x, gb, adjoint_b=True) if adjoint else -matmul(gb, x, adjoint_b=True)
        ga = band_part(ga, -1, 0) if lower else band_part(ga, 0, -1)
    return ga, gb


def cholesky_solve(chol, rhs, name=None) -> Tensor:
    """``X`` with ``A X = B`` given the Cholesky factor ``L`` of ``A`` (``L L^H = A``).

    >>> cholesky_solve([[2.0, 0.0], [0.0, 1.0]], [[4.0], [1.0]]).numpy()
    array([[1.],
           [1.]], dtype=float32)
    """
    y = triangular_solve(chol, rhs, lower=True)
    return triangular_solve(chol, y, lower=True, adjoint=True)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None) -> Tensor:
    """The least-squares solution of ``A X = B`` (with Tikhonov regularization ``l2_regularizer``).

    ``fast=True``: the normal equations by Cholesky (``m >= n``: ``(A^H A + l I) X = A^H B``; ``m < n``: the
    minimum-norm ``A^H (A A^H + l I)^-1 B``). ``fast=False``: by the SVD, also for rank-deficient ``A``.

    >>> lstsq([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[1.0], [2.0], [3.0]]).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    from featherflow.ops.linalg import matmul
    from featherflow.ops.linalg_decomp import cholesky, svd
    from featherflow.ops.shape import expand_dims

    a = as_tensor(matrix, "lstsq", "matrix")
    b = as_tensor(rhs, "lstsq", "rhs", dtype=a.value.dtype) if not isinstance(rhs, Tensor) else rhs
    if a.value.ndim < 2 or b.value.ndim < 2 or a.value.shape[-2] != b.value.shape[-2]:
        raise ValueError(f"lstsq: expected matrix (..., M, N) and rhs (..., M, K). Received: matrix.shape="
                         f"{a.value.shape}, rhs.shape={b.value.shape}")
    m, n = a.value.shape[-2:]
    reg = float(l2_regularizer)
    if not fast:
        s, u, v = svd(a)
        s_inv = s / (s * s + reg) if reg else _safe_reciprocal(s)
        return matmul(v * expand_dims(s_inv, -2), matmul(u, b, adjoint_a=True))
    if m >= n:
        gram = matmul(a, a, adjoint_a=True)
        if reg:
            gram = gram + reg * Tensor(np.eye(n, dtype=a.value.dtype))
        return cholesky_solve(cholesky(gram), matmul(a, b, adjoint_a=True))
    gram = matmul(a, a, adjoint_b=True)
    if reg:
        gram = gram + reg * Tensor(np.eye(m, dtype=a.value.dtype))
    return matmul(a, cholesky_solve(cholesky(gram), b), adjoint_a=True)


def _safe_reciprocal(s):
    from featherflow.ops.compare import where
    from featherflow.ops.reduce import reduce_max

    cutoff = 10.0 * max(s.value.shape[-1], 1) * np.finfo(s.value.dtype).eps * reduce_max(s, axis=-1, keepdims=True)
    keep = s > cutoff
    return where(keep, 1.0 / where(keep, s, s * 0 + 1), s * 0)


def _unit_lower_and_upper(lower_upper):
    from featherflow.ops.linalg_struct import band_part, set_diag

    lu_ = as_tensor(lower_upper, "lu", "lower_upper")
    ones = Tensor(np.ones(lu_.value.shape[:-1], dtype=lu_.value.dtype))
    return set_diag(band_part(lu_, -1, 0), ones), band_part(lu_, 0, -1)


def _permute_rows(x, perm, inverse=False):
    from featherflow.ops.indexing import gather

    p = np.asarray(perm.value if isinstance(perm, Tensor) else perm, dtype=np.int64)
    if inverse:
        p = np.argsort(p, axis=-1)
    if p.ndim == 1:
        return gather(x, p, axis=x.value.ndim - 2)
    return gather(x, p, axis=x.value.ndim - 2, batch_dims=p.ndim - 1)


def lu_reconstruct(lower_upper, perm, validate_args=False, name=None) -> Tensor:
    """The matrix ``A`` from its packed LU factorization (``linalg.lu``): ``A = P^T L U``.

    >>> import featherflow as ff
    >>> lu_, p = ff.linalg.lu([[1.0, 2.0], [3.0, 4.0]])
    >>> lu_reconstruct(lu_, p).numpy()
    array([[1., 2.],
           [3., 4.]], dtype=float32)
    """
    from featherflow.ops.linalg import matmul

    lower, upper = _unit_lower_and_upper(lower_upper)
    return _permute_rows(matmul(lower, upper), perm, inverse=True)


def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None) -> Tensor:
    """``X`` with ``A X = B`` from the packed LU factorization of ``A``.

    >>> import featherflow as ff
    >>> lu_, p = ff.linalg.lu([[1.0, 2.0], [3.0, 4.0]])
    >>> lu_solve(lu_, p, [[5.0], [11.0]]).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    lower, upper = _unit_lower_and_upper(lower_upper)
    b = as_tensor(rhs, "lu_solve", "rhs", dtype=lower.value.dtype) if not isinstance(rhs, Tensor) else rhs
    y = triangular_solve(lower, _permute_rows(b, perm), lower=True)
    return triangular_solve(upper, y, lower=False)


def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None) -> Tensor:
    """The inverse of ``A`` from its packed LU factorization.

    >>> import featherflow as ff
    >>> lu_, p = ff.linalg.lu([[2.0, 0.0], [0.0, 4.0]])
    >>> lu_matrix_inverse(lu_, p).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    lu_ = as_tensor(lower_upper, "lu_matrix_inverse", "lower_upper")
    xp = array_module(lu_.value)
    n = lu_.value.shape[-1]
    eye = Tensor(xp.broadcast_to(xp.eye(n, dtype=lu_.value.dtype), lu_.value.shape).copy())
    return lu_solve(lu_, perm, eye)


def banded_triangular_solve(bands, rhs, lower=True, adjoint=False, name=None) -> Tensor:
    """``triangular_solve`` for a banded triangular matrix given by its ``K`` bands ``(..., K, M)``: lower: the
    diagonal first, then the subdiagonals; upper: the superdiagonals, the diagonal last (TensorFlow's
    ``LEFT_RIGHT`` alignment).

    >>> banded_triangular_solve([[2.0, 2.0], [0.0, 1.0]], [[2.0], [3.0]]).numpy()
    array([[1.],
           [1.]], dtype=float32)
    """
    from featherflow.ops.linalg_struct import diag

    band = as_tensor(bands, "banded_triangular_solve", "bands")
    k = band.value.shape[-2]
    m = band.value.shape[-1]
    span = (-(k - 1), 0) if lower else (0, k - 1)
    matrix = diag(band, k=span, num_rows=m, num_cols=m, align="LEFT_RIGHT") if k > 1 else diag(band[..., 0, :])
    return triangular_solve(matrix, rhs, lower=lower, adjoint=adjoint)


def tridiagonal_solve(diagonals, rhs, diagonals_format="compact", transpose_rhs=False, conjugate_rhs=False,
                      name=None, partial_pivoting=True, perturb_singular=False) -> Tensor:
    """``X`` with ``T X = B`` for tridiagonal ``T`` (formats as in ``tridiagonal_matmul``); ``rhs`` is
    ``(..., M)`` or ``(..., M, K)`` (``(..., K, M)`` with ``transpose_rhs=True``).

    >>> tridiagonal_solve([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0], [0.0, 6.0, 7.0]], [1.0, 2.0, 3.0]).numpy()
    array([-0.16666667,  1.5       , -1.5       ], dtype=float32)
    """
    from featherflow.ops.complex import conj
    from featherflow.ops.linalg import matrix_transpose
    from featherflow.ops.linalg_struct import _tridiagonal
    from featherflow.ops.shape import expand_dims, squeeze

    matrix = _tridiagonal(diagonals, "tridiagonal_solve", diagonals_format)
    b = as_tensor(rhs, "tridiagonal_solve", "rhs", dtype=matrix.value.dtype) if not isinstance(rhs, Tensor) else rhs
    if transpose_rhs:
        b = matrix_transpose(b)
    if conjugate_rhs:
        b = conj(b)
    vector = b.value.ndim == matrix.value.ndim - 1
    out = solve(matrix, expand_dims(b, -1) if vector else b)
    return squeeze(out, axis=-1) if vector else out


CGState = collections.namedtuple("CGState", ["i", "x", "r", "p", "gamma"])


def conjugate_gradient(operator, rhs, preconditioner=None, x=None, tol=1e-5, max_iter=20,
                       name="conjugate_gradient") -> CGState:
    """Solve ``A x = rhs`` for a symmetric positive-definite ``LinearOperator`` by conjugate gradients.

    Stops when ``||r|| <= tol * ||rhs||`` or after ``max_iter`` iterations; returns
    ``CGState(i, x, r, p, gamma)``.

    >>> import featherflow as ff
    >>> op = ff.linalg.LinearOperatorFullMatrix([[4.0, 1.0], [1.0, 3.0]])
    >>> conjugate_gradient(op, [1.0, 2.0]).x.numpy().round(5)
    array([0.09091, 0.63636], dtype=float32)
    """
    from featherflow.ops.reduce import reduce_sum

    b = as_tensor(rhs, "conjugate_gradient", "rhs")
    x = b * 0 if x is None else as_tensor(x, "conjugate_gradient", "x")
    r = b - operator.matvec(x)
    z = r if preconditioner is None else preconditioner.matvec(r)
    p = z
    gamma = reduce_sum(r * z, axis=-1)
    limit = tol * float(np.sqrt(np.max(np.sum(np.abs(b.value) ** 2, axis=-1))))
    i = 0
    while i < max_iter and float(np.sqrt(np.max(np.sum(np.abs(r.value) ** 2, axis=-1)))) > limit:
        q = operator.matvec(p)
        alpha = gamma / reduce_sum(p * q, axis=-1)
        x = x + alpha[..., None] * p
        r = r - alpha[..., None] * q
        z = r if preconditioner is None else preconditioner.matvec(r)
        new_gamma = reduce_sum(r * z, axis=-1)
        p = z + (new_gamma / gamma)[..., None] * p
        gamma = new_gamma
        i += 1
    return CGState(Tensor(np.asarray(i, dtype=np.int32)), x, r, p, gamma)
