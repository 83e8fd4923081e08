"""tf.TensorSpec: construction, dtype spelling, compatibility, supertypes, repr (TensorFlow 2.21's texts)."""

import pickle

import numpy as np
import pytest

import featherflow as tf


def test_attributes_and_repr_match_tensorflow():
    spec = tf.TensorSpec(shape=(None, 3), dtype=tf.float32, name="x")
    assert spec.shape == (None, 3) and spec.shape.as_list() == [None, 3]
    assert spec.dtype == np.float32 and spec.name == "x"
    assert repr(spec) == "TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')"
    assert repr(tf.TensorSpec([], tf.int32)) == "TensorSpec(shape=(), dtype=tf.int32, name=None)"
    assert repr(tf.TensorSpec([2], "string")) == "TensorSpec(shape=(2,), dtype=tf.string, name=None)"
    assert repr(tf.TensorSpec(None, "bool")) == "TensorSpec(shape=<unknown>, dtype=tf.bool, name=None)"
    assert tf.TensorSpec([4]).dtype == np.float32  # TensorFlow's default dtype
    assert tf.TensorSpec([-1, 2]).shape == (None, 2)  # -1 is an unknown size too


@pytest.mark.parametrize("dtype", [tf.string, "string", str, bytes, np.dtype("U3"), np.dtype("S2")])
def test_every_string_spelling_is_tf_string(dtype):
    assert tf.TensorSpec([], dtype).dtype == tf.string


def test_from_tensor_takes_exact_shape_and_dtype():
    assert tf.TensorSpec.from_tensor(tf.constant([[1, 2]])) == tf.TensorSpec((1, 2), tf.int32)
    assert tf.TensorSpec.from_tensor(np.zeros((3,), "float64"), name="a") == tf.TensorSpec((3,), "float64", "a")
    assert tf.TensorSpec.from_tensor(2.5) == tf.TensorSpec((), tf.float32)
    assert tf.TensorSpec.from_tensor(np.array([b"a", b"b"], dtype=object)).dtype == tf.string
    assert tf.TensorSpec.from_spec(tf.TensorSpec([2], name="old"), name="new").name == "new"


def test_is_compatible_with_specs_and_values():
    spec = tf.TensorSpec([None, 3], tf.float32)
    assert spec.is_compatible_with(tf.TensorSpec([5, 3], tf.float32))
    assert spec.is_compatible_with(tf.TensorSpec([None, None], tf.float32))
    assert not spec.is_compatible_with(tf.TensorSpec([5, 4], tf.float32))
    assert not spec.is_compatible_with(tf.TensorSpec([5, 3], tf.float64))
    assert not spec.is_compatible_with(tf.TensorSpec([3], tf.float32))
    assert spec.is_compatible_with(tf.zeros((7, 3)))
    assert not spec.is_compatible_with(np.zeros((7, 3)))  # float64
    assert tf.TensorSpec(None, tf.int32).is_compatible_with(tf.constant([[1]]))
    assert tf.TensorSpec([], tf.string).is_compatible_with("text")
    assert not tf.TensorSpec([], tf.int32).is_compatible_with("text")


def test_subtypes_and_most_specific_supertype():
    a, b = tf.TensorSpec([2, 3], tf.int32), tf.TensorSpec([4, 3], tf.int32)
    assert a.most_specific_common_supertype([b]) == tf.TensorSpec([None, 3], tf.int32)
    assert a.most_specific_compatible_type(b) == tf.TensorSpec([None, 3], tf.int32)
    assert a.most_specific_common_supertype([tf.TensorSpec([2], tf.int32)]) == tf.TensorSpec(None, tf.int32)
    assert a.most_specific_common_supertype([tf.TensorSpec([2, 3], tf.int64)]) is None
    with pytest.raises(ValueError, match="dtypes differ"):
        a.most_specific_compatible_type(tf.TensorSpec([2, 3], tf.float32))
    assert a.is_subtype_of(tf.TensorSpec([None, 3], tf.int32)) and a.is_subtype_of(tf.TensorSpec(None, tf.int32))
    assert not tf.TensorSpec([None, 3], tf.int32).is_subtype_of(a)


def test_equality_hash_and_pickle():
    spec = tf.TensorSpec([None, 2], tf.float32, "x")
    assert spec == tf.TensorSpec((None, 2), "float32", "x") and spec != tf.TensorSpec((None, 2), "float32")
    assert len({spec, tf.TensorSpec((None, 2), "float32", "x")}) == 1
    assert pickle.loads(pickle.dumps(spec)) == spec


@pytest.mark.parametrize("bad, error, text", [
    ({"shape": "abc"}, TypeError, "Dimensions of a shape"),
    ({"shape": [2.5]}, TypeError, "Dimensions of a shape"),
    ({"shape": [2], "dtype": "no-such-type"}, TypeError, "Cannot convert"),
    ({"shape": [2], "name": 3}, TypeError, "`name` must be a string"),
])
def test_bad_arguments_name_what_was_received(bad, error, text):
    with pytest.raises(error, match=text):
        tf.TensorSpec(**bad)
