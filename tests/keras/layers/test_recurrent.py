"""SimpleRNN / LSTM / GRU / RNN(cell) layers: values against per-step NumPy references with Keras's
weight layout, shapes for every flag combination, masking, initial states, stateful behaviour,
dropout, config round trips and float64 gradient checks (through tests/layer_helpers.py)."""

import numpy as np
import pytest
from gradcheck import check_gradient
from layer_helpers import check_layer_gradients, layer_test
from rnn_reference import gru_reference, gru_reset_before_reference, lstm_reference, simple_rnn_reference

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers

B, T, D, U = 3, 5, 4, 3
MASK = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1]], dtype=bool)
KINDS = {"LSTM": (layers.LSTM, 2), "GRU": (layers.GRU, 1), "SimpleRNN": (layers.SimpleRNN, 1)}


def _data(seed=0, shape=(B, T, D)):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def _random_weights(layer, seed=1, scale=0.5):
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-scale, scale, w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    return [w.astype(layer.dtype) for w in weights]


def _reference(kind, x, weights, states=None, **kw):
    kernel, recurrent, bias = (list(weights) + [None])[:3]
    if kind == "LSTM":
        states = states or [None, None]
        return lstm_reference(x, kernel, recurrent, bias, states[0], states[1], **kw)
    ref = gru_reference if kind == "GRU" else simple_rnn_reference
    return ref(x, kernel, recurrent, bias, (states or [None])[0], **kw)


# -- values against the NumPy reference ---------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("per_step", [False, True])
def test_layer_matches_reference(kind, go_backwards, masked, per_step):
    cls, n_states = KINDS[kind]
    kw = {"dtype": "float64", "return_sequences": True, "return_state": True, "go_backwards": go_backwards}
    if per_step:
        # a custom activation callable forces the per-step path through cell.call
        kw["activation"] = lambda z: ff.tanh(z)
    layer = cls(U, **kw)
    x = _data()
    rng = np.random.default_rng(7)
    states = [rng.uniform(-0.5, 0.5, (B, U)) for _ in range(n_states)]
    layer(x, initial_state=states)
    weights = _random_weights(layer)
    out = layer(x, initial_state=[ff.constant(s) for s in states], mask=MASK if masked else None)
    last, seq, final = _reference(kind, x, weights, states, mask=MASK if masked else None, go_backwards=go_backwards)
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-10, atol=1e-12)
    for got, want in zip(out[1:], final):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    layer.return_sequences = False
    np.testing.assert_allclose(layer(x, initial_state=states, mask=MASK if masked else None)[0].numpy(), last,
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell_cls,kind", [(layers.LSTMCell, "LSTM"), (layers.GRUCell, "GRU"),
                                           (layers.SimpleRNNCell, "SimpleRNN")])
def test_generic_rnn_with_builtin_cells_matches_reference(cell_cls, kind):
    layer = layers.RNN(cell_cls(U, dtype="float64"), return_sequences=True, dtype="float64")
    x = _data(2)
    layer(x)
    weights = _random_weights(layer)
    _, seq, _ = _reference(kind, x, weights, mask=MASK)
    np.testing.assert_allclose(layer(x, mask=MASK).numpy(), seq, rtol=1e-10, atol=1e-12)


def test_gru_reset_before_matches_reference():
    layer = layers.GRU(U, reset_after=False, return_sequences=True, dtype="float64")
    x = _data(3)
    layer(x)
    assert layer.cell.bias.shape == (3 * U,)
    weights = _random_weights(layer)
    _, seq, _ = gru_reset_before_reference(x, *weights)
    np.testing.assert_allclose(layer(x).numpy(), seq, rtol=1e-10, atol=1e-12)


def test_float32_weights_set_from_keras_layout():
    """Weights in Keras's layout (as from tf.keras get_weights) give the reference outputs in float32."""
    layer = layers.LSTM(U, return_sequences=True)
    x = _data(4).astype("float32")
    layer(x)
    weights = _random_weights(layer)
    _, seq, _ = lstm_reference(x.astype("float64"), *[w.astype("float64") for w in weights])
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), seq, rtol=1e-5, atol=1e-6)


def test_mask_from_tensor_and_masking_propagation():
    layer = layers.LSTM(U, return_sequences=True, dtype="float64")
    x = ff.constant(_data(5))
    x._keras_mask = ff.constant(MASK)
    out = layer(x)
    weights = layer.get_weights()
    _, seq, _ = lstm_reference(x.numpy(), *weights, mask=MASK)
    np.testing.assert_allclose(out.numpy(), seq, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out._keras_mask.numpy() if hasattr(out._keras_mask, "numpy") else out._keras_mask,
                                  MASK)
    assert layers.LSTM(U)(x)._keras_mask is None  # the last output carries no time mask


def test_mask_zero_embedding_to_lstm():
    embedding_cls = getattr(layers, "Embedding", None)
    if embedding_cls is None:
        pytest.skip("Embedding is not available yet")
    tokens = np.array([[3, 4, 0, 0], [1, 2, 5, 0]])
    emb = embedding_cls(10, 4, mask_zero=True)
    lstm = layers.LSTM(U)
    out = lstm(emb(tokens))
    vectors = emb(tokens).numpy().astype("float64")
    _, _, final = lstm_reference(vectors, *[w.astype("float64") for w in lstm.get_weights()], mask=tokens != 0)
    np.testing.assert_allclose(out.numpy(), final[0], rtol=1e-5, atol=1e-6)


