"""Structured matrices: ``band_part``, ``diag`` / ``diag_part`` / ``set_diag`` (with diagonal ranges and
TensorFlow's alignments), ``tensor_diag`` / ``tensor_diag_part``, ``adjoint``, ``cross``, ``matvec``,
``normalize``, ``tridiagonal_matmul`` and ``eigh_tridiagonal``.

Everything is written with indexing, ``where`` and products, so all are differentiable to any order.

A diagonal range ``k = (lo, hi)`` stacks the diagonals from ``hi`` (first row) down to ``lo``; shorter
diagonals are padded per ``align``: ``"RIGHT_LEFT"`` (default) right-aligns superdiagonals and
left-aligns subdiagonals; the main diagonal follows the subdiagonal rule ``*_LEFT`` or the superdiagonal
rule ``LEFT_*``, as in TensorFlow.

>>> import featherflow as ff
>>> ff.linalg.band_part(ff.ones((3, 3)), 0, -1).numpy()
array([[1., 1., 1.],
       [0., 1., 1.],
       [0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor

_ALIGNS = ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT")


def _k_range(k):
    if isinstance(k, Tensor):
        k = k.value.tolist()
    if isinstance(k, (list, tuple)):
        if len(k) == 1:
            return int(k[0]), int(k[0]), False
        lo, hi = int(k[0]), int(k[1])
        if lo > hi:
            raise InvalidArgumentError(None, None, f"The lower diagonal index k[0] must not exceed k[1]. Received: k={k}")
        return lo, hi, lo != hi
    return int(k), int(k), False


def _diagonal_positions(m, n, lo, hi, align):
    """``(rows, cols, valid)`` arrays of shape ``(hi - lo + 1, max_len)``: where each padded diagonal entry sits."""
    if align not in _ALIGNS:
        raise ValueError(f"align must be one of {_ALIGNS}. Received: align={align!r}")
    sup_left, sub_left = align.split("_")[0] == "LEFT", align.split("_")[1] == "LEFT"
    diagonals = list(range(hi, lo - 1, -1))
    lengths = [max(0, min(m - max(0, -d), n - max(0, d))) for d in diagonals]
    width = max(lengths, default=0)
    rows = np.zeros((len(diagonals), width), dtype=np.int64)
    cols = np.zeros_like(rows)
    valid = np.zeros(rows.shape, dtype=bool)
    t = np.arange(width)
    for r, (d, length) in enumerate(zip(diagonals, lengths)):
        left = (d >= 0 and sup_left) or (d <= 0 and sub_left)
        position = t if left else t - (width - length)
        ok = (position >= 0) & (position < length)
        i = np.where(ok, position, 0) + max(0, -d)
        rows[r], cols[r], valid[r] = np.where(ok, i, 0), np.where(ok, i + d, 0), ok
    return rows, cols, valid


def band_part(input, num_lower, num_upper, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Keep the band ``-num_lower <= j - i <= num_upper`` of each matrix (a negative bound keeps that whole
    triangle) and zero the rest.

    >>> band_part([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 0, 1).numpy()
    array([[1., 2., 0.],
           [0., 5., 6.]], dtype=float32)
    """
    from featherflow.ops.compare import where

    x = as_tensor(input, "band_part", "input")
    if x.value.ndim < 2:
        raise ValueError(f"band_part: expected rank >= 2. Received: input.shape={x.value.shape}")
    lower, upper = (int(v.value) if isinstance(v, Tensor) else int(v) for v in (num_lower, num_upper))
    m, n = x.value.shape[-2:]
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    return where(Tensor(keep), x, x * 0)


