"""``tf.data.experimental``: cardinality helpers and the transformations written as
``dataset.apply(tf.data.experimental.X(...))`` in older TensorFlow code.

>>> import featherflow as tf
>>> ds = tf.data.Dataset.range(10).filter(lambda x: x < 3)
>>> int(tf.data.experimental.cardinality(ds)) == tf.data.experimental.UNKNOWN_CARDINALITY
True
>>> ds = ds.apply(tf.data.experimental.assert_cardinality(3))
>>> len(ds)
3
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.data import structure as nest
from featherflow.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset
from featherflow.data.options import (  # noqa: F401 - re-exported
    AutoShardPolicy,
    AutotuneAlgorithm,
    AutotuneOptions,
    DistributeOptions,
    ExternalStatePolicy,
    OptimizationOptions,
    ThreadingOptions,
)
from featherflow.data.tfrecord import (  # noqa: F401,E402 - re-exported
    TFRecordWriter,
    make_batched_features_dataset,
    parse_example_dataset,
)

INFINITE_CARDINALITY = INFINITE
UNKNOWN_CARDINALITY = UNKNOWN
SHARD_HINT = -1
__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]


def cardinality(dataset: Dataset) -> Tensor:
    """The number of elements of ``dataset`` (``INFINITE_CARDINALITY``/``UNKNOWN_CARDINALITY`` when not finite
    or not known), as a scalar int64 tensor."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"`dataset` must be a tf.data.Dataset. Received: dataset={dataset!r:.100}")
    return dataset.cardinality()


def assert_cardinality(expected_cardinality):
    """A transformation (for ``Dataset.apply``) declaring and checking the number of elements."""
    return lambda dataset: dataset.assert_cardinality(expected_cardinality)


def Counter(start=0, step=1, dtype="int64") -> Dataset:  # noqa: N802 - TensorFlow's name
    """``start, start + step, ...`` forever."""
    return Dataset.counter(start, step, dtype)


def RandomDataset(seed=None) -> Dataset:  # noqa: N802 - TensorFlow's name
    """Pseudorandom int64 scalars forever."""
    return Dataset.random(seed)


def from_list(elements) -> Dataset:
    """A dataset of the elements of a Python list."""
    from featherflow.data.sources import ListDataset

    return ListDataset(elements)


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True) -> Dataset:
    return Dataset.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False) -> Dataset:
    return Dataset.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)


def enumerate_dataset(start=0):
    """A transformation pairing each element with its int64 index."""
    return lambda dataset: dataset.enumerate(start)


def get_single_element(dataset: Dataset):
    """The one element of a one-element dataset."""
    return dataset.get_single_element()


def get_next_as_optional(iterator):
    """The iterator's next element as an ``Optional`` (empty at the end)."""
    return iterator.get_next_as_optional()


def at(dataset: Dataset, index):
    """The element at position ``index`` of ``dataset`` (its elements before it are produced and dropped).

    >>> int(at(Dataset.range(10).map(lambda x: x * x), 3))
    9
    """
    from featherflow.data.dataset import as_int

    index = as_int(index, "index")
    n = dataset._cardinality()
    if index < 0 or (n >= 0 and index >= n):
        raise ValueError(f"`index` must be in [0, {n}) for this dataset. Received: index={index}")
    for element in dataset.skip(index).take(1)._elements():
        return nest.to_tensors(element)
    raise ValueError(f"`index` {index} is past the end of the dataset.")


def enable_debug_mode() -> None:
    """Run ``Dataset.map`` functions eagerly, element by element, instead of as compiled programs (for
    debugging: breakpoints and ``print`` in a map function then see every element). Irreversible, as in
    TensorFlow."""
    from featherflow.data.traced import enable_debug_mode as enable

    enable()


def get_structure(dataset_or_iterator):
    """The element spec of a dataset or iterator."""
    return dataset_or_iterator.element_spec


def unbatch():
    return lambda dataset: dataset.unbatch()


def unique():
    return lambda dataset: dataset.unique()


def scan(initial_state, scan_func):
    return lambda dataset: dataset.scan(initial_state, scan_func)


def take_while(predicate):
    return lambda dataset: dataset.take_while(predicate)


def group_by_window(key_func, reduce_func, window_size=None, window_size_func=None):
    return lambda dataset: dataset.group_by_window(key_func, reduce_func, window_size, window_size_func)


def bucket_by_sequence_length(element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes=None,
                              padding_values=None, pad_to_bucket_boundary=False, no_padding=False,
                              drop_remainder=False):
    return lambda dataset: dataset.bucket_by_sequence_length(
        element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes, padding_values,
        pad_to_bucket_boundary, no_padding, drop_remainder)


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """``shuffle(buffer_size, seed)`` then ``repeat(count)``: a new order each repetition."""
    return lambda dataset: dataset.shuffle(buffer_size, seed).repeat(count)


def parallel_interleave(map_func, cycle_length, block_length=1, sloppy=False, buffer_output_elements=None,
                        prefetch_input_elements=None):
    """``interleave`` with the open datasets read ahead in threads (``sloppy`` is ignored: order is kept)."""
    return lambda dataset: dataset.interleave(map_func, cycle_length, block_length, num_parallel_calls=cycle_length)


def map_and_batch(map_func, batch_size, num_batches=None, drop_remainder=False, num_parallel_calls=None,
                  num_parallel_batches=None):
    """``map(map_func)`` then ``batch(batch_size)``."""
    return lambda dataset: dataset.map(map_func, num_parallel_calls).batch(batch_size, drop_remainder)


def prefetch_to_device(device, buffer_size=None):
    """``prefetch``: featherflow's arrays live on the host, so there is no device copy to overlap."""
    return lambda dataset: dataset.prefetch(AUTOTUNE if buffer_size is None else buffer_size)


def copy_to_device(target_device, source_device="/cpu:0"):
    """The dataset unchanged: featherflow's arrays live on the host."""
    return lambda dataset: dataset


class Optional:
    """A value that may be absent (``tf.experimental.Optional``), from ``get_next_as_optional``."""

    def __init__(self, value, element_spec):
        self._value = value
        self._spec = element_spec

    @staticmethod
    def from_value(value) -> Optional:
        element = nest.normalize_element(value)
        return Optional(nest.to_tensors(element), nest.spec_of(element))

    @staticmethod
    def empty(element_spec) -> Optional:
        return Optional(None, element_spec)

    @property
    def element_spec(self):
        return self._spec

    def has_value(self, name=None) -> Tensor:
        return Tensor(np.asarray(self._value is not None))

    def get_value(self, name=None):
        if self._value is None:
            raise ValueError("The optional has no value (the iterator was at its end).")
        return self._value

    def __repr__(self) -> str:
        return f"<Optional has_value={self._value is not None} element_spec={self._spec!r}>"
