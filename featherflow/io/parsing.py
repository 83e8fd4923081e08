"""``tf.io.parse_example`` and ``parse_single_example``: serialized ``tf.train.Example`` records to tensors.

Dense features (``FixedLenFeature``, ``FixedLenSequenceFeature``) become tensors, ``VarLenFeature`` and
``SparseFeature`` a ``tf.SparseTensor``, ``RaggedFeature`` a ``tf.RaggedTensor``; the result is a dict
ordered as TensorFlow's (sparse keys sorted, then dense, then ragged). The records are read straight from
their wire bytes (only the requested keys are decoded); errors carry TensorFlow's texts.

>>> import featherflow as tf
>>> record = tf.train.Example(features=tf.train.Features(feature={
...     "x": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0, 2.0]))})).SerializeToString()
>>> parse_single_example(record, {"x": tf.io.FixedLenFeature([2], tf.float32)})["x"].numpy()
array([1., 2.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import STRING
from featherflow.io.parsing_config import (
    FixedLenFeature,
    FixedLenSequenceFeature,
    RaggedFeature,
    SparseFeature,
    VarLenFeature,
    feature_dtype,
    type_name,
)
from featherflow.io.proto import DecodeError, decode_varint

_KIND_DTYPE = {1: STRING, 2: np.dtype("float32"), 3: np.dtype("int64")}
_KIND_NAME = {1: "bytes_list", 2: "float_list", 3: "int64_list"}


def _fields(data: bytes, start: int, end: int):
    """``(field number, wire type, payload start, payload end, varint value)`` of the fields in a slice."""
    pos = start
    while pos < end:
        key, pos = decode_varint(data, pos)
        number, wire = key >> 3, key & 7
        value = None
        if wire == 2:
            length, pos = decode_varint(data, pos)
            begin, pos = pos, pos + length
        elif wire == 0:
            begin = pos
            value, pos = decode_varint(data, pos)
        elif wire in (1, 5):
            begin, pos = pos, pos + (8 if wire == 1 else 4)
        else:
            raise DecodeError(f"wire type {wire}")
        if pos > end:
            raise DecodeError("truncated")
        yield number, wire, begin, pos, value


def _features_map(data: bytes, start: int, end: int) -> dict:
    """``{key: (kind, payload start, payload end)}`` of a ``Features`` message (the last entry of a key wins)."""
    found = {}
    for number, wire, begin, stop, _ in _fields(data, start, end):
        if number != 1 or wire != 2:
            continue
        key, feature = b"", None
        for n, w, b, s, _ in _fields(data, begin, stop):
            if n == 1 and w == 2:
                key = data[b:s]
            elif n == 2 and w == 2:
                feature = (b, s)
        kind = (0, 0, 0)
        if feature is not None:
            for n, w, b, s, _ in _fields(data, *feature):
                if n in (1, 2, 3) and w == 2:
                    kind = (n, b, s)
        found[key.decode("utf-8", "surrogateescape")] = kind
    return found


def _example_features(data: bytes) -> dict:
    try:
        features = {}
        for number, wire, begin, stop, _ in _fields(data, 0, len(data)):
            if number == 1 and wire == 2:
                features.update(_features_map(data, begin, stop))
        return features
    except (DecodeError, IndexError):
        shown = data[:64].decode("latin-1").encode("unicode_escape").decode("ascii")
        raise InvalidArgumentError(None, None, f"Could not parse example input, value: '{shown}'") from None


def _varints(data: bytes, start: int, end: int) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    if raw.size == 0:
        return np.zeros(0, np.int64)
    ends = np.flatnonzero(raw < 0x80)
    if ends.size == 0 or ends[-1] != raw.size - 1:
        raise DecodeError("truncated varint")
    starts = np.concatenate([[0], ends[:-1] + 1])
    position = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    parts = (raw & 0x7F).astype(np.uint64) << (7 * position).astype(np.uint64)
    return np.add.reduceat(parts, starts).view(np.int64)


def _values(data: bytes, kind: int, begin: int, end: int) -> np.ndarray:
    """The values of a ``BytesList`` / ``FloatList`` / ``Int64List`` payload (packed or not)."""
    if kind == 1:
        out = [bytes(data[b:s]) for n, w, b, s, _ in _fields(data, begin, end) if n == 1 and w == 2]
        array = np.empty(len(out), dtype=object)
        array[:] = out
        return array
    chunks = []
    for n, w, b, s, value in _fields(data, begin, end):
        if n != 1:
            continue
        if w == 2:
            chunks.append(np.frombuffer(data, "<f4", (s - b) // 4, b).astype(np.float32) if kind == 2
                          else _varints(data, b, s))
        elif kind == 2 and w == 5:
            chunks.append(np.frombuffer(data, "<f4", 1, b).astype(np.float32))
        elif kind == 3 and w == 0:
            chunks.append(np.array([value], np.uint64).view(np.int64))
    dtype = _KIND_DTYPE[kind]
    return np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype)


class _Reader:
    """The features of a list of serialized examples, decoded on request, with TensorFlow's error prefixes."""

    def __init__(self, records: list, names, single: bool):
        self.records, self.names, self.single = records, names, single
        self.maps = [_example_features(r) for r in records]

    def prefix(self, key: str, index: int) -> str:
        if self.single:
            return f"Key: {key}.  "
        return f"Name: {self._name(index)}, Key: {key}, Index: {index}.  "

    def _name(self, index: int) -> str:
        return "<unknown>" if self.names is None else self.names[index]

    def get(self, key: str, index: int, dtype, var_len: bool = False):
        """The values of ``key`` in example ``index`` (``None`` when absent or without a kind)."""
        kind, begin, end = self.maps[index].get(key, (0, 0, 0))
        if not kind:
            return None
        if _KIND_DTYPE[kind] != dtype:
            actual = {1: "string", 2: "float", 3: "int64"}[kind]
            detail = (f"Expected type: {type_name(dtype)}, Actual type: {actual}" if var_len
                      else f"Data type: {actual} but expected type: {type_name(dtype)}")
            raise InvalidArgumentError(None, None, f"{self.prefix(key, index)}Data types don't match. {detail}")
        return _values(self.records[index], kind, begin, end)

    def missing(self, key: str, dtype, index: int) -> InvalidArgumentError:
        where = "" if self.single else f"Name: {self._name(index)}, "
        return InvalidArgumentError(None, None, f"{where}Feature: {key} (data type: {type_name(dtype)}) is required "
                                                f"but could not be found.")


