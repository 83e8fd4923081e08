"""``tf.sets``: set operations along the last dimension of dense or sparse tensors.

Each position of the leading dimensions holds one set, the values of its last dimension (duplicates count
once; in a ``SparseTensor`` only the stored values). Results are ``SparseTensor`` s of the same rank whose last
dimension lists each set's members in ascending order, as TensorFlow's set kernels return them.

>>> import featherflow as ff
>>> r = ff.sets.intersection([[1, 2, 3], [4, 5, 6]], [[2, 3, 3], [7, 4, 4]])
>>> ff.sparse.to_dense(r).numpy()
array([[2, 3],
       [4, 0]], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.ops.sparse import SparseTensor

_SUPPORTED = ("int8", "int16", "int32", "int64", "uint8", "uint16", "string")


def _dtype_name(dtype) -> str:
    return "string" if dtype.kind in "OSU" else dtype.name


def _sets(x, arg):
    """``(leading_shape, dtype, {leading_index: set_of_values})`` of a dense or sparse operand."""
    if isinstance(x, SparseTensor):
        shape = tuple(int(d) for d in x.dense_shape.value)
        values, dtype = x.values.value, x.values.value.dtype
        rows = [tuple(int(i) for i in row[:-1]) for row in x.indices.value]
    else:
        t = x if isinstance(x, Tensor) else convert_to_tensor(x)
        shape, dtype = tuple(t.value.shape), t.value.dtype
        if len(shape) < 2:
            raise InvalidArgumentError(f"Shape {list(shape)} has rank {len(shape)} < 2")
        values = t.value.reshape(-1)
        rows = [index for index in np.ndindex(*shape[:-1]) for _ in range(shape[-1])]
    if len(shape) < 2:
        raise InvalidArgumentError(f"Shape {list(shape)} has rank {len(shape)} < 2")
    if _dtype_name(dtype) not in _SUPPORTED:
        raise TypeError(f"'{arg}' has invalid dtype `{_dtype_name(dtype)}` not in supported dtypes: "
                        f"{', '.join(_SUPPORTED)}.")
    groups: dict = {}
    for row, value in zip(rows, values.tolist()):
        groups.setdefault(row, set()).add(value)
    return shape[:-1], dtype, groups


def _result(lead, dtype, groups) -> SparseTensor:
    indices, values = [], []
    width = 0
    for row in sorted(groups):
        members = sorted(groups[row])
        width = max(width, len(members))
        for k, value in enumerate(members):
            indices.append((*row, k))
            values.append(value)
    index = np.asarray(indices, dtype=np.int64).reshape(-1, len(lead) + 1)
    return SparseTensor(index, Tensor(np.asarray(values, dtype=dtype).reshape(-1)), [*lead, width])


def _set_operation(a, b, combine) -> SparseTensor:
    lead_a, dtype_a, sets_a = _sets(a, "a")
    lead_b, dtype_b, sets_b = _sets(b, "b")
    if _dtype_name(dtype_a) != _dtype_name(dtype_b):
        raise TypeError(f"Types don't match, {_dtype_name(dtype_a)} vs {_dtype_name(dtype_b)}.")
    if lead_a != lead_b:
        raise InvalidArgumentError(f"Mismatched shapes {list(lead_a)} vs {list(lead_b)}")
    groups = {}
    for row in set(sets_a) | set(sets_b):
        members = combine(sets_a.get(row, set()), sets_b.get(row, set()))
        if members:
            groups[row] = members
    return _result(lead_a, dtype_a, groups)


def set_intersection(a, b, validate_indices=True) -> SparseTensor:
    """The members common to ``a`` and ``b`` in each set (``tf.sets.intersection``).

    >>> import featherflow as ff
    >>> ff.sets.intersection([["a", "b"]], [["b", "c"]]).values.numpy()
    array([b'b'], dtype=object)
    """
    return _set_operation(a, b, lambda x, y: x & y)


def set_union(a, b, validate_indices=True) -> SparseTensor:
    """The members of ``a`` or ``b`` in each set (``tf.sets.union``).

    >>> import featherflow as ff
    >>> ff.sets.union([[1, 1, 9]], [[2, 1, 1]]).values.numpy()
    array([1, 2, 9], dtype=int32)
    """
    return _set_operation(a, b, lambda x, y: x | y)


def set_difference(a, b, aminusb=True, validate_indices=True) -> SparseTensor:
    """The members of ``a`` not in ``b`` in each set (of ``b`` not in ``a`` with ``aminusb=False``).

    >>> import featherflow as ff
    >>> ff.sets.difference([[1, 2, 3]], [[2, 5, 5]]).values.numpy()
    array([1, 3], dtype=int32)
    """
    return _set_operation(a, b, (lambda x, y: x - y) if aminusb else (lambda x, y: y - x))


def set_size(a, validate_indices=True) -> Tensor:
    """The number of distinct values in each set of the ``SparseTensor`` ``a`` (int32, the leading shape).

    >>> import featherflow as ff
    >>> ff.sets.size(ff.SparseTensor([[0, 0], [0, 1], [1, 0]], [3, 3, 2], [2, 3])).numpy()
    array([1, 1], dtype=int32)
    """
    if not isinstance(a, SparseTensor):
        raise TypeError(f"Expected `SparseTensor`, got {a!r}.")
    lead, _, groups = _sets(a, "a")
    sizes = np.zeros(lead, dtype=np.int32)
    for row, members in groups.items():
        sizes[row] = len(members)
    return Tensor(sizes)
