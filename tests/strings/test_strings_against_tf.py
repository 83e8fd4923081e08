"""Replay ``fixtures/strings_tf.json``: every call there was made once with TensorFlow 2.21
(``fixtures/make_strings_fixtures.py``); featherflow.strings must return the same values and raise where
TensorFlow raised (``InvalidArgumentError`` becomes ``ValueError``)."""

import json
import os

import numpy as np
import pytest

import featherflow as tf

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "strings_tf.json")
with open(FIXTURE, encoding="utf-8") as handle:
    CASES = json.load(handle)["cases"]


def _bytes(text):
    return text.encode("utf-8", "surrogateescape")


def decode_items(items):
    if isinstance(items, list):
        return [decode_items(v) for v in items]
    if isinstance(items, dict) and "bytes" in items:
        return _bytes(items["bytes"])
    if isinstance(items, dict) and "float" in items:
        return float(items["float"])
    return items


def decode_arg(value):
    if isinstance(value, list):
        return [decode_arg(v) for v in value]
    if isinstance(value, dict):
        if "bytes" in value:
            return _bytes(value["bytes"])
        if "tuple" in value:
            return tuple(decode_arg(v) for v in value["tuple"])
        if "ndarray" in value:
            return np.array(decode_items(value["ndarray"]), dtype=value["dtype"])
        if "ragged_arg" in value:
            return tf.ragged.constant(decode_items(value["ragged_arg"]),
                                      dtype=None if value["dtype"] == "string" else value["dtype"])
        if "dtype_arg" in value:
            return np.dtype(value["dtype_arg"])
        if "tensor" in value:
            items = decode_items(value["tensor"])
            return tf.constant(items) if value["dtype"] == "string" else tf.constant(
                np.array(items, dtype=value["dtype"]))
    return value


def check_result(actual, expected):
    if isinstance(expected, list):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            check_result(a, e)
        return
    if "ragged" in expected:
        assert isinstance(actual, tf.RaggedTensor), type(actual)
        assert actual.to_list() == decode_items(expected["ragged"])
        if expected["dtype"] != "string":
            assert actual.dtype == np.dtype(expected["dtype"])
        return
    if "bytes" in expected:
        assert actual.numpy() == _bytes(expected["bytes"])
        return
    values = actual.numpy()
    wanted = decode_items(expected["array"])
    if expected["dtype"] == "string":
        assert values.dtype == object
        assert values.tolist() == wanted
    else:
        assert values.dtype == np.dtype(expected["dtype"]), (values.dtype, expected["dtype"])
        np.testing.assert_allclose(values.astype("float64"), np.array(wanted, dtype="float64"), rtol=1e-6)


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{c['op']}-{i}" for i, c in enumerate(CASES)])
def test_same_as_tensorflow(index):
    entry = CASES[index]
    fn = getattr(tf.strings, entry["op"])
    args = [decode_arg(a) for a in entry["args"]]
    kwargs = {k: decode_arg(v) for k, v in entry["kwargs"].items()}
    if "error" in entry:
        with pytest.raises(ValueError if entry["error"] in ("InvalidArgumentError", "ValueError") else TypeError):
            fn(*args, **kwargs)
        return
    check_result(fn(*args, **kwargs), entry["result"])
