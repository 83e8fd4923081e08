"""A ``tf.function`` trace in one thread never changes what other threads see (issue 22).

While a function is traced, the variables it reads are shown to the tracing thread as traced values. Before,
the trace rebound every live variable's ``value`` to a traced array for the whole process, so a second thread
training its own model at that moment (tuner trials in a thread pool) read traced arrays. Each test makes the
overlap certain: the traced function's Python body (which runs at trace time only) waits, while the trace is in
progress, until the other thread has done all its work.
"""

import threading

import numpy as np

import featherflow as tf
from featherflow import keras

_WAIT = 60.0  # seconds: a safety net against a deadlock, never reached when things work


def _own_model():
    """A small model, its optimizer and a counter, made before the other thread starts tracing."""
    tf.keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.layers.Dense(4, activation="tanh", input_shape=(3,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.Adam(0.01)
    optimizer.build(model.trainable_variables)
    return model, optimizer, tf.Variable(0.0)


def _train(own, steps: int, tracing=None, done=None):
    """Eager training of ``own`` (tape + Adam), returning every loss, the final weights, the counter and the
    types of every variable's value seen; ``tracing``/``done``: wait for the other thread's trace to start,
    signal when finished."""
    model, optimizer, counter = own
    x = np.linspace(-1.0, 1.0, 24, dtype="float32").reshape(8, 3)
    y = np.sin(x.sum(axis=1, keepdims=True))
    losses, kinds = [], set()
    try:
        if tracing is not None:
            assert tracing.wait(_WAIT), "the other thread never started tracing"
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x) - y))
            kinds.update(type(v.value) for v in model.variables + optimizer.variables + [counter])
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            counter.assign_add(1.0)
            kinds.update(type(v.value) for v in model.variables + optimizer.variables + [counter])
            losses.append(loss.numpy())
    finally:
        if done is not None:
            done.set()
    return np.array(losses), [v.numpy() for v in model.variables], counter.numpy(), kinds


def _trace_many(compiled_calls, tracing, done, errors):
    """Thread A: trace (in each trace's Python body, wait for thread B) ``compiled_calls`` times."""
    try:
        for call in compiled_calls:
            call()
    except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread
        errors.append(exc)
        tracing.set()
        done.set()


def test_eager_training_in_another_thread_never_sees_traced_values():
    alone = _train(_own_model(), 30)

    scale = tf.Variable(2.0, name="scale")  # thread A's own variable, read and written by its traced function
    tracing, done = threading.Event(), threading.Event()
    waited = []

    @tf.function
    def step(x):
        tracing.set()  # a Python side effect: runs while tracing only
        waited.append(done.wait(_WAIT))
        scale.assign_add(1.0)
        return x * scale

    errors = []
    calls = [lambda n=n: step(tf.ones((n,))) for n in range(1, 6)]  # a new shape each call: 5 traces
    own = _own_model()
    tracer = threading.Thread(target=_trace_many, args=(calls[:1], tracing, done, errors))
    tracer.start()
    together = _train(own, 30, tracing, done)
    tracer.join()
    if errors:
        raise errors[0]
    assert waited == [True]  # the whole training ran while thread A was inside its trace
    losses, weights, counter, kinds = together
    assert kinds == {np.ndarray}
    np.testing.assert_array_equal(losses, alone[0])
    for got, want in zip(weights, alone[1]):
        np.testing.assert_array_equal(got, want)
    assert counter == alone[2] == 30.0
    # thread A's function still compiled and updates its own variable through the program
    assert step.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(step(tf.ones((1,))).numpy(), [4.0])
    assert scale.numpy() == 4.0 and step.experimental_get_tracing_count() == 1
    assert "scale" in step.get_concrete_function(tf.ones((1,))).pretty_printed_code()  # compiled, not eager


def test_many_traces_beside_an_eager_loop():
    alone = _train(_own_model(), 5)
    results, errors, gates = [], [], []

    @tf.function
    def f(x):
        tracing, done = gates[-1]  # this trace's gate (a Python side effect: trace time only)
        tracing.set()
        done.wait(_WAIT)
        return tf.reduce_sum(x * 2.0)

    for n in range(1, 6):  # five traces (a new shape each), each overlapping a whole eager training run
        gates.append((threading.Event(), threading.Event()))
        own = _own_model()
        tracer = threading.Thread(target=_trace_many, args=([lambda n=n: f(tf.ones((n,)))], *gates[-1], errors))
        tracer.start()
        results.append(_train(own, 5, *gates[-1]))
        tracer.join()
        if errors:
            raise errors[0]
        assert f(tf.ones((n,))).numpy() == 2.0 * n
    assert f.experimental_get_tracing_count() == 5
    for losses, weights, _, kinds in results:
        assert kinds == {np.ndarray}
        np.testing.assert_array_equal(losses, alone[0])
        for got, want in zip(weights, alone[1]):
            np.testing.assert_array_equal(got, want)


def test_numpy_conversions_in_another_thread_are_unchanged_during_a_trace():
    tracing, done = threading.Event(), threading.Event()
    errors, seen = [], {}

    @tf.function
    def f(x):
        tracing.set()
        done.wait(_WAIT)
        return x + 1.0

    variable = tf.Variable([1.0, 2.0])
    tracer = threading.Thread(target=_trace_many, args=([lambda: f(tf.ones((2,)))], tracing, done, errors))
    tracer.start()
    assert tracing.wait(_WAIT)
    try:
        plain = np.arange(6.0).reshape(2, 3)
        seen["same"] = np.asarray(plain) is plain  # no copy, as NumPy's own asarray
        seen["list"] = np.array([[1, 2], [3, 4]], dtype="float32")
        seen["tensor"] = np.asarray(tf.constant([5.0, 6.0]))
        seen["variable"] = np.asarray(variable)
        seen["contiguous"] = np.ascontiguousarray(plain.T)
        seen["zeros"] = np.zeros(2)  # NumPy's creation functions: plain arrays outside the tracing thread
    finally:
        done.set()
    tracer.join()
    if errors:
        raise errors[0]
    assert seen["same"] is True
    assert type(seen["list"]) is np.ndarray and seen["list"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert type(seen["tensor"]) is np.ndarray and seen["tensor"].tolist() == [5.0, 6.0]
    assert type(seen["variable"]) is np.ndarray and seen["variable"].tolist() == [1.0, 2.0]
    assert seen["contiguous"].flags.c_contiguous and np.array_equal(seen["contiguous"], plain.T)
    assert type(seen["zeros"]) is np.ndarray
    assert f(tf.ones((2,))).numpy().tolist() == [2.0, 2.0]
