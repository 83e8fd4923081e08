"""serialize_tensor / parse_tensor / make_tensor_proto against the bytes TensorFlow 2.21 wrote."""

import numpy as np
import pytest
from fixture_utils import TF, decode

import featherflow as tf


@pytest.mark.parametrize("name", sorted(TF["serialize_tensor"]))
def test_serialize_tensor_bytes_and_parse(name):
    case = TF["serialize_tensor"][name]
    data = bytes.fromhex(case["bytes"])
    expected = np.array([1 + 2j], np.complex64) if name == "complex64" else decode(case["tensor"])
    assert tf.io.serialize_tensor(tf.constant(expected)).numpy() == data
    parsed = tf.io.parse_tensor(data, expected.dtype if expected.dtype != object else tf.string)
    assert parsed.shape == expected.shape
    assert parsed.numpy().tolist() == expected.tolist() if expected.dtype == object else np.array_equal(
        parsed.numpy(), expected)


def test_make_tensor_proto_bytes_and_make_ndarray():
    forms = TF["make_tensor_proto"]
    assert tf.make_tensor_proto([1, 2, 3]).SerializeToString().hex() == forms["ints"]
    assert tf.make_tensor_proto(np.array([[0.5, 1.0]], np.float32)).SerializeToString().hex() == forms["floats"]
    assert tf.make_tensor_proto([b"a", b"bc"]).SerializeToString().hex() == forms["strings"]
    assert tf.make_tensor_proto(3.0).SerializeToString().hex() == forms["scalar"]
    assert tf.make_ndarray(tf.make_tensor_proto(7, shape=[2, 2])).tolist() == [[7, 7], [7, 7]]
    assert str(tf.make_tensor_proto([1, 2, 3])).startswith("dtype: DT_INT32\ntensor_shape {\n  dim {\n    size: 3")


def test_value_lists_fill_with_their_last_value():
    from featherflow.io.tensor_proto import TensorProto, TensorShapeProto

    proto = TensorProto(dtype=1, tensor_shape=TensorShapeProto(dim=[{"size": 4}]), float_val=[1.0, 2.0])
    assert tf.io.parse_tensor(proto.SerializeToString(), tf.float32).numpy().tolist() == [1.0, 2.0, 2.0, 2.0]


def test_parse_tensor_errors_are_tensorflows():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^Type mismatch between parsed tensor \(float\) and dtype \(int32\)$"):
        tf.io.parse_tensor(tf.io.serialize_tensor([1.0, 2.0]), tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="^Could not parse `serialized` as TensorProto, base64: //8=$"):
        tf.io.parse_tensor(b"\xff\xff", tf.int32)


def test_sparse_serializations_round_trip():
    sp = tf.sparse.SparseTensor([[0, 1], [2, 0]], [1.5, -2.0], [3, 4])
    parts = tf.io.serialize_sparse(sp).numpy()
    assert tf.io.parse_tensor(parts[0], tf.int64).numpy().tolist() == [[0, 1], [2, 0]]
    assert tf.io.parse_tensor(parts[2], tf.int64).numpy().tolist() == [3, 4]
    many = tf.io.serialize_many_sparse(sp)
    assert many.shape == (3, 3)
    back = tf.io.deserialize_many_sparse(many, tf.float32)
    assert back.indices.numpy().tolist() == [[0, 1], [2, 0]]
    assert back.values.numpy().tolist() == [1.5, -2.0] and back.dense_shape.numpy().tolist() == [3, 4]
