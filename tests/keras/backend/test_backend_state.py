"""keras.backend session state, variables and values, learning phase, placeholders and ``function``."""

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras
from featherflow.keras import backend as K


def test_uids_count_from_one_and_clear_session_resets_names():
    K.clear_session()
    assert (K.get_uid("x"), K.get_uid("x"), K.get_uid("y")) == (1, 2, 1)
    assert keras.layers.Dense(1).name == "dense"
    assert keras.layers.Dense(1).name == "dense_1"
    assert keras.Input((2,)).name == "input_1"
    K.reset_uids()
    assert keras.layers.Dense(1).name == "dense"
    assert keras.Input((2,)).name == "input_1"


def test_get_set_value_on_the_optimizer_learning_rate():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(0.1)
    K.set_value(model.optimizer.learning_rate, 0.025)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.025)
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    before = model.get_weights()[0].copy()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    # one SGD step with the new rate: w -= 0.025 * grad, grad = 2 * mean((xw + b - y) * x)
    pred = x @ before + 0.0
    grad = 2 * (x.T @ (pred - y)) / 4
    np.testing.assert_allclose(model.get_weights()[0], before - 0.025 * grad, rtol=1e-5)
    with pytest.raises(TypeError, match="expects a variable"):
        K.set_value(tf.constant(1.0), 2.0)


def test_batch_get_and_set_value_and_eval():
    a, b = K.variable([1.0, 2.0]), K.variable(3.0, dtype="float64")
    K.batch_set_value([(a, [5, 6]), (b, 7)])
    values = K.batch_get_value([a, b])
    np.testing.assert_array_equal(values[0], np.array([5.0, 6.0], "float32"))
    assert values[1].dtype == np.float64 and float(values[1]) == 7.0
    assert K.eval(a * 2).tolist() == [10.0, 12.0]
    assert K.get_value(3) == 3  # non-tensors pass through, as in tf.keras


def test_shape_functions():
    v = K.variable(np.zeros((2, 3)))
    assert (K.int_shape(v), K.ndim(v), K.count_params(v), K.dtype(v)) == ((2, 3), 2, 6, "float32")
    assert K.shape(v).numpy().tolist() == [2, 3]
    assert K.int_shape(keras.Input((4,))) == (None, 4)
    assert K.is_keras_tensor(keras.Input((4,))) and not K.is_keras_tensor(v)
    with pytest.raises(ValueError, match="Expected a symbolic tensor instance"):
        K.is_keras_tensor(3)
    assert not K.is_sparse(v) and K.to_dense(v) is v
    sparse = tf.sparse.SparseTensor([[0, 1], [1, 0]], [2.0, 3.0], [2, 2])
    assert K.is_sparse(sparse)
    np.testing.assert_array_equal(K.to_dense(sparse).numpy(), [[0.0, 2.0], [3.0, 0.0]])
    assert K.constant(2, shape=(2,)).numpy().tolist() == [2.0, 2.0]


def test_float_and_image_settings():
    assert K.floatx() == "float32" and K.epsilon() == 1e-7 and K.backend() == "tensorflow"
    K.set_epsilon(1e-5)
    try:
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    K.set_image_data_format("channels_first")
    try:
        conv = keras.layers.Conv2D(2, 3)
        assert conv.data_format == "channels_first"
        assert conv(np.zeros((1, 1, 5, 5), "float32")).shape == (1, 2, 3, 3)
    finally:
        K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels_first"):
        K.set_image_data_format("NHWC")
    assert K.cast_to_floatx([1, 2]).dtype == np.float32


class _PhaseProbe(keras.layers.Layer):
    def call(self, inputs):
        self.seen = K.learning_phase()
        return K.in_train_phase(inputs * 0.0, inputs)


