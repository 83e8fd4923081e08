"""``tf.io`` ops on files and byte strings: ``read_file``, ``write_file``, ``matching_files``, ``decode_raw``,
``decode_csv``, ``encode_base64``/``decode_base64`` (web-safe), ``decode_compressed`` and the sparse-tensor
serializations.

String tensors are object arrays of ``bytes`` (``tf.string``); each op takes bytes, ``str`` or string tensors.

>>> decode_raw(b"\\x01\\x00\\x02\\x00", "int16").numpy()
array([1, 2], dtype=int16)
>>> [t.numpy().tolist() for t in decode_csv(["1,2.5,a", "3,,b"], record_defaults=[[0], [0.0], [""]])]
[[1, 3], [2.5, 0.0], [b'a', b'b']]
"""

from __future__ import annotations

import base64
import binascii
import glob as _glob
import os
import zlib

import numpy as np

from featherflow.core.dtypes import as_dtype
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.core.tensor_spec import STRING
from featherflow.io.gfile import _os_error, _path


def _strings(value) -> np.ndarray:
    """An object array of bytes from bytes / str / lists / string tensors."""
    if isinstance(value, Tensor):
        value = value.numpy()
    array = np.asarray(value, dtype=object)
    flat = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.reshape(-1).tolist()]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(array.shape)


def _string_tensor(items: np.ndarray) -> Tensor:
    return Tensor(np.asarray(items, dtype=object))


def _scalar(data: bytes) -> Tensor:
    out = np.empty((), dtype=object)
    out[()] = data
    return Tensor(out)


def read_file(filename, name=None) -> Tensor:
    """The whole file as a string scalar.

    Args:
        filename: the path.
    """
    path = _path(filename)
    try:
        with open(path, "rb") as f:
            return _scalar(f.read())
    except OSError as exc:
        raise _os_error(path, exc) from None


def write_file(filename, contents, name=None) -> None:
    """Write ``contents`` (bytes or str) to ``filename``, creating its directory as TensorFlow does.

    The bytes go to a temporary file that is renamed over ``filename``: a reader never sees half of them.
    """
    path = _path(filename)
    data = _strings(contents)
    if data.ndim:
        raise InvalidArgumentError(None, None, f"Contents tensor must be scalar, but had shape: {list(data.shape)}")
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    partial = f"{path}.tmp-{os.getpid()}"
    try:
        with open(partial, "wb") as f:
            f.write(data[()])
        os.replace(partial, path)
    except OSError as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise _os_error(path, exc) from None


def matching_files(pattern, name=None) -> Tensor:
    """The sorted paths matching one pattern or several (a string tensor).

    Args:
        pattern: a glob pattern or a list of them.
    """
    found = set()
    for item in _strings(pattern).reshape(-1):
        found.update(_glob.glob(item.decode("utf-8")))
    out = np.empty(len(found), dtype=object)
    out[:] = [p.encode("utf-8") for p in sorted(found)]
    return _string_tensor(out)


def match_filenames_once(pattern, name=None) -> Tensor:
    """``matching_files(pattern)`` (TensorFlow wraps it in a variable initialised once; eagerly the same)."""
    return matching_files(pattern)


_RAW_TYPES = ("half, float, double, int32, uint16, uint8, int16, int8, int64, complex64, complex128, bool, "
              "bfloat16")


