"""``tf.cond`` / ``tf.case`` / ``tf.switch_case`` on values computed inside a ``tf.function``: compiled, one branch
run per call, gradients through the taken branch only."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import featherflow as tf


@pytest.fixture(autouse=True)
def _no_eager_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the "runs eagerly" warning of a fallback fails the test
        yield


def test_cond_compiles_and_runs_the_branch_each_call_asks_for():
    @tf.function
    def f(x):
        return tf.cond(tf.reduce_sum(x) > 0.0, lambda: x * 2.0, lambda: -x)

    for values in ([1.0, 2.0], [-1.0, -2.0], [3.0, -1.0], [-3.0, 1.0]):
        x = np.array(values, np.float32)
        want = x * 2.0 if x.sum() > 0 else -x
        np.testing.assert_array_equal(f(tf.constant(x)).numpy(), want)
    assert f.eager_fallback_reason is None and f.experimental_get_tracing_count() == 1
    code = f.get_concrete_function(tf.constant([1.0, 2.0])).pretty_printed_code()
    assert "if t" in code and "if not t" in code and " else " in code, code


def _float64_derivative(fn, x, h=1e-6):
    return (fn(x + h) - fn(x - h)) / (2 * h)


def test_cond_gradient_is_the_taken_branch_gradient_and_never_nan():
    @tf.function
    def value_and_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.cond(x > 0.0, lambda: tf.sqrt(x), lambda: tf.zeros_like(x))
        return y, tape.gradient(y, x)

    # the first call (the trace) takes the zeros branch at x = 0, where sqrt's gradient would be inf * 0
    for v in (0.0, 4.0, 0.0, 9.0, -1.0, 0.25):
        y, g = value_and_grad(tf.constant(v, tf.float64))
        assert float(y) == (np.sqrt(v) if v > 0 else 0.0)
        want = 0.0 if v <= 0 else _float64_derivative(lambda t: np.sqrt(t), v)
        np.testing.assert_allclose(float(g), want, rtol=1e-6, atol=0)
    assert value_and_grad.eager_fallback_reason is None


def test_cond_gradient_matches_finite_differences_in_float64():
    w = tf.Variable(np.array([[1.0, -2.0], [0.5, 0.3]]))

    def loss_of(x):
        y = tf.matmul(x, w)
        return tf.cond(tf.reduce_sum(y) > 0, lambda: tf.reduce_sum(tf.square(y)), lambda: tf.reduce_sum(tf.exp(y)))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = loss_of(x)
        return loss, tape.gradient(loss, w)

    def numpy_loss(x, weights):
        y = x @ weights
        return float(np.sum(y * y)) if y.sum() > 0 else float(np.sum(np.exp(y)))

    for row in ([1.0, 2.0], [-1.0, -2.0], [3.0, 1.0], [-2.0, 0.0]):
        x = np.array([row])
        loss, grad = step(tf.constant(x))
        base = w.numpy()
        assert float(loss) == pytest.approx(numpy_loss(x, base), rel=1e-12)
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            delta = np.zeros_like(base)
            delta[index] = 1e-6
            numeric[index] = (numpy_loss(x, base + delta) - numpy_loss(x, base - delta)) / 2e-6
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_second_order_gradient_through_a_compiled_cond():
    @tf.function
    def derivatives(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.cond(x > 0.0, lambda: x ** 3, lambda: x * x)
            dy = inner.gradient(y, x)
        return y, dy, outer.gradient(dy, x)

    for v in (2.0, -3.0, 1.0, -1.0):
        got = [float(t) for t in derivatives(tf.constant(v))]
        want = [v ** 3, 3 * v * v, 6 * v] if v > 0 else [v * v, 2 * v, 2.0]
        assert got == want, (v, got)


def test_branch_writes_and_random_draws_happen_only_in_the_taken_branch():
    v = tf.Variable(0.0)

    @tf.function
    def update(x):
        tf.cond(x > 0, lambda: v.assign_add(x), lambda: v.assign_sub(1.0))
        return v * 1.0

    assert [float(update(tf.constant(a))) for a in (2.0, -1.0, 3.0, -5.0)] == [2.0, 1.0, 4.0, 3.0]

    def draw(x):
        noisy = tf.cond(x > 0, lambda: x + tf.random.uniform(()), lambda: x)
        return noisy, tf.random.uniform(())

    compiled = tf.function(draw)
    results = {}
    for name, fn in (("eager", draw), ("compiled", compiled)):
        tf.random.set_seed(3)
        results[name] = [[float(t) for t in fn(tf.constant(a))] for a in (-1.0, 1.0, -2.0, 2.0)]
    assert results["eager"] == results["compiled"]


def test_nested_cond_and_print_in_the_taken_branch_only(capsys):
    @tf.function
    def nested(x):
        inner = lambda: tf.cond(x > 10.0, lambda: x * 100.0, lambda: x * 10.0)  # noqa: E731
        return tf.cond(x > 0.0, inner, lambda: x - 1.0)

    assert [float(nested(tf.constant(a))) for a in (20.0, 5.0, -3.0, 11.0)] == [2000.0, 50.0, -4.0, 1100.0]

    @tf.function
    def shout(x):
        tf.cond(x > 0, lambda: tf.print("positive", x, output_stream=sys.stdout),
                lambda: tf.print("negative", x, output_stream=sys.stdout))
        return x

    for a in (1.0, -1.0, 2.0):
        shout(tf.constant(a))
    assert capsys.readouterr().out.split("\n") == ["positive 1", "negative -1", "positive 2", ""]


def test_keras_fit_through_a_cond_layer_is_identical_compiled_and_eager():
    class Gate(tf.keras.layers.Layer):
        def call(self, x):
            return tf.cond(tf.reduce_mean(x) > 0.0, lambda: tf.nn.relu(x) * 2.0, lambda: tf.tanh(x))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.integers(0, 3, 64)
    tf.keras.utils.set_random_seed(1)
    inputs = tf.keras.Input((4,))
    outputs = tf.keras.layers.Dense(3, activation="softmax")(tf.keras.layers.Dense(8)(Gate()(inputs)))
    model = tf.keras.Model(inputs, outputs)
    start = model.get_weights()
    histories, weights = [], []
    for run_eagerly in (False, True):
        model.set_weights(start)
        model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=run_eagerly)
        histories.append(model.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False).history["loss"])
        weights.append(model.get_weights())
    assert histories[0] == histories[1]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    means = x.reshape(4, 16 * 4).mean(axis=1)
    assert min(means) < 0 < max(means), means  # (the batches take both branches)


def test_case_and_switch_case_compile():
    @tf.function
    def pick(i, x):
        return tf.switch_case(i, [lambda: x + 1.0, lambda: x * 10.0, lambda: x - 5.0])

    # an index out of range runs the last branch, as TensorFlow does without a default
    assert [float(pick(tf.constant(k), tf.constant(2.0))) for k in (0, 1, 2, 7, -1)] == [3.0, 20.0, -3.0, -3.0, -3.0]

    @tf.function
    def first_true(x):
        return tf.case([(x < 0.0, lambda: -x), (x < 10.0, lambda: x * 2.0)], default=lambda: x * 0.5)

    assert [float(first_true(tf.constant(v))) for v in (-3.0, 4.0, 20.0)] == [3.0, 8.0, 10.0]

    @tf.function
    def no_default(x):
        return tf.case([(x < 0.0, lambda: -x), (x < 10.0, lambda: x * 2.0)])

    assert float(no_default(tf.constant(4.0))) == 8.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="None of conditions evaluated as True"):
        no_default(tf.constant(20.0))

    @tf.function
    def exclusive(x):
        return tf.case([(x < 0.0, lambda: -x), (x < 10.0, lambda: x * 2.0)], default=lambda: x, exclusive=True)

    assert float(exclusive(tf.constant(20.0))) == 20.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="more than one condition"):
        exclusive(tf.constant(-1.0))
    for fn in (pick, first_true, no_default, exclusive):
        assert fn.eager_fallback_reason is None


def test_branches_that_do_not_match_are_reported():
    @tf.function
    def structure(x):
        return tf.cond(x > 0, lambda: (x, x), lambda: x)

    with pytest.raises(ValueError, match="same number, type, and overall structure"):
        structure(tf.constant(1.0))

    @tf.function
    def dtype(x):
        return tf.cond(x > 0, lambda: x, lambda: tf.cast(x, "int32"))

    with pytest.raises(TypeError, match="float32 tensor where false_fn returned a int32"):
        dtype(tf.constant(1.0))


def test_branches_of_different_shapes_run_eagerly_with_a_warning():
    @tf.function
    def grow(x):
        return tf.cond(tf.reduce_sum(x) > 0, lambda: x, lambda: tf.concat([x, x], 0))

    with pytest.warns(UserWarning, match="branches of different shapes"):
        assert grow(tf.constant([1.0, 2.0])).numpy().tolist() == [1.0, 2.0]
    assert grow(tf.constant([-3.0, 2.0])).numpy().tolist() == [-3.0, 2.0, -3.0, 2.0]
