"""Replay ``fixtures/text_tf.json``: tf.keras 2.21's TextVectorization, StringLookup, IntegerLookup, Hashing,
HashedCrossing and Discretization on the same data (recorded once by ``fixtures/make_text_fixtures.py``):
same vocabularies, outputs and configs, and an error where tf.keras raised one."""

import json
import os

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "text_tf.json")
with open(FIXTURE, encoding="utf-8") as handle:
    CASES = json.load(handle)["cases"]
ERRORS = {"InvalidArgumentError": ValueError, "ValueError": ValueError, "RuntimeError": RuntimeError,
          "TypeError": TypeError}


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"bytes"}:
            return value["bytes"].encode("utf-8", "surrogateescape")
        if set(value) == {"tuple"}:
            return tuple(decode(v) for v in value["tuple"])
        if set(value) == {"array", "dtype"}:
            items = decode(value["array"])
            if value["dtype"] == "string":
                return np.array(items, dtype=object)
            return np.array(items) if value["dtype"].startswith(("str", "bytes")) else np.array(items, value["dtype"])
        if set(value) == {"ragged"} and isinstance(value["ragged"], list):
            return tf.ragged.constant(decode(value["ragged"]))
        return {k: decode(v) for k, v in value.items()}
    return value


def _as_text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else v


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c['layer']}-{i}" for i, c in enumerate(CASES)])
def test_same_as_tf_keras(index):
    entry = CASES[index]
    cls = getattr(keras.layers, entry["layer"])
    kwargs = decode(entry["kwargs"])
    data = decode(entry["input"])
    adapt = decode(entry["adapt"])

    def run():
        layer = cls(**kwargs)
        if adapt is not None:
            layer.adapt(adapt, **entry["adapt_kwargs"])
        return layer, layer(data)

    if "error" in entry:
        with pytest.raises(ERRORS[entry["error"]]):
            run()
        return
    layer, out = run()
    if "vocabulary" in entry:
        assert [_as_text(v) for v in layer.get_vocabulary()] == [_as_text(v) for v in decode(entry["vocabulary"])]
        assert layer.vocabulary_size() == entry["vocabulary_size"]
    if "bin_boundaries" in entry:
        np.testing.assert_allclose(layer.bin_boundaries, decode(entry["bin_boundaries"]), rtol=1e-6)
    expected = decode(entry["output"])
    if isinstance(expected, tf.RaggedTensor):
        assert isinstance(out, tf.RaggedTensor) and out.to_list() == expected.to_list()
    elif expected.dtype == object:
        assert out.numpy().tolist() == expected.tolist()
    else:
        assert out.dtype == expected.dtype, (out.dtype, expected.dtype)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-7)
    config = layer.get_config()
    for key, value in decode(entry["config"]).items():
        if key in ("dtype", "batch_input_shape"):
            continue
        mine = config[key]
        if isinstance(value, tuple):
            value = list(value)
        assert (list(mine) if isinstance(mine, tuple) else mine) == value, (key, mine, value)
