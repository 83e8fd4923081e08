"""TFRecord files: featherflow reads the files TensorFlow 2.21 wrote and writes the same bytes."""

import gzip
import os
import zlib

import numpy as np
import pytest
from fixture_utils import FIXTURES, TF

import featherflow as tf
from featherflow.io.tfrecord import crc32c, crc32c_many, masked_crc32c

RECORDS = [bytes.fromhex(h) for h in TF["examples"]]


def _reference_crc(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize("size", [0, 1, 9, 2047, 2048, 3000, 70001])
def test_crc32c_against_the_bitwise_definition(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    assert crc32c(data) == _reference_crc(data)


def test_crc32c_known_values_and_batches():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720)
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720's 32 zero bytes
    items = [os.urandom(n) for n in (0, 3, 100, 100, 2500, 1, 2047, 64, 0, 5000)]
    assert crc32c_many(items) == [crc32c(item) for item in items]
    assert masked_crc32c(b"hello") == 0x191C1FBB


@pytest.mark.parametrize("name,compression", [("examples.tfrecord", None), ("examples.tfrecord.gz", "GZIP"),
                                              ("examples.tfrecord.zlib", "ZLIB")])
def test_reads_tensorflows_files(name, compression):
    path = FIXTURES / name
    assert list(tf.io.tf_record_iterator(str(path), compression)) == RECORDS
    options = tf.io.TFRecordOptions(compression)
    assert list(tf.io.tf_record_iterator(path, options)) == RECORDS


@pytest.mark.parametrize("compression", [None, "GZIP", "ZLIB"])
def test_writes_tensorflows_bytes(tmp_path, compression):
    path = tmp_path / "out.tfrecord"
    with tf.io.TFRecordWriter(str(path), compression) as writer:
        for record in RECORDS:
            writer.write(record)
    data = path.read_bytes()
    plain = (FIXTURES / "examples.tfrecord").read_bytes()
    if compression == "GZIP":
        assert data == (FIXTURES / "examples.tfrecord.gz").read_bytes()  # the same zlib settings as TF
        data = gzip.decompress(data)
    elif compression == "ZLIB":
        assert data == (FIXTURES / "examples.tfrecord.zlib").read_bytes()
        data = zlib.decompress(data)
    assert data == plain


def test_framing_of_one_record(tmp_path):
    # TensorFlow 2.21 wrote these bytes for the records b"hello" and b"".
    path = tmp_path / "two.tfrecord"
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b"hello")
        writer.write(tf.constant(b""))
    assert path.read_bytes().hex() == ("0500000000000000eab2043e68656c6c6fbb1f1c19"
                                       "000000000000000029039807d8ea82a2")


def test_flush_makes_records_readable_and_close_twice(tmp_path):
    path = tmp_path / "f.tfrecord"
    writer = tf.io.TFRecordWriter(str(path), tf.io.TFRecordOptions(compression_type="GZIP"))
    writer.write(b"a" * 10)
    writer.flush()
    assert list(tf.io.tf_record_iterator(str(path), "GZIP")) == [b"a" * 10]
    writer.write(b"b")
    writer.close()
    writer.close()
    assert list(tf.io.tf_record_iterator(str(path), "GZIP")) == [b"a" * 10, b"b"]
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"c")


def _hello_file(tmp_path, data: bytes):
    path = tmp_path / "damaged.tfrecord"
    path.write_bytes(data)
    return str(path)


def test_damaged_files_raise_tensorflows_errors(tmp_path):
    good = bytes.fromhex("0500000000000000eab2043e68656c6c6fbb1f1c19000000000000000029039807d8ea82a2")
    truncated = _hello_file(tmp_path, good[:-3])
    records = tf.io.tf_record_iterator(truncated)
    assert next(records) == b"hello"  # the records before the damage come first, as in TF
    with pytest.raises(tf.errors.DataLossError, match="^truncated record at 21' failed with Read less bytes than "
                                                      "requested$"):
        next(records)
    bad_data = bytearray(good)
    bad_data[13] ^= 1
    with pytest.raises(tf.errors.DataLossError, match="^corrupted record at 12$"):
        list(tf.io.tf_record_iterator(_hello_file(tmp_path, bytes(bad_data))))
    bad_length = bytearray(good)
    bad_length[9] ^= 1
    with pytest.raises(tf.errors.DataLossError, match=r"^corrupted record at 0 \(Is this even a TFRecord file\?\)$"):
        list(tf.io.tf_record_iterator(_hello_file(tmp_path, bytes(bad_length))))
    assert list(tf.io.tf_record_iterator(_hello_file(tmp_path, good[:5]))) == []  # a partial header ends quietly
    with pytest.raises(tf.errors.DataLossError, match="inflate"):
        list(tf.io.tf_record_iterator(str(FIXTURES / "examples.tfrecord"), "GZIP"))
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        list(tf.io.tf_record_iterator(str(tmp_path / "missing")))


def test_bad_arguments():
    with pytest.raises(ValueError, match='Not a valid compression_type: "BZ2"'):
        tf.io.TFRecordOptions("BZ2")
    with pytest.raises(ValueError, match='Not a valid compression_type: "BZ2"'):
        tf.io.TFRecordWriter("unused", "BZ2")
    assert tf.io.TFRecordOptions.get_compression_type_string(None) == ""
    assert tf.io.TFRecordOptions.get_compression_type_string(tf.io.TFRecordOptions("ZLIB")) == "ZLIB"


def test_many_records_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    records = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 3000, 700)]
    path = str(tmp_path / "many.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    assert list(tf.io.tf_record_iterator(path)) == records
