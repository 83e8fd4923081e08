"""tf.data cache (memory and file) and the file readers TextLineDataset / FixedLengthRecordDataset."""

import gzip
import os
import zlib

import numpy as np
import pytest
from dataset_helpers import values

import featherflow as tf

D = tf.data.Dataset


def counting_dataset(calls: list, n=5):
    def gen():
        for i in range(n):
            calls.append(i)
            yield i, str(i) * (i + 1)

    return D.from_generator(gen, output_signature=(tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.string)))


def test_memory_cache_reads_the_input_once_and_then_gathers_batches():
    calls = []
    ds = counting_dataset(calls).cache()
    first = values(ds)
    assert values(ds) == first == [(i, (str(i) * (i + 1)).encode()) for i in range(5)]
    assert calls == [0, 1, 2, 3, 4]  # the second pass came from the cache
    assert ds._index_source() is not None  # same-shape elements were stacked: later batches are gathers
    assert sorted(v for b in values(ds.shuffle(5, seed=2).batch(2)) for v in b[0]) == [0, 1, 2, 3, 4]


def test_memory_cache_discards_a_partial_pass_with_tensorflows_warning():
    calls = []
    ds = counting_dataset(calls).cache()
    with pytest.warns(UserWarning, match="partially cached contents of the dataset will be discarded"):
        values(ds.take(2))
    with pytest.warns(UserWarning, match="partially cached"):
        assert values(ds.take(2)) == [(0, b"0"), (1, b"11")]
    calls.clear()
    values(ds)
    values(ds)
    assert calls == [0, 1, 2, 3, 4]


def test_file_cache_survives_the_program_and_keeps_strings(tmp_path):
    path = str(tmp_path / "cache")
    calls = []
    first = values(counting_dataset(calls).cache(path))
    assert os.path.exists(path + ".index") and os.path.exists(path + ".data-00000-of-00001")
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
    calls.clear()
    again = values(counting_dataset(calls).cache(path))  # a new pipeline, as in the next run of the program
    assert again == first and calls == []


def test_interrupted_file_cache_leaves_no_files(tmp_path):
    path = str(tmp_path / "cache")
    with pytest.warns(UserWarning, match="partially cached"):
        values(counting_dataset([]).cache(path).take(2))
    assert os.listdir(tmp_path) == []


def test_file_cache_of_another_pipeline_is_refused(tmp_path):
    path = str(tmp_path / "cache")
    values(D.range(3).cache(path))
    with pytest.raises(ValueError, match="was not written by this pipeline"):
        values(D.zip(D.range(3), D.range(3)).cache(path))


def test_text_line_dataset_tensorflow_output(tmp_path):
    one, two = tmp_path / "t1.txt", tmp_path / "t2.txt"
    one.write_bytes(b"a\r\nb\n\nc")
    two.write_bytes(b"x\ny\n")
    files = [str(one), str(two)]
    assert values(tf.data.TextLineDataset(files)) == [b"a", b"b", b"", b"c", b"x", b"y"]
    assert values(tf.data.TextLineDataset(files, num_parallel_reads=2)) == [b"a", b"x", b"b", b"y", b"", b"c"]
    assert tf.data.TextLineDataset(files).element_spec == tf.TensorSpec([], tf.string)
    assert values(tf.data.TextLineDataset(D.from_tensor_slices(files))) == values(tf.data.TextLineDataset(files))
    packed = tmp_path / "t.gz"
    packed.write_bytes(gzip.compress(b"p\nq\n"))
    assert values(tf.data.TextLineDataset(str(packed), compression_type="GZIP")) == [b"p", b"q"]
    packed = tmp_path / "t.z"
    packed.write_bytes(zlib.compress(b"r\n"))
    assert values(tf.data.TextLineDataset(str(packed), compression_type="ZLIB")) == [b"r"]


def test_fixed_length_records(tmp_path):
    path = tmp_path / "r.bin"
    path.write_bytes(b"0123456789AB")
    records = tf.data.FixedLengthRecordDataset(str(path), 3, header_bytes=1, footer_bytes=2)
    assert values(records) == [b"123", b"456", b"789"]
    with pytest.raises(ValueError, match="not an exact multiple of the record length"):
        values(tf.data.FixedLengthRecordDataset(str(path), 5))
    decoded = records.map(lambda r: r)  # strings pass through map unchanged
    assert values(decoded) == [b"123", b"456", b"789"]
    assert np.frombuffer(values(records)[0], dtype=np.uint8).tolist() == [49, 50, 51]
