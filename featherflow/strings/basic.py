"""Element-wise and joining string ops: lower, upper, strip, length, substr, join, reduce_join,
unsorted_segment_join.

>>> import featherflow as tf
>>> tf.strings.lower(["Hello WORLD"]).numpy()
array([b'hello world'], dtype=object)
>>> tf.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1, separator="-").numpy()
array([b'a-b', b'c-d'], dtype=object)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.ragged import RaggedTensor
from featherflow.core.tensor import Tensor
from featherflow.strings._common import as_bytes, elementwise, int_array, string_array, strings_or_ragged


def _check_encoding(encoding, op):
    if encoding not in ("", None) and str(encoding).lower().replace("-", "").replace("_", "") != "utf8":
        raise ValueError(f"tf.strings.{op}: encoding must be '' or 'utf-8'. Received: encoding={encoding!r}")


def lower(input, encoding="", name=None):  # noqa: A002 - TensorFlow's argument name
    """Lowercase each string: ASCII letters only with ``encoding=""`` (the default), every Unicode letter
    with ``encoding="utf-8"``.

    >>> lower(["ÉCOLE"], encoding="utf-8").numpy()[0].decode()
    'école'
    """
    _check_encoding(encoding, "lower")
    if encoding:
        return elementwise(lambda s: s.decode("utf-8", "surrogateescape").lower().encode("utf-8", "surrogateescape"),
                           input, "lower")
    return elementwise(bytes.lower, input, "lower")  # bytes.lower changes ASCII letters only


def upper(input, encoding="", name=None):  # noqa: A002
    """Uppercase each string (ASCII only unless ``encoding="utf-8"``).

    >>> upper(["abc"]).numpy()
    array([b'ABC'], dtype=object)
    """
    _check_encoding(encoding, "upper")
    if encoding:
        return elementwise(lambda s: s.decode("utf-8", "surrogateescape").upper().encode("utf-8", "surrogateescape"),
                           input, "upper")
    return elementwise(bytes.upper, input, "upper")


def strip(input, name=None):  # noqa: A002
    """Remove leading and trailing ASCII whitespace (space, tab, newline, vertical tab, form feed, carriage return).

    >>> strip(["  a b \\n"]).numpy()
    array([b'a b'], dtype=object)
    """
    return elementwise(bytes.strip, input, "strip")


def _utf8_length(s: bytes) -> int:
    # code points = bytes that do not continue a UTF-8 sequence (TensorFlow counts invalid bytes too)
    return sum(1 for b in s if b & 0xC0 != 0x80)


def length(input, unit="BYTE", name=None):  # noqa: A002
    """The length of each string, in bytes (``unit="BYTE"``) or code points (``unit="UTF8_CHAR"``); int32.

    >>> length(["héllo"], unit="UTF8_CHAR").numpy()
    array([5], dtype=int32)
    """
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"tf.strings.length: unit must be 'BYTE' or 'UTF8_CHAR'. Received: unit={unit!r}")
    return elementwise(len if unit == "BYTE" else _utf8_length, input, "length", dtype=np.int32)


def _char_starts(s: bytes) -> list:
    return [i for i, b in enumerate(s) if b & 0xC0 != 0x80]


def substr(input, pos, len, unit="BYTE", name=None):  # noqa: A002
    """The substring of each string starting at ``pos`` (negative: from the end) of ``len`` units (bytes or
    code points; a negative ``len`` takes the rest). ``pos`` and ``len`` broadcast against ``input``.

    >>> substr(["hello"], 1, 3).numpy()
    array([b'ell'], dtype=object)
    """
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"tf.strings.substr: unit must be 'BYTE' or 'UTF8_CHAR'. Received: unit={unit!r}")
    data = string_array(input, "substr")
    positions = int_array(pos, "pos")
    lengths = int_array(len, "len")
    data, positions, lengths = np.broadcast_arrays(data, positions, lengths)
    out = np.empty(data.shape, dtype=object)
    for index in np.ndindex(data.shape):
        s, p, n = data[index], int(positions[index]), int(lengths[index])
        starts = _char_starts(s) if unit == "UTF8_CHAR" else None
        size = (_utf8_length(s) if unit == "UTF8_CHAR" else s.__len__())
        start = p + size if p < 0 else p
        if start < 0 or start > size:
            raise ValueError(f"tf.strings.substr: pos {p} out of range for string {s!r} at index {index}")
        stop = size if n < 0 else min(size, start + n)
        if unit == "UTF8_CHAR":
            bounds = starts + [s.__len__()]
            out[index] = s[bounds[start]:bounds[stop]]
        else:
            out[index] = s[start:stop]
    return Tensor(out)


def join(inputs, separator="", name=None):
    """Join a list of string tensors element-wise (broadcast) with ``separator``.

    >>> join([["a", "b"], "x"], separator="-").numpy()
    array([b'a-x', b'b-x'], dtype=object)
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"tf.strings.join: `inputs` must be a list of string tensors. Received: {inputs!r:.80}")
    arrays = np.broadcast_arrays(*[string_array(x, "join", "inputs") for x in inputs])
    sep = as_bytes(separator)
    out = np.empty(arrays[0].shape if arrays else (), dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = sep.join(a[index] for a in arrays)
    return Tensor(out)


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None):
    """Join the strings along ``axis`` (all of them when ``None``) with ``separator``.

    >>> reduce_join(["a", "b", "c"]).numpy().decode()
    'abc'
    """
    data = strings_or_ragged(inputs, "reduce_join", "inputs")
    sep = as_bytes(separator)
    if isinstance(data, RaggedTensor):
        if axis in (-1, data.ndim - 1) and data.ragged_rank == 1:
            rows = data.to_list()
            out = np.empty(len(rows), dtype=object)
            out[:] = [sep.join(row) for row in rows]
            return Tensor(out)
        data = data.to_tensor().value
    if axis is None:
        joined = np.empty((1,) * data.ndim if keepdims else (), dtype=object)
        joined[...] = sep.join(data.reshape(-1).tolist())
        return Tensor(joined)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    axes = sorted(a % data.ndim for a in axes)
    moved = np.moveaxis(data, axes, list(range(data.ndim - len(axes), data.ndim)))
    lead = moved.shape[:data.ndim - len(axes)]
    flat = moved.reshape(lead + (-1,))
    out = np.empty(lead, dtype=object)
    for index in np.ndindex(lead):
        out[index] = sep.join(flat[index].tolist())
    if keepdims:
        for a in axes:
            out = np.expand_dims(out, a)
    return Tensor(out)


