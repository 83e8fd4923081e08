"""TFRecord files: ``TFRecordWriter``, ``TFRecordOptions`` and ``tf_record_iterator``, with TensorFlow's framing.

Each record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)`` (little
endian), where ``masked_crc(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` of the CRC-32C (Castagnoli) of
the bytes. A file may be compressed as a whole, GZIP or ZLIB. Reading checks both checksums and raises
TensorFlow's ``DataLossError`` texts (``corrupted record at 12``, ``truncated record at 21' failed with ...``).

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "data.tfrecord")
>>> with TFRecordWriter(path) as writer:
...     writer.write(b"hello")
>>> open(path, "rb").read().hex()
'0500000000000000eab2043e68656c6c6fbb1f1c19'
>>> list(tf_record_iterator(path))
[b'hello']
"""

from __future__ import annotations

import functools
import os
import struct
import zlib

import numpy as np

from featherflow.core.errors import DataLossError, NotFoundError

_POLY = 0x82F63B78  # CRC-32C, reflected
_BATCH_BYTES = 1 << 20  # records are framed / verified this much at a time, their checksums computed together


def _make_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


_TABLE = _make_table()
_TABLE_LIST = _TABLE.tolist()
_SMALL = 2048  # below this, a plain loop over the bytes beats the vectorised blocks


def _shift_columns(columns: list) -> list:
    """The GF(2) operator "append a zero byte" composed with the operator of ``columns`` (32 column images)."""
    return [_TABLE_LIST[c & 0xFF] ^ (c >> 8) for c in columns]