# -- shapes for all flag combinations ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_shapes_config_training_and_gradients(kind, return_sequences, return_state, go_backwards):
    cls, n_states = KINDS[kind]
    out_shape = (None, T, U) if return_sequences else (None, U)
    expected = [out_shape] + [(None, U)] * n_states if return_state else out_shape
    layer_test(cls, {"units": U, "return_sequences": return_sequences, "return_state": return_state,
                     "go_backwards": go_backwards},
               input_shape=(B, T, D), expected_output_shape=expected, expected_num_trainable_weights=3)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_gradients_with_initial_states_and_mask(kind):
    cls, n_states = KINDS[kind]
    rng = np.random.default_rng(0)
    data = [_data(6).astype("float32")] + [rng.uniform(-1, 1, (B, U)).astype("float32") for _ in range(n_states)]
    expected = [(None, T, U)] + [(None, U)] * n_states
    layer_test(cls, {"units": U, "return_sequences": True, "return_state": True}, input_data=data,
               expected_output_shape=expected)
    layer_test(cls, {"units": U, "return_sequences": True, "go_backwards": True}, input_data=data,
               call_kwargs={"mask": MASK}, check_functional=False, expected_output_shape=(None, T, U))


def test_count_params_and_weight_layouts():
    model_shapes = {
        layers.LSTM(64): [(128, 256), (64, 256), (256,)],
        layers.GRU(64): [(128, 192), (64, 192), (2, 192)],
        layers.SimpleRNN(64): [(128, 64), (64, 64), (64,)],
    }
    for layer, shapes in model_shapes.items():
        layer(np.zeros((1, 2, 128), "float32"))
        assert [w.shape for w in layer.get_weights()] == shapes
    lstm = next(iter(model_shapes))
    assert lstm.count_params() == 4 * 64 * (128 + 64 + 1)
    assert [w.name.split("/")[-1] for w in lstm.weights] == ["kernel", "recurrent_kernel", "bias"]


def test_default_initializers():
    layer = layers.LSTM(5)
    layer(np.zeros((1, 2, 7), "float32"))
    kernel, recurrent, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])  # unit_forget_bias
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-5)  # orthogonal rows
    limit = np.sqrt(6 / (7 + 20))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.5 * limit
    no_forget = layers.LSTM(5, unit_forget_bias=False)
    no_forget(np.zeros((1, 2, 7), "float32"))
    np.testing.assert_array_equal(no_forget.get_weights()[2], 0)
    assert layer.units == 5 and layer.cell.activation is keras.activations.get("tanh")


def test_functional_model_with_states():
    inputs = keras.Input((T, D))
    seq, h, c = layers.LSTM(U, return_sequences=True, return_state=True)(inputs)
    assert seq.shape == (None, T, U) and h.shape == (None, U) and c.shape == (None, U)
    decoder = layers.GRU(U, return_sequences=True)
    out = decoder(seq, initial_state=h)
    assert out.shape == (None, T, U)
    if not hasattr(keras, "Model"):
        pytest.skip("keras.Model not available yet")
    model = keras.Model(inputs, out)
    x = _data(8).astype("float32")
    direct = decoder(model.layers[1](x)[0], initial_state=model.layers[1](x)[1])
    np.testing.assert_allclose(model(x).numpy(), direct.numpy(), rtol=1e-6)


# -- stateful -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_stateful_carries_states_between_batches(kind):
    cls, _ = KINDS[kind]
    x = _data(9).astype("float32")
    stateful = cls(U, stateful=True, return_sequences=True, batch_input_shape=(B, None, D))
    plain = cls(U, return_sequences=True)
    stateful(x[:, :2])
    plain(x)
    plain.set_weights(stateful.get_weights())
    stateful.reset_states()
    first = stateful(x[:, :2]).numpy()
    second = stateful(x[:, 2:]).numpy()
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), plain(x).numpy(), rtol=1e-5, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :2]).numpy(), first, rtol=1e-6)
    assert all(s.shape == (B, U) for s in stateful.states)
    values = [np.full((B, U), 0.3, "float32") for _ in stateful.states]
    stateful.reset_states(values)
    np.testing.assert_allclose(stateful.states[0].numpy(), values[0])
    with pytest.raises(ValueError, match="batch"):
        stateful(x[:2])
    with pytest.raises(AttributeError, match="stateful"):
        plain.reset_states()


def test_stateful_functional_dummy_runs_keep_no_state():
    inputs = keras.Input(batch_shape=(B, T, D)) if _input_takes_batch_shape() else keras.Input((T, D), batch_size=B)
    layer = layers.LSTM(U, stateful=True)
    layer(inputs)
    np.testing.assert_array_equal(layer.states[0].numpy(), 0)
    np.testing.assert_array_equal(layer.states[1].numpy(), 0)
    with pytest.raises(ValueError, match="stateful"):
        layers.LSTM(U, stateful=True)(keras.Input((T, D)))


