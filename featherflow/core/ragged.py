"""``RaggedTensor``: rows of different lengths, as ``tf.strings.split`` and the unicode ops return them.

A ragged tensor is a flat ``values`` array (or, for more ragged axes, another ``RaggedTensor``) plus
``row_splits``: row ``i`` is ``values[row_splits[i]:row_splits[i + 1]]`` (TensorFlow's encoding). It
holds data; featherflow's ops compute on dense tensors (``to_tensor`` pads).

>>> rt = RaggedTensor.from_row_splits([b"a", b"b", b"c"], [0, 2, 2, 3])
>>> rt.to_list()
[[b'a', b'b'], [], [b'c']]
>>> rt.shape
(3, None)
>>> rt.to_tensor(default_value=b"").numpy()
array([[b'a', b'b'],
       [b'', b''],
       [b'c', b'']], dtype=object)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.string_tensor import to_string_array
from featherflow.core.tensor import Tensor, TensorShape, convert_to_tensor


def _as_array(values):
    if isinstance(values, RaggedTensor):
        return values
    if isinstance(values, Tensor):
        return values.value
    strings = to_string_array(values) if not isinstance(values, np.ndarray) or values.dtype.kind in "USO" else None
    return strings if strings is not None else np.asarray(values)


class RaggedTensor:
    """A tensor with one or more ragged axes (TensorFlow's ``tf.RaggedTensor``), built with the
    ``from_*`` class methods.

    Properties: ``values``, ``row_splits``, ``flat_values``, ``nested_row_splits``, ``ragged_rank``,
    ``shape`` (``None`` for the ragged axes), ``dtype``. Methods: ``row_lengths``, ``to_list``,
    ``to_tensor``, ``numpy``, ``bounding_shape``, ``with_flat_values``; indexing a row returns it.
    """

    def __init__(self, values, row_splits, internal=False):
        if not internal:
            raise ValueError("RaggedTensor constructor is private; please use one of the factory methods "
                             "instead (e.g., RaggedTensor.from_row_splits())")
        self._values = values
        self._row_splits = row_splits

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True) -> RaggedTensor:
        """Rows ``values[row_splits[i]:row_splits[i + 1]]``; ``row_splits`` starts at 0 and ends at ``len(values)``."""
        values = _as_array(values)
        splits = np.asarray(row_splits.value if isinstance(row_splits, Tensor) else row_splits, dtype=np.int64)
        if validate:
            if splits.ndim != 1 or splits.size == 0 or splits[0] != 0 or np.any(np.diff(splits) < 0) \
                    or splits[-1] != len(values):
                raise ValueError(f"row_splits must be a non-empty, non-decreasing vector starting at 0 and ending "
                                 f"at len(values) = {len(values)}. Received: row_splits={splits.tolist()}")
        return cls(values, splits, internal=True)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True) -> RaggedTensor:
        """Rows of the given lengths, taken from ``values`` in order."""
        lengths = np.asarray(row_lengths.value if isinstance(row_lengths, Tensor) else row_lengths, dtype=np.int64)
        return cls.from_row_splits(values, np.concatenate([[0], np.cumsum(lengths)]), validate=validate)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None, validate=True) -> RaggedTensor:
        """Row ``value_rowids[j]`` holds ``values[j]`` (``value_rowids`` sorted ascending)."""
        ids = np.asarray(value_rowids.value if isinstance(value_rowids, Tensor) else value_rowids, dtype=np.int64)
        nrows = int(ids.max()) + 1 if nrows is None and ids.size else int(nrows or 0)
        return cls.from_row_lengths(values, np.bincount(ids, minlength=nrows), validate=validate)

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None, validate=True) -> RaggedTensor:
        result = _as_array(flat_values)
        for splits in reversed(list(nested_row_splits)):
            result = cls.from_row_splits(result, splits, validate=validate)
        return result

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank=1, name=None) -> RaggedTensor:
        """Rows of a dense 2-D (or higher) tensor; ``lengths`` or ``padding`` trims each row."""
        arr = _as_array(tensor)
        if arr.ndim < 2:
            raise ValueError(f"from_tensor needs a tensor of rank >= 2. Received shape {arr.shape}")
        if lengths is None and padding is not None:
            pad = _as_array(padding)
            keep = ~np.all(arr == pad, axis=tuple(range(2, arr.ndim))) if arr.ndim > 2 else arr != pad
            # trailing padding only
            lengths = [int(np.max(np.nonzero(row)[0]) + 1) if row.any() else 0 for row in keep]
        if lengths is None:
            lengths = [arr.shape[1]] * arr.shape[0]
        lengths = np.asarray(lengths.value if isinstance(lengths, Tensor) else lengths, dtype=np.int64)
        values = np.concatenate([arr[i, :n] for i, n in enumerate(lengths)]) if len(lengths) else arr[:0, 0]
        return cls.from_row_lengths(values, lengths)

    @classmethod
    def from_rows(cls, rows, dtype=None) -> RaggedTensor:
        """A ragged tensor from a list of 1-D rows (arrays or lists) - featherflow's shorthand."""
        arrays = [_as_array(r) for r in rows]
        lengths = [len(a) for a in arrays]
        if arrays and any(len(a) for a in arrays):
            values = np.concatenate([a for a in arrays])
        else:
            values = np.zeros((0,), dtype=dtype or (arrays[0].dtype if arrays else object))
        if dtype is not None and np.dtype(dtype).kind != "O":
            values = values.astype(dtype)
        return cls.from_row_lengths(values, lengths)

    # -- structure ------------------------------------------------------------------------------------
    @property
    def values(self):
        """The concatenated rows (a Tensor, or a RaggedTensor when there are more ragged axes)."""
        return self._values if isinstance(self._values, RaggedTensor) else Tensor(self._values)

    @property
    def row_splits(self) -> Tensor:
        return Tensor(self._row_splits)

    @property
    def flat_values(self) -> Tensor:
        return Tensor(self._flat())

    def _flat(self):
        values = self._values
        while isinstance(values, RaggedTensor):
            values = values._values
        return values

    @property
    def nested_row_splits(self) -> tuple:
        splits, values = [self.row_splits], self._values
        while isinstance(values, RaggedTensor):
            splits.append(values.row_splits)
            values = values._values
        return tuple(splits)

    @property
    def ragged_rank(self) -> int:
        return 1 + (self._values.ragged_rank if isinstance(self._values, RaggedTensor) else 0)

    @property
    def dtype(self):
        return self._flat().dtype

    @property
    def shape(self) -> TensorShape:
        inner = self._values.shape[1:] if isinstance(self._values, RaggedTensor) else self._values.shape[1:]
        return TensorShape((len(self),) + (None,) + tuple(inner))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def nrows(self, out_type=None, name=None) -> Tensor:
        return Tensor(np.asarray(len(self), dtype=np.int64))

    def row_lengths(self, axis=1, name=None) -> Tensor:
        """The length of each row (``axis=1``)."""
        return Tensor(np.diff(self._row_splits))

    def value_rowids(self, name=None) -> Tensor:
        return Tensor(np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self._row_splits)))

    def bounding_shape(self, axis=None, name=None, out_type=None) -> Tensor:
        """The smallest dense shape that holds every row."""
        dense = self.to_tensor()
        shape = np.asarray(dense.shape, dtype=np.int64)
        return Tensor(shape if axis is None else shape[axis])

    def with_flat_values(self, new_values) -> RaggedTensor:
        """The same row structure over ``new_values`` (as many as ``flat_values``)."""
        new_values = _as_array(new_values)
        if isinstance(self._values, RaggedTensor):
            return RaggedTensor(self._values.with_flat_values(new_values), self._row_splits, internal=True)
        if len(new_values) != len(self._values):
            raise ValueError(f"with_flat_values needs {len(self._values)} values. Received {len(new_values)}")
        return RaggedTensor(new_values, self._row_splits, internal=True)

    # -- conversion ---------------------------------------------------------------------------------------
    def _row(self, i):
        start, stop = int(self._row_splits[i]), int(self._row_splits[i + 1])
        return self._values[start:stop] if not isinstance(self._values, RaggedTensor) else \
            self._values._slice(start, stop)

    def _slice(self, start, stop) -> RaggedTensor:
        """Rows ``start`` to ``stop`` (exclusive) as a RaggedTensor."""
        splits = self._row_splits[start:stop + 1]
        lo, hi = int(splits[0]), int(splits[-1])
        values = self._values._slice(lo, hi) if isinstance(self._values, RaggedTensor) else self._values[lo:hi]
        return RaggedTensor(values, splits - lo, internal=True)

    def to_list(self) -> list:
        """Nested Python lists (``bytes`` for strings, Python numbers otherwise)."""
        out = []
        for i in range(len(self)):
            row = self._row(i)
            out.append(row.to_list() if isinstance(row, RaggedTensor) else row.tolist())
        return out

    def to_tensor(self, default_value=None, name=None, shape=None) -> Tensor:
        """A dense tensor, each row padded with ``default_value`` (zeros or ``b""``) to the longest row."""
        rows = [self._row(i) for i in range(len(self))]
        rows = [r.to_tensor(default_value).value if isinstance(r, RaggedTensor) else r for r in rows]
        inner = ()
        if rows:
            ranks = {r.ndim for r in rows}
            inner = tuple(max(r.shape[k] for r in rows) for k in range(1, max(ranks)))
        width = max((len(r) for r in rows), default=0)
        dtype = self.dtype
        if default_value is None:
            default_value = b"" if dtype.kind == "O" else 0
        if isinstance(default_value, Tensor):
            default_value = default_value.value
        target = [len(rows), width] + list(inner)
        if shape is not None:
            target = [t if s is None else int(s) for t, s in zip(target, shape)]
        out = np.empty(tuple(target), dtype=dtype)
        out[...] = default_value
        for i, row in enumerate(rows[:target[0]]):
            n = min(len(row), target[1])
            if n:
                region = tuple(slice(0, d) for d in row.shape[1:])
                out[(i, slice(0, n)) + region] = row[:n]
        return Tensor(out)

    def numpy(self) -> np.ndarray:
        """An object array with one NumPy array per row (TensorFlow's ``RaggedTensor.numpy``)."""
        out = np.empty(len(self), dtype=object)
        for i in range(len(self)):
            row = self._row(i)
            out[i] = row.numpy() if isinstance(row, RaggedTensor) else row.copy()
        return out

    # -- Python protocol ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row_splits) - 1

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            n = len(self)
            if not -n <= key < n:
                raise IndexError(f"Row index {key} out of range for a RaggedTensor with {n} rows.")
            row = self._row(key % n)
            return row if isinstance(row, RaggedTensor) else Tensor(row)
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                rows = [self._row(i) for i in range(start, stop, step)]
                return RaggedTensor.from_rows(rows, dtype=self.dtype)
            return self._slice(start, max(start, stop))
        raise TypeError(f"RaggedTensor rows are indexed with an int or a slice. Received: {key!r}")

    def __eq__(self, other):
        return NotImplemented

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<tf.RaggedTensor {self.to_list()!r}>"



