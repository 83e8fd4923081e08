"""The ``tf.Variable`` methods that need ops: sliced assignment (``v[1:].assign(x)``), the ``scatter_*`` and
``scatter_nd_*`` updates, ``sparse_read`` / ``gather_nd``, and the ``synchronization`` / ``aggregation`` it was
created with.

``core`` cannot import ``ops`` (imports point down), so ``install()`` attaches them to ``Variable`` when
``featherflow.ops`` is imported, as the operators are. Updates write into the variable's array in place (it may be
a view into an optimizer's flat buffer) and return the variable, as TensorFlow's do. Repeated indices accumulate
for ``scatter_add``/``sub``/``mul``/``div``/``min``/``max``; for ``scatter_update`` the last write wins.

>>> import featherflow as ff
>>> v = ff.Variable([1.0, 2.0, 3.0])
>>> _ = v[1:].assign([5.0, 6.0])
>>> v.scatter_nd_add([[0], [0]], [1.0, 1.0]).numpy()
array([3., 5., 6.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.core.variable import Variable
from featherflow.ops import indexing


def _array(value, dtype, what: str) -> np.ndarray:
    arr = value.value if isinstance(value, Tensor) else convert_to_tensor(value, dtype_hint=dtype).value
    if arr.dtype != dtype:
        if arr.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
            raise TypeError(f"{what}: the update holds floats but the variable is {np.dtype(dtype).name}. Cast it "
                            f"first. Received: dtype={arr.dtype.name}")
        arr = arr.astype(dtype)
    return arr


def _assign_slice(variable: Variable, key, value, use_locking=None, name=None, read_value=True) -> Variable:
    target = variable.value[key]
    update = _array(value, variable.value.dtype, "assign")
    try:
        update = np.broadcast_to(update, target.shape)
    except ValueError:
        raise InvalidArgumentError(None, None, f"Cannot assign a value of shape {update.shape} to the slice of shape "
                                   f"{target.shape} of variable '{variable.name}'.") from None
    variable.value[key] = update
    return variable


class _VariableSlice(Tensor):
    """What ``variable[key]`` returns: the slice's value (an ordinary, differentiable tensor) whose ``assign``
    writes that slice of the variable, as TensorFlow's sliced assignment does (``v[0, 1].assign(7.0)``)."""

    __slots__ = ()

    def assign(self, value, use_locking=None, name=None, read_value=True) -> Variable:
        variable, key = self.__dict__["_slice_of"]
        return _assign_slice(variable, key, value)


def _getitem(variable: Variable, key) -> Tensor:
    key = indexing._index_key(key)
    out = indexing.getitem(variable, key)
    if type(out) is Tensor:  # re-typed in place: the tape knows the output by identity (a wrapper would cost more)
        out.__class__ = _VariableSlice
        out._slice_of = (variable, key)
    return out


def _sparse_delta(sparse_delta, op: str):
    if not (hasattr(sparse_delta, "values") and hasattr(sparse_delta, "indices")) or isinstance(sparse_delta, Tensor):
        raise TypeError(f"Argument `sparse_delta` must be a `tf.IndexedSlices`. Received arg: {sparse_delta!r:.80}")
    indices = np.asarray(sparse_delta.indices.value if isinstance(sparse_delta.indices, Tensor)
                         else sparse_delta.indices).astype(np.int64)
    return indices, sparse_delta.values


def _check_rows(variable, indices, op):
    size = variable.value.shape[0] if variable.value.ndim else 0
    bad = indices[(indices < 0) | (indices >= size)]
    if bad.size:
        raise InvalidArgumentError(None, None, f"{op}: index {int(bad.flat[0])} is not in [0, {size}) for variable "
                                   f"'{variable.name}' of shape {variable.value.shape}.")


