"""tf.train.Example and its parts against the bytes TensorFlow 2.21 wrote (fixtures/io_tf.json)."""

import copy
import pickle

import numpy as np
import pytest
from fixture_utils import TF

import featherflow as tf


def _example(**features):
    return tf.train.Example(features=tf.train.Features(feature=features))


def test_parsed_records_serialize_back_to_tensorflows_bytes():
    for hex_bytes in TF["examples"]:
        data = bytes.fromhex(hex_bytes)
        assert tf.train.Example.FromString(data).SerializeToString() == data


def test_deterministic_serialization_matches_tensorflow():
    for hex_bytes, sorted_hex in zip(TF["examples"], TF["examples_deterministic"]):
        example = tf.train.Example.FromString(bytes.fromhex(hex_bytes))
        assert example.SerializeToString(deterministic=True).hex() == sorted_hex


def test_built_example_bytes_and_values():
    example = _example(label=tf.train.Feature(int64_list=tf.train.Int64List(value=[1])),
                       x=tf.train.Feature(float_list=tf.train.FloatList(value=[0.5, -1.25, 3.0])),
                       name=tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"first"])))
    parsed = tf.train.Example.FromString(bytes.fromhex(TF["examples"][0]))
    feature = parsed.features.feature
    assert feature["x"].float_list.value == [0.5, -1.25, 3.0]
    assert feature["ids"].int64_list.value == [7, -3, 2**40]
    assert feature["tokens"].bytes_list.value == [b"a", b"\xff\x00z", "été".encode()]
    assert feature["label"].WhichOneof("kind") == "int64_list"
    # The one-key messages have one serialization; TF's map order applies to the multi-key ones.
    one = _example(label=tf.train.Feature(int64_list=tf.train.Int64List(value=[3])))
    assert one.SerializeToString().hex() == "0a100a0e0a056c6162656c12051a030a0103"  # TensorFlow 2.21's bytes
    assert tf.train.Example.FromString(example.SerializeToString()) == example


def test_text_format_is_tensorflows():
    # Each feature's block as TensorFlow prints it (TF lists map entries in its hash order, so compare them as a set).
    parsed = tf.train.Example.FromString(bytes.fromhex(TF["examples"][0]))
    blocks = str(parsed).removesuffix("}\n").split("\n  feature {\n")
    expected = TF["examples_text"][0].removesuffix("}\n").split("\n  feature {\n")
    assert blocks[0] == expected[0] == "features {"
    assert sorted(b.strip("\n}") for b in blocks[1:]) == sorted(b.strip("\n}") for b in expected[1:])
    assert len(str(parsed)) == len(TF["examples_text"][0])
    assert 'value: "\\377\\000z"' in str(parsed) and "value: 1e-30" in str(
        tf.train.Example.FromString(bytes.fromhex(TF["examples"][1])))


def test_oneof_and_presence():
    feature = tf.train.Feature()
    assert feature.WhichOneof("kind") is None
    _ = feature.int64_list  # reading does not set the field
    assert not feature.HasField("int64_list")
    feature.int64_list.value.append(4)
    assert feature.WhichOneof("kind") == "int64_list"
    feature.float_list.value.extend([1.0])
    assert feature.WhichOneof("kind") == "float_list" and not feature.HasField("int64_list")
    assert tf.train.Feature(int64_list=tf.train.Int64List()).SerializeToString() == b"\x1a\x00"


def test_message_api():
    example = tf.train.Example.FromString(bytes.fromhex(TF["examples"][1]))
    clone = tf.train.Example()
    clone.CopyFrom(example)
    assert clone == example and clone is not example
    assert pickle.loads(pickle.dumps(example)) == example
    assert copy.deepcopy(example) == example
    assert example.ByteSize() == len(bytes.fromhex(TF["examples"][1]))
    clone.features.feature["label"].int64_list.value[0] = 5
    assert clone != example
    merged = tf.train.Int64List(value=[1])
    merged.MergeFrom(tf.train.Int64List(value=[2]))
    assert merged.value == [1, 2]
    assert [f.name for f, _ in tf.train.Feature(float_list=tf.train.FloatList(value=[1])).ListFields()] == [
        "float_list"]
    example.Clear()
    assert example.SerializeToString() == b""


def test_sequence_example_round_trip():
    for hex_bytes in TF["sequences"]:
        data = bytes.fromhex(hex_bytes)
        seq = tf.train.SequenceExample.FromString(data)
        assert seq.SerializeToString() == data
    seq = tf.train.SequenceExample.FromString(bytes.fromhex(TF["sequences"][0]))
    words = seq.feature_lists.feature_list["words"].feature
    assert [list(f.int64_list.value) for f in words] == [[1, 2], [3], []]
    assert seq.context.feature["label"].int64_list.value == [0]


def test_float_list_rounds_to_float32_and_int64_checks_range():
    assert tf.train.FloatList(value=[0.1]).value == [float(np.float32(0.1))]
    with pytest.raises(ValueError, match="Value out of range"):
        tf.train.Int64List(value=[2**63])
    with pytest.raises(TypeError, match="but expected one of: int"):
        tf.train.Int64List(value=[1.5])
    with pytest.raises(TypeError, match="expected one of: bytes"):
        tf.train.BytesList(value=["text"])
    with pytest.raises(ValueError, match='has no "values" field'):
        tf.train.Int64List(values=[1])


def test_unknown_fields_are_kept_and_bad_bytes_raise():
    data = bytes.fromhex(TF["examples"][2]) + b"\x10\x07"  # field 2 (unknown to Example), varint 7
    assert tf.train.Example.FromString(data).SerializeToString() == data
    with pytest.raises(ValueError):
        tf.train.Example.FromString(b"\x0a\x05ab")