def _default(spec, size: int, key: str) -> np.ndarray:
    value = np.asarray(spec.default_value, dtype=object if spec.dtype == STRING else spec.dtype)
    if spec.dtype == STRING:
        value = np.vectorize(lambda v: v.encode("utf-8") if isinstance(v, str) else v, otypes=[object])(value) \
            if value.size else value
    if value.size != size:
        raise InvalidArgumentError(None, None, f"Input to reshape is a tensor with {value.size} values, but the "
                                               f"requested shape has {size}")
    return value.reshape(-1)


def _dims(spec, key: str) -> list:
    if spec.shape is None:
        raise ValueError(f"Missing shape for feature {key}. Received feature={spec!r}.")
    dims = list(spec.shape.as_list() if hasattr(spec.shape, "as_list") else spec.shape)
    if isinstance(spec, FixedLenFeature) and dims and dims[0] is None:
        raise ValueError(f"First dimension of shape for feature {key} unknown. Consider using "
                         f"FixedLenSequenceFeature. Received feature={spec!r}.")
    if any(d is None for d in dims):
        raise ValueError(f"All dimensions of shape for feature {key} need to be known but received {spec.shape!s}.")
    return [int(d) for d in dims]


def _fixed(reader: _Reader, key: str, spec: FixedLenFeature) -> Tensor:
    dims = _dims(spec, key)
    size = int(np.prod(dims, dtype=np.int64))
    rows = []
    for index in range(len(reader.records)):
        values = reader.get(key, index, spec.dtype)
        if values is None:
            if spec.default_value is None:
                raise reader.missing(key, spec.dtype, index)
            values = _default(spec, size, key)
        elif values.size != size:
            if reader.single:
                raise InvalidArgumentError(None, None, f"{reader.prefix(key, index)}Can't parse serialized Example: "
                                                       f"Some {_KIND_NAME[_kind(spec.dtype)]} slice was not parsed.")
            raise InvalidArgumentError(None, None, f"{reader.prefix(key, index)}Number of {type_name(spec.dtype)} "
                                                   f"values != expected.  Values size: {values.size} but output "
                                                   f"shape: [{','.join(map(str, dims))}]")
        rows.append(values)
    return _stack(rows, dims, spec.dtype, reader.single)