def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT") -> Tensor:  # noqa: A002
    """Diagonal ``k`` of each matrix, or the padded diagonals ``k = (lo, hi)`` stacked (``hi`` first).

    >>> diag_part([[1.0, 2.0], [3.0, 4.0]]).numpy()
    array([1., 4.], dtype=float32)
    >>> diag_part([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], k=(-1, 1)).numpy()
    array([[0., 1., 5.],
           [0., 4., 8.],
           [3., 7., 0.]], dtype=float32)
    """
    from featherflow.ops.compare import where
    from featherflow.ops.indexing import getitem

    x = as_tensor(input, "diag_part", "input")
    if x.value.ndim < 2:
        raise ValueError(f"diag_part: expected rank >= 2. Received: input.shape={x.value.shape}")
    lo, hi, ranged = _k_range(k)
    m, n = x.value.shape[-2:]
    rows, cols, valid = _diagonal_positions(m, n, lo, hi, align)
    if not ranged:
        rows, cols, valid = rows[0], cols[0], valid[0]
    picked = getitem(x, (Ellipsis, rows, cols))
    if valid.all():
        return picked
    pad = as_tensor(padding_value, "diag_part", "padding_value", dtype=x.value.dtype)
    return where(Tensor(np.broadcast_to(valid, picked.value.shape)), picked, picked * 0 + pad)


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0, align="RIGHT_LEFT") -> Tensor:
    """Matrices with the given diagonal(s) (``k`` a diagonal or a range) and ``padding_value`` elsewhere.

    >>> diag([1.0, 2.0], k=1).numpy()
    array([[0., 1., 0.],
           [0., 0., 2.],
           [0., 0., 0.]], dtype=float32)
    """
    from featherflow.ops.indexing import getitem, index_add

    d = as_tensor(diagonal, "diag", "diagonal")
    lo, hi, ranged = _k_range(k)
    dv = d.value
    if dv.ndim < (2 if ranged else 1) or (ranged and dv.shape[-2] != hi - lo + 1):
        raise ValueError(f"diag: expected a diagonal of shape (..., {hi - lo + 1}, L) for k={k} (or (..., L) for one "
                         f"diagonal). Received: diagonal.shape={dv.shape}")
    width = dv.shape[-1]
    min_rows, min_cols = width - min(hi, 0), width + max(lo, 0)
    num_rows, num_cols = int(num_rows), int(num_cols)
    if num_rows == -1 and num_cols == -1:
        num_rows = num_cols = max(min_rows, min_cols)
    elif num_rows == -1:
        num_rows = min_rows
    elif num_cols == -1:
        num_cols = min_cols
    rows, cols, valid = _diagonal_positions(num_rows, num_cols, lo, hi, align)
    if rows.shape[1] != width:
        raise ValueError(f"diag: the diagonal length {width} does not fit a {num_rows}x{num_cols} matrix with k={k}.")
    batch = dv.shape[:-2] if ranged else dv.shape[:-1]
    source = d if ranged else getitem(d, (Ellipsis, None, slice(None)))
    d_idx, t_idx = np.nonzero(valid)
    values = getitem(source, (Ellipsis, d_idx, t_idx))
    out = index_add(values, (Ellipsis, rows[d_idx, t_idx], cols[d_idx, t_idx]), batch + (num_rows, num_cols))
    pad = np.asarray(padding_value)
    if np.any(pad != 0):
        mask = np.ones((num_rows, num_cols), dtype=dv.dtype)
        mask[rows[valid], cols[valid]] = 0
        out = out + Tensor(mask * pad.astype(dv.dtype))
    return out


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT") -> Tensor:  # noqa: A002
    """A copy of ``input`` with diagonal(s) ``k`` replaced by ``diagonal``.

    >>> set_diag([[1.0, 2.0], [3.0, 4.0]], [9.0, 9.0]).numpy()
    array([[9., 2.],
           [3., 9.]], dtype=float32)
    """
    x = as_tensor(input, "set_diag", "input")
    m, n = x.value.shape[-2:]
    lo, hi, _ = _k_range(k)
    rows, cols, valid = _diagonal_positions(m, n, lo, hi, align)
    keep = np.ones((m, n), dtype=x.value.dtype)
    keep[rows[valid], cols[valid]] = 0
    d = as_tensor(diagonal, "set_diag", "diagonal", dtype=x.value.dtype) if not isinstance(diagonal, Tensor) \
        else diagonal
    return x * Tensor(keep) + diag(d, k=k, num_rows=m, num_cols=n, align=align)