def test_learning_phase_follows_the_call_and_the_scope():
    K.clear_session()
    assert K.learning_phase() == 0
    probe = _PhaseProbe()
    x = np.ones((1, 2), "float32")
    assert probe(x, training=True).numpy().tolist() == [[0.0, 0.0]] and probe.seen == 1
    assert probe(x, training=False).numpy().tolist() == [[1.0, 1.0]] and probe.seen == 0
    with K.learning_phase_scope(1):
        assert K.learning_phase() == 1
    assert K.learning_phase() == 0
    assert K.in_test_phase(lambda: "test", lambda: "train", training=False) == "test"
    flags = K.constant([1.0, 0.0]) > 0.5
    assert K.in_train_phase(K.ones((2,)), K.zeros((2,)), training=flags).numpy().tolist() == [1.0, 0.0]
    dropout = tf.keras.layers.Dropout(0.5, seed=0)
    assert dropout(np.ones((1, 100), "float32")).numpy().tolist() == [[1.0] * 100]
    with pytest.warns(UserWarning, match="deprecated"):
        K.set_learning_phase(1)
    try:
        assert K.learning_phase() == 1
        # a call without `training=` now runs in training mode: dropout drops
        assert (dropout(np.ones((1, 100), "float32")).numpy() == 0).any()
        assert probe(x).numpy().tolist() == [[0.0, 0.0]]
        assert probe(x, training=False).numpy().tolist() == [[1.0, 1.0]]
    finally:
        K.clear_session()
    assert K.learning_phase() == 0
    with pytest.raises(ValueError, match="0 or 1"), K.learning_phase_scope(2):
        pass


def test_function_reads_intermediate_outputs():
    K.clear_session()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    get_hidden = K.function([model.input], [model.layers[0].output])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    hidden = get_hidden([x])
    kernel, bias = model.layers[0].get_weights()
    assert isinstance(hidden, list) and len(hidden) == 1
    np.testing.assert_allclose(hidden[0], np.maximum(x @ kernel + bias, 0), rtol=1e-6)
    with pytest.raises(ValueError, match="updates"):
        K.function([model.input], [model.output], updates=[1])


def test_placeholder_feeds_a_functional_model():
    inp = K.placeholder(shape=(None, 2))
    assert inp.shape == (None, 2) and K.is_keras_tensor(inp)
    out = keras.layers.Dense(1, kernel_initializer="ones")(inp)
    fn = K.function(inp, out)
    assert fn(np.array([[1.0, 2.0]], "float32")).tolist() == [[3.0]]
    assert K.placeholder(ndim=3).shape == (None, None, None)
    with pytest.raises(ValueError, match="ragged"):
        K.placeholder(shape=(None, 2), ragged=True)


def test_variable_updates_and_moving_average():
    v = K.variable([1.0, 1.0])
    K.update_add(v, [1.0, 2.0])
    K.update_sub(v, [0.5, 0.5])
    assert K.get_value(v).tolist() == [1.5, 2.5]
    K.update(v, [0.0, 4.0])
    K.moving_average_update(v, [4.0, 0.0], 0.9)
    np.testing.assert_allclose(K.get_value(v), [0.4, 3.6], rtol=1e-6)
    with pytest.raises(TypeError, match="in place"):
        K.update_add(tf.constant(1.0), 1.0)
    assert K.zeros((2, 2)).numpy().sum() == 0 and isinstance(K.ones((2,)), tf.Variable)
    assert K.eye(2).numpy().tolist() == [[1.0, 0.0], [0.0, 1.0]] and isinstance(K.eye(2), tf.Variable)


def test_gradients_and_stop_gradient():
    with pytest.raises(RuntimeError, match="GradientTape"):
        K.gradients(K.constant(1.0), [K.variable(1.0)])
    v = K.variable(2.0)
    with tf.GradientTape() as tape:
        a, b = K.stop_gradient([v * v, v * 3.0])
        y = a + b + v
    assert float(tape.gradient(y, v)) == 1.0


def test_name_scope_and_print_tensor(capsys):
    with K.name_scope("block") as outer:
        with K.name_scope("inner") as inner:
            assert (outer, inner) == ("block/", "block/inner/")
    x = K.constant([1.0, 2.0])
    assert K.print_tensor(x, message="x =") is x
    assert "x = [1 2]" in capsys.readouterr().out
    K.manual_variable_initialization(True)
    K.manual_variable_initialization(False)
    K.experimental.enable_tf_random_generator()
    assert K.experimental.is_tf_random_generator_enabled()
    K.experimental.disable_tf_random_generator()
