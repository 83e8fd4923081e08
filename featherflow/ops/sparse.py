"""``tf.sparse.SparseTensor`` and the structural sparse ops (conversion, reorder, reshape, slice, concat, split,
transpose, expand_dims, fill_empty_rows, retain, reset_shape, eye).

A SparseTensor is ``indices`` (int64 ``[N, rank]``), ``values`` (``[N]``) and ``dense_shape`` (int64
``[rank]``); entries not listed are zero. ``values`` is an ordinary tensor, so every op that moves values
(gathers, segment sums, ``to_dense``) is differentiable w.r.t. them.

>>> import featherflow as ff
>>> st = ff.sparse.SparseTensor([[0, 1], [2, 3]], [1.0, 2.0], [3, 4])
>>> ff.sparse.to_dense(st).numpy()[2, 3], st.shape
(np.float32(2.0), (3, 4))
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, TensorShape, convert_to_tensor
from featherflow.ops._convert import as_tensor


def _int64(value, op, arg):
    arr = np.asarray(value.value if isinstance(value, Tensor) else value)
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: `{arg}` must hold integers. Received dtype {arr.dtype}")
    return arr.astype(np.int64)


class SparseTensor:
    """A sparse tensor: ``dense[indices[i]] = values[i]``, zero elsewhere.

    Args:
        indices: ``[N, rank]`` integer coordinates.
        values: ``[N]`` values (any dtype).
        dense_shape: ``[rank]`` the full shape.
    """

    def __init__(self, indices, values, dense_shape):
        self._indices = Tensor(_int64(indices, "SparseTensor", "indices").reshape(-1, len(np.asarray(
            dense_shape.value if isinstance(dense_shape, Tensor) else dense_shape).reshape(-1))))
        self._values = values if isinstance(values, Tensor) else convert_to_tensor(values)
        self._dense_shape = Tensor(_int64(dense_shape, "SparseTensor", "dense_shape").reshape(-1))
        n = self._indices.value.shape[0]
        if self._values.value.ndim != 1 or self._values.value.shape[0] != n:
            raise ValueError(f"SparseTensor: values must be a vector with one entry per index row ({n}). Received: "
                             f"values.shape={self._values.value.shape}")

    @classmethod
    def from_value(cls, sparse_tensor_value) -> SparseTensor:
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        return cls(sparse_tensor_value.indices, sparse_tensor_value.values, sparse_tensor_value.dense_shape)

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.value.dtype)

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._dense_shape.value.tolist())

    def get_shape(self) -> TensorShape:
        return self.shape

    def with_values(self, new_values) -> SparseTensor:
        """The same sparsity pattern with other values."""
        return SparseTensor(self._indices, new_values, self._dense_shape)

    def _key(self):
        return tuple(self._indices.value.T)

    def __neg__(self) -> SparseTensor:
        return self.with_values(-self._values)

    def __mul__(self, other) -> SparseTensor:
        """Elementwise product with a dense tensor broadcast to the dense shape (zeros stay zeros)."""
        from featherflow.ops.indexing import getitem
        from featherflow.ops.shape import broadcast_to

        dense = broadcast_to(as_tensor(other, "SparseTensor.__mul__", "other"), self.shape)
        return self.with_values(self._values * getitem(dense, self._key()))

    def __repr__(self) -> str:
        return f"SparseTensor(indices={self._indices!r}, values={self._values!r}, dense_shape={self._dense_shape!r})"


def _sparse(sp, op, arg="sp_input") -> SparseTensor:
    if not isinstance(sp, SparseTensor):
        raise TypeError(f"{op}: `{arg}` must be a SparseTensor. Received: {type(sp).__name__}")
    return sp


def from_dense(tensor, name=None) -> SparseTensor:
    """The non-zero (for strings: non-empty) entries of a dense tensor, in row-major order (differentiable
    w.r.t. the values).

    >>> from_dense([[0.0, 3.0], [0.0, 0.0]]).indices.numpy()
    array([[0, 1]])
    """
    from featherflow.ops.indexing import getitem

    t = as_tensor(tensor, "from_dense", "tensor")
    if t.value.ndim == 0:
        raise ValueError("from_dense: expected a tensor of rank >= 1. Received: a scalar.")
    zero = b"" if t.value.dtype == object else 0  # strings: the empty string is the "zero"
    coords = np.argwhere(np.asarray(t.value) != zero).astype(np.int64)
    return SparseTensor(coords, getitem(t, tuple(coords.T)), t.value.shape)


def to_dense(sp_input, default_value=None, validate_indices=True, name=None) -> Tensor:
    """The dense tensor (``default_value``, default 0, where no entry is given); duplicate indices are refused
    when ``validate_indices``.

    >>> to_dense(SparseTensor([[1]], [5.0], [3])).numpy()
    array([0., 5., 0.], dtype=float32)
    """
    from featherflow.ops.indexing import index_add

    sp = _sparse(sp_input, "to_dense")
    shape = tuple(int(d) for d in sp.dense_shape.value)
    idx = sp.indices.value
    if validate_indices and idx.size:
        if (idx < 0).any() or (idx >= np.asarray(shape)).any():
            raise InvalidArgumentError(None, None, f"to_dense: an index is out of bounds for dense_shape {list(shape)}")
        flat = np.ravel_multi_index(tuple(idx.T), shape)
        if np.unique(flat).size != flat.size:
            raise InvalidArgumentError(None, None, "to_dense: indices are repeated.")
    values = sp.values
    if values.value.dtype.kind == "O":
        fill = b"" if default_value is None else default_value  # strings default to the empty string
        out = np.full(shape, fill, dtype=object)
        out[tuple(idx.T)] = values.value
        return Tensor(out)
    dense = index_add(values, tuple(idx.T), shape)
    if default_value is not None and np.any(np.asarray(default_value) != 0):
        filled = np.full(shape, default_value, dtype=values.value.dtype)
        filled[tuple(idx.T)] = 0
        dense = dense + Tensor(filled)
    return dense


def reorder(sp_input, name=None) -> SparseTensor:
    """The same SparseTensor with its entries in row-major (canonical) order.

    >>> reorder(SparseTensor([[1, 0], [0, 1]], [1.0, 2.0], [2, 2])).values.numpy()
    array([2., 1.], dtype=float32)
    """
    from featherflow.ops.indexing import gather

    sp = _sparse(sp_input, "reorder")
    idx = sp.indices.value
    order = np.lexsort(idx.T[::-1]) if idx.size else np.zeros(0, np.int64)
    return SparseTensor(idx[order], gather(sp.values, order), sp.dense_shape)


def reshape(sp_input, shape, name=None) -> SparseTensor:
    """Reshape keeping row-major positions (one entry may be -1).

    >>> reshape(SparseTensor([[1, 1]], [5.0], [2, 2]), [4]).indices.numpy()
    array([[3]])
    """
    sp = _sparse(sp_input, "reshape")
    old = tuple(int(d) for d in sp.dense_shape.value)
    new = [int(d) for d in np.asarray(shape.value if isinstance(shape, Tensor) else shape).reshape(-1)]
    total = int(np.prod(old, dtype=np.int64))
    if new.count(-1) == 1:
        known = int(np.prod([d for d in new if d != -1], dtype=np.int64))
        new[new.index(-1)] = total // known if known else 0
    if int(np.prod(new, dtype=np.int64)) != total:
        raise InvalidArgumentError(None, None, f"reshape: cannot reshape a SparseTensor with {total} dense values to "
                                   f"shape {new}")
    flat = np.ravel_multi_index(tuple(sp.indices.value.T), old) if sp.indices.value.size else np.zeros(0, np.int64)
    coords = np.stack(np.unravel_index(flat, new), axis=1) if flat.size else np.zeros((0, len(new)), np.int64)
    return SparseTensor(coords, sp.values, new)


def transpose(sp_input, perm=None, name=None) -> SparseTensor:
    """Permute the dimensions (reverse them by default); entries are reordered canonically.

    >>> transpose(SparseTensor([[0, 2]], [1.0], [2, 3])).dense_shape.numpy()
    array([3, 2])
    """
    sp = _sparse(sp_input, "transpose")
    rank = sp.indices.value.shape[1]
    perm = list(range(rank - 1, -1, -1)) if perm is None else [int(p) for p in perm]
    if sorted(perm) != list(range(rank)):
        raise InvalidArgumentError(None, None, f"transpose: perm must be a permutation of 0..{rank - 1}. Received "
                                   f"{perm}")
    return reorder(SparseTensor(sp.indices.value[:, perm], sp.values, sp.dense_shape.value[perm]))


def expand_dims(sp_input, axis=None, name=None) -> SparseTensor:
    """Insert a size-1 dimension at ``axis``.

    >>> expand_dims(SparseTensor([[1]], [1.0], [3]), 0).dense_shape.numpy()
    array([1, 3])
    """
    sp = _sparse(sp_input, "expand_dims")
    rank = sp.indices.value.shape[1]
    axis = 0 if axis is None else int(axis)
    axis = axis + rank + 1 if axis < 0 else axis
    if not 0 <= axis <= rank:
        raise InvalidArgumentError(None, None, f"expand_dims: axis {axis} is out of range for rank {rank}.")
    idx = np.insert(sp.indices.value, axis, 0, axis=1)
    return SparseTensor(idx, sp.values, np.insert(sp.dense_shape.value, axis, 1))


def slice(sp_input, start, size, name=None) -> SparseTensor:  # noqa: A001 - TensorFlow's name
    """The entries inside the box ``[start, start + size)``, re-indexed from the box's corner.

    >>> slice(SparseTensor([[0, 1], [2, 3]], [1.0, 2.0], [3, 4]), [1, 1], [2, 3]).indices.numpy()
    array([[1, 2]])
    """
    from featherflow.ops.indexing import gather

    sp = _sparse(sp_input, "slice")
    start = _int64(start, "slice", "start")
    size = _int64(size, "slice", "size")
    shape = sp.dense_shape.value
    end = np.minimum(start + size, shape)
    idx = sp.indices.value
    keep = np.all((idx >= start) & (idx < end), axis=1) if idx.size else np.zeros(0, bool)
    return SparseTensor(idx[keep] - start, gather(sp.values, np.nonzero(keep)[0]), np.maximum(end - start, 0))


def concat(axis, sp_inputs, expand_nonconcat_dims=False, name=None) -> SparseTensor:
    """Join SparseTensors along ``axis`` (other dimensions must match, or grow to the largest with
    ``expand_nonconcat_dims``).

    >>> a = SparseTensor([[0, 0]], [1.0], [1, 2])
    >>> concat(1, [a, a]).indices.numpy()
    array([[0, 0],
           [0, 2]])
    """
    from featherflow.ops.shape import concat as concat_values

    tensors = [_sparse(s, "concat", "sp_inputs") for s in sp_inputs]
    shapes = np.stack([t.dense_shape.value for t in tensors])
    axis = int(axis) % shapes.shape[1]
    others = np.delete(shapes, axis, axis=1)
    if not expand_nonconcat_dims and not (others == others[0]).all():
        raise InvalidArgumentError(None, None, f"concat: the non-concatenated dimensions must match. Received shapes "
                                   f"{shapes.tolist()}")
    offsets = np.concatenate([[0], np.cumsum(shapes[:, axis])[:-1]])
    indices = []
    for t, offset in zip(tensors, offsets):
        idx = t.indices.value.copy()
        idx[:, axis] += offset
        indices.append(idx)
    out_shape = shapes.max(axis=0)
    out_shape[axis] = shapes[:, axis].sum()
    return reorder(SparseTensor(np.concatenate(indices), concat_values([t.values for t in tensors], axis=0),
                                out_shape))


def split(sp_input=None, num_split=None, axis=None, name=None) -> list:
    """Split along ``axis`` into ``num_split`` parts (the first ones one larger when it does not divide).

    >>> [s.dense_shape.numpy().tolist() for s in split(SparseTensor([[0, 3]], [1.0], [1, 5]), 2, 1)]
    [[1, 3], [1, 2]]
    """
    sp = _sparse(sp_input, "split")
    num_split, axis = int(num_split), int(axis)
    shape = sp.dense_shape.value
    axis %= shape.size
    size = int(shape[axis])
    base, extra = divmod(size, num_split)
    sizes = [base + (1 if i < extra else 0) for i in range(num_split)]
    out, start = [], 0
    for part in sizes:
        begin = np.zeros_like(shape)
        begin[axis] = start
        extent = shape.copy()
        extent[axis] = part
        out.append(slice(sp, begin, extent))
        start += part
    return out


def retain(sp_input, to_retain) -> SparseTensor:
    """Keep the entries where the boolean vector ``to_retain`` is true.

    >>> retain(SparseTensor([[0], [2]], [1.0, 2.0], [3]), [False, True]).values.numpy()
    array([2.], dtype=float32)
    """
    from featherflow.ops.indexing import gather

    sp = _sparse(sp_input, "retain")
    keep = np.asarray(to_retain.value if isinstance(to_retain, Tensor) else to_retain, dtype=bool).reshape(-1)
    if keep.size != sp.indices.value.shape[0]:
        raise ValueError(f"retain: to_retain needs one entry per value ({sp.indices.value.shape[0]}). Received "
                         f"{keep.size}")
    rows = np.nonzero(keep)[0]
    return SparseTensor(sp.indices.value[rows], gather(sp.values, rows), sp.dense_shape)


def reset_shape(sp_input, new_shape=None) -> SparseTensor:
    """The same entries with a new (not smaller) dense shape; by default the tightest shape holding them.

    >>> reset_shape(SparseTensor([[0, 1]], [1.0], [5, 5])).dense_shape.numpy()
    array([1, 2])
    """
    sp = _sparse(sp_input, "reset_shape")
    idx = sp.indices.value
    tight = idx.max(axis=0) + 1 if idx.size else np.zeros(idx.shape[1], np.int64)
    if new_shape is None:
        return SparseTensor(idx, sp.values, tight)
    shape = _int64(new_shape, "reset_shape", "new_shape").reshape(-1)
    if shape.size != idx.shape[1] or (shape < tight).any():
        raise ValueError(f"reset_shape: new_shape {shape.tolist()} must have rank {idx.shape[1]} and hold every "
                         f"index (at least {tight.tolist()}).")
    return SparseTensor(idx, sp.values, shape)


def fill_empty_rows(sp_input, default_value, name=None) -> tuple:
    """Add ``(row, 0...) = default_value`` for every row with no entry; returns ``(sparse, empty_row_indicator)``.

    >>> filled, empty = fill_empty_rows(SparseTensor([[0, 1]], [1.0], [2, 2]), -1.0)
    >>> filled.values.numpy(), empty.numpy()
    (array([ 1., -1.], dtype=float32), array([False,  True]))
    """
    from featherflow.ops.shape import concat as concat_values

    sp = _sparse(sp_input, "fill_empty_rows")
    rows = int(sp.dense_shape.value[0])
    idx = sp.indices.value
    present = np.zeros(rows, bool)
    present[idx[:, 0]] = True
    empty = np.nonzero(~present)[0]
    extra = np.zeros((empty.size, idx.shape[1]), np.int64)
    extra[:, 0] = empty
    fill = Tensor(np.full(empty.size, default_value, dtype=sp.values.value.dtype))
    merged = SparseTensor(np.concatenate([idx, extra]), concat_values([sp.values, fill], axis=0), sp.dense_shape)
    return reorder(merged), Tensor(~present)


def eye(num_rows, num_columns=None, dtype="float32", name=None) -> SparseTensor:
    """The sparse identity matrix.

    >>> eye(3).indices.numpy().tolist()
    [[0, 0], [1, 1], [2, 2]]
    """
    rows = int(num_rows)
    cols = rows if num_columns is None else int(num_columns)
    n = min(rows, cols)
    diagonal = np.stack([np.arange(n), np.arange(n)], axis=1)
    return SparseTensor(diagonal, np.ones(n, dtype=np.dtype(dtype)), [rows, cols])


def map_values(op, *args, **kwargs) -> SparseTensor:
    """Apply ``op`` to the values of the SparseTensor arguments (all with the same indices), keeping the pattern.

    >>> map_values(lambda v: v * 2, SparseTensor([[0]], [3.0], [2])).values.numpy()
    array([6.], dtype=float32)
    """
    sparse = [a for a in list(args) + list(kwargs.values()) if isinstance(a, SparseTensor)]
    if not sparse:
        raise ValueError("map_values: at least one argument must be a SparseTensor.")
    first = sparse[0]
    for other in sparse[1:]:
        if not np.array_equal(other.indices.value, first.indices.value) or \
                not np.array_equal(other.dense_shape.value, first.dense_shape.value):
            raise ValueError("map_values: all SparseTensor arguments must have the same indices and dense_shape.")
    def unwrap(a):
        return a.values if isinstance(a, SparseTensor) else a

    result = op(*[unwrap(a) for a in args], **{k: unwrap(v) for k, v in kwargs.items()})
    return first.with_values(result)
