"""Bidirectional and TimeDistributed: values against NumPy references, merge modes, states, masks,
config round trips and float64 gradient checks."""

import numpy as np
import pytest
from gradcheck import check_gradient
from layer_helpers import layer_test
from rnn_reference import gru_reference, lstm_reference

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers

B, T, D, U = 3, 5, 4, 3
MASK = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1]], dtype=bool)


def _data(seed=0, shape=(B, T, D)):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def _set_random(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()])
    return layer.get_weights()


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_values(merge_mode, return_sequences):
    layer = layers.Bidirectional(layers.LSTM(U, return_sequences=return_sequences, dtype="float64"),
                                 merge_mode=merge_mode, dtype="float64")
    x = _data()
    layer(x)
    weights = _set_random(layer)
    last_f, seq_f, _ = lstm_reference(x, *weights[:3])
    last_b, seq_b, _ = lstm_reference(x, *weights[3:], go_backwards=True)
    if return_sequences:
        f, b = seq_f, seq_b[:, ::-1]
    else:
        f, b = last_f, last_b
    expected = {"concat": np.concatenate([f, b], -1), "sum": f + b, "mul": f * b, "ave": (f + b) / 2}
    out = layer(x)
    if merge_mode is None:
        np.testing.assert_allclose(out[0].numpy(), f, rtol=1e-10)
        np.testing.assert_allclose(out[1].numpy(), b, rtol=1e-10)
    else:
        np.testing.assert_allclose(out.numpy(), expected[merge_mode], rtol=1e-10)


def test_bidirectional_states_initial_states_and_mask_zero_outputs():
    layer = layers.Bidirectional(layers.GRU(U, return_sequences=True, return_state=True, dtype="float64"),
                                 dtype="float64")
    x = _data(2)
    rng = np.random.default_rng(3)
    h_f, h_b = rng.uniform(-1, 1, (B, U)), rng.uniform(-1, 1, (B, U))
    out, state_f, state_b = layer(x, initial_state=[h_f, h_b], mask=MASK)
    weights = layer.get_weights()
    # Keras: with return_sequences, masked steps output zeros in a Bidirectional layer
    _, seq_f, fin_f = gru_reference(x, *weights[:3], h0=h_f, mask=MASK, zero_output_for_mask=True)
    _, seq_b, fin_b = gru_reference(x, *weights[3:], h0=h_b, mask=MASK, go_backwards=True, zero_output_for_mask=True)
    np.testing.assert_allclose(out.numpy(), np.concatenate([seq_f, seq_b[:, ::-1]], -1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state_f.numpy(), fin_f[0], rtol=1e-10)
    np.testing.assert_allclose(state_b.numpy(), fin_b[0], rtol=1e-10)
    assert np.asarray(out._keras_mask.numpy() if hasattr(out._keras_mask, "numpy") else out._keras_mask).shape == (B, T)


@pytest.mark.parametrize("merge_mode", ["concat", "ave", None])
def test_bidirectional_layer_test(merge_mode):
    shape = (None, T, 2 * U) if merge_mode == "concat" else (None, T, U)
    expected = [(None, T, U), (None, T, U)] if merge_mode is None else shape
    layer_test(layers.Bidirectional, {"layer": layers.LSTM(U, return_sequences=True), "merge_mode": merge_mode},
               input_shape=(B, T, D), expected_output_shape=expected, expected_num_trainable_weights=6)


def test_bidirectional_return_state_shapes_and_gradients():
    layer_test(layers.Bidirectional, {"layer": layers.LSTM(U, return_state=True)}, input_shape=(B, T, D),
               expected_output_shape=[(None, 2 * U)] + [(None, U)] * 4)
    layer_test(layers.Bidirectional, {"layer": layers.SimpleRNN(U, return_sequences=True)}, input_shape=(B, T, D),
               call_kwargs={"mask": MASK}, check_functional=False, expected_output_shape=(None, T, 2 * U))


def test_bidirectional_backward_layer_and_config():
    forward = layers.LSTM(U, return_sequences=True)
    backward = layers.GRU(U, return_sequences=True, go_backwards=True)
    layer = layers.Bidirectional(forward, backward_layer=backward, merge_mode="sum")
    out = layer(_data(4).astype("float32"))
    assert out.shape == (B, T, U)
    assert layer.forward_layer.name == "forward_" + forward.name
    assert layer.backward_layer is backward
    assert len(layer.trainable_weights) == 6
    config = layer.get_config()
    clone = layers.Bidirectional.from_config(config)
    assert isinstance(clone.backward_layer, layers.GRU) and clone.merge_mode == "sum"
    with pytest.raises(ValueError, match="go_backwards"):
        layers.Bidirectional(layers.LSTM(U), backward_layer=layers.LSTM(U))
    with pytest.raises(ValueError, match="return_sequences"):
        layers.Bidirectional(layers.LSTM(U), backward_layer=layers.LSTM(U, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="merge mode"):
        layers.Bidirectional(layers.LSTM(U), merge_mode="max")


def test_bidirectional_functional():
    inputs = keras.Input((T, D))
    out = layers.Bidirectional(layers.LSTM(U, return_sequences=True))(inputs)
    assert out.shape == (None, T, 2 * U)
    outs = layers.Bidirectional(layers.GRU(U, return_state=True), merge_mode=None)(inputs)
    assert [o.shape for o in outs] == [(None, U)] * 4


def test_time_distributed_values_mask_and_layer_test():
    dense = layers.Dense(2, dtype="float64")
    layer = layers.TimeDistributed(dense, dtype="float64")
    x = _data(5)
    out = layer(x)
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(out.numpy(), x @ kernel + bias, rtol=1e-12)
    masked = ff.constant(x)
    masked._keras_mask = ff.constant(MASK)
    assert layer(masked)._keras_mask is not None
    layer_test(layers.TimeDistributed, {"layer": layers.Dense(2)}, input_shape=(B, T, D),
               expected_output_shape=(None, T, 2), expected_num_trainable_weights=2, check_gradients=False)
    check_gradient(lambda x_: layer(x_), [x])  # float64 inner layer: gradients through the fold/unfold
    assert layers.TimeDistributed(layers.Dense(7)).compute_output_shape((None, T, D)) == (None, T, 7)
    with pytest.raises(ValueError, match="3 dimensions"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((2, 3), "float32"))


def test_time_distributed_then_lstm_sequence_model():
    x = _data(6, (2, T, 6, 2)).astype("float32")
    inner = layers.TimeDistributed(layers.Flatten())
    flat = inner(x)
    assert flat.shape == (2, T, 12)
    assert layers.LSTM(U)(flat).shape == (2, U)
