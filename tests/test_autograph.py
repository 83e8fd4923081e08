"""tf.autograph: featherflow traces Python directly, so conversion returns the function and its own source."""

import importlib

import numpy as np
import pytest

import featherflow as tf


def scale_and_shift(x, scale=2.0):
    if scale > 1:  # Python control flow on a Python value: decided at trace time
        return x * scale + 1.0
    return x


def test_namespace_has_tensorflow_names():
    for name in ("to_code", "to_graph", "set_verbosity", "trace", "experimental"):
        assert hasattr(tf.autograph, name), name
    for name in ("do_not_convert", "Feature", "set_loop_options"):
        assert hasattr(tf.autograph.experimental, name), name
    module = importlib.import_module("featherflow.autograph.experimental")
    assert module.do_not_convert is tf.autograph.experimental.do_not_convert


def test_to_graph_returns_the_function_and_it_runs_under_tf_function():
    converted = tf.autograph.to_graph(scale_and_shift)
    assert converted is scale_and_shift
    result = tf.function(converted)(tf.constant([1.0, 2.0]))
    np.testing.assert_allclose(result.numpy(), [3.0, 5.0])
    assert tf.autograph.to_graph(tf.keras.layers.Dense) is tf.keras.layers.Dense  # classes too


def test_to_code_returns_the_python_source():
    code = tf.autograph.to_code(scale_and_shift)
    assert code.startswith("def scale_and_shift(x, scale=2.0):\n")
    assert "return x * scale + 1.0" in code
    compiled = {}
    exec(compile(code, "<to_code>", "exec"), compiled)  # the source is complete and runnable
    assert compiled["scale_and_shift"](3.0) == 7.0


def test_to_code_of_a_tf_function_and_a_method_are_dedented():
    class Holder:
        def method(self, x):
            return x - 1

    assert tf.autograph.to_code(Holder.method).startswith("def method(self, x):")
    wrapped = tf.function(scale_and_shift)
    assert tf.autograph.to_code(wrapped).splitlines()[0] == "def scale_and_shift(x, scale=2.0):"


def test_to_code_and_to_graph_errors():
    with pytest.raises(TypeError, match="to_graph expects a Python function"):
        tf.autograph.to_graph(3)
    with pytest.raises(TypeError, match="to_code expects a Python function"):
        tf.autograph.to_code("def f(): pass")
    with pytest.raises(ValueError, match="could not read the source"):
        tf.autograph.to_code(len)
    with pytest.raises(TypeError, match="Feature values"):
        tf.autograph.to_graph(scale_and_shift, experimental_optional_features="LISTS")
    assert tf.autograph.to_graph(scale_and_shift, experimental_optional_features=[
        tf.autograph.experimental.Feature.LISTS]) is scale_and_shift


def test_do_not_convert_marks_and_returns_the_function():
    def f(x):
        return x + 1

    assert not tf.autograph.is_not_converted(f)
    assert tf.autograph.experimental.do_not_convert(f) is f
    assert tf.autograph.is_not_converted(f)

    @tf.autograph.experimental.do_not_convert()
    def g(x):
        return x * 3

    assert tf.autograph.is_not_converted(g) and g(2) == 6
    marked_builtin = tf.autograph.experimental.do_not_convert(abs)  # cannot take attributes: a marked wrapper
    assert marked_builtin(-4) == 4 and tf.autograph.is_not_converted(marked_builtin)
    assert not tf.autograph.is_not_converted(abs)
    with pytest.raises(TypeError, match="do_not_convert expects a callable"):
        tf.autograph.experimental.do_not_convert(5)


def test_trace_prints_at_trace_time_only(capsys):
    @tf.function
    def f(x):
        tf.autograph.trace("tracing f with", x.shape)
        return x + 1

    f(tf.constant([1.0, 2.0]))
    first = capsys.readouterr().out
    assert first == "tracing f with (2,)\n"
    f(tf.constant([3.0, 4.0]))
    printed_again = capsys.readouterr().out
    # TensorFlow prints once per trace; an eager-only tf.function prints at every call. Either way the
    # print happens while the Python function runs, with the shape of that call's input.
    assert printed_again in ("", "tracing f with (2,)\n")


def test_set_verbosity_and_the_environment_variable(monkeypatch):
    from featherflow import autograph

    monkeypatch.setitem(autograph._state, "verbosity", None)
    monkeypatch.setenv("AUTOGRAPH_VERBOSITY", "5")
    assert autograph.get_verbosity() == 5
    tf.autograph.set_verbosity(0)
    monkeypatch.setenv("AUTOGRAPH_VERBOSITY", "1")
    assert autograph.get_verbosity() == 0  # set_verbosity wins over the environment, as in TensorFlow
    tf.autograph.set_verbosity(10, alsologtostdout=True)
    assert autograph.get_verbosity() == 10 and autograph._state["alsologtostdout"] is True
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative int"):
            tf.autograph.set_verbosity(bad)


def test_feature_enum_and_loop_options():
    feature = tf.autograph.experimental.Feature
    assert [f.name for f in feature] == ["ALL", "AUTO_CONTROL_DEPS", "ASSERT_STATEMENTS", "BUILTIN_FUNCTIONS",
                                         "EQUALITY_OPERATORS", "LISTS", "NAME_SCOPES"]
    assert feature.EQUALITY_OPERATORS.value == "EQUALITY_OPERATORS"
    assert feature.LISTS not in feature.all_but(feature.LISTS) and len(feature.all()) == 7
    assert tf.autograph.experimental.set_loop_options(maximum_iterations=3, parallel_iterations=1) is None
    with pytest.raises(TypeError, match="maximum_iterations must be an int"):
        tf.autograph.experimental.set_loop_options(maximum_iterations=2.5)
