"""Reading ``fixtures/io_tf.json`` (written by ``fixtures/make_io_fixtures.py`` with TensorFlow 2.21)."""

import json
from pathlib import Path

import numpy as np

import featherflow as tf

FIXTURES = Path(__file__).parent / "fixtures"
TF = json.loads((FIXTURES / "io_tf.json").read_text(encoding="utf-8"))


def decode(encoded):
    """The value a fixture entry encodes: an array, ``("sparse", indices, values, shape)`` or ``("ragged", ...)``."""
    if "sparse" in encoded:
        return ("sparse", *(decode(part) for part in encoded["sparse"]))
    if "ragged" in encoded:
        return ("ragged", decode(encoded["ragged"]), [decode(s) for s in encoded["splits"]])
    if "strings" in encoded:
        out = np.empty(len(encoded["strings"]), dtype=object)
        out[:] = [bytes.fromhex(v) for v in encoded["strings"]]
        return out.reshape(encoded["shape"])
    values = [float(v) for v in encoded["values"]] if encoded["dtype"].startswith("float") else encoded["values"]
    return np.array(values, dtype=encoded["dtype"]).reshape(encoded["shape"])


def spec(desc):
    """A featherflow feature spec from the fixture's JSON description (the generator's ``spec``)."""
    kind, shape, dtype, default, *rest = desc
    if kind == "fixed":
        return tf.io.FixedLenFeature(shape, dtype, default_value=default)
    if kind == "var":
        return tf.io.VarLenFeature(dtype)
    if kind == "seq":
        return tf.io.FixedLenSequenceFeature(shape, dtype, allow_missing=rest[0], default_value=default)
    if kind == "ragged":
        return tf.io.RaggedFeature(dtype)
    return tf.io.SparseFeature(shape, rest[0], dtype, default)


def assert_matches(value, expected):
    """``value`` (a featherflow tensor, SparseTensor or RaggedTensor) equals a decoded fixture entry."""
    if isinstance(expected, tuple) and expected[0] == "sparse":
        assert isinstance(value, tf.SparseTensor)
        for got, want in zip((value.indices, value.values, value.dense_shape), expected[1:]):
            assert_matches(got, want)
        return
    if isinstance(expected, tuple) and expected[0] == "ragged":
        assert isinstance(value, tf.RaggedTensor)
        assert_matches(value.flat_values, expected[1])
        for got, want in zip(value.nested_row_splits, expected[2]):
            # featherflow's RaggedTensor keeps its row splits in int64 whatever row_splits_dtype asks for.
            assert_matches(got, want.astype(np.int64))
        return
    array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
    array = np.array(array, dtype=object) if isinstance(array, bytes) else np.asarray(array)  # a string scalar
    assert array.shape == expected.shape, (array.shape, expected.shape)
    assert array.dtype == expected.dtype, (array.dtype, expected.dtype)
    if array.dtype == object:
        assert array.tolist() == expected.tolist()
    else:
        np.testing.assert_array_equal(array, expected)