def _apply(columns: list, x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for bit, column in enumerate(columns):
        out ^= np.where((x >> np.uint32(bit)) & np.uint32(1), np.uint32(column), np.uint32(0))
    return out


_ZERO_OPS: dict = {}


def _zeros_operator(count: int) -> list:
    """Columns of the linear map ``crc -> crc after count zero bytes`` (cached; built by squaring)."""
    if count not in _ZERO_OPS:
        if count == 1:
            columns = _shift_columns([1 << bit for bit in range(32)])
        else:
            half = _zeros_operator(count // 2)
            twice = [int(c) for c in _apply(half, np.array(half, dtype=np.uint32))]
            columns = _shift_columns(twice) if count % 2 else twice
        _ZERO_OPS[count] = columns
    return _ZERO_OPS[count]


def _byte_tables(columns: list) -> list:
    """Four 256-entry tables that apply the operator one byte of the argument at a time."""
    values = np.arange(256, dtype=np.uint32)
    return [_apply(columns, values << np.uint32(8 * k)) for k in range(4)]


def _apply_tables(tables: list, x: np.ndarray) -> np.ndarray:
    return (tables[0][x & 0xFF] ^ tables[1][(x >> 8) & 0xFF] ^ tables[2][(x >> 16) & 0xFF]
            ^ tables[3][x >> 24])


_TABLES: dict = {}


def _raw_crc_blocks(data: bytes) -> int:
    """The CRC register (start 0, no final xor) of ``data``: equal blocks in parallel, then combined pairwise.

    The register is linear in the data and unchanged by leading zero bytes, so the data is zero-padded in
    front to ``blocks x block_length`` and ``crc(a || b) = zeros_op(len(b))(crc(a)) ^ crc(b)``.
    """
    n = len(data)
    block = 1 << max(5, (n.bit_length() + 1) // 2)
    count = -(-n // block)
    count = 1 << (count - 1).bit_length()  # a power of two, so the pairwise combination stays even
    padded = np.zeros(count * block, dtype=np.uint8)
    padded[count * block - n:] = np.frombuffer(data, dtype=np.uint8)
    rows = padded.reshape(count, block)
    crc = np.zeros(count, dtype=np.uint32)
    for j in range(block):
        crc = _TABLE[(crc ^ rows[:, j]) & 0xFF] ^ (crc >> np.uint32(8))
    length = block
    while crc.size > 1:
        if length not in _TABLES:
            _TABLES[length] = _byte_tables(_zeros_operator(length))
        crc = _apply_tables(_TABLES[length], crc[0::2]) ^ crc[1::2]
        length *= 2
    return int(crc[0])


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) checksum of ``data``, as TensorFlow's ``crc32c::Value``.

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    data = bytes(data)
    if len(data) < _SMALL:
        crc = 0xFFFFFFFF
        table = _TABLE_LIST
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF
    # crc = ~register(~0, data) and register(c, data) = register(0, data) ^ zeros_op(len)(c).
    return (_raw_crc_blocks(data) ^ _initial_register_effect(len(data))) ^ 0xFFFFFFFF


@functools.lru_cache(maxsize=4096)
def _initial_register_effect(count: int) -> int:
    """What the initial register ``0xffffffff`` contributes after ``count`` bytes (``zeros_op(count)(~0)``)."""
    columns = [1 << bit for bit in range(32)]
    power, remaining = 1, count
    while remaining:
        if remaining & 1:
            step = _zeros_operator(power)
            columns = [int(c) for c in _apply(step, np.array(columns, dtype=np.uint32))]
        remaining >>= 1
        power <<= 1
    return int(_apply(columns, np.array([0xFFFFFFFF], dtype=np.uint32))[0])


def crc32c_many(items: list) -> list:
    """``[crc32c(item) for item in items]``, the short items computed together (one NumPy step per byte column).

    Each short item is right-aligned in a zero-padded matrix; its register is set to ``0xffffffff`` at the
    column where it starts, so the leading padding does not count.
    """
    out = [0] * len(items)
    short = [i for i, item in enumerate(items) if len(item) < _SMALL]
    for i in set(range(len(items))) - set(short):
        out[i] = crc32c(items[i])
    if len(short) < 8:
        for i in short:
            out[i] = crc32c(items[i])
        return out
    lengths = np.array([len(items[i]) for i in short])
    width = int(lengths.max())
    matrix = np.zeros((len(short), width), dtype=np.uint8)
    starts = width - lengths
    flat = np.frombuffer(b"".join(items[i] for i in short), dtype=np.uint8)
    rows = np.repeat(np.arange(len(short)), lengths)
    matrix[rows, np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths) + starts[rows]] = flat
    crc = np.zeros(len(short), dtype=np.uint32)
    begin = {}
    for row, start in enumerate(starts.tolist()):
        begin.setdefault(start, []).append(row)
    eight = np.uint32(8)
    for j in range(width):
        if j in begin:
            crc[begin[j]] = 0xFFFFFFFF
        crc = _TABLE[(crc ^ matrix[:, j]) & 0xFF] ^ (crc >> eight)
    crc[lengths == 0] = 0xFFFFFFFF
    for i, value in zip(short, (crc ^ np.uint32(0xFFFFFFFF)).tolist()):
        out[i] = value
    return out


def _mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked checksum: ``((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2**32)."""
    return _mask(crc32c(data))


def frame_records(records: list) -> bytes:
    """Records with their headers and checksums, as written to a TFRecord file."""
    out = bytearray()
    for data, crc in zip(records, crc32c_many(records)):
        length = struct.pack("<Q", len(data))
        out += length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", _mask(crc))
    return bytes(out)


_COMPRESSIONS = {"": "", "GZIP": "GZIP", "ZLIB": "ZLIB"}


class TFRecordOptions:
    """Options of a TFRecord file: its compression and the zlib settings used to write it.

    Args:
        compression_type: ``"GZIP"``, ``"ZLIB"``, or ``""``/``None`` (no compression).
        flush_mode, input_buffer_size, output_buffer_size: accepted as in TensorFlow (Python's zlib
            buffers for itself).
        window_bits, compression_level, compression_method, mem_level, compression_strategy: zlib's
            ``deflateInit2`` settings (``None``: zlib's defaults, level -1, memory level 9 as TensorFlow).
    """

    compression_type_map = {"ZLIB": "ZLIB", "GZIP": "GZIP", "": ""}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None, output_buffer_size=None,
                 window_bits=None, compression_level=None, compression_method=None, mem_level=None,
                 compression_strategy=None):
        if compression_type not in (None, "", "GZIP", "ZLIB"):
            raise ValueError(f'Not a valid compression_type: "{compression_type}"')
        self.compression_type = compression_type
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options) -> str:
        """``"GZIP"``, ``"ZLIB"`` or ``""`` for options, a compression string or ``None``."""
        if not options:
            return ""
        if isinstance(options, TFRecordOptions):
            return cls.get_compression_type_string(options.compression_type)
        if options not in _COMPRESSIONS:
            raise ValueError(f'Not a valid compression_type: "{options}"')
        return _COMPRESSIONS[options]

    def _compressor(self):
        kind = self.get_compression_type_string(self)
        if not kind:
            return None
        bits = self.window_bits if self.window_bits is not None else zlib.MAX_WBITS
        if kind == "GZIP" and bits < 16:
            bits += 16
        return zlib.compressobj(-1 if self.compression_level is None else self.compression_level,
                                zlib.DEFLATED if self.compression_method is None else self.compression_method,
                                bits, 9 if self.mem_level is None else self.mem_level,
                                zlib.Z_DEFAULT_STRATEGY if self.compression_strategy is None
                                else self.compression_strategy)


def _options(options) -> TFRecordOptions:
    if options is None or isinstance(options, TFRecordOptions):
        return options or TFRecordOptions()
    return TFRecordOptions(TFRecordOptions.get_compression_type_string(options))


class TFRecordWriter:
    """Writes records (``bytes``, e.g. ``Example.SerializeToString()``) to a TFRecord file.

    Args:
        path: the file to write (created or truncated).
        options: a ``TFRecordOptions`` or a compression string (``"GZIP"``, ``"ZLIB"``, ``""``).

    Records are framed as in TensorFlow; ``flush()`` pushes what was written to the file (with a zlib
    sync flush when compressed), ``close()`` finishes it. Use it as a context manager.
    """

    def __init__(self, path, options=None):
        self._options = _options(options)
        self._path = os.fspath(path.decode() if isinstance(path, bytes) else path)
        try:
            self._file = open(self._path, "wb")  # noqa: SIM115 - closed by close()
        except FileNotFoundError:
            raise NotFoundError(None, None, f"{self._path}; No such file or directory") from None
        self._compressor = self._options._compressor()
        self._pending, self._pending_bytes = [], 0

    def _write_pending(self) -> None:
        data = frame_records(self._pending)
        self._pending, self._pending_bytes = [], 0
        self._file.write(self._compressor.compress(data) if self._compressor else data)

    def write(self, record) -> None:
        """Append one record."""
        if hasattr(record, "numpy"):
            record = record.numpy()
        if isinstance(record, np.ndarray) and record.ndim == 0:
            record = record.item()
        if isinstance(record, str):
            record = record.encode("utf-8")
        if not isinstance(record, (bytes, bytearray, memoryview)):
            raise TypeError(f"write(): the record must be bytes (e.g. example.SerializeToString()). Received: "
                            f"record of type {type(record).__name__}")
        if self._file is None:
            raise ValueError("Writer is closed.")
        self._pending.append(bytes(record))  # framed in batches: their checksums are computed together
        self._pending_bytes += len(record) + 16
        if self._pending_bytes >= _BATCH_BYTES:
            self._write_pending()

    def flush(self) -> None:
        """Push the records written so far to the file."""
        if self._file is None:
            raise ValueError("Writer is closed.")
        self._write_pending()
        if self._compressor:
            self._file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self) -> None:
        """Finish the file (the compressed stream's end) and close it."""
        if self._file is None:
            return
        self._write_pending()
        if self._compressor:
            self._file.write(self._compressor.flush(zlib.Z_FINISH))
        self._file.close()
        self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class _Decompressed:
    """A file read through zlib (GZIP or ZLIB), with ``read(n)`` as on a plain file."""

    def __init__(self, file, kind: str, chunk: int = 1 << 16):
        self._file, self._chunk = file, chunk
        self._bits = zlib.MAX_WBITS | (16 if kind == "GZIP" else 0)
        self._inflate = zlib.decompressobj(self._bits)
        self._buffer = bytearray()
        self._done = False

    def _fill(self, n: int) -> None:
        while len(self._buffer) < n and not self._done:
            raw = self._file.read(self._chunk)
            try:
                if raw:
                    self._buffer += self._inflate.decompress(raw)
                    while self._inflate.eof and self._inflate.unused_data and self._bits > zlib.MAX_WBITS:
                        rest = self._inflate.unused_data  # concatenated gzip members
                        self._inflate = zlib.decompressobj(self._bits)
                        self._buffer += self._inflate.decompress(rest)
                else:
                    self._buffer += self._inflate.flush()
                    self._done = True
            except zlib.error as exc:
                code = str(exc).split("Error ")[-1].split(" ")[0]
                reason = str(exc).split(": ", 1)[-1]
                raise DataLossError(None, None, f"inflate() failed with error {code}: {reason}") from None

    def read(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def close(self) -> None:
        self._file.close()


def open_records(path: str, compression_type=None, buffer_size=None):
    """``path`` opened for reading its (decompressed) bytes, with TensorFlow's NotFoundError."""
    kind = TFRecordOptions.get_compression_type_string(compression_type)
    try:
        file = open(path, "rb", buffering=buffer_size if buffer_size and buffer_size > 0 else -1)  # noqa: SIM115
    except FileNotFoundError:
        raise NotFoundError(None, None, f"{path}; No such file or directory") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not a TFRecord file.") from None
    return _Decompressed(file, kind) if kind else file


def _read_batch(stream, offset: int) -> tuple:
    """``(records, their offsets, checksums read, the error that ended the batch or None, at_end)``."""
    records, offsets, stored, size = [], [], [], 0
    while size < _BATCH_BYTES:
        header = stream.read(12)
        if len(header) < 12:  # TensorFlow ends quietly at a missing or partial header
            return records, offsets, stored, None, True
        if struct.unpack_from("<I", header, 8)[0] != masked_crc32c(header[:8]):
            hint = " (Is this even a TFRecord file?)" if offset == 0 else ""
            return records, offsets, stored, DataLossError(None, None, f"corrupted record at {offset}{hint}"), True
        length = struct.unpack_from("<Q", header)[0]
        body = stream.read(length + 4)
        if len(body) < length + 4:
            return records, offsets, stored, DataLossError(
                None, None, f"truncated record at {offset}' failed with Read less bytes than requested"), True
        records.append(body[:length])
        stored.append(struct.unpack_from("<I", body, length)[0])
        offsets.append(offset)
        offset += 16 + length
        size += length + 16
    return records, offsets, stored, None, False


def read_records(path: str, compression_type=None, buffer_size=None):
    """The records of one TFRecord file, checked against their checksums (a generator).

    Records are read in batches of about 1 MiB whose data checksums are computed together; the records
    before a bad one are still yielded first, then TensorFlow's ``DataLossError`` is raised.
    """
    stream = open_records(path, compression_type, buffer_size)
    try:
        offset, at_end = 0, False
        while not at_end:
            records, offsets, stored, error, at_end = _read_batch(stream, offset)
            for record, start, expected, crc in zip(records, offsets, stored, crc32c_many(records)):
                if _mask(crc) != expected:
                    raise DataLossError(None, None, f"corrupted record at {start + 12}")
                yield record
            if error is not None:
                raise error
            if records:
                offset = offsets[-1] + 16 + len(records[-1])
    finally:
        stream.close()


def tf_record_iterator(path, options=None):
    """The records of a TFRecord file as ``bytes`` (TensorFlow's ``tf.compat.v1.io.tf_record_iterator``).

    Args:
        path: the file.
        options: a ``TFRecordOptions`` or a compression string.
    """
    path = os.fspath(path.decode() if isinstance(path, bytes) else path)
    return read_records(path, _options(options).compression_type)