def tensor_diag(diagonal, name=None) -> Tensor:
    """A tensor of shape ``s + s`` with ``diagonal`` (shape ``s``) on its diagonal and zeros elsewhere.

    >>> tensor_diag([1.0, 2.0]).numpy()
    array([[1., 0.],
           [0., 2.]], dtype=float32)
    """
    from featherflow.ops.shape import reshape

    d = as_tensor(diagonal, "tensor_diag", "diagonal")
    shape = d.value.shape
    return reshape(diag(reshape(d, [-1])), shape + shape)


def tensor_diag_part(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The diagonal of a tensor of shape ``s + s``: ``out[i...] = input[i..., i...]``.

    >>> tensor_diag_part([[1.0, 5.0], [7.0, 2.0]]).numpy()
    array([1., 2.], dtype=float32)
    """
    from featherflow.ops.shape import reshape

    x = as_tensor(input, "tensor_diag_part", "input")
    shape = x.value.shape
    half = len(shape) // 2
    if len(shape) % 2 or shape[:half] != shape[half:]:
        raise InvalidArgumentError(None, None, f"tensor_diag_part: input must have shape s + s (even rank). "
                                   f"Received: input.shape={shape}")
    size = int(np.prod(shape[:half], dtype=np.int64))
    return reshape(diag_part(reshape(x, (size, size))), shape[:half])


def adjoint(matrix, name=None) -> Tensor:
    """The conjugate transpose of the last two axes.

    >>> adjoint([[1.0, 2.0]]).shape
    (2, 1)
    """
    from featherflow.ops.complex import conj
    from featherflow.ops.linalg import matrix_transpose

    return conj(matrix_transpose(matrix))


def cross(a, b, name=None) -> Tensor:
    """The cross product of 3-vectors along the last axis (broadcast over the rest).

    >>> cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]).numpy()
    array([0., 0., 1.], dtype=float32)
    """
    from featherflow.ops._convert import binary_operands
    from featherflow.ops.shape import stack

    a, b = binary_operands(a, b, "cross")
    if a.value.shape[-1:] != (3,) or b.value.shape[-1:] != (3,):
        raise ValueError(f"cross: the last axis of both inputs must have size 3. Received: a.shape={a.value.shape}, "
                         f"b.shape={b.value.shape}")
    a1, a2, a3 = (a[..., i] for i in range(3))
    b1, b2, b3 = (b[..., i] for i in range(3))
    return stack([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1], axis=-1)


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False, name=None) -> Tensor:
    """Matrix-vector product ``a @ b`` over the last axes (``b`` of shape ``(..., n)``).

    >>> matvec([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).numpy()
    array([3., 7.], dtype=float32)
    """
    from featherflow.ops.linalg import matmul
    from featherflow.ops.shape import expand_dims, squeeze

    return squeeze(matmul(a, expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a), axis=-1)


def normalize(tensor, ord="euclidean", axis=None, name=None) -> tuple:  # noqa: A002 - TensorFlow's name
    """``(tensor / norm, norm)`` with ``norm = linalg.norm(tensor, ord, axis, keepdims=True)``.

    >>> unit, length = normalize([3.0, 4.0])
    >>> unit.numpy(), length.numpy()
    (array([0.6, 0.8], dtype=float32), array([5.], dtype=float32))
    """
    from featherflow.ops.clip import norm

    x = as_tensor(tensor, "normalize", "tensor")
    length = norm(x, ord=ord, axis=axis, keepdims=True)
    return x / length, length


def _tridiagonal(diagonals, op, diagonals_format):
    """The dense matrices of tridiagonal ``diagonals`` in any of TensorFlow's formats."""
    from featherflow.ops.indexing import getitem

    if diagonals_format == "matrix":
        return as_tensor(diagonals, op, "diagonals")
    if diagonals_format == "sequence":
        sup, main, sub = (as_tensor(d, op, "diagonals") for d in diagonals)
    elif diagonals_format == "compact":
        d = as_tensor(diagonals, op, "diagonals")
        if d.value.ndim < 2 or d.value.shape[-2] != 3:
            raise ValueError(f"{op}: compact diagonals must have shape (..., 3, M). Received: {d.value.shape}")
        sup, main, sub = (getitem(d, (Ellipsis, i, slice(None))) for i in range(3))
    else:
        raise ValueError(f'{op}: diagonals_format must be "compact", "sequence" or "matrix". '
                         f"Received: {diagonals_format!r}")
    m = main.value.shape[-1]
    return (diag(main) + diag(getitem(sup, (Ellipsis, slice(0, m - 1))), k=1, num_rows=m, num_cols=m)
            + diag(getitem(sub, (Ellipsis, slice(1, m))), k=-1, num_rows=m, num_cols=m))


def tridiagonal_matmul(diagonals, rhs, diagonals_format="compact", name=None) -> Tensor:
    """``T @ rhs`` for tridiagonal ``T`` given by its diagonals (``compact``: ``(..., 3, M)`` rows superdiagonal,
    diagonal, subdiagonal; ``sequence``: those three tensors; ``matrix``: ``T`` itself).

    >>> tridiagonal_matmul([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0], [0.0, 1.0, 1.0]], [[1.0], [1.0], [1.0]]).numpy()
    array([[3.],
           [4.],
           [3.]], dtype=float32)
    """
    from featherflow.ops.linalg import matmul

    return matmul(_tridiagonal(diagonals, "tridiagonal_matmul", diagonals_format), rhs)


def eigh_tridiagonal(alpha, beta, eigvals_only=True, select="a", select_range=None, tol=None, name=None):
    """Eigenvalues (and with ``eigvals_only=False`` eigenvectors) of the symmetric tridiagonal matrix with
    diagonal ``alpha`` and off-diagonal ``beta``. ``select``: ``"a"`` all, ``"v"`` those in
    ``(select_range[0], select_range[1]]``, ``"i"`` the indices ``select_range[0]..select_range[1]``.

    >>> eigh_tridiagonal([2.0, 2.0], [1.0]).numpy()
    array([1., 3.], dtype=float32)
    """
    from featherflow.ops.indexing import gather
    from featherflow.ops.linalg_decomp import eigh

    a = as_tensor(alpha, "eigh_tridiagonal", "alpha")
    b = as_tensor(beta, "eigh_tridiagonal", "beta", dtype=a.value.dtype) if not isinstance(beta, Tensor) else beta
    n = a.value.shape[-1]
    if a.value.ndim != 1 or b.value.shape != (n - 1,):
        raise ValueError(f"eigh_tridiagonal: alpha must be a vector of length n and beta of length n - 1. "
                         f"Received: alpha.shape={a.value.shape}, beta.shape={b.value.shape}")
    matrix = diag(a) + diag(b, k=1, num_rows=n, num_cols=n) + diag(b, k=-1, num_rows=n, num_cols=n)
    e, v = eigh(matrix)
    if select == "a":
        chosen = None
    elif select == "i":
        chosen = np.arange(int(select_range[0]), int(select_range[1]) + 1)
    elif select == "v":
        ev = e.value
        chosen = np.nonzero((ev > select_range[0]) & (ev <= select_range[1]))[0]
    else:
        raise ValueError(f'eigh_tridiagonal: select must be "a", "v" or "i". Received: select={select!r}')
    if chosen is not None:
        e, v = gather(e, chosen), gather(v, chosen, axis=1)
    return e if eigvals_only else (e, v)