def _apply(variable, index: tuple, kind, updates):
    """Update ``variable.value[index]`` (a tuple of index arrays of one shape S; ``updates``: S + the rest)."""
    arr = variable.value
    if kind == "update":
        arr[index] = updates
    elif kind == "div" and arr.dtype.kind in "iu":  # TensorFlow divides integers truncating toward zero
        for position in np.ndindex(index[0].shape):
            where = tuple(int(axis[position]) for axis in index)
            numerator, denominator = arr[where], updates[position]
            arr[where] = np.trunc(np.true_divide(numerator, denominator)).astype(arr.dtype)
    else:
        {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "min": np.minimum,
         "max": np.maximum}[kind].at(arr, index, updates)
    return variable


def _scatter(kind: str):
    op = f"scatter_{kind}"

    def method(self, sparse_delta, use_locking=False, name=None):
        indices, values = _sparse_delta(sparse_delta, op)
        _check_rows(self, indices, op)
        updates = _array(values, self.value.dtype, op)
        expected = indices.shape + self.value.shape[1:]
        if updates.shape != expected:
            raise InvalidArgumentError(None, None, f"{op}: updates must have shape indices.shape + "
                                       f"variable.shape[1:] = {expected}. Received: updates.shape={updates.shape}")
        return _apply(self, (indices,), kind, updates)

    method.__name__ = op
    method.__doc__ = f"``{kind}`` the rows ``sparse_delta.indices`` of the variable with ``sparse_delta.values``."
    return method


def _scatter_nd(kind: str):
    op = f"scatter_nd_{kind}"

    def method(self, indices, updates, use_locking=None, name=None):
        idx = np.asarray(indices.value if isinstance(indices, Tensor) else indices).astype(np.int64)
        shape = self.value.shape
        depth = idx.shape[-1] if idx.ndim else 0
        if idx.ndim == 0 or depth > len(shape):
            raise InvalidArgumentError(None, None, f"{op}: the last axis of `indices` must index at most the "
                                       f"variable's rank {len(shape)}. Received: indices.shape={idx.shape}")
        rows = idx.reshape(-1, depth)
        outside = np.any((rows < 0) | (rows >= np.asarray(shape[:depth], dtype=np.int64)), axis=1)
        if outside.any():
            raise InvalidArgumentError(None, None, f"{op}: indices = {rows[outside][0].tolist()} does not index into "
                                       f"shape {list(shape)}")
        values = _array(updates, self.value.dtype, op)
        expected = idx.shape[:-1] + shape[depth:]
        if values.shape != expected:
            raise InvalidArgumentError(None, None, f"{op}: updates must have shape indices.shape[:-1] + "
                                       f"variable.shape[{depth}:] = {expected}. Received: updates.shape="
                                       f"{values.shape}")
        return _apply(self, tuple(np.moveaxis(idx, -1, 0)), kind, values)

    method.__name__ = op
    method.__doc__ = f"``{kind}`` the elements (or slices) of the variable at ``indices`` with ``updates``."
    return method


def _sparse_read(self, indices, name=None) -> Tensor:
    """The rows ``indices`` of the variable (``tf.gather``; differentiable)."""
    return indexing.gather(self, indices)


def _gather_nd(self, indices, name=None) -> Tensor:
    """``tf.gather_nd`` of the variable (differentiable)."""
    return indexing.gather_nd(self, indices)


def _synchronization(self):
    from featherflow.ops.eager_api import VariableSynchronization

    return VariableSynchronization(self.__dict__.get("_synchronization", VariableSynchronization.AUTO.value))


def _aggregation(self):
    from featherflow.ops.eager_api import VariableAggregation

    return VariableAggregation(self.__dict__.get("_aggregation", VariableAggregation.NONE.value))


def install() -> None:
    """Attach the methods to ``Variable`` (idempotent)."""
    Variable.__getitem__ = _getitem
    for kind in ("update", "add", "sub", "mul", "div", "min", "max"):
        setattr(Variable, f"scatter_{kind}", _scatter(kind))
    for kind in ("update", "add", "sub", "min", "max"):
        setattr(Variable, f"scatter_nd_{kind}", _scatter_nd(kind))
    Variable.sparse_read = _sparse_read
    Variable.gather_nd = _gather_nd
    Variable.synchronization = property(_synchronization)
    Variable.aggregation = property(_aggregation)
