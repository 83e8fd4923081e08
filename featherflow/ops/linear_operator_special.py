"""Circulant, Toeplitz, tridiagonal, Householder and permutation ``LinearOperator``s.

A circulant operator is diagonal in the Fourier basis: ``C = F^-1 diag(spectrum) F``, so its first column is
``ifft(spectrum)`` and ``C[i, j] = c[(i - j) mod n]``; the 2-D and 3-D variants are block-circulant with
circulant blocks (``spectrum`` over 2 or 3 axes, ``N = prod(shape)``). By default the operators are
complex (``input_output_dtype=complex64``), as in TensorFlow.

>>> import featherflow as ff
>>> ff.linalg.LinearOperatorPermutation([2, 0, 1]).matvec([10.0, 20.0, 30.0]).numpy()
array([30., 10., 20.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.linear_operator import LinearOperator


class _CirculantBase(LinearOperator):
    _rank = 1

    def __init__(self, spectrum, input_output_dtype="complex64", is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, name=None):
        self._spectrum = as_tensor(spectrum, type(self).__name__, "spectrum")
        if self._spectrum.value.ndim < self._rank:
            raise ValueError(f"{type(self).__name__}: spectrum must have rank >= {self._rank}. Received shape "
                             f"{self._spectrum.value.shape}")
        if self._spectrum.value.dtype.kind != "c":
            from featherflow.ops.complex import complex as make_complex

            self._spectrum = make_complex(self._spectrum, self._spectrum * 0)
        super().__init__(np.dtype(input_output_dtype), None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name or type(self).__name__, {"spectrum": spectrum,
                                                                  "input_output_dtype": input_output_dtype})

    @property
    def spectrum(self) -> Tensor:
        return self._spectrum

    def _block_shape(self):
        return tuple(self._spectrum.value.shape[-self._rank:])

    def _shape(self):
        n = int(np.prod(self._block_shape()))
        return tuple(self._spectrum.value.shape[:-self._rank]) + (n, n)

    def _to_dense(self):
        from featherflow.ops.complex import real
        from featherflow.ops.fft import ifftnd
        from featherflow.ops.math import cast
        from featherflow.ops.shape import reshape

        dims = self._block_shape()
        spectrum = self._spectrum
        axes = list(range(spectrum.value.ndim - self._rank, spectrum.value.ndim))
        kernel = ifftnd(spectrum, axes=axes)  # the first column, as an image over the block axes
        # entry ((i...), (j...)) is kernel[(i - j) mod dims]
        grids = np.indices(dims).reshape(self._rank, -1)
        diffs = (grids[:, :, None] - grids[:, None, :]) % np.asarray(dims)[:, None, None]
        flat_index = np.ravel_multi_index(tuple(diffs), dims)
        from featherflow.ops.indexing import gather

        flat = reshape(kernel, tuple(kernel.value.shape[:-self._rank]) + (-1,))
        dense = gather(flat, flat_index, axis=flat.value.ndim - 1)
        if self._dtype.kind != "c":
            return cast(real(dense), self._dtype)
        return cast(dense, self._dtype)


class LinearOperatorCirculant(_CirculantBase):
    """A circulant operator given by its spectrum (the DFT of its first column) on the last axis."""

    _rank = 1


class LinearOperatorCirculant2D(_CirculantBase):
    """A block-circulant operator with circulant blocks: ``spectrum`` over the last two axes."""

    _rank = 2


class LinearOperatorCirculant3D(_CirculantBase):
    """A doubly block-circulant operator: ``spectrum`` over the last three axes."""

    _rank = 3


class LinearOperatorToeplitz(LinearOperator):
    """A Toeplitz operator: first column ``col``, first row ``row`` (``row[0]`` is ignored; ``col[0]`` is used)."""

    def __init__(self, col, row, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, name="LinearOperatorToeplitz"):
        self._col = as_tensor(col, "LinearOperatorToeplitz", "col")
        self._row = as_tensor(row, "LinearOperatorToeplitz", "row", dtype=self._col.value.dtype) \
            if not isinstance(row, Tensor) else row
        if self._col.value.shape[-1] != self._row.value.shape[-1]:
            raise ValueError(f"LinearOperatorToeplitz: col and row must have the same length. Received: "
                             f"{self._col.value.shape} and {self._row.value.shape}")
        super().__init__(self._col.value.dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"col": col, "row": row})

    @property
    def col(self) -> Tensor:
        return self._col

    @property
    def row(self) -> Tensor:
        return self._row

    def _shape(self):
        n = self._col.value.shape[-1]
        batch = np.broadcast_shapes(self._col.value.shape[:-1], self._row.value.shape[:-1])
        return tuple(batch) + (n, n)

    def _to_dense(self):
        from featherflow.ops.indexing import gather, getitem
        from featherflow.ops.shape import concat, reverse

        n = self._col.value.shape[-1]
        # v = [row[n-1], ..., row[1], col[0], ..., col[n-1]]; T[i, j] = v[n - 1 + i - j]
        v = concat([reverse(getitem(self._row, (Ellipsis, slice(1, None))), [-1]), self._col], axis=-1)
        index = (n - 1) + np.arange(n)[:, None] - np.arange(n)[None, :]
        return gather(v, index, axis=v.value.ndim - 1)


class LinearOperatorTridiag(LinearOperator):
    """A tridiagonal operator from its diagonals (formats as in ``linalg.tridiagonal_matmul``)."""

    def __init__(self, diagonals, diagonals_format="compact", is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorTridiag"):
        from featherflow.ops.linalg_struct import _tridiagonal

        self._format = diagonals_format
        self._diagonals = diagonals
        self._dense = _tridiagonal(diagonals, "LinearOperatorTridiag", diagonals_format)
        super().__init__(self._dense.value.dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"diagonals": diagonals, "diagonals_format": diagonals_format})

    @property
    def diagonals(self):
        return self._diagonals

    @property
    def diagonals_format(self) -> str:
        return self._format

    def _shape(self):
        return self._dense.value.shape

    def _to_dense(self):
        return self._dense


class LinearOperatorHouseholder(LinearOperator):
    """The Householder reflection ``I - 2 v v^H / (v^H v)`` about the hyperplane orthogonal to
    ``reflection_axis`` ``v``: self-adjoint, its own inverse, determinant -1."""

    def __init__(self, reflection_axis, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorHouseholder"):
        self._axis = as_tensor(reflection_axis, "LinearOperatorHouseholder", "reflection_axis")
        if is_positive_definite:
            raise ValueError("A Householder operator is never positive definite.")
        super().__init__(self._axis.value.dtype, None, True, True, False, True, name,
                         {"reflection_axis": reflection_axis})

    @property
    def reflection_axis(self) -> Tensor:
        return self._axis

    def _shape(self):
        shape = self._axis.value.shape
        return shape + shape[-1:]

    def _to_dense(self):
        return self.matmul(Tensor(np.broadcast_to(np.eye(self._shape()[-1], dtype=self._dtype),
                                                  self._shape()).copy()))

    def _matmul(self, x, adjoint, adjoint_arg):
        from featherflow.ops.linalg import matmul
        from featherflow.ops.linalg_struct import adjoint as adjoint_op
        from featherflow.ops.reduce import reduce_sum
        from featherflow.ops.shape import expand_dims

        x = adjoint_op(x) if adjoint_arg else x
        v = expand_dims(self._axis, -1)
        norm = expand_dims(expand_dims(reduce_sum(self._axis * self._axis, axis=-1), -1), -1)
        return x - 2.0 * matmul(v, matmul(v, x, adjoint_a=True)) / norm

    def _solve(self, rhs, adjoint):
        return self._matmul(rhs, adjoint, False)

    def determinant(self, name="det"):
        return Tensor(-np.ones(self._shape()[:-2], dtype=self._dtype))

    def log_abs_determinant(self, name="log_abs_det"):
        return Tensor(np.zeros(self._shape()[:-2], dtype=self._dtype))


class LinearOperatorPermutation(LinearOperator):
    """A permutation operator: ``(P x)[i] = x[perm[i]]`` (its dense form is ``one_hot(perm)``)."""

    def __init__(self, perm, dtype="float32", is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorPermutation"):
        self._perm = np.asarray(perm.value if isinstance(perm, Tensor) else perm, dtype=np.int64)
        n = self._perm.shape[-1]
        if (np.sort(self._perm, axis=-1) != np.arange(n)).any():
            raise ValueError(f"LinearOperatorPermutation: perm must be a permutation of 0..{n - 1}. Received: "
                             f"{self._perm.tolist()}")
        super().__init__(dtype, None, True, None, None, True, name, {"perm": perm, "dtype": dtype})

    @property
    def perm(self) -> Tensor:
        return Tensor(self._perm.astype(np.int32))

    def _shape(self):
        shape = self._perm.shape
        return shape + shape[-1:]

    def _to_dense(self):
        n = self._perm.shape[-1]
        return Tensor((self._perm[..., :, None] == np.arange(n)).astype(self._dtype))

    def _rows(self, x, index):
        from featherflow.ops.indexing import gather

        if index.ndim == 1:
            return gather(x, index, axis=x.value.ndim - 2)
        return gather(x, index, axis=x.value.ndim - 2, batch_dims=index.ndim - 1)

    def _matmul(self, x, adjoint, adjoint_arg):
        from featherflow.ops.linalg_struct import adjoint as adjoint_op

        x = adjoint_op(x) if adjoint_arg else x
        return self._rows(x, np.argsort(self._perm, axis=-1) if adjoint else self._perm)

    def _solve(self, rhs, adjoint):
        return self._rows(rhs, self._perm if adjoint else np.argsort(self._perm, axis=-1))

    def determinant(self, name="det"):
        perm = self._perm.reshape(-1, self._perm.shape[-1])
        signs = []
        for p in perm:
            seen, sign = np.zeros(p.size, bool), 1.0
            for start in range(p.size):
                length = 0
                i = start
                while not seen[i]:
                    seen[i] = True
                    i = p[i]
                    length += 1
                if length and length % 2 == 0:
                    sign = -sign
            signs.append(sign)
        return Tensor(np.asarray(signs, dtype=self._dtype).reshape(self._perm.shape[:-1]))

    def log_abs_determinant(self, name="log_abs_det"):
        return Tensor(np.zeros(self._perm.shape[:-1], dtype=self._dtype))
