"""tf.function (eager), executing_eagerly, tf.print, tf.linspace."""

import sys

import numpy as np

import featherflow as tf


def test_function_decorator_forms_run_eagerly_and_keep_gradients():
    @tf.function
    def f(x):
        return x * x

    @tf.function(jit_compile=True, reduce_retracing=True)
    def g(x):
        return x + 1.0

    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = f(x) + g(x)
    assert float(y) == 13.0 and float(tape.gradient(y, x)) == 7.0
    assert f.__name__ == "f" and f.python_function(2.0) == 4.0
    assert tf.function(lambda a: a * 2)(4) == 8
    assert tf.executing_eagerly() is True


def test_print_formats_like_tensorflow(capsys):
    tf.print("values:", tf.constant([0.5, 0.25]), tf.constant(2.0), tf.range(10))
    captured = capsys.readouterr()
    assert captured.err == "values: [0.5 0.25] 2 [0 1 2 ... 7 8 9]\n"
    assert captured.out == ""
    tf.print(tf.ones((2, 2)), output_stream=sys.stdout, sep="|", end="!\n", summarize=-1)
    assert capsys.readouterr().out == "[[1 1]\n [1 1]]!\n"


def test_print_to_file(tmp_path):
    path = tmp_path / "log.txt"
    tf.print("a", tf.constant([1, 2]), output_stream=f"file://{path}")
    tf.print("b", output_stream=f"file://{path}")
    assert path.read_text() == "a [1 2]\nb\n"


def test_linspace():
    np.testing.assert_allclose(tf.linspace(0.0, 1.0, 5).numpy(), np.linspace(0, 1, 5))
    assert tf.linspace(0.0, 1.0, 5).dtype == tf.float32
    assert tf.linspace(tf.constant(np.float64(0.0)), 2.0, 3).dtype == tf.float64
    assert tf.linspace(0, 10, 3).numpy().tolist() == [0.0, 5.0, 10.0]
