"""Matrix decompositions and functions: ``inv``, ``det``, ``slogdet``, ``logdet``, ``cholesky``, ``qr``, ``svd``,
``eigh``, ``eigvalsh``, ``eig``, ``eigvals``, ``lu``, ``pinv``, ``matrix_rank``, ``expm``, ``sqrtm``, ``logm``.

All work on batches (the last two axes are the matrices). Each gradient rule is written with ops
(``ops._dual.record_op``), so it serves first-order gradients and is itself differentiable:

- ``inv``: ``-A^-T g A^-T``; ``det``: ``g det A^-T``; ``slogdet``: ``g A^-T`` for the log-determinant;
- ``cholesky``: Murray's rule (arXiv:1602.07527), ``A_bar = sym(L^-T Phi(L^T L_bar) L^-1)``, symmetric as in
  TensorFlow (exact along symmetric perturbations, the only ones that keep ``A`` a valid input);
- ``qr`` (reduced, ``m >= n``): Walter & Lehmann / TensorFlow's rule; ``svd``: Townsend's rule
  (distinct singular values); ``eigh``: ``V (diag(g_e) + F o V^T g_V) V^T`` with ``F_ij = 1/(e_j - e_i)``,
  like TensorFlow only the lower triangle of the input is read and gets a gradient;
- ``lu``: ``P L^-T (tril_(L^T g_L) + triu(g_U U^T)) U^-T`` (square matrices);
- ``pinv``, ``logdet``, ``expm`` (Pade 13 with scaling and squaring, Higham 2005) are built from ops.

>>> import featherflow as ff
>>> ff.linalg.inv([[2.0, 0.0], [0.0, 4.0]]).numpy()
array([[0.5 , 0.  ],
       [0.  , 0.25]], dtype=float32)
"""

from __future__ import annotations

import collections

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.gradients import register_gradient
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor
from featherflow.ops._dual import record_op

Qr = collections.namedtuple("Qr", ["q", "r"])
Lu = collections.namedtuple("Lu", ["lu", "p"])
LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])


def _matrices(x, op, square=True, arg="input"):
    t = as_float_tensor(x, op, arg) if not (isinstance(x, Tensor) and x.value.dtype.kind == "c") else x
    shape = t.value.shape
    if len(shape) < 2 or (square and shape[-1] != shape[-2]):
        kind = "square matrices" if square else "matrices"
        raise ValueError(f"{op}: expected {kind} in the last two axes (rank >= 2). Received: {arg}.shape={shape}")
    return t


def _t(x):
    from featherflow.ops.linalg import matrix_transpose

    return matrix_transpose(x)


def _mm(a, b, **kwargs):
    from featherflow.ops.linalg import matmul

    return matmul(a, b, **kwargs)


def _expand2(x):
    from featherflow.ops.shape import expand_dims

    return expand_dims(expand_dims(x, -1), -1)


def _eye_like(x):
    xp = array_module(x.value)
    n = x.value.shape[-1]
    return Tensor(xp.broadcast_to(xp.eye(n, dtype=x.value.dtype), x.value.shape).copy())


