"""``tf.linalg.LinearOperator``: matrices described by their structure, used through products and solves.

The base class implements every method from the operator's dense matrix (``to_dense``), with
differentiable ops; subclasses override what their structure makes cheap (a diagonal's products and
solves are elementwise, a triangular solve skips the LU, a composition chains its factors, ...).
Batch shapes broadcast like the underlying tensors. Structured subclasses live in
``ops/linear_operator_kinds.py``.

>>> import featherflow as ff
>>> op = ff.linalg.LinearOperatorDiag([2.0, 4.0])
>>> op.matvec([1.0, 1.0]).numpy(), float(op.determinant())
(array([2., 4.], dtype=float32), 8.0)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor, TensorShape
from featherflow.ops._convert import as_tensor


def _ops():
    from featherflow.ops import linalg as linalg_ops
    from featherflow.ops import linalg_decomp, linalg_solve, linalg_struct

    return linalg_ops, linalg_decomp, linalg_solve, linalg_struct


class LinearOperator:
    """Base class of the linear operators (TensorFlow's ``tf.linalg.LinearOperator``).

    Args:
        dtype: the element type.
        is_non_singular, is_self_adjoint, is_positive_definite, is_square: hints (``None`` = unknown).
        name: the operator's name.
        parameters: the constructor arguments (for ``parameters``).
    """

    def __init__(self, dtype, graph_parents=None, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None, parameters=None):
        if is_positive_definite and is_non_singular is False:
            raise ValueError("A positive definite operator is always non-singular.")
        self._dtype = np.dtype(dtype)
        self._is_non_singular = True if is_positive_definite else is_non_singular
        self._is_self_adjoint = is_self_adjoint
        self._is_positive_definite = is_positive_definite
        self._is_square = is_square
        self._name = name or type(self).__name__
        self._parameters = dict(parameters or {})

    # -- what subclasses provide -----------------------------------------------------------------
    def _shape(self) -> tuple:
        raise NotImplementedError

    def _to_dense(self) -> Tensor:
        raise NotImplementedError

    # -- properties ----------------------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def parameters(self) -> dict:
        return dict(self._parameters)

    @property
    def shape(self) -> TensorShape:
        """``batch_shape + (range_dimension, domain_dimension)``."""
        return TensorShape(self._shape())

    @property
    def batch_shape(self) -> TensorShape:
        return TensorShape(self._shape()[:-2])

    @property
    def range_dimension(self) -> int:
        return self._shape()[-2]

    @property
    def domain_dimension(self) -> int:
        return self._shape()[-1]

    @property
    def tensor_rank(self) -> int:
        return len(self._shape())

    @property
    def is_non_singular(self):
        return self._is_non_singular

    @property
    def is_self_adjoint(self):
        return self._is_self_adjoint

    @property
    def is_positive_definite(self):
        return self._is_positive_definite

    @property
    def is_square(self):
        if self._is_square is not None:
            return self._is_square
        shape = self._shape()
        return shape[-1] == shape[-2]

    @property
    def H(self) -> LinearOperator:  # noqa: N802 - TensorFlow's name
        return self.adjoint()

    def shape_tensor(self, name="shape_tensor") -> Tensor:
        return Tensor(np.asarray(self._shape(), dtype=np.int32))

    def batch_shape_tensor(self, name="batch_shape_tensor") -> Tensor:
        return Tensor(np.asarray(self._shape()[:-2], dtype=np.int32))

    def tensor_rank_tensor(self, name="tensor_rank_tensor") -> Tensor:
        return Tensor(np.asarray(len(self._shape()), dtype=np.int32))

    def range_dimension_tensor(self, name="range_dimension_tensor") -> Tensor:
        return Tensor(np.asarray(self.range_dimension, dtype=np.int32))

    def domain_dimension_tensor(self, name="domain_dimension_tensor") -> Tensor:
        return Tensor(np.asarray(self.domain_dimension, dtype=np.int32))

    # -- dense-backed methods (subclasses override where structure helps) ---------------------------
    def to_dense(self, name="to_dense") -> Tensor:
        """The operator as a dense ``(..., M, N)`` tensor."""
        return self._to_dense()

    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        """``A @ x`` (``A^H`` with ``adjoint``, ``x^H`` with ``adjoint_arg``); another operator gives a composition."""
        if isinstance(x, LinearOperator):
            from featherflow.ops.linear_operator_kinds import LinearOperatorComposition

            left = self.adjoint() if adjoint else self
            right = x.adjoint() if adjoint_arg else x
            return LinearOperatorComposition([left, right])
        x = self._arg(x, "matmul")
        return self._matmul(x, adjoint, adjoint_arg)

    def _matmul(self, x, adjoint, adjoint_arg):
        linalg_ops, *_ = _ops()
        return linalg_ops.matmul(self.to_dense(), x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def matvec(self, x, adjoint=False, name="matvec") -> Tensor:
        """``A @ x`` for vectors ``x`` of shape ``(..., N)``."""
        from featherflow.ops.shape import expand_dims, squeeze

        return squeeze(self.matmul(expand_dims(self._arg(x, "matvec"), -1), adjoint=adjoint), axis=-1)

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        """``X`` with ``A X = rhs`` (square, non-singular operators)."""
        if isinstance(rhs, LinearOperator):
            from featherflow.ops.linear_operator_kinds import LinearOperatorComposition

            return LinearOperatorComposition([(self.adjoint() if adjoint else self).inverse(),
                                              rhs.adjoint() if adjoint_arg else rhs])
        self._check_square("solve")
        rhs = self._arg(rhs, "solve")
        if adjoint_arg:
            from featherflow.ops.linalg_struct import adjoint as adjoint_op

            rhs = adjoint_op(rhs)
        return self._solve(rhs, adjoint)

    def _solve(self, rhs, adjoint):
        _, _, linalg_solve, _ = _ops()
        return linalg_solve.solve(self.to_dense(), rhs, adjoint=adjoint)

    def solvevec(self, rhs, adjoint=False, name="solvevec") -> Tensor:
        """``x`` with ``A x = rhs`` for vectors."""
        from featherflow.ops.shape import expand_dims, squeeze

        return squeeze(self.solve(expand_dims(self._arg(rhs, "solvevec"), -1), adjoint=adjoint), axis=-1)

    def determinant(self, name="det") -> Tensor:
        self._check_square("determinant")
        _, linalg_decomp, _, _ = _ops()
        return linalg_decomp.det(self.to_dense())

    def log_abs_determinant(self, name="log_abs_det") -> Tensor:
        self._check_square("log_abs_determinant")
        _, linalg_decomp, _, _ = _ops()
        return linalg_decomp.slogdet(self.to_dense())[1]

    def diag_part(self, name="diag_part") -> Tensor:
        _, _, _, linalg_struct = _ops()
        return linalg_struct.diag_part(self.to_dense())

    def trace(self, name="trace") -> Tensor:
        from featherflow.ops.reduce import reduce_sum

        return reduce_sum(self.diag_part(), axis=-1)

    def add_to_tensor(self, x, name="add_to_tensor") -> Tensor:
        return self.to_dense() + self._arg(x, "add_to_tensor")

    def eigvals(self, name="eigvals") -> Tensor:
        self._check_square("eigvals")
        _, linalg_decomp, _, _ = _ops()
        if self.is_self_adjoint:
            return linalg_decomp.eigvalsh(self.to_dense())
        return linalg_decomp.eigvals(self.to_dense())

    def cond(self, name="cond") -> Tensor:
        """The 2-norm condition number: largest over smallest singular value."""
        from featherflow.ops.reduce import reduce_max, reduce_min

        _, linalg_decomp, _, _ = _ops()
        s = linalg_decomp.svd(self.to_dense(), compute_uv=False)
        return reduce_max(s, axis=-1) / reduce_min(s, axis=-1)

    def cholesky(self, name="cholesky"):
        """The Cholesky factor as a ``LinearOperatorLowerTriangular`` (self-adjoint positive-definite operators)."""
        from featherflow.ops.linear_operator_kinds import LinearOperatorLowerTriangular

        if not (self._is_self_adjoint and self._is_positive_definite):
            raise ValueError("Cholesky decomposition only exists for self-adjoint positive definite operators. "
                             "Pass is_self_adjoint=True and is_positive_definite=True.")
        _, linalg_decomp, _, _ = _ops()
        return LinearOperatorLowerTriangular(linalg_decomp.cholesky(self.to_dense()), is_non_singular=True)

    def inverse(self, name="inverse"):
        from featherflow.ops.linear_operator_kinds import LinearOperatorInversion

        if self._is_non_singular is False:
            raise ValueError("Cannot take the inverse of a singular operator (is_non_singular=False).")
        self._check_square("inverse")
        return LinearOperatorInversion(self)

    def adjoint(self, name="adjoint"):
        from featherflow.ops.linear_operator_kinds import LinearOperatorAdjoint

        if self._is_self_adjoint:
            return self
        return LinearOperatorAdjoint(self)

    def assert_non_singular(self, name="assert_non_singular"):
        """Raise ``InvalidArgumentError`` when the operator is singular (a zero singular value)."""
        from featherflow.core.errors import InvalidArgumentError

        _, linalg_decomp, _, _ = _ops()
        s = linalg_decomp.svd(self.to_dense(), compute_uv=False).value
        if (s.min(axis=-1) <= np.finfo(s.dtype).eps * s.max(axis=-1)).any():
            raise InvalidArgumentError(None, None, f"{self.name} is singular.")

    def assert_positive_definite(self, name="assert_positive_definite"):
        from featherflow.core.errors import InvalidArgumentError

        dense = self.to_dense().value
        symmetric = 0.5 * (dense + np.swapaxes(dense, -1, -2).conj())
        if (np.linalg.eigvalsh(symmetric) <= 0).any():
            raise InvalidArgumentError(None, None, f"{self.name} is not positive definite.")

    def assert_self_adjoint(self, name="assert_self_adjoint"):
        from featherflow.core.errors import InvalidArgumentError

        dense = self.to_dense().value
        if not np.allclose(dense, np.swapaxes(dense, -1, -2).conj()):
            raise InvalidArgumentError(None, None, f"{self.name} is not self-adjoint.")

    def __matmul__(self, other):
        return self.matmul(other)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} shape={tuple(self._shape())} dtype={self.dtype.name}>"

    # -- helpers ---------------------------------------------------------------------------------------
    def _arg(self, x, op):
        t = as_tensor(x, f"{type(self).__name__}.{op}", "x", dtype=self._dtype) if not isinstance(x, Tensor) else x
        if t.value.dtype != self._dtype:
            raise TypeError(f"{type(self).__name__}.{op}: the argument must have the operator's dtype "
                            f"{self._dtype.name}. Received dtype {t.value.dtype.name}.")
        return t

    def _check_square(self, method):
        if not self.is_square:
            raise NotImplementedError(f"{type(self).__name__}.{method} needs a square operator. Received shape "
                                      f"{tuple(self._shape())}.")


class LinearOperatorFullMatrix(LinearOperator):
    """An operator given by a dense ``(..., M, N)`` matrix.

    >>> import featherflow as ff
    >>> LinearOperatorFullMatrix([[1.0, 2.0], [3.0, 4.0]]).matvec([1.0, 0.0]).numpy()
    array([1., 3.], dtype=float32)
    """

    def __init__(self, matrix, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorFullMatrix"):
        self._matrix = as_tensor(matrix, "LinearOperatorFullMatrix", "matrix")
        if self._matrix.value.ndim < 2:
            raise ValueError(f"LinearOperatorFullMatrix: the matrix must have rank >= 2. Received shape "
                             f"{self._matrix.value.shape}")
        super().__init__(self._matrix.value.dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"matrix": matrix})

    def _shape(self):
        return self._matrix.value.shape

    def _to_dense(self):
        return self._matrix
