"""Shared plumbing of ``featherflow.strings``: turning arguments into arrays of ``bytes`` and mapping a
per-element function over dense or ragged string tensors."""

from __future__ import annotations

import numpy as np

from featherflow.core.ragged import RaggedTensor
from featherflow.core.string_tensor import to_string_array
from featherflow.core.tensor import Tensor


def string_array(value, op: str, arg: str = "input") -> np.ndarray:
    """``value`` (str, bytes, lists of them, NumPy string arrays, string tensors) as an object array of bytes."""
    if isinstance(value, Tensor):
        value = value.value
    out = to_string_array(value)
    if out is None:
        raise TypeError(f"tf.strings.{op}: `{arg}` must hold strings (str or bytes). Received: {value!r:.80}")
    return out


def strings_or_ragged(value, op: str, arg: str = "input"):
    """A RaggedTensor of strings as it is; anything else as an object array of bytes."""
    if isinstance(value, RaggedTensor):
        if value.dtype.kind != "O":
            raise TypeError(f"tf.strings.{op}: `{arg}` must hold strings. Received a RaggedTensor of {value.dtype}")
        return value
    return string_array(value, op, arg)


def map_elements(fn, values, dtype=object) -> np.ndarray:
    """``fn`` applied to every element of the array ``values``, as an array of ``dtype`` of the same shape."""
    flat = values.reshape(-1)
    out = np.empty(flat.shape, dtype=dtype)
    for i, item in enumerate(flat):
        out[i] = fn(item)
    return out.reshape(values.shape)


def elementwise(fn, value, op: str, dtype=object, arg: str = "input"):
    """Apply ``fn`` (bytes -> value) to each string of a dense or ragged string input, keeping its structure."""
    data = strings_or_ragged(value, op, arg)
    if isinstance(data, RaggedTensor):
        return data.with_flat_values(map_elements(fn, data.flat_values.value, dtype))
    return Tensor(map_elements(fn, data, dtype))


def ragged_from_lists(rows_per_element, shape, dtype=object):
    """A ragged tensor of one row per element of an array of ``shape`` (rows in row-major order): rank
    ``len(shape) + 1``; a scalar input gives a dense 1-D tensor, as TensorFlow does."""
    rows = list(rows_per_element)
    if len(shape) == 0:
        return Tensor(_row_array(rows[0], dtype))
    lengths = [len(r) for r in rows]
    flat = [item for r in rows for item in r]
    values = _row_array(flat, dtype)
    result = RaggedTensor.from_row_lengths(values, lengths)
    for size in reversed(shape[1:]):  # the outer dense axes become uniform ragged rows
        count = len(result)
        result = RaggedTensor.from_row_splits(result, np.arange(0, count + 1, size))
    return result


def _row_array(items, dtype):
    out = np.empty(len(items), dtype=dtype)
    for i, item in enumerate(items):
        out[i] = item
    return out


def as_text(value, encoding: str = "utf-8") -> str:
    """A Python str from str/bytes (TensorFlow's ``compat.as_text``)."""
    return value.decode(encoding) if isinstance(value, bytes) else str(value)


def as_bytes(value, encoding: str = "utf-8") -> bytes:
    return value if isinstance(value, bytes) else str(value).encode(encoding)


def int_array(value, name: str) -> np.ndarray:
    arr = np.asarray(value.value if isinstance(value, Tensor) else value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integers. Received dtype {arr.dtype}")
    return arr
