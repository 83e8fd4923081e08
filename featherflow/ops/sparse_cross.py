"""``tf.sparse.cross`` / ``cross_hashed``: feature crosses of 2-D sparse or dense columns, row by row.

Row ``i`` of the result holds one entry per combination of one feature from each input's row ``i``, the first
input varying slowest: the features joined by ``"_X_"`` (``cross``), or their FarmHash fingerprints combined as
TensorFlow's ``FingerprintCat64`` (``cross_hashed``; int64 features are their own hash), modulo
``num_buckets`` when it is positive. A row with an empty input has no crosses.

>>> import featherflow as ff
>>> ff.sparse.cross([ff.constant([["a", "b"]]), ff.constant([[1]], "int64")]).values.numpy()
array([b'a_X_1', b'b_X_1'], dtype=object)
"""

from __future__ import annotations

import itertools

import numpy as np

from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.ops.sparse import SparseTensor

_MASK = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995
_DEFAULT_HASH_KEY = 0xDECAFCAFFE


def _rows(column, op):
    """The features of each row of a 2-D sparse or dense column, as Python lists."""
    if isinstance(column, SparseTensor):
        shape = [int(d) for d in column.dense_shape.value]
        if len(shape) != 2:
            raise ValueError(f"{op}: every input must be 2-D. Received a SparseTensor of shape {shape}")
        rows = [[] for _ in range(shape[0])]
        for (r, _), value in zip(column.indices.value.tolist(), column.values.value.tolist()):
            rows[r].append(value)
        return rows
    t = column if isinstance(column, Tensor) else convert_to_tensor(column)
    if t.value.ndim != 2:
        raise ValueError(f"{op}: every input must be 2-D. Received a tensor of shape {t.value.shape}")
    return t.value.tolist()


def _crossed_rows(inputs, op):
    columns = [_rows(c, op) for c in inputs]
    if not columns:
        raise ValueError(f"{op}: inputs must be a non-empty list of 2-D tensors.")
    batch = {len(c) for c in columns}
    if len(batch) != 1:
        raise ValueError(f"{op}: the inputs have different batch sizes: {sorted(batch)}")
    return [list(itertools.product(*(c[r] for c in columns))) for r in range(batch.pop())]


def _sparse(rows, values, dtype) -> SparseTensor:
    indices = [(r, k) for r, row in enumerate(rows) for k in range(len(row))]
    width = max((len(row) for row in rows), default=0)
    return SparseTensor(np.asarray(indices, np.int64).reshape(-1, 2), Tensor(np.asarray(values, dtype=dtype)),
                        [len(rows), width])


def _text(feature) -> bytes:
    return feature if isinstance(feature, bytes) else str(feature).encode()


def cross(inputs, name=None, separator=None) -> SparseTensor:
    """The crosses of the features of ``inputs`` (2-D string or int64 sparse/dense tensors) as strings."""
    rows = _crossed_rows(inputs, "sparse.cross")
    sep = (b"_X_" if separator is None else _text(separator))
    values = [sep.join(_text(f) for f in combo) for row in rows for combo in row]
    return _sparse(rows, values, object)


def _fingerprint_cat64(fp1: int, fp2: int) -> int:
    def shift_mix(v):
        return v ^ (v >> 47)

    result = fp1 ^ _MUL
    result ^= (shift_mix((fp2 * _MUL) & _MASK) * _MUL) & _MASK
    result = (result * _MUL) & _MASK
    result = (shift_mix(result) * _MUL) & _MASK
    return shift_mix(result)


def cross_hashed(inputs, num_buckets=0, hash_key=None, name=None) -> SparseTensor:
    """The crosses of ``inputs`` hashed to int64 (modulo ``num_buckets`` when positive), as TensorFlow hashes
    them: the same features give the same bucket in both.

    >>> import featherflow as ff
    >>> ff.sparse.cross_hashed([ff.constant([["a"]]), ff.constant([["d"]])], num_buckets=100).values.numpy()
    array([82])
    """
    from featherflow.strings._hash import fingerprint64

    rows = _crossed_rows(inputs, "sparse.cross_hashed")
    key = _DEFAULT_HASH_KEY if hash_key is None else int(hash_key) & _MASK
    values = []
    for row in rows:
        for combo in row:
            out = key
            for feature in combo:
                out = _fingerprint_cat64(out, fingerprint64(feature) if isinstance(feature, bytes) else
                                         int(feature) & _MASK)
            values.append(out % int(num_buckets) if int(num_buckets) > 0 else out & ((1 << 63) - 1))
    return _sparse(rows, values, np.int64)
