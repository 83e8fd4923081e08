"""File readers: ``TextLineDataset`` (lines of text files) and ``FixedLengthRecordDataset`` (fixed-size binary
records), with TensorFlow's ``compression_type`` (``"GZIP"``, ``"ZLIB"``) and ``num_parallel_reads``
(files interleaved one element at a time, read ahead in threads).

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "lines.txt")
>>> with open(path, "w") as f:
...     _ = f.write("first\\nsecond\\n")
>>> list(TextLineDataset(path).as_numpy_iterator())
[b'first', b'second']
"""

from __future__ import annotations

import gzip
import io
import os
import zlib

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import STRING, TensorSpec
from featherflow.data.dataset import UNKNOWN, Dataset, _check_count
from featherflow.io.tfrecord import read_records


def _filenames(filenames) -> list:
    if isinstance(filenames, Dataset):
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v)
                for v in (e[()] if isinstance(e, np.ndarray) else e for e in filenames._elements())]
    if isinstance(filenames, Tensor):
        filenames = filenames.numpy()
    if isinstance(filenames, (str, bytes, os.PathLike)):
        filenames = [filenames]
    names = []
    for name in np.asarray(filenames, dtype=object).reshape(-1).tolist():
        names.append(name.decode("utf-8") if isinstance(name, bytes) else os.fspath(name))
    if not names:
        raise ValueError("`filenames` must be a non-empty list of file names. Received: filenames=[]")
    return names


def _open(path: str, compression_type):
    compression = (compression_type or "").upper()
    if compression == "":
        return open(path, "rb")
    if compression == "GZIP":
        return gzip.open(path, "rb")
    if compression == "ZLIB":
        with open(path, "rb") as f:
            return io.BytesIO(zlib.decompress(f.read()))
    raise ValueError(f"Unsupported compression_type: {compression_type!r}. Expected '', 'GZIP' or 'ZLIB'.")


def _string(value: bytes) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


class _FileDataset(Dataset):
    """A dataset reading each file in turn (or ``num_parallel_reads`` of them interleaved)."""

    def __init__(self, filenames, compression_type=None, num_parallel_reads=None):
        self._files = _filenames(filenames)
        self._compression = compression_type
        self._parallel = None if num_parallel_reads is None else _check_count(num_parallel_reads,
                                                                              "num_parallel_reads")

    def _cardinality(self) -> int:
        return UNKNOWN

    def _spec(self):
        return TensorSpec((), STRING)

    def _read_file(self, path: str):
        raise NotImplementedError

    def _elements(self):
        if not self._parallel or self._parallel == 1:
            return (record for path in self._files for record in self._read_file(path))
        from featherflow.data.sources import TensorSliceDataset

        files = TensorSliceDataset(np.array([p.encode("utf-8") for p in self._files], dtype=object))
        reader = self

        class _One(Dataset):
            def __init__(self, path):
                self._path = path

            def _spec(self):
                return TensorSpec((), STRING)

            def _elements(self):
                return reader._read_file(self._path)

        return files.interleave(lambda path: _One(path.numpy().item().decode("utf-8")),
                                cycle_length=self._parallel, num_parallel_calls=self._parallel)._elements()


class TextLineDataset(_FileDataset):
    """The lines of one or more text files, without their line endings (``\\n`` or ``\\r\\n``), as strings.

    Args:
        filenames: a file name, a list of them, or a dataset of them.
        compression_type: ``None``/``""``, ``"GZIP"`` or ``"ZLIB"``.
        buffer_size: accepted for compatibility (files are read with Python's buffering).
        num_parallel_reads: files read at once, their lines interleaved (TensorFlow's order).
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)

    def _read_file(self, path: str):
        with _open(path, self._compression) as f:
            for line in f:
                if line.endswith(b"\n"):
                    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                yield _string(line)


class FixedLengthRecordDataset(_FileDataset):
    """Records of ``record_bytes`` bytes from binary files (after ``header_bytes``, before ``footer_bytes``).

    Args:
        filenames: a file name, a list of them, or a dataset of them.
        record_bytes: the size of one record.
        header_bytes, footer_bytes: bytes skipped at the start and end of each file.
        buffer_size, compression_type, num_parallel_reads: as for ``TextLineDataset``.
    """

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None, buffer_size=None,
                 compression_type=None, num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)
        self._record = _check_count(record_bytes, "record_bytes", allow_minus_one=False)
        self._header = 0 if header_bytes is None else _check_count(header_bytes, "header_bytes")
        self._footer = 0 if footer_bytes is None else _check_count(footer_bytes, "footer_bytes")

    def _read_file(self, path: str):
        with _open(path, self._compression) as f:
            data = f.read()
        body = len(data) - self._header - self._footer
        if body < 0 or body % self._record:
            raise ValueError(f"Excluding the header ({self._header} bytes) and footer ({self._footer} bytes), input "
                             f"file \"{path}\" has body length {max(body, 0)} bytes, which is not an exact multiple "
                             f"of the record length ({self._record} bytes).")
        for start in range(self._header, self._header + body, self._record):
            yield _string(data[start:start + self._record])


class TFRecordDataset(_FileDataset):
    """The records of one or more TFRecord files (``tf.io.TFRecordWriter``'s or TensorFlow's), as strings.

    Each record's length and data checksums (masked CRC-32C) are verified; a damaged file raises
    TensorFlow's ``DataLossError`` (``corrupted record at 12``) once the records before the damage are read.
    Parse the records with ``tf.io.parse_single_example`` in a ``map``.

    Args:
        filenames: a file name, a list of them, or a dataset of them.
        compression_type: ``None``/``""``, ``"GZIP"`` or ``"ZLIB"`` (a whole-file stream, as TensorFlow's).
        buffer_size: bytes of the read buffer (``None``: Python's default).
        num_parallel_reads: files read at once, their records interleaved (TensorFlow's order).

    >>> import os, tempfile, featherflow as tf
    >>> path = os.path.join(tempfile.mkdtemp(), "data.tfrecord")
    >>> with tf.io.TFRecordWriter(path) as writer:
    ...     for word in (b"a", b"b"):
    ...         writer.write(word)
    >>> list(TFRecordDataset(path).as_numpy_iterator())
    [b'a', b'b']
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)
        if isinstance(compression_type, Tensor):
            compression_type = compression_type.numpy().item()
        if isinstance(compression_type, bytes):
            compression_type = compression_type.decode()
        if compression_type not in (None, "", "GZIP", "ZLIB"):
            raise ValueError(f"Unsupported compression_type: {compression_type!r}. Expected '', 'GZIP' or 'ZLIB'.")
        self._compression = compression_type
        self._buffer_size = None if buffer_size is None else _check_count(buffer_size, "buffer_size")

    def _read_file(self, path: str):
        for record in read_records(path, self._compression, self._buffer_size):
            yield _string(record)