def _kind(dtype) -> int:
    return {STRING: 1, np.dtype("float32"): 2, np.dtype("int64"): 3}[np.dtype(dtype)]


def _stack(rows: list, dims: list, dtype, single: bool) -> Tensor:
    array = np.empty((len(rows), *dims), dtype=dtype)
    for i, row in enumerate(rows):
        array[i] = row.reshape(dims)
    return Tensor(array[0] if single else array)


def _sequence(reader: _Reader, key: str, spec: FixedLenSequenceFeature) -> Tensor:
    if not spec.allow_missing:
        raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to be True.")
    dims = _dims(spec, key)
    stride = int(np.prod(dims, dtype=np.int64))
    rows = []
    for index in range(len(reader.records)):
        values = reader.get(key, index, spec.dtype)
        if values is None:
            if not spec.allow_missing:
                raise reader.missing(key, spec.dtype, index)
            values = np.zeros(0, spec.dtype)
        if stride == 0 and values.size or stride and values.size % stride:
            if reader.single:
                raise InvalidArgumentError(None, None, f"Error while parsing feature with key {key}: number of "
                                                       f"elements should be divisible by {stride}, found "
                                                       f"{values.size} instead")
            raise InvalidArgumentError(None, None, f"{reader.prefix(key, index)}Number of {type_name(spec.dtype)} "
                                                   f"values is not a multiple of stride length. Saw {values.size} "
                                                   f"values but output shape is: [?,{','.join(map(str, dims))}]")
        rows.append(values.reshape(-1, *dims) if stride else np.zeros((0, *dims), spec.dtype))
    longest = max((len(r) for r in rows), default=0)
    if spec.default_value is not None:
        fill = _default(spec, stride, key).reshape(dims)
    else:
        fill = np.full(dims, b"" if spec.dtype == STRING else 0, dtype=spec.dtype)
    array = np.empty((len(rows), longest, *dims), dtype=spec.dtype)
    array[...] = fill
    for i, row in enumerate(rows):
        array[i, :len(row)] = row
    return Tensor(array[0] if reader.single else array)


def _sparse(reader: _Reader, key: str, spec: VarLenFeature):
    from featherflow.ops.sparse import SparseTensor

    columns, values = [], []
    for index in range(len(reader.records)):
        found = reader.get(key, index, spec.dtype, var_len=True)
        columns.append(np.zeros(0, np.int64) if found is None else np.arange(found.size, dtype=np.int64))
        values.append(np.zeros(0, spec.dtype) if found is None else found)
    longest = max((c.size for c in columns), default=0)
    column = np.concatenate(columns) if columns else np.zeros(0, np.int64)
    flat = np.concatenate(values) if values else np.zeros(0, spec.dtype)
    if reader.single:
        return SparseTensor(column.reshape(-1, 1), Tensor(flat), [longest])
    batch = np.repeat(np.arange(len(columns), dtype=np.int64), [c.size for c in columns])
    return SparseTensor(np.stack([batch, column], axis=1), Tensor(flat), [len(columns), longest])


def _sparse_feature(reader: _Reader, key: str, spec: SparseFeature):
    from featherflow.ops.sparse import SparseTensor

    index_keys = [spec.index_key] if isinstance(spec.index_key, str) else list(spec.index_key)
    sizes = np.asarray(spec.size, dtype=np.int64).reshape(-1)
    if sizes.size != len(index_keys):
        raise ValueError(f"SparseFeature {key}: `size` must have one entry per index key ({len(index_keys)}). "
                         f"Received: size={spec.size!r}")
    rows, values = [], []
    for index in range(len(reader.records)):
        found = reader.get(spec.value_key, index, spec.dtype, var_len=True)
        found = np.zeros(0, spec.dtype) if found is None else found
        coords = []
        for index_key in index_keys:
            ids = reader.get(index_key, index, np.dtype("int64"), var_len=True)
            ids = np.zeros(0, np.int64) if ids is None else ids
            if ids.size != found.size:
                raise ValueError(f"Dimensions {ids.size} and {found.size} are not compatible")
            coords.append(ids)
        coords = np.stack(coords, axis=1) if found.size else np.zeros((0, len(index_keys)), np.int64)
        if not spec.already_sorted and found.size:
            order = np.lexsort(coords.T[::-1])
            coords, found = coords[order], found[order]
        rows.append(coords)
        values.append(found)
    flat = np.concatenate(values)
    coords = np.concatenate(rows)
    if reader.single:
        return SparseTensor(coords, Tensor(flat), sizes)
    batch = np.repeat(np.arange(len(rows), dtype=np.int64), [r.shape[0] for r in rows])
    return SparseTensor(np.concatenate([batch[:, None], coords], axis=1), Tensor(flat),
                        np.concatenate([[len(rows)], sizes]))


