"""tf.data.TFRecordDataset on files TensorFlow 2.21 wrote, the parse-and-fit pipeline, and the TFRecord side of
tf.data.experimental."""

import json
from pathlib import Path

import numpy as np
import pytest

import featherflow as tf

FIXTURES = Path(__file__).parent.parent / "io" / "fixtures"
RECORDS = [bytes.fromhex(h) for h in json.loads((FIXTURES / "io_tf.json").read_text())["examples"]]


@pytest.mark.parametrize("name,compression", [("examples.tfrecord", None), ("examples.tfrecord.gz", "GZIP"),
                                              ("examples.tfrecord.zlib", "ZLIB")])
def test_reads_tensorflows_files(name, compression):
    ds = tf.data.TFRecordDataset(str(FIXTURES / name), compression_type=compression, buffer_size=1024)
    assert ds.element_spec == tf.TensorSpec((), tf.string)
    assert list(ds.as_numpy_iterator()) == RECORDS
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY


def test_files_interleaved_with_num_parallel_reads(tmp_path):
    paths = []
    for i in range(2):
        path = str(tmp_path / f"part{i}.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for j in range(3):
                writer.write(f"{i}-{j}".encode())
        paths.append(path)
    in_order = list(tf.data.TFRecordDataset(paths).as_numpy_iterator())
    assert in_order == [b"0-0", b"0-1", b"0-2", b"1-0", b"1-1", b"1-2"]
    interleaved = list(tf.data.TFRecordDataset(paths, num_parallel_reads=2).as_numpy_iterator())
    assert interleaved == [b"0-0", b"1-0", b"0-1", b"1-1", b"0-2", b"1-2"]  # TF's cycle order
    from_dataset = tf.data.TFRecordDataset(tf.data.Dataset.from_tensor_slices(paths))
    assert list(from_dataset.as_numpy_iterator()) == in_order
    with pytest.raises(ValueError, match="compression_type"):
        tf.data.TFRecordDataset(paths, compression_type="BZ2")


def test_damaged_file_raises_after_the_good_records(tmp_path):
    data = bytearray((FIXTURES / "examples.tfrecord").read_bytes())
    data[-2] ^= 0xFF  # the last record's data checksum
    path = tmp_path / "damaged.tfrecord"
    path.write_bytes(bytes(data))
    seen = []
    with pytest.raises(tf.errors.DataLossError, match="^corrupted record at "):
        for record in tf.data.TFRecordDataset(str(path)):
            seen.append(record.numpy())
    assert seen == RECORDS[:2]


def _write_training_file(path, n=96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 1.0]) > 0).astype("int64")
    with tf.io.TFRecordWriter(str(path)) as writer:
        for features, label in zip(x, y):
            example = tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=features)),
                "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))}))
            writer.write(example.SerializeToString())
    return x, y


def test_parse_single_example_pipeline_feeds_fit(tmp_path):
    x, y = _write_training_file(tmp_path / "train.tfrecord")
    spec = {"x": tf.io.FixedLenFeature([4], tf.float32), "y": tf.io.FixedLenFeature([], tf.int64)}
    ds = (tf.data.TFRecordDataset(str(tmp_path / "train.tfrecord"))
          .map(lambda record: tf.io.parse_single_example(record, spec))
          .map(lambda example: (example["x"], example["y"])).batch(16))
    first_x, first_y = next(iter(ds))
    np.testing.assert_array_equal(first_x.numpy(), x[:16])
    np.testing.assert_array_equal(first_y.numpy(), y[:16])
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(tf.keras.optimizers.Adam(0.1), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(ds, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.8


def test_experimental_writer_and_batched_parsing(tmp_path):
    path = str(tmp_path / "written.tfrecord")
    tf.data.experimental.TFRecordWriter(path, "GZIP").write(tf.data.Dataset.from_tensor_slices(RECORDS))
    assert list(tf.io.tf_record_iterator(path, "GZIP")) == RECORDS
    with pytest.raises(TypeError, match="scalar `DT_STRING`"):
        tf.data.experimental.TFRecordWriter(path).write(tf.data.Dataset.range(3))
    x, y = _write_training_file(tmp_path / "train.tfrecord", n=20)
    spec = {"x": tf.io.FixedLenFeature([4], tf.float32), "y": tf.io.FixedLenFeature([], tf.int64)}
    parsed = tf.data.TFRecordDataset(str(tmp_path / "train.tfrecord")).batch(8).apply(
        tf.data.experimental.parse_example_dataset(spec))
    batches = list(parsed)
    assert [b["x"].shape for b in batches] == [(8, 4), (8, 4), (4, 4)]
    np.testing.assert_array_equal(batches[2]["y"].numpy(), y[16:])
    ds = tf.data.experimental.make_batched_features_dataset(str(tmp_path / "*.tfrecord").replace(
        "*", "train"), 5, spec, label_key="y", num_epochs=1, shuffle=False)
    features, labels = zip(*ds)
    np.testing.assert_array_equal(np.concatenate([f["x"].numpy() for f in features]), x)
    np.testing.assert_array_equal(np.concatenate([label.numpy() for label in labels]), y)
