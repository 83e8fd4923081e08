"""The structured ``LinearOperator`` subclasses of ``tf.linalg``: diagonal, identity, triangular, composed,
block, Kronecker, low-rank-updated and zero operators (circulant, Toeplitz, tridiagonal, Householder and
permutation operators are in ``ops/linear_operator_special.py``).

Each describes its dense matrix with differentiable ops and overrides the methods its structure makes
cheap; everything else comes from ``LinearOperator`` (``ops/linear_operator.py``).

>>> import featherflow as ff
>>> ff.linalg.LinearOperatorKronecker([ff.linalg.LinearOperatorDiag([1.0, 2.0]),
...                                    ff.linalg.LinearOperatorIdentity(2)]).diag_part().numpy()
array([1., 1., 2., 2.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import floatx
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.linear_operator import LinearOperator, _ops


def _product_of_determinants(self, name="det"):
    """The determinant of a product or block-diagonal of square operators: the product of theirs."""
    result = self._operators[0].determinant()
    for op in self._operators[1:]:
        result = result * op.determinant()
    return result


def _sum_of_log_abs_determinants(self, name="log_abs_det"):
    result = self._operators[0].log_abs_determinant()
    for op in self._operators[1:]:
        result = result + op.log_abs_determinant()
    return result


def _math():
    from featherflow.ops import math as m
    from featherflow.ops import reduce as r
    from featherflow.ops import shape as s

    return m, r, s


class LinearOperatorDiag(LinearOperator):
    """A diagonal operator ``diag(d)`` (``d`` of shape ``(..., N)``): products and solves are elementwise."""

    def __init__(self, diag, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None, is_square=True,
                 name="LinearOperatorDiag"):
        self._diag = as_tensor(diag, "LinearOperatorDiag", "diag")
        if self._diag.value.ndim < 1:
            raise ValueError("LinearOperatorDiag: diag must have rank >= 1.")
        if is_self_adjoint is None and self._diag.value.dtype.kind != "c":
            is_self_adjoint = True
        super().__init__(self._diag.value.dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"diag": diag})

    def _shape(self):
        shape = self._diag.value.shape
        return shape + shape[-1:]

    def _to_dense(self):
        return _ops()[3].diag(self._diag)

    def _d(self, adjoint):
        from featherflow.ops.complex import conj

        return conj(self._diag) if adjoint else self._diag

    def _matmul(self, x, adjoint, adjoint_arg):
        from featherflow.ops.linalg_struct import adjoint as adjoint_op
        from featherflow.ops.shape import expand_dims

        x = adjoint_op(x) if adjoint_arg else x
        return expand_dims(self._d(adjoint), -1) * x

    def _solve(self, rhs, adjoint):
        from featherflow.ops.shape import expand_dims

        return rhs / expand_dims(self._d(adjoint), -1)

    def determinant(self, name="det"):
        return _math()[1].reduce_prod(self._diag, axis=-1)

    def log_abs_determinant(self, name="log_abs_det"):
        m, r, _ = _math()
        return r.reduce_sum(m.log(m.abs(self._diag)), axis=-1)

    def diag_part(self, name="diag_part"):
        return self._diag

    def inverse(self, name="inverse"):
        return LinearOperatorDiag(1.0 / self._diag, is_non_singular=self._is_non_singular,
                                  is_self_adjoint=self._is_self_adjoint, is_positive_definite=self._is_positive_definite)


class LinearOperatorIdentity(LinearOperator):
    """The identity of size ``num_rows`` (with an optional batch shape)."""

    def __init__(self, num_rows, batch_shape=None, dtype=None, is_non_singular=True, is_self_adjoint=True,
                 is_positive_definite=True, is_square=True, assert_proper_shapes=False, name="LinearOperatorIdentity"):
        self._num_rows = int(num_rows)
        if self._num_rows < 0:
            raise ValueError(f"LinearOperatorIdentity: num_rows must be non-negative. Received: {num_rows}")
        self._batch = tuple(int(b) for b in (batch_shape or ()))
        super().__init__(np.dtype(floatx() if dtype is None else dtype), None, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square, name, {"num_rows": num_rows, "batch_shape": batch_shape})

    def _shape(self):
        return self._batch + (self._num_rows, self._num_rows)

    def _to_dense(self):
        eye = np.eye(self._num_rows, dtype=self._dtype)
        return Tensor(np.broadcast_to(eye, self._shape()).copy())

    def _broadcast(self, x):
        from featherflow.ops.shape import broadcast_to

        shape = np.broadcast_shapes(self._batch, tuple(x.value.shape[:-2])) + tuple(x.value.shape[-2:])
        return broadcast_to(x, shape) if shape != tuple(x.value.shape) else x

    def _matmul(self, x, adjoint, adjoint_arg):
        from featherflow.ops.linalg_struct import adjoint as adjoint_op

        return self._broadcast(adjoint_op(x) if adjoint_arg else x)

    def _solve(self, rhs, adjoint):
        return self._broadcast(rhs)

    def determinant(self, name="det"):
        return Tensor(np.ones(self._batch, dtype=self._dtype))

    def log_abs_determinant(self, name="log_abs_det"):
        return Tensor(np.zeros(self._batch, dtype=self._dtype))


class LinearOperatorScaledIdentity(LinearOperator):
    """``multiplier * I`` of size ``num_rows`` (``multiplier`` a scalar or a batch of scalars)."""

    def __init__(self, num_rows, multiplier, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, assert_proper_shapes=False, name="LinearOperatorScaledIdentity"):
        self._num_rows = int(num_rows)
        self._multiplier = as_tensor(multiplier, "LinearOperatorScaledIdentity", "multiplier")
        super().__init__(self._multiplier.value.dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"num_rows": num_rows, "multiplier": multiplier})

    def _shape(self):
        return self._multiplier.value.shape + (self._num_rows, self._num_rows)

    def _scale(self):
        from featherflow.ops.shape import expand_dims

        return expand_dims(expand_dims(self._multiplier, -1), -1)

    def _to_dense(self):
        return self._scale() * Tensor(np.eye(self._num_rows, dtype=self._dtype))

    def _matmul(self, x, adjoint, adjoint_arg):
        from featherflow.ops.complex import conj
        from featherflow.ops.linalg_struct import adjoint as adjoint_op

        scale = conj(self._scale()) if adjoint else self._scale()
        return scale * (adjoint_op(x) if adjoint_arg else x)

    def _solve(self, rhs, adjoint):
        from featherflow.ops.complex import conj

        return rhs / (conj(self._scale()) if adjoint else self._scale())

    def determinant(self, name="det"):
        return self._multiplier ** self._num_rows

    def log_abs_determinant(self, name="log_abs_det"):
        m, _, _ = _math()
        return self._num_rows * m.log(m.abs(self._multiplier))


class LinearOperatorLowerTriangular(LinearOperator):
    """A lower-triangular operator (the strict upper triangle of ``tril`` is ignored): solves by substitution."""

    def __init__(self, tril, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name="LinearOperatorLowerTriangular"):
        self._tril = as_tensor(tril, "LinearOperatorLowerTriangular", "tril")
        super().__init__(self._tril.value.dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"tril": tril})

    def _shape(self):
        return self._tril.value.shape

    def _to_dense(self):
        return _ops()[3].band_part(self._tril, -1, 0)

    def _solve(self, rhs, adjoint):
        return _ops()[2].triangular_solve(self._tril, rhs, lower=True, adjoint=adjoint)

    def determinant(self, name="det"):
        return _math()[1].reduce_prod(self.diag_part(), axis=-1)

    def log_abs_determinant(self, name="log_abs_det"):
        m, r, _ = _math()
        return r.reduce_sum(m.log(m.abs(self.diag_part())), axis=-1)


class LinearOperatorComposition(LinearOperator):
    """The product ``A_1 A_2 ... A_k`` of operators, applied right to left."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None):
        self._operators = list(operators)
        if not self._operators:
            raise ValueError("LinearOperatorComposition: expected a non-empty list of operators.")
        for left, right in zip(self._operators, self._operators[1:]):
            if left.domain_dimension != right.range_dimension:
                raise ValueError(f"LinearOperatorComposition: operators do not chain: {left.name} has domain "
                                 f"{left.domain_dimension}, {right.name} has range {right.range_dimension}.")
        name = name or "_o_".join(op.name for op in self._operators)
        super().__init__(self._operators[0].dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"operators": operators})

    @property
    def operators(self) -> list:
        return list(self._operators)

    def _shape(self):
        batch = np.broadcast_shapes(*[tuple(op.batch_shape) for op in self._operators])
        return tuple(batch) + (self._operators[0].range_dimension, self._operators[-1].domain_dimension)

    def _to_dense(self):
        result = self._operators[-1].to_dense()
        for op in reversed(self._operators[:-1]):
            result = op.matmul(result)
        return result

    def _matmul(self, x, adjoint, adjoint_arg):
        from featherflow.ops.linalg_struct import adjoint as adjoint_op

        x = adjoint_op(x) if adjoint_arg else x
        order = self._operators if adjoint else list(reversed(self._operators))
        for op in order:
            x = op.matmul(x, adjoint=adjoint)
        return x

    def _solve(self, rhs, adjoint):
        order = list(reversed(self._operators)) if adjoint else self._operators
        for op in order:
            rhs = op.solve(rhs, adjoint=adjoint)
        return rhs

    determinant = _product_of_determinants
    log_abs_determinant = _sum_of_log_abs_determinants


