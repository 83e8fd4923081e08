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


def test_a_loop_a_gradient_flows_through_runs_eagerly_with_the_right_gradient():
    w = tf.Variable(1.5)

    @tf.function
    def power(n):
        with tf.GradientTape() as tape:
            y = tf.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * w), (0, tf.constant(1.0)))[1]
        return y, tape.gradient(y, w)

    with pytest.warns(UserWarning, match="need a gradient"):
        y, g = power(tf.constant(3))
    assert float(y) == pytest.approx(1.5 ** 3) and float(g) == pytest.approx(3 * 1.5 ** 2)
    y, g = power(tf.constant(4))
    assert float(y) == pytest.approx(1.5 ** 4) and float(g) == pytest.approx(4 * 1.5 ** 3)