def _depth(value) -> int:
    depth = 0
    while isinstance(value, (list, tuple)):
        depth += 1
        value = next((v for v in value if isinstance(v, (list, tuple)) or v is not None), None) if value else None
        if value is None:
            break
    return depth


def constant(pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None, row_splits_dtype="int64"):
    """A RaggedTensor from nested Python lists whose innermost lists may differ in length
    (``tf.ragged.constant``); strings become ``bytes``.

    >>> constant([[1, 2], [3]]).to_list()
    [[1, 2], [3]]
    >>> constant([["a"], []]).to_list()
    [[b'a'], []]
    """
    if not isinstance(pylist, (list, tuple)):
        raise TypeError(f"ragged.constant expects a nested list. Received: {pylist!r:.80}")
    depth = max(_depth(pylist), 2)

    def build(items, level):
        if level == depth - 1:
            flat = [x for row in items for x in row]
            values = to_string_array(flat) if flat and isinstance(flat[0], (str, bytes)) else None
            if values is None:  # TensorFlow's dtype rules for Python data: int32, float32, bool
                values = convert_to_tensor(flat, dtype=dtype).value if flat else \
                    np.zeros((0,), dtype=dtype or np.float32)
            return RaggedTensor.from_row_lengths(values, [len(row) for row in items])
        inner = build([x for row in items for x in row], level + 1)
        return RaggedTensor.from_row_lengths(inner, [len(row) for row in items])

    return build(list(pylist), 1)