class LinearOperatorAdjoint(LinearOperator):
    """The adjoint (conjugate transpose) ``A^H`` of an operator."""

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None):
        self._operator = operator
        super().__init__(operator.dtype, None, operator.is_non_singular if is_non_singular is None else is_non_singular,
                         operator.is_self_adjoint if is_self_adjoint is None else is_self_adjoint,
                         is_positive_definite, is_square, name or operator.name + "_adjoint", {"operator": operator})

    @property
    def operator(self):
        return self._operator

    def _shape(self):
        shape = tuple(self._operator.shape)
        return shape[:-2] + (shape[-1], shape[-2])

    def _to_dense(self):
        return _ops()[3].adjoint(self._operator.to_dense())

    def _matmul(self, x, adjoint, adjoint_arg):
        return self._operator.matmul(x, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _solve(self, rhs, adjoint):
        return self._operator.solve(rhs, adjoint=not adjoint)

    def determinant(self, name="det"):
        from featherflow.ops.complex import conj

        return conj(self._operator.determinant())

    def log_abs_determinant(self, name="log_abs_det"):
        return self._operator.log_abs_determinant()


class LinearOperatorInversion(LinearOperator):
    """The inverse ``A^-1`` of a non-singular square operator: products are solves and solves products."""

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None):
        if operator.is_non_singular is False:
            raise ValueError("LinearOperatorInversion: the operator must not be singular.")
        self._operator = operator
        super().__init__(operator.dtype, None, True, operator.is_self_adjoint if is_self_adjoint is None
                         else is_self_adjoint, operator.is_positive_definite if is_positive_definite is None
                         else is_positive_definite, is_square, name or operator.name + "_inv", {"operator": operator})

    @property
    def operator(self):
        return self._operator

    def _shape(self):
        return tuple(self._operator.shape)

    def _to_dense(self):
        return _ops()[1].inv(self._operator.to_dense())

    def _matmul(self, x, adjoint, adjoint_arg):
        return self._operator.solve(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _solve(self, rhs, adjoint):
        return self._operator.matmul(rhs, adjoint=adjoint)

    def determinant(self, name="det"):
        return 1.0 / self._operator.determinant()

    def log_abs_determinant(self, name="log_abs_det"):
        return -self._operator.log_abs_determinant()


def _block_dense(rows, dtype):
    """A dense matrix from rows of blocks (``None`` = zeros of the right size)."""
    from featherflow.ops.shape import concat

    heights = [next(b for b in row if b is not None).value.shape[-2] for row in rows]
    widths = []
    for j in range(max(len(row) for row in rows)):
        block = next(row[j] for row in rows if j < len(row) and row[j] is not None)
        widths.append(block.value.shape[-1])
    batch = np.broadcast_shapes(*[b.value.shape[:-2] for row in rows for b in row if b is not None])
    dense_rows = []
    for i, row in enumerate(rows):
        pieces = []
        for j, width in enumerate(widths):
            block = row[j] if j < len(row) else None
            if block is None:
                block = Tensor(np.zeros(tuple(batch) + (heights[i], width), dtype=dtype))
            elif tuple(block.value.shape[:-2]) != tuple(batch):
                from featherflow.ops.shape import broadcast_to

                block = broadcast_to(block, tuple(batch) + tuple(block.value.shape[-2:]))
            pieces.append(block)
        dense_rows.append(concat(pieces, axis=-1))
    return concat(dense_rows, axis=-2)


class LinearOperatorBlockDiag(LinearOperator):
    """A block-diagonal operator ``diag(A_1, ..., A_k)`` of square blocks."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, name=None):
        self._operators = list(operators)
        if not self._operators:
            raise ValueError("LinearOperatorBlockDiag: expected a non-empty list of operators.")
        super().__init__(self._operators[0].dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name or "_ds_".join(op.name for op in self._operators), {"operators": operators})

    @property
    def operators(self) -> list:
        return list(self._operators)

    def _shape(self):
        batch = np.broadcast_shapes(*[tuple(op.batch_shape) for op in self._operators])
        return tuple(batch) + (sum(op.range_dimension for op in self._operators),
                               sum(op.domain_dimension for op in self._operators))

    def _to_dense(self):
        k = len(self._operators)
        return _block_dense([[op.to_dense() if i == j else None for j in range(k)]
                             for i, op in enumerate(self._operators)], self._dtype)

    def _split_apply(self, x, fn, sizes):
        from featherflow.ops.shape import concat, split

        parts = split(x, sizes, axis=-2) if len(sizes) > 1 else [x]
        return concat([fn(op, part) for op, part in zip(self._operators, parts)], axis=-2)

    def _matmul(self, x, adjoint, adjoint_arg):
        from featherflow.ops.linalg_struct import adjoint as adjoint_op

        x = adjoint_op(x) if adjoint_arg else x
        sizes = [op.range_dimension if adjoint else op.domain_dimension for op in self._operators]
        return self._split_apply(x, lambda op, part: op.matmul(part, adjoint=adjoint), sizes)

    def _solve(self, rhs, adjoint):
        sizes = [op.domain_dimension for op in self._operators]
        return self._split_apply(rhs, lambda op, part: op.solve(part, adjoint=adjoint), sizes)

    determinant = _product_of_determinants
    log_abs_determinant = _sum_of_log_abs_determinants


class LinearOperatorBlockLowerTriangular(LinearOperator):
    """A block lower-triangular operator: ``operators[i]`` holds the ``i + 1`` blocks of row ``i``."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorBlockLowerTriangular"):
        self._rows = [list(row) for row in operators]
        for i, row in enumerate(self._rows):
            if len(row) != i + 1:
                raise ValueError(f"LinearOperatorBlockLowerTriangular: row {i} must hold {i + 1} operators. "
                                 f"Received {len(row)}.")
        super().__init__(self._rows[0][0].dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name, {"operators": operators})

    @property
    def operators(self) -> list:
        return [list(row) for row in self._rows]

    def _shape(self):
        batch = np.broadcast_shapes(*[tuple(op.batch_shape) for row in self._rows for op in row])
        return tuple(batch) + (sum(row[-1].range_dimension for row in self._rows),
                               sum(row[-1].domain_dimension for row in self._rows))

    def _to_dense(self):
        return _block_dense([[op.to_dense() for op in row] for row in self._rows], self._dtype)

    def determinant(self, name="det"):
        result = self._rows[0][0].determinant()
        for row in self._rows[1:]:
            result = result * row[-1].determinant()
        return result


