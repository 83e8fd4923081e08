"""``tf.while_loop`` on values computed inside a ``tf.function``: one compiled loop step (cond and body as
programs of their own), run as many times as each call asks; eager (with a warning) where a gradient must
flow through the loop or a loop variable changes shape."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import featherflow as tf


@pytest.fixture()
def no_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the "runs eagerly" warning of a fallback fails the test
        yield


def test_a_loop_runs_as_many_times_as_each_call_asks(no_fallback):
    @tf.function
    def triangle(n):
        return tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + tf.cast(i, tf.float32)), (0, 0.0))

    for n in (3, 0, 10, 5, 1):
        i, s = triangle(tf.constant(n))
        assert (int(i), float(s)) == (n, n * (n - 1) / 2)
    assert triangle.eager_fallback_reason is None and triangle.experimental_get_tracing_count() == 1
    code = triangle.get_concrete_function(tf.constant(3)).pretty_printed_code()
    assert "= host_while_loop(" in code and "def host_while_loop_cond(v0, v1, c0):" in code, code
    assert "def host_while_loop_body(v0, v1, c0):" in code and "less(v0, c0)" in code, code


def test_maximum_iterations_and_a_single_loop_variable(no_fallback):
    @tf.function
    def capped(n):
        return tf.while_loop(lambda i: i < n, lambda i: i + 1, [tf.constant(0)], maximum_iterations=5)

    assert [int(capped(tf.constant(k))[0]) for k in (3, 10, 0)] == [3, 5, 0]


def test_body_writes_to_variables_happen_once_per_iteration(no_fallback):
    v = tf.Variable(0.0)

    @tf.function
    def add_twice_per_step(n):
        def body(i):
            v.assign_add(2.0)
            return i + 1

        tf.while_loop(lambda i: i < n, body, [tf.constant(0)])
        return v * 1.0

    # the first call traces: recording the body must not add anything by itself
    assert [float(add_twice_per_step(tf.constant(k))) for k in (3, 1, 0, 2)] == [6.0, 8.0, 8.0, 12.0]


def _nested_reference(n, x):
    acc = np.zeros_like(x)
    for i in range(n):
        inner = i * x
        acc = acc + inner if inner.sum() > 3.0 else acc - 1.0
    return acc


def test_nested_loops_with_a_cond_inside_match_python(no_fallback):
    @tf.function
    def nested(n, x):
        def outer(i, acc):
            inner = tf.while_loop(lambda j, a: j < i, lambda j, a: (j + 1, a + x), (0, tf.zeros_like(x)))[1]
            acc = tf.cond(tf.reduce_sum(inner) > 3.0, lambda: acc + inner, lambda: acc - 1.0)
            return i + 1, acc

        return tf.while_loop(lambda i, acc: i < n, outer, (0, tf.zeros_like(x)))[1]

    x = np.array([1.0, 0.5], np.float32)
    for n in (4, 0, 6, 2):
        np.testing.assert_array_equal(nested(tf.constant(n), tf.constant(x)).numpy(), _nested_reference(n, x))


def test_prints_and_random_draws_follow_the_iterations(capsys, no_fallback):
    @tf.function
    def count(n):
        return tf.while_loop(lambda i: i < n, lambda i: (tf.print("it", i, output_stream=sys.stdout), i + 1)[1], [0])

    count(tf.constant(2))
    count(tf.constant(3))
    assert capsys.readouterr().out.split("\n") == ["it 0", "it 1", "it 0", "it 1", "it 2", ""]

    def noisy_sum(n):
        total = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + tf.random.uniform(())), (0, 0.0))[1]
        return total, tf.random.uniform(())

    compiled = tf.function(noisy_sum)
    results = {}
    for name, fn in (("eager", noisy_sum), ("compiled", compiled)):
        tf.random.set_seed(2)
        results[name] = [[float(t) for t in fn(tf.constant(k))] for k in (2, 0, 3)]
    assert results["eager"] == results["compiled"]


def test_the_gradient_flows_through_a_compiled_loop(no_fallback):
    w = tf.Variable(1.5)

    @tf.function
    def power(n):
        with tf.GradientTape() as tape:
            y = tf.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * w), (0, tf.constant(1.0)))[1]
        return y, tape.gradient(y, w)

    for n in (3, 4, 0, 1):
        y, g = power(tf.constant(n))
        assert float(y) == pytest.approx(1.5 ** n) and float(g) == pytest.approx(n * 1.5 ** (n - 1) if n else 0.0)
    assert power.experimental_get_tracing_count() == 1
    assert "def host_while_loop_gradient_vjp(" in power.get_concrete_function(tf.constant(3)).pretty_printed_code()


def _rnn(xs, h0, n, w, u):
    with tf.GradientTape() as tape:
        tape.watch([h0, xs])

        def body(t, h):
            h = tf.tanh(tf.matmul(h, w) + tf.matmul(tf.gather(xs, t), u))
            return t + 1, tf.cond(tf.reduce_sum(h) > 0, lambda: h * 1.5, lambda: h)

        loss = tf.reduce_sum(tf.square(tf.while_loop(lambda t, h: t < n, body, (0, h0))[1]))
    return loss, tape.gradient(loss, [w, u, h0, xs])


def _rnn_numpy(xs, h0, n, w, u):
    h = h0
    for t in range(n):
        h = np.tanh(h @ w + xs[t] @ u)
        h = h * 1.5 if h.sum() > 0 else h
    return float((h * h).sum())


def test_a_recurrence_over_time_trains_compiled_as_eagerly_and_matches_finite_differences(no_fallback):
    rng = np.random.default_rng(0)
    w = tf.Variable(rng.normal(size=(3, 3)) * 0.5)
    u = tf.Variable(rng.normal(size=(2, 3)) * 0.5)
    xs, h0 = rng.normal(size=(5, 4, 2)), rng.normal(size=(4, 3))
    compiled = tf.function(_rnn)
    for n in (5, 3, 1, 4):
        eager = _rnn(tf.constant(xs), tf.constant(h0), tf.constant(n), w, u)
        traced = compiled(tf.constant(xs), tf.constant(h0), tf.constant(n), w, u)
        assert float(traced[0]) == float(eager[0]) == pytest.approx(_rnn_numpy(xs, h0, n, w.numpy(), u.numpy()))
        for a, b in zip(traced[1], eager[1]):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
    grad_w = compiled(tf.constant(xs), tf.constant(h0), tf.constant(4), w, u)[1][0].numpy()
    numeric = np.zeros((3, 3))
    for index in np.ndindex(3, 3):
        step = np.zeros((3, 3))
        step[index] = 1e-6
        numeric[index] = (_rnn_numpy(xs, h0, 4, w.numpy() + step, u.numpy()) -
                          _rnn_numpy(xs, h0, 4, w.numpy() - step, u.numpy())) / 2e-6
    np.testing.assert_allclose(grad_w, numeric, rtol=1e-6, atol=1e-8)
    assert compiled.eager_fallback_reason is None


def test_back_prop_false_stops_the_gradient_at_a_compiled_loop(no_fallback):
    w = tf.Variable(2.0)

    @tf.function
    def stopped(n):
        with tf.GradientTape() as tape:
            y = tf.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * w), (0, tf.constant(1.0)),
                              back_prop=False)[1]
            z = y * w
        return z, tape.gradient(z, w)

    z, g = stopped(tf.constant(3))
    assert float(z) == 16.0 and float(g) == 8.0  # only the outer product's derivative: y


def test_a_loop_whose_variables_change_shape_runs_eagerly_with_a_warning():
    @tf.function
    def grow(x, n):
        return tf.while_loop(lambda v: tf.size(v) < n, lambda v: tf.concat([v, v], 0), x)

    with pytest.warns(UserWarning, match="change shape"):
        assert grow(tf.constant([1.0]), tf.constant(4)).numpy().tolist() == [1.0] * 4
    assert grow(tf.constant([1.0]), tf.constant(8)).numpy().tolist() == [1.0] * 8


def test_a_loop_under_nested_tapes_runs_eagerly_and_differentiates_twice():
    @tf.function
    def second(x, n):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * x), (0, tf.constant(1.0)))[1]
            dy = inner.gradient(y, x)
        return dy, outer.gradient(dy, x)

    with pytest.warns(UserWarning, match="nested or persistent"):
        dy, d2y = second(tf.constant(2.0), tf.constant(3))
    assert (float(dy), float(d2y)) == (12.0, 12.0)  # 3x^2, 6x


def test_nested_loops_differentiate_compiled_as_eagerly(no_fallback):
    w = tf.Variable(1.1)

    def nested(n, m, x):
        with tf.GradientTape() as tape:
            tape.watch(x)

            def outer(i, a):
                inner = tf.while_loop(lambda j, b: j < m, lambda j, b: (j + 1, b * w + x), (0, a))[1]
                return i + 1, inner * 0.5

            y = tf.while_loop(lambda i, a: i < n, outer, (0, x))[1]
        return y, tape.gradient(y, [w, x])

    compiled = tf.function(nested)
    for n, m in ((2, 3), (3, 1), (1, 2)):
        eager = nested(tf.constant(n), tf.constant(m), tf.constant(0.7))
        traced = compiled(tf.constant(n), tf.constant(m), tf.constant(0.7))
        assert float(traced[0]) == float(eager[0])
        assert [float(g) for g in traced[1]] == [float(g) for g in eager[1]]
    assert compiled.eager_fallback_reason is None


def test_a_print_in_a_branch_of_a_loop_body_waits_for_the_runs(capsys, no_fallback):
    @tf.function
    def count(n):
        def body(i):
            tf.cond(i % 2 == 0, lambda: tf.print("even", i, output_stream=sys.stdout), lambda: None)
            return i + 1

        return tf.while_loop(lambda i: i < n, body, [0])

    count(tf.constant(3))
    count(tf.constant(1))
    assert capsys.readouterr().out.split("\n") == ["even 0", "even 2", "even 0", ""]