def _input_takes_batch_shape():
    import inspect

    return "batch_shape" in inspect.signature(keras.Input).parameters


# -- dropout --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_dropout_seeded_and_inactive_at_inference(kind):
    cls, _ = KINDS[kind]
    x = _data(10).astype("float32")
    layer = cls(U, dropout=0.5, recurrent_dropout=0.3, return_sequences=True)
    inference = layer(x).numpy()
    np.testing.assert_allclose(layer(x, training=False).numpy(), inference)
    ff.random.set_seed(3)
    a = layer(x, training=True).numpy()
    ff.random.set_seed(3)
    b = layer(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, inference)
    no_recurrent = cls(U, dropout=0.5, return_sequences=True)  # fused path with input dropout
    no_recurrent(x)
    assert not np.allclose(no_recurrent(x, training=True).numpy(), no_recurrent(x).numpy())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_recurrent_dropout_gradients(kind):
    cls, _ = KINDS[kind]
    layer_test(cls, {"units": U, "dropout": 0.3, "recurrent_dropout": 0.4, "return_sequences": True},
               input_shape=(B, T, D), expected_output_shape=(None, T, U), gradient_training=True)


# -- generic RNN, custom and stacked cells -------------------------------------------------------------------
class MinimalCell(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, self.units))

    def call(self, inputs, states):
        output = ff.matmul(inputs, self.kernel) + ff.matmul(states[0], self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_cell_values_gradients_and_config():
    layer = layers.RNN(MinimalCell(U, dtype="float64"), return_sequences=True, dtype="float64")
    x = _data(11)
    layer(x)
    kernel, recurrent = _random_weights(layer)
    expected, h = [], np.zeros((B, U))
    for t in range(T):
        h = x[:, t] @ kernel + h @ recurrent
        expected.append(h)
    np.testing.assert_allclose(layer(x).numpy(), np.stack(expected, 1), rtol=1e-10)
    check_gradient(lambda x_: layer(x_), [x])
    symbolic = layer(keras.Input((T, D), dtype="float64"))
    assert symbolic.shape == (None, T, U)
    config = layer.get_config()
    clone = layers.RNN.from_config(config, custom_objects={"MinimalCell": MinimalCell})
    assert isinstance(clone.cell, MinimalCell) and clone.return_sequences


def test_stacked_cells():
    cells = [layers.LSTMCell(4), layers.GRUCell(U)]
    layer = layers.RNN(cells, return_state=True)
    out = layer(_data(12).astype("float32"))
    assert [o.shape for o in out] == [(B, U), (B, 4), (B, 4), (B, U)]
    clone = layers.RNN.from_config(layer.get_config())
    assert [type(c).__name__ for c in clone.cell.cells] == ["LSTMCell", "GRUCell"]
    layer_test(layers.RNN, {"cell": [layers.SimpleRNNCell(4), layers.LSTMCell(U)]}, input_shape=(B, T, D),
               expected_output_shape=(None, U), check_functional=False, check_gradients=False)
    # float64 gradients through the stacked per-step path (cells and layer in float64)
    check_layer_gradients(layers.RNN, {"cell": [layers.SimpleRNNCell(4, dtype="float64"),
                                                layers.GRUCell(U, dtype="float64")], "return_sequences": True},
                          [_data(12)], call_kwargs={"mask": MASK})


def test_gru_reset_before_layer_test():
    layer_test(layers.GRU, {"units": U, "reset_after": False, "return_sequences": True, "go_backwards": True},
               input_shape=(B, T, D), expected_output_shape=(None, T, U), expected_num_trainable_weights=3)


@pytest.mark.parametrize("cell_cls", [layers.LSTMCell, layers.GRUCell, layers.SimpleRNNCell])
def test_cells_config_round_trip(cell_cls):
    cell = cell_cls(U, dropout=0.1, recurrent_dropout=0.2)
    clone = cell_cls.from_config(cell.get_config())
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == \
        {k: v for k, v in cell.get_config().items() if k != "name"}
    assert clone.implementation == 1 if cell_cls is not layers.SimpleRNNCell else True


def test_time_major():
    x = _data(13).astype("float32")
    layer = layers.LSTM(U, return_sequences=True, time_major=True)
    out = layer(np.transpose(x, (1, 0, 2)))
    batch_major = layers.LSTM(U, return_sequences=True)
    batch_major(x)
    batch_major.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.transpose(out.numpy(), (1, 0, 2)), batch_major(x).numpy(), rtol=1e-6)


# -- errors -------------------------------------------------------------------------------------------------
def test_errors():
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layers.LSTM(U)(np.zeros((2, 3), "float32"))
    layer = layers.GRU(U)
    layer(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(np.zeros((2, 3, 5), "float32"))
    with pytest.raises(ValueError, match="state"):
        layers.LSTM(U)(np.zeros((2, 3, 4), "float32"), initial_state=[np.zeros((2, U), "float32")])
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(TypeError, match="not understood"):
        layers.LSTM(3, bogus=1)
