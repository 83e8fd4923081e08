"""Adafactor against tf_keras 2.21 trajectories (fixtures/adafactor_tf.npz, from make_adafactor_fixture.py)."""

import os

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras

REF = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "adafactor_tf.npz"))


@pytest.mark.parametrize("name, kwargs", [
    ("default", dict(learning_rate=0.5)),
    ("schedule", dict(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.2, 2, 0.5))),
    ("clipped", dict(learning_rate=0.05, clip_threshold=0.1, relative_step=False, epsilon_2=0.1)),
])
def test_trajectories_match_tf_keras(name, kwargs):
    variables = [ff.Variable(REF[f"initial_{i}"]) for i in range(4)]
    optimizer = keras.optimizers.Adafactor(**kwargs)
    for step in range(5):
        optimizer.apply_gradients(zip([ff.constant(REF[f"grad_{step}_{i}"]) for i in range(4)], variables))
    for i, variable in enumerate(variables):
        np.testing.assert_allclose(variable.numpy(), REF[f"{name}_{i}"], rtol=2e-5, atol=1e-6)
    # tf.keras's state: iterations, then r, c (rank >= 2) and v per variable
    assert len(optimizer.variables) == int(REF[f"{name}_state_count"])


def test_state_round_trip_and_config():
    variables = [ff.Variable(REF[f"initial_{i}"]) for i in range(4)]
    first = keras.optimizers.Adafactor(learning_rate=0.3)
    first.apply_gradients(zip([ff.constant(REF[f"grad_0_{i}"]) for i in range(4)], variables))
    copies = [ff.Variable(v.numpy()) for v in variables]
    second = keras.optimizers.Adafactor.from_config(first.get_config())
    second.build(copies)
    second.set_state(first.get_state())
    grads = [ff.constant(REF[f"grad_1_{i}"]) for i in range(4)]
    first.apply_gradients(zip(grads, variables))
    second.apply_gradients(zip(grads, copies))
    for a, b in zip(variables, copies):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert isinstance(keras.optimizers.get("adafactor"), keras.optimizers.Adafactor)
    assert keras.optimizers.experimental.Adafactor is keras.optimizers.Adafactor


def test_trains_a_model():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-1.0], [2.0], [0.5]], "float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adafactor(learning_rate=0.1), "mse")
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