def inv(input, adjoint=False, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The inverse of each square matrix (of its adjoint with ``adjoint=True``); singular matrices raise.

    >>> inv([[1.0, 2.0], [3.0, 4.0]]).numpy()
    array([[-2. ,  1. ],
           [ 1.5, -0.5]], dtype=float32)
    """
    a = _matrices(input, "inv")
    av = a.value
    xp = array_module(av)
    try:
        out = xp.linalg.inv(xp.swapaxes(av, -1, -2).conj() if adjoint else av)
    except np.linalg.LinAlgError:
        raise InvalidArgumentError(None, None, "inv: Input is not invertible.") from None
    return record_op("inv", (a,), out.astype(av.dtype, copy=False), {"adjoint": bool(adjoint)})


@register_gradient("inv")
def _inv_rule(op, g):
    y = op.output  # inverse of (A or A^H)
    grad = -_mm(_mm(y, g, adjoint_a=True), y, adjoint_b=True)
    return (_t(grad) if op.captured["attrs"]["adjoint"] else grad,)


def det(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The determinant of each square matrix; gradient ``g det(A) A^-T``.

    >>> float(det([[1.0, 2.0], [3.0, 4.0]]))
    -2.0
    """
    a = _matrices(input, "det")
    av = a.value
    return record_op("det", (a,), array_module(av).asarray(array_module(av).linalg.det(av)).astype(av.dtype))


@register_gradient("det")
def _det_rule(op, g):
    return (_expand2(g * op.output) * _t(inv(op.inputs[0])),)


def slogdet(input, name=None) -> LogMatrixDeterminant:  # noqa: A002 - TensorFlow's name
    """``(sign, log|det|)`` of each square matrix, without overflow; the gradient flows through the
    log-determinant: ``g A^-T``.

    >>> sign, logdet_ = slogdet([[-2.0, 0.0], [0.0, 3.0]])
    >>> float(sign), round(float(logdet_), 5)
    (-1.0, 1.79176)
    """
    a = _matrices(input, "slogdet")
    av = a.value
    xp = array_module(av)
    sign, logabs = xp.linalg.slogdet(av)
    outs = record_op("slogdet", (a,), [xp.asarray(sign).astype(av.dtype), xp.asarray(logabs).astype(av.dtype)],
                     multi=True)
    return LogMatrixDeterminant(*outs)


@register_gradient("slogdet")
def _slogdet_rule(op, g):
    if g[1] is None:
        return (None,)
    return (_expand2(g[1]) * _t(inv(op.inputs[0])),)


def logdet(matrix, name=None) -> Tensor:
    """``log(det(A))`` of Hermitian positive-definite matrices: ``2 * sum(log(diag(cholesky(A))))``.

    >>> round(float(logdet([[2.0, 0.0], [0.0, 3.0]])), 5)
    1.79176
    """
    from featherflow.ops.linalg import diag_part
    from featherflow.ops.math import log
    from featherflow.ops.reduce import reduce_sum

    return 2.0 * reduce_sum(log(diag_part(cholesky(matrix))), axis=-1)


def cholesky(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The lower-triangular ``L`` with ``L L^T = A`` for Hermitian positive-definite ``A`` (only the lower
    triangle of ``A`` is read).

    >>> cholesky([[4.0, 2.0], [2.0, 5.0]]).numpy()
    array([[2., 0.],
           [1., 2.]], dtype=float32)
    """
    a = _matrices(input, "cholesky")
    av = a.value
    xp = array_module(av)
    lower = xp.tril(av)
    symmetric = lower + xp.swapaxes(xp.tril(av, -1), -1, -2).conj()
    try:
        out = xp.linalg.cholesky(symmetric)
    except np.linalg.LinAlgError:
        raise InvalidArgumentError(None, None, "Cholesky decomposition was not successful. The input might not "
                                   "be valid (it must be symmetric positive definite).") from None
    return record_op("cholesky", (a,), out.astype(av.dtype, copy=False))


@register_gradient("cholesky")
def _cholesky_rule(op, g):
    from featherflow.ops.linalg import diag_part
    from featherflow.ops.linalg_solve import triangular_solve
    from featherflow.ops.linalg_struct import band_part, set_diag

    chol = op.output
    chol_inverse = triangular_solve(chol, _eye_like(chol), lower=True)
    middle = _mm(chol, g, adjoint_a=True)
    middle = band_part(set_diag(middle, 0.5 * diag_part(middle)), -1, 0)
    grad = _mm(_mm(chol_inverse, middle, adjoint_a=True), chol_inverse)
    # TensorFlow's convention: the symmetric gradient (exact for the symmetric perturbations that keep A valid)
    return (0.5 * (grad + _t(grad)),)


def qr(input, full_matrices=False, name=None) -> Qr:  # noqa: A002 - TensorFlow's name
    """QR decomposition ``A = Q R``: ``Q`` with orthonormal columns, ``R`` upper triangular.

    ``full_matrices=False``: ``Q`` is ``(m, min(m, n))`` and ``R`` ``(min(m, n), n)``. Gradients need
    ``full_matrices=False`` and ``m >= n``, as in TensorFlow.

    >>> q, r = qr([[3.0, 0.0], [4.0, 1.0]])
    >>> bool(abs(float(r[0, 0])) == 5.0)
    True
    """
    a = _matrices(input, "qr", square=False)
    av = a.value
    xp = array_module(av)
    q, r = xp.linalg.qr(av, mode="complete" if full_matrices else "reduced")
    outs = record_op("qr", (a,), [q.astype(av.dtype, copy=False), r.astype(av.dtype, copy=False)],
                     {"full": bool(full_matrices)}, multi=True)
    return Qr(*outs)


@register_gradient("qr")
def _qr_rule(op, g):
    from featherflow.ops.creation import zeros_like
    from featherflow.ops.linalg_solve import triangular_solve
    from featherflow.ops.linalg_struct import band_part

    a = op.inputs[0]
    m, n = a.value.shape[-2:]
    if op.captured["attrs"]["full"] and m != n or m < n:
        raise NotImplementedError(
            f"qr gradient: only full_matrices=False with rows >= columns (or square) is supported, as in "
            f"TensorFlow. Received: input.shape={a.value.shape}, full_matrices={op.captured['attrs']['full']}")
    q, r = op.outputs
    dq = g[0] if g[0] is not None else zeros_like(q)
    dr = g[1] if g[1] is not None else zeros_like(r)

    def solve_right(x, rr):  # x R^-T ... written as (R^-1 x^T)^T
        return _t(triangular_solve(rr, _t(x), lower=False))

    qdq = _mm(q, dq, adjoint_a=True)
    rdr = _mm(r, dr, adjoint_b=True)
    tril = band_part(qdq - _t(qdq) + rdr - _t(rdr), -1, 0)
    grad_a = _mm(q, dr + solve_right(tril, r))
    grad_b = solve_right(dq - _mm(q, qdq), r)
    return (grad_a + grad_b,)


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular value decomposition ``A = U diag(s) V^H``: returns ``(s, u, v)`` (``s`` descending), or ``s``
    alone with ``compute_uv=False``. Gradients need distinct singular values (and ``full_matrices=False``
    for ``u``/``v``).

    >>> s, u, v = svd([[3.0, 0.0], [0.0, -4.0]])
    >>> s.numpy()
    array([4., 3.], dtype=float32)
    """
    a = _matrices(tensor, "svd", square=False, arg="tensor")
    av = a.value
    xp = array_module(av)
    if not compute_uv:
        s = xp.linalg.svd(av, compute_uv=False).astype(av.dtype, copy=False)
        return record_op("svd_values", (a,), s)
    u, s, vh = xp.linalg.svd(av, full_matrices=bool(full_matrices))
    v = xp.swapaxes(vh, -1, -2).conj()
    outs = record_op("svd", (a,), [s.astype(av.dtype, copy=False), u.astype(av.dtype, copy=False),
                                   v.astype(av.dtype, copy=False)], {"full": bool(full_matrices)}, multi=True)
    return tuple(outs)


@register_gradient("svd_values")
def _svd_values_rule(op, g):
    s, u, v = svd(op.inputs[0])
    return (_mm(u * _expand_last(g), v, adjoint_b=True),)


def _expand_last(x):
    from featherflow.ops.shape import expand_dims

    return expand_dims(x, -2)


@register_gradient("svd")
def _svd_rule(op, g):
    from featherflow.ops.compare import where
    from featherflow.ops.creation import zeros_like
    from featherflow.ops.shape import expand_dims

    a = op.inputs[0]
    s, u, v = op.outputs
    m, n = a.value.shape[-2:]
    if op.captured["attrs"]["full"] and m != n and (g[1] is not None or g[2] is not None):
        raise NotImplementedError("svd gradient: u and v gradients need full_matrices=False (or a square input).")
    gs = g[0] if g[0] is not None else zeros_like(s)
    gu = g[1] if g[1] is not None else zeros_like(u)
    gv = g[2] if g[2] is not None else zeros_like(v)
    s2 = s * s
    diff = expand_dims(s2, -2) - expand_dims(s2, -1)  # F_ij = 1 / (s_j^2 - s_i^2), 0 on the diagonal
    k = s.value.shape[-1]
    off = Tensor(~np.eye(k, dtype=bool))
    f = where(off, 1.0 / where(off, diff, diff * 0 + 1), diff * 0)
    s_row = expand_dims(s, -2)
    utgu = _mm(u, gu, adjoint_a=True)
    vtgv = _mm(v, gv, adjoint_a=True)
    j = f * (utgu - _t(utgu))
    kk = f * (vtgv - _t(vtgv))
    inner = j * s_row + expand_dims(gs, -1) * Tensor(np.eye(k, dtype=a.value.dtype)) + expand_dims(s, -1) * kk
    grad = _mm(_mm(u, inner), v, adjoint_b=True)
    inv_s = 1.0 / s_row
    if m > k:  # (I - U U^T) g_U S^-1 V^T
        grad = grad + _mm((gu - _mm(u, utgu)) * inv_s, v, adjoint_b=True)
    if n > k:  # U S^-1 g_V^T (I - V V^T)
        grad = grad + _mm(u * inv_s, _t(gv - _mm(v, vtgv)))
    return (grad,)


def eigh(tensor, name=None) -> tuple:
    """Eigen-decomposition of Hermitian matrices (the lower triangle is read): ``(e, v)``, ``e`` ascending,
    ``A = V diag(e) V^H``.

    >>> e, v = eigh([[2.0, 1.0], [1.0, 2.0]])
    >>> e.numpy()
    array([1., 3.], dtype=float32)
    """
    a = _matrices(tensor, "eigh", arg="tensor")
    av = a.value
    xp = array_module(av)
    e, v = xp.linalg.eigh(av, UPLO="L")
    outs = record_op("eigh", (a,), [e.astype(av.dtype, copy=False), v.astype(av.dtype, copy=False)], multi=True)
    return tuple(outs)


@register_gradient("eigh")
def _eigh_rule(op, g):
    from featherflow.ops.compare import where
    from featherflow.ops.creation import zeros_like
    from featherflow.ops.linalg import diag_part
    from featherflow.ops.linalg_struct import band_part, set_diag
    from featherflow.ops.shape import expand_dims

    e, v = op.outputs
    ge = g[0] if g[0] is not None else zeros_like(e)
    gv = g[1] if g[1] is not None else zeros_like(v)
    k = e.value.shape[-1]
    diff = expand_dims(e, -2) - expand_dims(e, -1)  # e_j - e_i
    off = Tensor(~np.eye(k, dtype=bool))
    f = where(off, 1.0 / where(off, diff, diff * 0 + 1), diff * 0)
    inner = expand_dims(ge, -1) * Tensor(np.eye(k, dtype=e.value.dtype)) + f * _mm(v, gv, adjoint_a=True)
    grad = _mm(_mm(v, inner), v, adjoint_b=True)
    grad = band_part(grad + _t(grad), -1, 0)
    return (set_diag(grad, 0.5 * diag_part(grad)),)


def eigvalsh(tensor, name=None) -> Tensor:
    """The eigenvalues (ascending) of Hermitian matrices; differentiable like ``eigh``.

    >>> eigvalsh([[2.0, 1.0], [1.0, 2.0]]).numpy()
    array([1., 3.], dtype=float32)
    """
    return eigh(tensor)[0]


def eig(tensor, name=None) -> tuple:
    """Eigen-decomposition of general square matrices: complex ``(e, v)`` with ``A v_i = e_i v_i``, unit-norm
    eigenvectors (complex64 for float32 input, complex128 for float64).

    Differentiable by TensorFlow's rule (distinct eigenvalues, a diagonalizable matrix):
    ``A_bar = V^-H (diag(e_bar) + F o (V^H v_bar - V^H V diag(Re(V^H v_bar)))) V^H`` with
    ``F_ij = conj(1 / (e_j - e_i))`` off the diagonal (real inputs get its real part).

    >>> e, v = eig([[2.0, 0.0], [0.0, 3.0]])
    >>> e.numpy()
    array([2.+0.j, 3.+0.j], dtype=complex64)
    """
    a = _matrices(tensor, "eig", arg="tensor")
    av = a.value
    xp = array_module(av)
    e, v = xp.linalg.eig(av)
    dtype = np.complex64 if av.dtype in (np.float32, np.complex64) else np.complex128
    return tuple(record_op("eig", (a,), [e.astype(dtype), v.astype(dtype)], multi=True))


@register_gradient("eig")
def _eig_rule(op, g):
    from featherflow.ops.complex import conj, real
    from featherflow.ops.creation import zeros_like
    from featherflow.ops.linalg import diag_part
    from featherflow.ops.linalg_solve import solve
    from featherflow.ops.math import cast
    from featherflow.ops.shape import expand_dims

    e, v = op.outputs
    ge = g[0] if g[0] is not None else zeros_like(e)
    gv = g[1] if g[1] is not None else zeros_like(v)
    k = e.value.shape[-1]
    eye = Tensor(np.eye(k, dtype=e.value.dtype))
    off = Tensor((~np.eye(k, dtype=bool)).astype(e.value.dtype))
    diff = expand_dims(e, -2) - expand_dims(e, -1) + eye  # e_j - e_i, 1 on the diagonal (masked below)
    f = conj(off / diff)
    vt = conj(_t(v))
    vgv = _mm(vt, gv)
    diag_real = cast(real(diag_part(vgv)), vgv.value.dtype)
    mid = expand_dims(ge, -1) * eye + f * (vgv - _mm(_mm(vt, v), expand_dims(diag_real, -2) * eye))
    grad = solve(vt, _mm(mid, vt))
    source = op.inputs[0].value.dtype
    return (cast(real(grad), source) if source.kind == "f" else grad,)


def eigvals(tensor, name=None) -> Tensor:
    """The (complex) eigenvalues of general square matrices (differentiable like ``eig``).

    >>> eigvals([[0.0, -1.0], [1.0, 0.0]]).numpy()
    array([0.+1.j, 0.-1.j], dtype=complex64)
    """
    return eig(tensor)[0]


def lu(input, output_idx_type="int32", name=None) -> Lu:  # noqa: A002 - TensorFlow's name
    """LU decomposition with partial pivoting: ``A[p] = L U``, ``L`` unit lower and ``U`` upper triangular,
    packed into one matrix ``lu`` (``L`` below the diagonal).

    >>> result = lu([[4.0, 1.0], [2.0, 3.0]])
    >>> result.lu.numpy(), result.p.numpy()
    (array([[4. , 1. ],
           [0.5, 2.5]], dtype=float32), array([0, 1], dtype=int32))
    """
    a = _matrices(input, "lu")
    av = a.value
    xp = array_module(av)
    n = av.shape[-1]
    flat = av.reshape((-1, n, n)).astype(np.float64 if av.dtype.kind == "f" else av.dtype)
    packed = np.empty_like(flat)
    perms = np.empty((flat.shape[0], n), dtype=np.int64)
    for b in range(flat.shape[0]):
        m = np.array(flat[b], copy=True)
        perm = np.arange(n)
        for k in range(n - 1):
            pivot = k + int(np.argmax(np.abs(m[k:, k])))
            if pivot != k:
                m[[k, pivot]] = m[[pivot, k]]
                perm[[k, pivot]] = perm[[pivot, k]]
            if m[k, k] != 0:
                m[k + 1:, k] /= m[k, k]
                m[k + 1:, k + 1:] -= np.outer(m[k + 1:, k], m[k, k + 1:])
        packed[b], perms[b] = m, perm
    out = xp.asarray(packed.reshape(av.shape).astype(av.dtype))
    p = Tensor(xp.asarray(perms.reshape(av.shape[:-1]).astype(np.dtype(output_idx_type))))
    return Lu(record_op("lu", (a,), out, {"perm": p.value}), p)


@register_gradient("lu")
def _lu_rule(op, g):
    from featherflow.ops.linalg_solve import triangular_solve
    from featherflow.ops.linalg_struct import band_part, set_diag
    from featherflow.ops.shape import reshape

    packed = op.output
    n = packed.value.shape[-1]
    lower = set_diag(band_part(packed, -1, 0), Tensor(np.ones(packed.value.shape[:-1], packed.value.dtype)))
    upper = band_part(packed, 0, -1)
    y = band_part(_mm(lower, g, adjoint_a=True), -1, 0) - band_part(_mm(lower, g, adjoint_a=True), 0, 0) \
        + band_part(_mm(g, upper, adjoint_b=True), 0, -1)
    # grad_A_permuted = L^-T Y U^-T
    z = triangular_solve(lower, y, lower=True, adjoint=True)
    z = _t(triangular_solve(upper, _t(z), lower=False, adjoint=False))
    # rows back to A's order: A[p] = L U, so grad_A[p] = z
    perm = op.captured["attrs"]["perm"].reshape(-1, n)
    inverse = np.argsort(perm, axis=-1)
    from featherflow.ops.indexing import gather

    flat = reshape(z, (-1, n, n))
    grad = gather(flat, inverse, axis=1, batch_dims=1)
    return (reshape(grad, packed.value.shape),)


def pinv(a, rcond=None, validate_args=False, name=None) -> Tensor:
    """Moore-Penrose pseudo-inverse from the SVD: singular values below ``rcond * max(s)`` count as zero
    (``rcond`` defaults to ``10 * max(m, n) * eps``). Differentiable (through ``svd``) where the rank is full.

    >>> pinv([[1.0, 2.0], [2.0, 4.0]]).numpy().round(4)
    array([[0.04, 0.08],
           [0.08, 0.16]], dtype=float32)
    """
    from featherflow.ops.compare import where
    from featherflow.ops.reduce import reduce_max
    from featherflow.ops.shape import expand_dims

    x = _matrices(a, "pinv", square=False, arg="a")
    m, n = x.value.shape[-2:]
    if rcond is None:
        rcond = 10.0 * max(m, n) * np.finfo(x.value.dtype).eps
    s, u, v = svd(x)
    cutoff = rcond * reduce_max(s, axis=-1, keepdims=True)
    keep = s > cutoff
    s_inv = where(keep, 1.0 / where(keep, s, s * 0 + 1), s * 0)
    return _mm(v * expand_dims(s_inv, -2), u, adjoint_b=True)


def matrix_rank(a, tol=None, validate_args=False, name=None) -> Tensor:
    """The number of singular values above ``tol`` (default ``eps * max(m, n) * max(s)``), int32.

    >>> int(matrix_rank([[1.0, 2.0], [2.0, 4.0]]))
    1
    """
    x = _matrices(a, "matrix_rank", square=False, arg="a")
    xv = x.value
    xp = array_module(xv)
    s = xp.linalg.svd(xv, compute_uv=False)
    if tol is None:
        tol = s.max(axis=-1, keepdims=True) * max(xv.shape[-2:]) * np.finfo(xv.dtype).eps
    return Tensor(xp.asarray((s > tol).sum(axis=-1)).astype(np.int32))


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)


def expm(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The matrix exponential, by the [13/13] Pade approximant with scaling and squaring (Higham, 2005),
    built from differentiable ops.

    >>> expm([[0.0, 0.0], [0.0, 0.0]]).numpy()
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    from featherflow.ops.linalg_solve import solve

    a = _matrices(input, "expm")
    norm1 = float(np.max(np.abs(np.asarray(a.value)).sum(axis=-2))) if a.value.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm1 / 5.371920351148152)))) if norm1 > 0 else 0
    x = a * (0.5 ** squarings) if squarings else a
    eye = _eye_like(x)
    x2 = _mm(x, x)
    x4 = _mm(x2, x2)
    x6 = _mm(x4, x2)
    b = _PADE13
    u = _mm(x, _mm(x6, b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = _mm(x6, b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    result = solve(v - u, v + u)
    for _ in range(squarings):
        result = _mm(result, result)
    return result


def sqrtm(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The principal square root ``X`` (``X X = A``) of matrices with no eigenvalues on the closed negative
    real axis, by eigen-decomposition; gradient from the Sylvester equation ``X^T G + G X^T = g``.

    >>> sqrtm([[4.0, 0.0], [0.0, 9.0]]).numpy()
    array([[2., 0.],
           [0., 3.]], dtype=float32)
    """
    a = _matrices(input, "sqrtm")
    av = a.value
    xp = array_module(av)
    e, w = xp.linalg.eig(av.astype(np.complex128))
    root = (w * xp.sqrt(e)[..., None, :]) @ xp.linalg.inv(w)
    if av.dtype.kind == "f":
        if np.abs(root.imag).max(initial=0.0) > 1e-6 * max(1.0, np.abs(root.real).max(initial=0.0)):
            raise InvalidArgumentError(None, None, "sqrtm: the matrix has no real principal square root "
                                       "(an eigenvalue on the negative real axis).")
        root = root.real
    return record_op("sqrtm", (a,), root.astype(av.dtype))


def _sylvester_through_ops(root: Tensor, g: Tensor) -> Tensor:
    """``G`` with ``X^T G + G X^T = g``, through differentiable ops: row-major ``vec(G) = K^-1 vec(g)`` with
    ``K = X^T (x) I + I (x) X`` (an ``n^2 x n^2`` solve, paid only when an outer tape differentiates it)."""
    from featherflow.ops.einsum import einsum
    from featherflow.ops.linalg_solve import solve
    from featherflow.ops.shape import reshape

    n = root.value.shape[-1]
    batch = tuple(root.value.shape[:-2])
    eye = Tensor(np.eye(n, dtype=root.value.dtype))
    kron = einsum("...ki,jl->...ijkl", root, eye) + einsum("ik,...jl->...ijkl", eye, root)
    vec = solve(reshape(kron, batch + (n * n, n * n)), reshape(g, batch + (n * n, 1)))
    return reshape(vec, g.value.shape)


@register_gradient("sqrtm")
def _sqrtm_rule(op, g):
    from featherflow.core.tape import is_recording

    if is_recording():  # an outer tape differentiates this gradient: the rule must be made of ops
        return (_sylvester_through_ops(op.output, g),)
    root = op.output.value
    xp = array_module(root)
    # X^T G + G X^T = g with X = W L W^-1: in the basis of X^T's eigenvectors the equation is diagonal
    e, w = xp.linalg.eig(xp.swapaxes(root, -1, -2).astype(np.complex128))
    w_inv = xp.linalg.inv(w)
    gt = w_inv @ g.value.astype(np.complex128) @ w
    solved = gt / (e[..., :, None] + e[..., None, :])
    grad = (w @ solved @ w_inv)
    return (Tensor(grad.real.astype(root.dtype) if root.dtype.kind == "f" else grad.astype(root.dtype)),)


def logm(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The principal matrix logarithm of complex square matrices (by eigen-decomposition; no gradient, as in
    TensorFlow).

    >>> import featherflow as ff
    >>> logm(ff.constant([[1.0 + 0j, 0j], [0j, 1.0 + 0j]])).numpy().real
    array([[0., 0.],
           [0., 0.]])
    """
    a = as_tensor(input, "logm", "input")
    av = a.value
    if av.dtype.kind != "c":
        raise TypeError(f"logm: the input must be complex64 or complex128, as in TensorFlow. Received dtype "
                        f"{av.dtype.name}; cast it with featherflow.cast(x, 'complex64').")
    _matrices(a, "logm")
    xp = array_module(av)
    e, w = xp.linalg.eig(av)
    return Tensor(((w * xp.log(e)[..., None, :]) @ xp.linalg.inv(w)).astype(av.dtype))
