"""tf.data interleave, flat_map, group_by_window and bucket_by_sequence_length: TensorFlow 2.21's orders."""

import numpy as np
import pytest
from dataset_helpers import values

import featherflow as tf

D = tf.data.Dataset


def test_interleave_documentation_example():
    ds = D.from_tensor_slices([1, 2, 3, 4, 5]).interleave(lambda x: D.from_tensors(x).repeat(6), cycle_length=2,
                                                          block_length=4)
    assert values(ds) == [1] * 4 + [2] * 4 + [1] * 2 + [2] * 2 + [3] * 4 + [4] * 4 + [3] * 2 + [4] * 2 + [5] * 6


def test_interleave_moves_on_when_an_open_dataset_ends():
    ds = D.range(1, 6).interleave(lambda x: D.from_tensors(x).repeat(x), cycle_length=2, block_length=1)
    assert values(ds) == [1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 4, 5, 5, 5, 5]


def test_parallel_interleave_keeps_the_order_and_spec():
    def make(x):
        return D.range(x * 10, x * 10 + 3)

    serial = D.range(4).interleave(make, cycle_length=3, block_length=2)
    parallel = D.range(4).interleave(make, cycle_length=3, block_length=2, num_parallel_calls=3)
    assert values(parallel) == values(serial)
    assert parallel.element_spec == tf.TensorSpec([], tf.int64) and int(parallel.cardinality()) == -2
    with pytest.raises(TypeError, match="must return a `Dataset`"):
        list(D.range(2).interleave(lambda x: x, cycle_length=1))


def test_flat_map():
    ds = D.from_tensor_slices([[1, 2, 3], [4, 5, 6]]).flat_map(D.from_tensor_slices)
    assert values(ds) == [1, 2, 3, 4, 5, 6]
    assert ds.element_spec == tf.TensorSpec([], tf.int32)


def test_group_by_window_flushes_remaining_groups_in_key_order():
    ds = D.range(10).group_by_window(key_func=lambda x: x % 3, reduce_func=lambda key, w: w.batch(2), window_size=2)
    assert values(ds) == [[0, 3], [1, 4], [2, 5], [6, 9], [7], [8]]
    assert ds.element_spec == tf.TensorSpec([None], tf.int64)
    sized = D.range(6).apply(tf.data.experimental.group_by_window(
        lambda x: x % 2, lambda key, w: w.batch(3), window_size_func=lambda key: key + 1))
    assert values(sized) == [[0], [2], [1, 3], [4], [5]]
    with pytest.raises(ValueError, match="Either the `window_size` argument or the `window_size_func`"):
        D.range(3).group_by_window(lambda x: x, lambda k, w: w)


def _lengths_dataset():
    lengths = [1, 5, 2, 7, 3, 4, 6, 2]
    return D.from_generator(lambda: ([1] * n for n in lengths), output_signature=tf.TensorSpec([None], tf.int32))


def test_bucket_by_sequence_length_tensorflow_outputs():
    ds = _lengths_dataset().bucket_by_sequence_length(lambda x: tf.shape(x)[0], bucket_boundaries=[3, 5],
                                                      bucket_batch_sizes=[2, 2, 2])
    assert values(ds) == [[[1, 0], [1, 1]], [[1, 1, 1, 1, 1, 0, 0], [1] * 7], [[1, 1, 1, 0], [1] * 4], [[1, 1]],
                          [[1] * 6]]
    boundary = _lengths_dataset().bucket_by_sequence_length(lambda x: tf.shape(x)[0], bucket_boundaries=[3, 8],
                                                            bucket_batch_sizes=[2, 2, 2], pad_to_bucket_boundary=True)
    assert values(boundary) == [[[1, 0], [1, 1]], [[1] * 5 + [0, 0], [1] * 7], [[1, 1, 1, 0, 0, 0, 0],
                                [1, 1, 1, 1, 0, 0, 0]], [[1, 1]], [[1] * 6 + [0]]]
    assert boundary.element_spec == tf.TensorSpec([None, None], tf.int32)
    with pytest.raises(ValueError, match=r"len\(bucket_batch_sizes\) must equal len\(bucket_boundaries\) \+ 1"):
        _lengths_dataset().bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3], [2])


def test_bucket_without_padding_batches_equal_lengths():
    ds = D.from_tensor_slices(np.arange(6)).bucket_by_sequence_length(
        lambda x: x % 2, bucket_boundaries=[1], bucket_batch_sizes=[3, 3], no_padding=True)
    assert values(ds) == [[0, 2, 4], [1, 3, 5]]
