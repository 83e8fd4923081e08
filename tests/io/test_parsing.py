"""tf.io.parse_example / parse_single_example / parse_sequence_example against TensorFlow 2.21's results."""

import numpy as np
import pytest
from fixture_utils import TF, assert_matches, decode, spec

import featherflow as tf

RECORDS = [bytes.fromhex(h) for h in TF["examples"]]
SEQUENCES = [bytes.fromhex(h) for h in TF["sequences"]]


@pytest.mark.parametrize("name", sorted(TF["specs"]))
def test_parse_example_matches_tensorflow(name):
    features = {key: spec(desc) for key, desc in TF["specs"][name].items()}
    expected = TF["parsed"][name]
    batch = tf.io.parse_example(tf.constant(RECORDS), features)
    assert list(batch) == expected["order"]
    for key, value in batch.items():
        assert_matches(value, decode(expected["batch"][key]))
    for record, want in zip(RECORDS, expected["single"]):
        if "error" in want:
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                tf.io.parse_single_example(record, features)
            assert str(info.value) == want["error"]
            continue
        single = tf.io.parse_single_example(record, features)
        assert sorted(single) == sorted(want)
        for key, value in single.items():
            assert_matches(value, decode(want[key]))


def test_parse_sequence_example_matches_tensorflow():
    expected = TF["sequence_parsed"]
    context, lists, lengths = tf.io.parse_sequence_example(
        SEQUENCES, context_features={"label": tf.io.FixedLenFeature([], tf.int64)},
        sequence_features={"words": tf.io.VarLenFeature(tf.int64),
                           "score": tf.io.FixedLenSequenceFeature([], tf.float32)})
    assert_matches(context["label"], decode(expected["context"]["label"]))
    assert_matches(lists["words"], decode(expected["lists"]["words"]))
    assert_matches(lists["score"], decode(expected["lists"]["score"]))
    assert_matches(lengths["score"], decode(expected["lengths"]["score"]))
    context, lists = tf.io.parse_single_sequence_example(
        SEQUENCES[0], context_features={"label": tf.io.FixedLenFeature([], tf.int64)},
        sequence_features={"words": tf.io.RaggedFeature(tf.int64),
                           "score": tf.io.FixedLenSequenceFeature([], tf.float32)})
    assert_matches(context["label"], decode(expected["single_context"]["label"]))
    assert_matches(lists["score"], decode(expected["single_lists"]["score"]))
    assert_matches(lists["words"], decode(expected["single_lists"]["words"]))


def _record(**features):
    kinds = {int: "int64_list", float: "float_list", bytes: "bytes_list"}
    return tf.train.Example(features=tf.train.Features(feature={
        key: tf.train.Feature(**{kinds[type(values[0])]: {"value": values}}) for key, values in features.items()
    })).SerializeToString()


E1, E2 = _record(a=[1, 2], f=[0.5], s=[b"x", b"yz"]), _record(a=[3, 4])


@pytest.mark.parametrize("call,message", [
    # The messages of TensorFlow 2.21 for the same calls.
    (lambda: tf.io.parse_single_example(E2, {"f": tf.io.FixedLenFeature([], tf.float32)}),
     "Feature: f (data type: float) is required but could not be found."),
    (lambda: tf.io.parse_example([E1, E2], {"f": tf.io.FixedLenFeature([], tf.float32)}),
     "Name: <unknown>, Feature: f (data type: float) is required but could not be found."),
    (lambda: tf.io.parse_example([E1, E2], {"f": tf.io.FixedLenFeature([], tf.float32)}, example_names=["a", "b"]),
     "Name: b, Feature: f (data type: float) is required but could not be found."),
    (lambda: tf.io.parse_single_example(E1, {"a": tf.io.FixedLenFeature([3], tf.int64)}),
     "Key: a.  Can't parse serialized Example: Some int64_list slice was not parsed."),
    (lambda: tf.io.parse_example([E2, E1], {"a": tf.io.FixedLenFeature([3], tf.int64)}),
     "Name: <unknown>, Key: a, Index: 0.  Number of int64 values != expected.  Values size: 2 but output shape: [3]"),
    (lambda: tf.io.parse_single_example(E1, {"a": tf.io.FixedLenFeature([2], tf.float32)}),
     "Key: a.  Data types don't match. Data type: int64 but expected type: float"),
    (lambda: tf.io.parse_example([E1], {"a": tf.io.VarLenFeature(tf.string)}),
     "Name: <unknown>, Key: a, Index: 0.  Data types don't match. Expected type: string, Actual type: int64"),
    (lambda: tf.io.parse_example([E1, E2], {"a": tf.io.FixedLenSequenceFeature([3], tf.int64, allow_missing=True)}),
     "Name: <unknown>, Key: a, Index: 0.  Number of int64 values is not a multiple of stride length. Saw 2 values "
     "but output shape is: [?,3]"),
    (lambda: tf.io.parse_single_example(b"abc", {"a": tf.io.FixedLenFeature([2], tf.int64)}),
     "Could not parse example input, value: 'abc'"),
    (lambda: tf.io.parse_example([[E1]], {"a": tf.io.FixedLenFeature([2], tf.int64)}),
     "Expected serialized to be a scalar or vector, got shape: [1,1]"),
    (lambda: tf.io.parse_single_example(E1, {"a": tf.io.FixedLenFeature([2], tf.int32)}),
     "Value for attr 'Tdense' of int32 is not in the list of allowed values: float, int64, string"),
])
def test_errors_are_tensorflows(call, message):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        call()
    assert str(info.value) == message


