"""tf.ragged's functions and RaggedTensor arithmetic, against TensorFlow 2.21's results."""

import numpy as np
import pytest

import featherflow as tf


def test_elementwise_operators_keep_the_row_structure():
    rt = tf.ragged.constant([[1.0, 2.0], [3.0], []])
    assert (rt + 1).to_list() == [[2.0, 3.0], [4.0], []]
    assert (2 * rt).to_list() == [[2.0, 4.0], [6.0], []]
    assert (-rt).to_list() == [[-1.0, -2.0], [-3.0], []]
    assert (rt > 1.5).to_list() == [[False, True], [True], []]
    assert (rt ** 2).to_list() == [[1.0, 4.0], [9.0], []]
    assert (rt - rt).to_list() == [[0.0, 0.0], [0.0], []] and (1 / tf.ragged.constant([[1.0, 2.0]])).to_list() == [[1.0, 0.5]]
    assert (rt + 1).dtype == tf.float32
    with pytest.raises(TypeError, match="no ragged broadcasting"):
        rt + tf.constant([1.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="same row partitions"):
        rt + tf.ragged.constant([[1.0], [2.0, 3.0], []])


def test_map_flat_values():
    rt = tf.ragged.constant([[1.0, 2.0], [3.0]])
    np.testing.assert_allclose(tf.ragged.map_flat_values(tf.math.exp, rt).flat_values.numpy(), np.exp([1.0, 2.0, 3.0]),
                               rtol=1e-6)
    assert tf.ragged.map_flat_values(tf.add, rt, rt).to_list() == [[2.0, 4.0], [6.0]]
    nested = tf.ragged.constant([[[1], [2, 3]], [[4]]])
    assert tf.ragged.map_flat_values(tf.multiply, nested, 10).to_list() == [[[10], [20, 30]], [[40]]]
    with pytest.raises(ValueError, match="must be a RaggedTensor"):
        tf.ragged.map_flat_values(tf.add, tf.constant(1.0), 2.0)
    with pytest.raises(ValueError, match="keep the 3 flat values"):
        tf.ragged.map_flat_values(tf.reduce_sum, rt)


def test_range_stack_boolean_mask_and_segment_ids():
    assert tf.ragged.range([3, 0, 2]).to_list() == [[0, 1, 2], [], [0, 1]]
    assert tf.ragged.range([3, 0, 2]).dtype == tf.int32
    assert tf.ragged.range([1, 2], [4, 6], 2).to_list() == [[1, 3], [2, 4]]
    assert tf.ragged.range([0.5], [2.0], 0.5).to_list() == [[0.5, 1.0, 1.5]]
    assert tf.ragged.stack([tf.ragged.constant([[1, 2], [3]]), tf.constant([[4, 5]])]).to_list() == \
        [[[1, 2], [3]], [[4, 5]]]
    assert tf.ragged.stack([tf.constant([1, 2]), tf.constant([3])]).to_list() == [[1, 2], [3]]
    masked = tf.ragged.boolean_mask([[1, 2, 3], [4, 5, 6]], [[True, False, True], [False, False, False]])
    assert masked.to_list() == [[1, 3], []]
    assert tf.ragged.row_splits_to_segment_ids([0, 2, 3]).numpy().tolist() == [0, 0, 1]
    assert tf.ragged.segment_ids_to_row_splits([0, 0, 1], num_segments=3).numpy().tolist() == [0, 2, 3, 3]