def unsorted_segment_join(inputs, segment_ids, num_segments, separator="", name=None):
    """Join the strings of each segment (``segment_ids`` gives each input's segment) in input order;
    empty segments give ``b""``.

    >>> unsorted_segment_join(["a", "b", "c"], [1, 0, 1], 2).numpy()
    array([b'b', b'ac'], dtype=object)
    """
    data = string_array(inputs, "unsorted_segment_join", "inputs")
    ids = int_array(segment_ids, "segment_ids")
    if data.shape[:ids.ndim] != ids.shape:
        raise ValueError(f"tf.strings.unsorted_segment_join: segment_ids.shape {ids.shape} must be a prefix of "
                         f"inputs.shape {data.shape}")
    count = int(num_segments)
    if ids.size and (ids.min() < -1 or ids.max() >= count):
        raise ValueError(f"tf.strings.unsorted_segment_join: segment_ids must be in [0, {count}). Received "
                         f"{ids.min()}..{ids.max()}")
    inner = data.shape[ids.ndim:]
    parts: list = [[] for _ in range(count)]
    flat_ids = ids.reshape(-1)
    flat_data = data.reshape((-1,) + inner)
    for i, segment in enumerate(flat_ids):
        if segment >= 0:
            parts[segment].append(flat_data[i])
    sep = as_bytes(separator)
    out = np.empty((count,) + inner, dtype=object)
    for s in range(count):
        for index in np.ndindex(inner):
            out[(s,) + index] = sep.join(p[index] if index else p for p in parts[s])
    return Tensor(out)
