"""Tensors passed to layer calls by keyword in functional models (Keras keeps them in the node's kwargs):
they survive every way a model is saved, in tf.keras's list form and in Keras 3's dict form."""

from __future__ import annotations

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras import saving
from featherflow.keras.saving import graph_config, object_registration


@pytest.fixture
def scaled_bias():
    """A registered layer taking tensors by keyword, one of them inside a dict."""
    before = dict(object_registration._GLOBAL_CUSTOM_OBJECTS), dict(object_registration._GLOBAL_CUSTOM_NAMES)

    @saving.register_keras_serializable(package="GraphConfigTests")
    class ScaledBias(keras.layers.Layer):
        def call(self, inputs, bias=None, scale=None):
            return (inputs + bias) * scale["factor"]

    yield ScaledBias
    for table, saved in zip((object_registration._GLOBAL_CUSTOM_OBJECTS, object_registration._GLOBAL_CUSTOM_NAMES),
                            before):
        table.clear()
        table.update(saved)


def _keyword_model(scaled_bias):
    tokens = keras.Input((4, 6), name="tokens")
    pair_mask = keras.Input((4, 4), name="pair_mask")
    step_mask = keras.Input((4,), dtype="bool", name="step_mask")
    x = keras.layers.MultiHeadAttention(2, 3, name="mha")(tokens, tokens, attention_mask=pair_mask)
    query = keras.layers.Dense(6, name="query")(x)
    attended = keras.layers.Attention(name="attend")([query, query], mask=[step_mask, step_mask])
    shifted = scaled_bias(name="shift")(attended, bias=keras.layers.Dense(6, name="bias")(tokens),
                                        scale={"factor": keras.layers.Dense(6, name="factor")(x)})
    return keras.Model([tokens, pair_mask, step_mask], keras.layers.Flatten()(shifted))


def _inputs():
    rng = np.random.default_rng(3)
    pair_mask = (rng.random((3, 4, 4)) > 0.5).astype("float32")
    pair_mask[:, np.arange(4), np.arange(4)] = 1.0
    step_mask = rng.random((3, 4)) > 0.4
    step_mask[:, 0] = True
    return [rng.standard_normal((3, 4, 6)).astype("float32"), pair_mask, step_mask]


def test_keyword_tensors_are_written_as_keras_writes_them(scaled_bias):
    model = _keyword_model(scaled_bias)
    nodes = {entry["name"]: entry["inbound_nodes"] for entry in model.get_config()["layers"]}
    # tf.keras 2.x: every tensor of the kwargs as a [layer, node, tensor] reference, nested ones too
    assert nodes["mha"] == [[["tokens", 0, 0, {"value": ["tokens", 0, 0], "key": None,
                                                "attention_mask": ["pair_mask", 0, 0]}]]]
    assert nodes["attend"][0][0][3] == {"mask": [["step_mask", 0, 0], ["step_mask", 0, 0]]}
    assert nodes["shift"] == [[["attend", 0, 0, {"bias": ["bias", 0, 0], "scale": {"factor": ["factor", 0, 0]}}]]]
    with graph_config.writing_style("keras3"):
        nodes = {entry["name"]: entry["inbound_nodes"] for entry in model.get_config()["layers"]}
    history = nodes["shift"][0]["kwargs"]["scale"]["factor"]["config"]["keras_history"]
    assert history == ["factor", 0, 0]
    assert nodes["mha"][0]["kwargs"]["attention_mask"]["config"]["keras_history"] == ["pair_mask", 0, 0]


@pytest.mark.parametrize("how", ["keras", "h5", "json", "tf_keras_config", "keras3_config"])
def test_keyword_tensors_survive_saving(scaled_bias, how, tmp_path):
    model = _keyword_model(scaled_bias)
    x = _inputs()
    expected = model.predict(x, verbose=0)
    if how in ("keras", "h5"):
        model.save(tmp_path / f"model.{how}")
        loaded = keras.models.load_model(tmp_path / f"model.{how}")
    else:
        if how == "json":
            loaded = keras.models.model_from_json(model.to_json())
        else:
            with graph_config.writing_style(how.replace("_config", "")):
                config = model.get_config()
            loaded = keras.Model.from_config(config)
        loaded.set_weights(model.get_weights())
    # the masks still act: a changed mask changes the output as it does in the original model
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=0, atol=1e-6)
    other = [x[0], np.ones_like(x[1]), np.ones_like(x[2])]
    np.testing.assert_allclose(loaded.predict(other, verbose=0), model.predict(other, verbose=0), rtol=0, atol=1e-6)
    assert np.abs(model.predict(other, verbose=0) - expected).max() > 1e-3


def test_rnn_states_are_keywords_in_keras_3_form():
    """featherflow (as tf.keras) passes an LSTM's initial states in its inputs list; Keras 3's RNN takes them
    only as ``initial_state=`` and refuses a list of inputs."""
    sequence = keras.Input((5, 3), name="sequence")
    state_h, state_c = keras.Input((2,), name="state_h"), keras.Input((2,), name="state_c")
    model = keras.Model([sequence, state_h, state_c],
                        keras.layers.LSTM(2, name="lstm")(sequence, initial_state=[state_h, state_c]))
    lstm = [entry for entry in model.get_config()["layers"] if entry["name"] == "lstm"][0]
    assert lstm["inbound_nodes"] == [[["sequence", 0, 0, {}], ["state_h", 0, 0, {}], ["state_c", 0, 0, {}]]]
    with graph_config.writing_style("keras3"):
        config = model.get_config()
    node = [entry for entry in config["layers"] if entry["name"] == "lstm"][0]["inbound_nodes"][0]
    assert node["args"][0]["config"]["keras_history"] == ["sequence", 0, 0]
    assert [t["config"]["keras_history"][0] for t in node["kwargs"]["initial_state"]] == ["state_h", "state_c"]
    loaded = keras.Model.from_config(config)
    loaded.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    x = [rng.standard_normal(shape).astype("float32") for shape in ((2, 5, 3), (2, 2), (2, 2))]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=0, atol=1e-6)
