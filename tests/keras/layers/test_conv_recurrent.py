"""ConvLSTM1D/2D/3D: tf_keras 2.21's outputs with stored weights (tests/image/fixtures), a step-by-step NumPy
reference, the layer helper (float64 gradients through the time loop), masks, states and dropout."""

import image_reference
import numpy as np
import pytest
from layer_helpers import layer_test

from featherflow import keras
from featherflow.keras import layers
from featherflow.ops.conv import conv2d

ref = image_reference.load()
OPTIONS = {1: dict(padding="same", return_sequences=True, go_backwards=True),
           2: dict(strides=(2, 1), return_state=True, activation="relu", recurrent_activation="sigmoid"),
           3: dict(padding="same", dilation_rate=(1, 2, 1), return_sequences=True)}
CLASSES = {1: layers.ConvLSTM1D, 2: layers.ConvLSTM2D, 3: layers.ConvLSTM3D}


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_matches_tf_keras(rank):
    seq = ref[f"vol/convlstm{rank}d/input"]
    layer = CLASSES[rank](3, 3 if rank != 3 else (2, 2, 3), **OPTIONS[rank])
    layer.build(seq.shape)
    layer.set_weights([ref[f"vol/convlstm{rank}d/{name}"] for name in ("kernel", "recurrent_kernel", "bias")])
    out = layer(seq)
    outs = out if isinstance(out, list) else [out]
    assert len(outs) == (3 if OPTIONS[rank].get("return_state") else 1)
    for i, o in enumerate(outs):
        np.testing.assert_allclose(o.numpy(), ref[f"vol/convlstm{rank}d/output{i}"], atol=2e-6)


def _hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0, 1)


def test_equals_a_numpy_recurrence():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5, 5, 2)).astype("float32")
    layer = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    outputs = layer(x).numpy()
    kernel, recurrent, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, [0, 0, 1, 1, 0, 0, 0, 0])  # unit_forget_bias
    h = c = np.zeros((2, 5, 5, 2), "float32")
    for t in range(3):
        z = conv2d(x[:, t], kernel, 1, "SAME").numpy() + bias + conv2d(h, recurrent, 1, "SAME").numpy()
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _hard_sigmoid(f) * c + _hard_sigmoid(i) * np.tanh(g)
        h = _hard_sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(outputs[:, t], h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,kwargs,shape,out", [
    (layers.ConvLSTM1D, {"filters": 2, "kernel_size": 2}, (2, 3, 5, 2), (None, 4, 2)),
    (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "padding": "same", "return_sequences": True},
     (2, 3, 4, 3, 2), (None, 3, 4, 3, 2)),
    (layers.ConvLSTM2D, {"filters": 2, "kernel_size": (2, 1), "data_format": "channels_first",
                         "recurrent_activation": "sigmoid"}, (2, 3, 2, 4, 3), (None, 2, 3, 3)),
    (layers.ConvLSTM3D, {"filters": 1, "kernel_size": 2, "go_backwards": True}, (1, 2, 3, 3, 3, 1),
     (None, 2, 2, 2, 1)),
])
def test_layer_helper(cls, kwargs, shape, out):
    layer_test(cls, kwargs, input_shape=shape, expected_output_shape=out, expected_num_trainable_weights=3)


def test_return_state_and_initial_state():
    x = np.random.default_rng(1).normal(size=(2, 4, 6, 1)).astype("float32")
    layer = layers.ConvLSTM1D(3, 3, padding="same", return_state=True)
    out, h, c = layer(x)
    np.testing.assert_array_equal(out.numpy(), h.numpy())
    assert c.shape == (2, 6, 3)
    # continuing from the final state equals running the whole sequence at once
    first = layers.ConvLSTM1D(3, 3, padding="same", return_state=True)
    first.build(x.shape)
    first.set_weights(layer.get_weights())
    _, h2, c2 = first(x[:, :2])
    second = first(x[:, 2:], initial_state=[h2, c2])
    np.testing.assert_allclose(second[0].numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="initial_state"):
        first(x, initial_state=[h2[:, :3], c2])


def test_mask_keeps_the_previous_state():
    x = np.random.default_rng(2).normal(size=(2, 4, 5, 1)).astype("float32")
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    layer = layers.ConvLSTM1D(2, 2, return_sequences=True)
    masked = layer(x, mask=mask).numpy()
    full = layer(x).numpy()
    np.testing.assert_allclose(masked[1], full[1], rtol=1e-6)
    np.testing.assert_array_equal(masked[0, 2], masked[0, 1])
    np.testing.assert_array_equal(masked[0, 3], masked[0, 1])


@pytest.mark.filterwarnings("error")  # the states are assigned inside the compiled forward: no eager fallback
def test_stateful():
    x = np.random.default_rng(3).normal(size=(2, 4, 5, 5, 1)).astype("float32")
    layer = layers.ConvLSTM2D(2, 3, padding="same", stateful=True)
    inputs = keras.Input(batch_shape=(2, 4, 5, 5, 1))
    model = keras.Model(inputs, layer(inputs))
    once = model(x).numpy()
    twice = model(x).numpy()
    assert not np.allclose(once, twice)
    layer.reset_states()
    np.testing.assert_allclose(model(x).numpy(), once, rtol=1e-6)
    with pytest.raises(AttributeError, match="stateful"):
        layers.ConvLSTM2D(2, 3).reset_states()


def test_dropout_only_while_training():
    x = np.random.default_rng(4).normal(size=(2, 3, 5, 5, 2)).astype("float32")
    layer = layers.ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.5)
    inference = layer(x, training=False).numpy()
    np.testing.assert_allclose(layer(x, training=False).numpy(), inference)
    assert not np.allclose(layer(x, training=True).numpy(), inference)
    layer_test(layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "dropout": 0.3, "recurrent_dropout": 0.3},
               input_shape=(2, 2, 3, 3, 2), expected_output_shape=(None, 2, 2, 2), gradient_training=True)


def test_errors_and_config():
    with pytest.raises(ValueError, match="filters"):
        layers.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="time_major"):
        layers.ConvLSTM2D(2, 3, time_major=True)
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    config = layers.ConvLSTM2D(2, 3, recurrent_dropout=0.2).get_config()
    assert config["recurrent_activation"] == "hard_sigmoid" and config["kernel_size"] == (3, 3)
    assert config["unroll"] is False and config["time_major"] is False


def test_next_frame_model_trains():
    rng = np.random.default_rng(5)
    frames = rng.uniform(size=(8, 4, 6, 6, 1)).astype("float32")
    target = frames[:, -1]
    model = keras.Sequential([keras.Input((4, 6, 6, 1)),
                              layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True),
                              layers.ConvLSTM2D(4, 3, padding="same"), layers.Conv2D(1, 1)])
    model.compile("adam", "mse")
    history = model.fit(frames, target, epochs=4, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