def _ragged(reader: _Reader, key: str, spec: RaggedFeature):
    from featherflow.core.ragged import RaggedTensor

    value_key = spec.value_key or key
    values = []
    for index in range(len(reader.records)):
        found = reader.get(value_key, index, spec.dtype, var_len=True)
        values.append(np.zeros(0, spec.dtype) if found is None else found)
    if reader.single:
        return Tensor(values[0])
    splits = np.concatenate([[0], np.cumsum([v.size for v in values])]).astype(spec.row_splits_dtype)
    flat = np.concatenate(values) if values else np.zeros(0, spec.dtype)
    return RaggedTensor.from_row_splits(Tensor(flat), Tensor(splits))


def _records(serialized, op: str) -> tuple:
    """``(list of bytes, was a scalar)`` from bytes, strings, lists or string tensors."""
    if isinstance(serialized, Tensor):
        serialized = serialized.numpy()
    if isinstance(serialized, (bytes, str)):
        serialized = np.array(serialized, dtype=object)
    array = np.asarray(serialized, dtype=object)
    if array.ndim > 1:
        shape = ",".join(map(str, array.shape))
        raise InvalidArgumentError(None, None, f"Expected serialized to be a scalar or vector, got shape: [{shape}]")
    records = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.reshape(-1).tolist()]
    return records, array.ndim == 0


_ORDER = {VarLenFeature: 0, SparseFeature: 0, FixedLenFeature: 1, FixedLenSequenceFeature: 1, RaggedFeature: 2}
_PARSERS = {VarLenFeature: _sparse, SparseFeature: _sparse_feature, FixedLenFeature: _fixed,
            FixedLenSequenceFeature: _sequence, RaggedFeature: _ragged}


def check_features(features, arg: str = "features") -> dict:
    if features is None:
        raise ValueError(f"Invalid argument: {arg} cannot be None.")
    if not features:
        raise ValueError(f"Invalid argument: {arg} cannot be empty.")
    for key, spec in features.items():
        if type(spec) not in _PARSERS:
            raise ValueError(f"Unsupported {type(spec).__name__} {spec} for key '{key}'")
        feature_dtype(spec.dtype, "Tdense" if _ORDER[type(spec)] == 1 else "sparse_types")
    return dict(sorted(features.items(), key=lambda kv: (_ORDER[type(kv[1])], kv[0])))


def parse_reader(reader: _Reader, features: dict) -> dict:
    return {key: _PARSERS[type(spec)](reader, key, spec) for key, spec in features.items()}


def parse_example(serialized, features, example_names=None, name=None) -> dict:
    """Parse a vector of serialized ``Example`` records into a dict of batched tensors.

    Args:
        serialized: a vector (or scalar) of serialized ``tf.train.Example``.
        features: ``{key: FixedLenFeature | FixedLenSequenceFeature | VarLenFeature | SparseFeature |
            RaggedFeature}``.
        example_names: names of the records, used in error messages.

    Returns:
        ``{key: tensor}``: ``[batch] + shape`` dense tensors, ``[batch, rows] + shape`` padded sequences,
        ``SparseTensor`` with ``dense_shape [batch, longest]``, ``RaggedTensor`` ``[batch, None]``.
    """
    features = check_features(features)
    records, scalar = _records(serialized, "parse_example")
    names = None if example_names is None else [
        n.decode() if isinstance(n, bytes) else str(n) for n in np.asarray(
            example_names.numpy() if isinstance(example_names, Tensor) else example_names, dtype=object).reshape(-1)]
    return parse_reader(_Reader(records, names, single=scalar), features)


def parse_single_example(serialized, features, example_names=None, name=None) -> dict:
    """Parse one serialized ``Example`` into a dict of tensors (``parse_example`` without the batch axis).

    Args:
        serialized: a scalar string: one serialized ``tf.train.Example``.
        features: the feature specification, as for ``parse_example``.
    """
    features = check_features(features)
    records, scalar = _records(serialized, "parse_single_example")
    if not scalar:
        raise ValueError("Input serialized must be a scalar")
    return parse_reader(_Reader(records, None, single=True), features)