@pytest.mark.parametrize("call,message", [
    (lambda: tf.io.parse_single_example(E1, {"a": 3}), "Unsupported int 3 for key 'a'"),
    (lambda: tf.io.parse_single_example(E1, {}), "Invalid argument: features cannot be empty."),
    (lambda: tf.io.parse_single_example(E1, None), "Invalid argument: features cannot be None."),
    (lambda: tf.io.parse_example([E1], {"a": tf.io.FixedLenSequenceFeature([], tf.int64)}),
     "Unsupported: FixedLenSequenceFeature requires allow_missing to be True."),
    (lambda: tf.io.parse_single_example([E1], {"a": tf.io.FixedLenFeature([2], tf.int64)}),
     "Input serialized must be a scalar"),
    (lambda: tf.io.parse_single_example(E1, {"a": tf.io.FixedLenFeature(None, tf.int64)}),
     "Missing shape for feature a. Received feature=FixedLenFeature(shape=None, dtype=tf.int64, "
     "default_value=None)."),
    (lambda: tf.io.parse_single_example(E1, {"a": tf.io.FixedLenFeature([None], tf.int64)}),
     "First dimension of shape for feature a unknown. Consider using FixedLenSequenceFeature. Received "
     "feature=FixedLenFeature(shape=[None], dtype=tf.int64, default_value=None)."),
])
def test_spec_errors_are_tensorflows(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_defaults_shapes_and_scalar_input():
    out = tf.io.parse_single_example(E2, {"q": tf.io.FixedLenFeature([2, 2], tf.int64, default_value=[[1, 2], [3, 4]]),
                                          "s": tf.io.FixedLenFeature([], tf.string, default_value="abc"),
                                          "g": tf.io.FixedLenFeature([2], tf.float32, default_value=[1, 2])})
    np.testing.assert_array_equal(out["q"].numpy(), [[1, 2], [3, 4]])
    assert out["s"].numpy() == b"abc" and out["g"].dtype == tf.float32
    assert tf.io.parse_example(E1, {"a": tf.io.FixedLenFeature([2], tf.int64)})["a"].shape == (2,)
    assert tf.io.parse_single_example(E1, {"a": tf.io.FixedLenFeature([1, 2], tf.int64)})["a"].shape == (1, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input to reshape is a tensor with 3 values"):
        tf.io.parse_single_example(E1, {"q": tf.io.FixedLenFeature([2], tf.int64, default_value=[1, 2, 3])})


def test_sparse_feature_sorting_and_reprs():
    record = _record(ix=[3, 0], v=[1.0, 2.0])
    sp = tf.io.parse_example([record], {"sp": tf.io.SparseFeature("ix", "v", tf.float32, 4)})["sp"]
    assert sp.indices.numpy().tolist() == [[0, 0], [0, 3]] and sp.values.numpy().tolist() == [2.0, 1.0]
    kept = tf.io.parse_example([record], {"sp": tf.io.SparseFeature("ix", "v", tf.float32, 4, True)})["sp"]
    assert kept.indices.numpy().tolist() == [[0, 3], [0, 0]]
    assert repr(tf.io.VarLenFeature(tf.string)) == "VarLenFeature(dtype=tf.string)"
    assert repr(tf.io.FixedLenSequenceFeature([], tf.float32)) == (
        "FixedLenSequenceFeature(shape=[], dtype=tf.float32, allow_missing=False, default_value=None)")
    assert tf.io.FixedLenFeature._fields == ("shape", "dtype", "default_value")
    with pytest.raises(ValueError, match="partitions"):
        tf.io.RaggedFeature(tf.int64, partitions=[tf.io.RaggedFeature.RowLengths("n")])


def test_decode_json_example():
    json_text = '{"features": {"feature": {"a": {"int64List": {"value": ["1", "2"]}}, "s": {"bytesList": {"value": ["eHk="]}}}}}'
    record = tf.io.decode_json_example(json_text).numpy()
    parsed = tf.io.parse_single_example(record, {"a": tf.io.FixedLenFeature([2], tf.int64),
                                                 "s": tf.io.FixedLenFeature([], tf.string)})
    assert parsed["a"].numpy().tolist() == [1, 2] and parsed["s"].numpy() == b"xy"