def decode_raw(input_bytes, out_type, little_endian: bool = True, fixed_length=None, name=None) -> Tensor:
    """Reinterpret the bytes of each string as a vector of ``out_type`` (one more axis than the input).

    Args:
        input_bytes: a string tensor; without ``fixed_length`` all strings must have the same size.
        out_type: a numeric dtype.
        little_endian: the byte order of the data.
        fixed_length: if set, each string is cut or zero-padded to this many bytes.
    """
    dtype = as_dtype(out_type)
    if dtype == STRING or dtype.kind not in "biufc" or dtype.names:
        raise InvalidArgumentError(None, None, f"Value for attr 'out_type' of {'string' if dtype == STRING else dtype}"
                                               f" is not in the list of allowed values: {_RAW_TYPES}")
    data = _strings(input_bytes)
    flat = data.reshape(-1)
    if fixed_length is not None:
        length = int(fixed_length)
        if length % dtype.itemsize:
            raise InvalidArgumentError(None, None, f"fixed_length ({length}) must be a multiple of the size of "
                                                   f"out_type ({dtype.itemsize})")
        flat = [item[:length].ljust(length, b"\0") for item in flat]
    elif len(flat):
        length = len(flat[0])
        for i, item in enumerate(flat):
            if len(item) != length:
                raise InvalidArgumentError(None, None, f"DecodeRaw requires input strings to all be the same size, "
                                                       f"but element {i} has size {len(item)} != {length}")
        if length % dtype.itemsize:
            raise InvalidArgumentError(None, None, f"Input to DecodeRaw has length {length} that is not a multiple "
                                                   f"of {dtype.itemsize}, the size of {dtype.name}")
    else:
        length = 0
    order = dtype.newbyteorder("<" if little_endian else ">") if dtype.itemsize > 1 else dtype
    values = np.frombuffer(b"".join(flat), dtype=order).astype(dtype)
    return Tensor(values.reshape(*data.shape, length // dtype.itemsize))


def encode_base64(input, pad: bool = False, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Web-safe base64 (``-`` and ``_``) of each string, without ``=`` padding unless ``pad``."""
    data = _strings(input)
    out = np.empty(data.shape, dtype=object)
    for index, item in np.ndenumerate(data):
        encoded = base64.urlsafe_b64encode(item)
        out[index] = encoded if pad else encoded.rstrip(b"=")
    return _string_tensor(out)


def decode_base64(input, name=None) -> Tensor:  # noqa: A002
    """Decode web-safe base64 strings (padding optional)."""
    data = _strings(input)
    out = np.empty(data.shape, dtype=object)
    for index, item in np.ndenumerate(data):
        text = item.rstrip(b"=")
        if len(text) % 4 == 1:
            raise InvalidArgumentError(None, None, "Base64 string length cannot be 1 modulo 4.")
        try:
            out[index] = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise InvalidArgumentError(None, None, f"Invalid character found in base64: {item!r}") from None
    return _string_tensor(out)


def decode_compressed(bytes, compression_type: str = "", name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Decompress each string: ``""`` (unchanged), ``"ZLIB"`` or ``"GZIP"``."""
    if compression_type not in ("", "ZLIB", "GZIP"):
        raise InvalidArgumentError(None, None, f"Only ZLIB, GZIP or NONE are supported compressions. Received: "
                                               f"compression_type={compression_type!r}")
    data = _strings(bytes)
    out = np.empty(data.shape, dtype=object)
    for index, item in np.ndenumerate(data):
        try:
            out[index] = item if not compression_type else zlib.decompress(
                item, zlib.MAX_WBITS | (16 if compression_type == "GZIP" else 0))
        except zlib.error as exc:
            raise InvalidArgumentError(None, None, f"decode_compressed: {exc}") from None
    return _string_tensor(out)


def _parse_field(text: bytes, default: np.ndarray, column: int, record: int):
    dtype = default.dtype
    if dtype == STRING:
        return text
    stripped = text.strip()
    try:
        if dtype.kind in "iu":
            return int(stripped, 10)
        return float(stripped)
    except ValueError:
        raise InvalidArgumentError(None, None, f"Field {column} in record {record} is not a valid "
                                               f"{'float' if dtype == np.float32 else dtype.name}: "
                                               f"{text.decode('utf-8', 'replace')}") from None


def _split_csv(record: bytes, delim: bytes, quoted: bool, index: int) -> list:
    if not quoted:
        return record.split(delim)
    fields, pos, n = [], 0, len(record)
    while True:
        if pos < n and record[pos:pos + 1] == b'"':
            value, pos = bytearray(), pos + 1
            while True:
                end = record.find(b'"', pos)
                if end < 0:
                    raise InvalidArgumentError(None, None, f"Quoted field has to end with quote followed by delim or "
                                                           f"end (record {index})")
                value += record[pos:end]
                if record[end + 1:end + 2] == b'"':
                    value += b'"'
                    pos = end + 2
                    continue
                pos = end + 1
                break
            if pos < n and record[pos:pos + len(delim)] != delim:
                raise InvalidArgumentError(None, None, "Quoted field has to end with quote followed by delim or end")
            fields.append(bytes(value))
        else:
            end = record.find(delim, pos)
            end = n if end < 0 else end
            field = record[pos:end]
            if b'"' in field or b"\n" in field or b"\r" in field:
                raise InvalidArgumentError(None, None, "Unquoted fields cannot have quotes/CRLFs inside")
            fields.append(field)
            pos = end
        if pos >= n:
            return fields
        pos += len(delim)
        if pos == n:
            fields.append(b"")
            return fields


def decode_csv(records, record_defaults, field_delim: str = ",", use_quote_delim: bool = True, na_value: str = "",
               select_cols=None, name=None) -> list:
    """Parse CSV lines into one tensor per column, shaped as ``records``.

    Args:
        records: a string tensor, one CSV line per element.
        record_defaults: one entry per column: a one-element list/tensor giving the column's dtype and default
            (int32, int64, float32, float64 or string), or an empty tensor for a required column.
        field_delim: the one-character delimiter.
        use_quote_delim: whether ``"`` quotes fields (``""`` inside a quoted field is a quote).
        na_value: the text that stands for a missing value.
        select_cols: the sorted indices of the columns to return (``record_defaults`` has one entry each).
    """
    data = _strings(records)
    delim = field_delim.encode("utf-8") if isinstance(field_delim, str) else bytes(field_delim)
    na = na_value.encode("utf-8") if isinstance(na_value, str) else bytes(na_value)
    defaults = []
    for default in record_defaults:
        array = default.numpy() if isinstance(default, Tensor) else np.asarray(
            convert_to_tensor(default).value)
        if array.dtype == STRING:
            array = _strings(array)
        defaults.append(array.reshape(-1))
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if sorted(set(select_cols)) != select_cols:
            raise ValueError("select_cols is not strictly increasing.")
        if len(select_cols) != len(defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    columns = [np.empty(data.size, dtype=d.dtype) for d in defaults]
    for r, record in enumerate(data.reshape(-1)):
        fields = _split_csv(record, delim, use_quote_delim, r)
        if select_cols is None and len(fields) != len(defaults):
            raise InvalidArgumentError(None, None, f"Expect {len(defaults)} fields but have {len(fields)} in record "
                                                   f"{r}")
        wanted = range(len(defaults)) if select_cols is None else select_cols
        if select_cols is not None and select_cols and select_cols[-1] >= len(fields):
            raise InvalidArgumentError(None, None, f"Expect {select_cols[-1] + 1} fields but have {len(fields)} in "
                                                   f"record {r}")
        for c, (column, source) in enumerate(zip(columns, wanted)):
            text = fields[source]
            if text == b"" or text == na:
                if defaults[c].size == 0:
                    raise InvalidArgumentError(None, None, f"Field {c} is required but missing in record {r}!")
                column[r] = defaults[c][0]
            else:
                column[r] = _parse_field(text, defaults[c], c, r)
    return [Tensor(column.reshape(data.shape)) for column in columns]