class LinearOperatorKronecker(LinearOperator):
    """The Kronecker product ``A_1 (x) A_2 (x) ... (x) A_k``."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None):
        self._operators = list(operators)
        if not self._operators:
            raise ValueError("LinearOperatorKronecker: expected a non-empty list of operators.")
        super().__init__(self._operators[0].dtype, None, is_non_singular, is_self_adjoint, is_positive_definite,
                         is_square, name or "_x_".join(op.name for op in self._operators), {"operators": operators})

    @property
    def operators(self) -> list:
        return list(self._operators)

    def _shape(self):
        batch = np.broadcast_shapes(*[tuple(op.batch_shape) for op in self._operators])
        rows = int(np.prod([op.range_dimension for op in self._operators]))
        cols = int(np.prod([op.domain_dimension for op in self._operators]))
        return tuple(batch) + (rows, cols)

    def _to_dense(self):
        from featherflow.ops.einsum import einsum
        from featherflow.ops.shape import reshape

        result = self._operators[0].to_dense()
        for op in self._operators[1:]:
            other = op.to_dense()
            (m, n), (p, q) = result.value.shape[-2:], other.value.shape[-2:]
            product = einsum("...ij,...kl->...ikjl", result, other)
            result = reshape(product, tuple(product.value.shape[:-4]) + (m * p, n * q))
        return result

    def determinant(self, name="det"):
        total = self.range_dimension
        result = None
        for op in self._operators:
            term = op.determinant() ** (total // op.range_dimension)
            result = term if result is None else result * term
        return result


class LinearOperatorLowRankUpdate(LinearOperator):
    """``L + U diag(d) V^H`` (``d`` defaults to ones, ``V`` to ``U``) for a base operator ``L``."""

    def __init__(self, base_operator, u, diag_update=None, v=None, is_diag_update_positive=None,
                 is_non_singular=None, is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name="LinearOperatorLowRankUpdate"):
        self._base = base_operator
        self._u = as_tensor(u, "LinearOperatorLowRankUpdate", "u", dtype=base_operator.dtype) if not isinstance(
            u, Tensor) else u
        self._v = self._u if v is None else (as_tensor(v, "LinearOperatorLowRankUpdate", "v", dtype=base_operator.dtype)
                                             if not isinstance(v, Tensor) else v)
        self._diag_update = None if diag_update is None else (
            as_tensor(diag_update, "LinearOperatorLowRankUpdate", "diag_update", dtype=base_operator.dtype)
            if not isinstance(diag_update, Tensor) else diag_update)
        if is_self_adjoint is None and v is None and base_operator.is_self_adjoint:
            is_self_adjoint = True
        super().__init__(base_operator.dtype, None, is_non_singular, is_self_adjoint, is_positive_definite, is_square,
                         name, {"base_operator": base_operator, "u": u, "diag_update": diag_update, "v": v})

    @property
    def base_operator(self):
        return self._base

    @property
    def u(self):
        return self._u

    @property
    def v(self):
        return self._v

    @property
    def diag_update(self):
        return self._diag_update

    def _shape(self):
        return tuple(self._base.shape)

    def _to_dense(self):
        from featherflow.ops.linalg import matmul
        from featherflow.ops.shape import expand_dims

        scaled = self._u if self._diag_update is None else self._u * expand_dims(self._diag_update, -2)
        return self._base.to_dense() + matmul(scaled, self._v, adjoint_b=True)


class LinearOperatorZeros(LinearOperator):
    """The zero operator of shape ``(num_rows, num_columns)`` (square by default)."""

    def __init__(self, num_rows, num_columns=None, batch_shape=None, dtype=None, is_non_singular=False,
                 is_self_adjoint=True, is_positive_definite=False, is_square=True, assert_proper_shapes=False,
                 name="LinearOperatorZeros"):
        self._rows = int(num_rows)
        self._cols = self._rows if num_columns is None else int(num_columns)
        self._batch = tuple(int(b) for b in (batch_shape or ()))
        super().__init__(np.dtype(floatx() if dtype is None else dtype), None, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square if self._rows == self._cols else False, name,
                         {"num_rows": num_rows, "num_columns": num_columns, "batch_shape": batch_shape})

    def _shape(self):
        return self._batch + (self._rows, self._cols)

    def _to_dense(self):
        return Tensor(np.zeros(self._shape(), dtype=self._dtype))

    def _matmul(self, x, adjoint, adjoint_arg):
        rows = self._cols if adjoint else self._rows
        k = x.value.shape[-2] if adjoint_arg else x.value.shape[-1]
        batch = np.broadcast_shapes(self._batch, tuple(x.value.shape[:-2]))
        return Tensor(np.zeros(tuple(batch) + (rows, k), dtype=self._dtype))

    def _solve(self, rhs, adjoint):
        raise NotImplementedError("LinearOperatorZeros is singular: it has no solve.")

    def determinant(self, name="det"):
        return Tensor(np.zeros(self._batch, dtype=self._dtype))
