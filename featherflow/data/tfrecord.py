"""The TFRecord side of ``tf.data.experimental``: ``TFRecordWriter`` (a dataset of strings to a file),
``parse_example_dataset`` and ``make_batched_features_dataset``.

>>> import os, tempfile, featherflow as tf
>>> path = os.path.join(tempfile.mkdtemp(), "words.tfrecord")
>>> TFRecordWriter(path).write(tf.data.Dataset.from_tensor_slices([b"a", b"b"]))
>>> list(tf.data.TFRecordDataset(path).as_numpy_iterator())
[b'a', b'b']
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import STRING
from featherflow.data.dataset import AUTOTUNE, Dataset
from featherflow.data.readers import TFRecordDataset
from featherflow.io.parsing import parse_example
from featherflow.io.tfrecord import TFRecordOptions
from featherflow.io.tfrecord import TFRecordWriter as _FileWriter


class TFRecordWriter:
    """Writes the elements of a dataset of string scalars to one TFRecord file.

    Args:
        filename: the file.
        compression_type: ``None``/``""``, ``"GZIP"`` or ``"ZLIB"``.
    """

    def __init__(self, filename, compression_type=None):
        self._filename = filename
        self._options = TFRecordOptions(TFRecordOptions.get_compression_type_string(compression_type))

    def write(self, dataset: Dataset) -> None:
        """Write every element of ``dataset`` (string scalars) as one record each."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"`dataset` must be a `tf.data.Dataset` object. Received: dataset={dataset!r:.100}")
        spec = dataset.element_spec
        if getattr(spec, "dtype", None) != STRING or tuple(getattr(spec, "shape", ())) != ():
            raise TypeError(f"`dataset` must produce scalar `DT_STRING` tensors whereas it produces shape "
                            f"{getattr(spec, 'shape', None)} and types {getattr(spec, 'dtype', spec)}")
        with _FileWriter(self._filename, self._options) as writer:
            for element in dataset._elements():
                writer.write(np.asarray(element.numpy() if isinstance(element, Tensor) else element).item())


def parse_example_dataset(features, num_parallel_calls=1, deterministic=None):
    """A transformation (for ``Dataset.apply``) parsing batches of serialized ``Example`` with
    ``tf.io.parse_example``: ``dataset.batch(32).apply(parse_example_dataset(spec))``."""
    if not features:
        raise ValueError("Argument `features` is required and cannot be empty.")
    return lambda dataset: dataset.map(lambda records: parse_example(records, features),
                                       num_parallel_calls=num_parallel_calls, deterministic=deterministic)


def make_batched_features_dataset(file_pattern, batch_size, features, reader=None, label_key=None,
                                  reader_args=None, num_epochs=None, shuffle=True, shuffle_buffer_size=10000,
                                  shuffle_seed=None, prefetch_buffer_size=None, reader_num_threads=None,
                                  parser_num_threads=None, sloppy_ordering=False, drop_final_batch=False):
    """Batches of parsed ``Example`` records read from the files matching ``file_pattern``.

    Args:
        file_pattern: a glob pattern (or a list of files / patterns).
        batch_size: records per batch.
        features: the ``tf.io.parse_example`` specification.
        reader: a dataset class taking file names (``TFRecordDataset`` by default).
        label_key: a feature returned apart, as ``(features, label)``.
        num_epochs: passes over the data (``None``: forever).
        shuffle, shuffle_buffer_size, shuffle_seed: shuffling of the records.
        drop_final_batch: drop a last smaller batch.
    """
    from featherflow.io.files import matching_files

    files = [f.decode("utf-8") for f in matching_files(file_pattern).numpy().tolist()]
    if not files:
        raise ValueError(f"No files match `file_pattern` {file_pattern}.")
    if label_key is not None and label_key not in features:
        raise ValueError(f"The `label_key` provided ({label_key}) must be one of the `features` keys.")
    reader = reader or TFRecordDataset
    dataset = Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=shuffle_seed)
    dataset = dataset.interleave(lambda name: reader(name.numpy().item().decode("utf-8"), **(reader_args or {})),
                                 cycle_length=reader_num_threads or 1)
    if num_epochs != 1:
        dataset = dataset.repeat(num_epochs)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    dataset = dataset.batch(batch_size, drop_remainder=drop_final_batch)
    dataset = dataset.apply(parse_example_dataset(features, parser_num_threads or 1))
    if label_key is not None:
        dataset = dataset.map(lambda parsed: ({k: v for k, v in parsed.items() if k != label_key},
                                              parsed[label_key]))
    return dataset.prefetch(prefetch_buffer_size or AUTOTUNE)
