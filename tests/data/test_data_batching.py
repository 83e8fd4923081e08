"""tf.data batch, padded_batch, unbatch, rebatch and window: TensorFlow 2.21's sequences, specs and errors."""

import numpy as np
import pytest
from dataset_helpers import values

import featherflow as tf

D = tf.data.Dataset


def ragged(n_max=4):
    """[1], [2, 2], [3, 3, 3], ...: TensorFlow's padded_batch documentation input."""
    return D.range(1, n_max + 1).map(lambda x: tf.fill([x], x))


def test_batch_sequences_specs_and_cardinalities():
    assert values(D.range(8).batch(3)) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert values(D.range(8).batch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert D.range(8).batch(3).element_spec == tf.TensorSpec([None], tf.int64)
    assert D.range(8).batch(3, drop_remainder=True).element_spec == tf.TensorSpec([3], tf.int64)
    assert int(D.range(10).batch(3).cardinality()) == 4
    assert int(D.range(10).batch(3, drop_remainder=True).cardinality()) == 3
    x = np.arange(12.0).reshape(6, 2)
    (bx, by), = values(D.from_tensor_slices((x, ["a", "b", "c", "d", "e", "f"])).skip(2).batch(4))
    assert bx == x[2:].tolist() and by == [b"c", b"d", b"e", b"f"]
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        D.range(3).batch(0)


def test_batch_of_ragged_elements_names_the_component_and_shapes():
    with pytest.raises(ValueError, match=r"Cannot batch tensors with different shapes in component 0. First element "
                                         r"had shape \(1,\) and element 1 had shape \(2,\)"):
        list(ragged().batch(2))


def test_padded_batch_tensorflow_examples():
    assert values(ragged().padded_batch(2)) == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    assert ragged().padded_batch(2).element_spec == tf.TensorSpec([None, None], tf.int64)
    padded = ragged(3).padded_batch(2, padded_shapes=[4], padding_values=np.int64(-1))
    assert values(padded) == [[[1, -1, -1, -1], [2, 2, -1, -1]], [[3, 3, 3, -1]]]
    assert padded.element_spec == tf.TensorSpec([None, 4], tf.int64)
    assert D.range(8).padded_batch(3, padded_shapes=[], drop_remainder=True).element_spec == tf.TensorSpec(
        [3], tf.int64)
    with pytest.raises(ValueError, match="Attempted to pad to a smaller size than the input element"):
        list(ragged(3).padded_batch(2, padded_shapes=[2]))


def test_padded_batch_of_tuples_with_strings():
    ds = D.from_tensor_slices((["a", "bc"], [1, 2])).map(lambda s, n: (tf.fill([n], n), s))
    (numbers, texts), = values(ds.padded_batch(2, padding_values=(np.int32(-1), "?")))
    assert numbers == [[1, -1], [2, 2]] and texts == [b"a", b"bc"]
    with pytest.raises(TypeError, match="Mismatched type between padding value 0"):
        ragged().padded_batch(2, padding_values=np.float32(0.5))


def test_unbatch_and_rebatch():
    assert values(D.from_tensor_slices([[1, 2], [3, 4]]).unbatch()) == [1, 2, 3, 4]
    assert values(D.range(7).batch(3).unbatch()) == list(range(7))
    assert int(D.range(4).batch(2).unbatch().cardinality()) == -2
    with pytest.raises(ValueError, match="Cannot unbatch an input with scalar components"):
        D.range(3).unbatch()
    # TensorFlow 2.21's outputs and its documentation's examples
    assert values(D.range(8).batch(3).rebatch(2)) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert values(D.range(7).batch(3).rebatch(2)) == [[0, 1], [2, 3], [4, 5], [6]]
    assert values(D.range(8).batch(4).rebatch([2, 1, 1])) == [[0, 1], [2], [3], [4, 5], [6], [7]]
    assert values(D.range(7).batch(4).rebatch([2, 1, 1])) == [[0, 1], [2], [3], [4, 5], [6]]
    assert values(D.range(7).batch(4).rebatch([3, 2])) == [[0, 1, 2], [3, 4], [5, 6]]
    assert values(D.range(6).batch(2).rebatch(3)) == [[0, 1, 2], [3, 4, 5]]
    assert values(D.range(7).batch(2).rebatch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert D.range(7).batch(3).rebatch(2).element_spec == tf.TensorSpec([None], tf.int64)
    assert D.range(8).batch(4, drop_remainder=True).rebatch(2).element_spec == tf.TensorSpec([2], tf.int64)
    assert int(D.range(7).batch(3).rebatch(2).cardinality()) == -2


def test_window_tensorflow_examples():
    windows = D.range(10).window(3, shift=2)
    assert [values(w) for w in windows] == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8], [8, 9]]
    assert repr(D.range(10).window(3).element_spec) == (
        "DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))")
    flat = D.range(10).window(3, shift=2, stride=2).flat_map(lambda w: w.batch(3))
    assert values(flat) == [[0, 2, 4], [2, 4, 6], [4, 6, 8], [6, 8], [8]]
    assert values(D.range(7).window(3, drop_remainder=True).flat_map(lambda w: w.batch(3))) == [[0, 1, 2], [3, 4, 5]]
    assert [int(D.range(10).window(3, **kw).cardinality()) for kw in
            ({}, {"drop_remainder": True}, {"shift": 2})] == [4, 3, 5]
    nested = D.from_tensor_slices(({"a": [1, 2, 3]}, [4, 5, 6])).window(2)
    spec = tf.data.DatasetSpec(tf.TensorSpec([], tf.int32))
    assert nested.element_spec == ({"a": spec}, spec)
    pairs = nested.flat_map(lambda d, y: D.zip((d["a"].batch(2), y.batch(2))))
    assert values(pairs) == [([1, 2], [4, 5]), ([3], [6])]
    assert values(D.range(10).window(2, shift=4).flat_map(lambda w: w.batch(2))) == [[0, 1], [4, 5], [8, 9]]
    with pytest.raises(TypeError, match="flat_map"):
        list(D.range(4).window(2).batch(2))
