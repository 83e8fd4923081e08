"""tf.function traces once per signature and replays a compiled NumPy program (issue 22)."""

import logging

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras
from featherflow.compiler import TraceError


def test_values_match_eager_on_new_inputs_every_call():
    def f(x, y):
        return tf.reduce_sum(tf.nn.relu(x @ y) * 2.0, axis=1) - tf.reduce_mean(x)

    compiled = tf.function(f)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = tf.constant(rng.normal(size=(5, 3)).astype("float32"))
        y = tf.constant(rng.normal(size=(3, 4)).astype("float32"))
        np.testing.assert_array_equal(compiled(x, y).numpy(), f(x, y).numpy())
    assert compiled.experimental_get_tracing_count() == 1


def test_retracing_rules_shapes_dtypes_python_values():
    calls = []

    @tf.function
    def f(x, scale):
        calls.append(1)  # a Python side effect: runs at tracing only
        return x * scale

    f(tf.constant([1.0, 2.0]), 2.0)
    f(tf.constant([3.0, 4.0]), 2.0)
    assert f.experimental_get_tracing_count() == 1 and len(calls) == 1
    assert f(tf.constant([3.0, 4.0]), 3.0).numpy().tolist() == [9.0, 12.0]  # a new Python value
    f(tf.constant([1.0, 2.0, 3.0]), 3.0)  # a new shape
    f(tf.constant([1.0, 2.0], dtype=tf.float64), 3.0)  # a new dtype
    assert f.experimental_get_tracing_count() == 4 and len(calls) == 4


def test_reduce_retracing_generalizes_shapes():
    f = tf.function(lambda x: x + 1.0, reduce_retracing=True)
    for n in (2, 3, 4, 5):
        assert f(tf.ones((n,))).numpy().tolist() == [2.0] * n
    assert f.experimental_get_tracing_count() == 2


def test_input_signature_traces_once_and_refuses_mismatches():
    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
    def f(x):
        return x * 2.0

    assert f(tf.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
    assert f(tf.constant([1.0, 2.0, 3.0])).numpy().tolist() == [2.0, 4.0, 6.0]
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(TypeError, match="Binding inputs to tf.function failed"):
        f(tf.constant([[1.0]]))
    with pytest.raises(TypeError, match="incompatible with input_signature"):
        f(tf.constant([1, 2]))


def test_frequent_retracing_warns_like_tensorflow(caplog):
    f = tf.function(lambda x: x + 1)
    with caplog.at_level(logging.WARNING, logger="featherflow"):
        for n in range(1, 7):
            f(tf.ones((n,)))
    assert "5 out of the last 5 calls to <function" in caplog.text
    assert "triggered tf.function retracing. Tracing is expensive" in caplog.text


def test_variables_read_and_written_in_place_and_external_assign_seen():
    v = tf.Variable([1.0, 2.0])

    @tf.function
    def bump(x):
        v.assign_add(x)
        return v * 2.0

    assert bump(tf.constant([1.0, 1.0])).numpy().tolist() == [4.0, 6.0]
    assert bump(tf.constant([1.0, 0.0])).numpy().tolist() == [6.0, 6.0]
    v.assign([10.0, 20.0])  # outside the function: the program reads the live value
    assert bump(tf.constant([0.0, 1.0])).numpy().tolist() == [20.0, 42.0]
    assert v.numpy().tolist() == [10.0, 21.0]
    assert bump.experimental_get_tracing_count() == 1


def test_variable_created_on_first_trace_only():
    state = {}

    @tf.function
    def f(x):
        if "v" not in state:
            state["v"] = tf.Variable(1.0)
        return state["v"] * x

    assert float(f(tf.constant(2.0))) == 2.0
    assert float(f(tf.constant(3.0))) == 3.0

    @tf.function
    def g(x):
        return tf.Variable(1.0) * x

    g(tf.constant(1.0))
    with pytest.raises(ValueError, match="tf.function only supports singleton tf.Variables created on the first"):
        g(tf.constant([1.0, 2.0]))


def test_random_ops_draw_fresh_values_every_call():
    f = tf.function(lambda x: tf.nn.dropout(x, rate=0.5))
    x = tf.ones((1000,))
    a, b = f(x).numpy(), f(x).numpy()
    assert not np.array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0} and 300 < np.count_nonzero(a) < 700
    u = tf.function(lambda: tf.random.uniform((50,)))
    assert not np.array_equal(u().numpy(), u().numpy())


def test_random_draws_match_eager_sequence():
    def draw():
        return tf.random.normal((4,)) + tf.random.uniform((4,))

    compiled = tf.function(draw)
    tf.random.set_seed(7)
    eager = [draw().numpy() for _ in range(3)]
    tf.random.set_seed(7)
    traced = [compiled().numpy() for _ in range(3)]
    for a, b in zip(eager, traced):
        np.testing.assert_array_equal(a, b)


def test_python_print_once_tf_print_every_call(capsys):
    @tf.function
    def f(x):
        print("tracing")
        tf.print("value:", x)
        return x + 1

    f(tf.constant(1.0))
    f(tf.constant(2.0))
    f(tf.constant(3.0))
    captured = capsys.readouterr()
    assert captured.out.count("tracing") == 1
    assert captured.err == "value: 1\nvalue: 2\nvalue: 3\n"


def test_python_bool_on_tensor_raises_operator_not_allowed():
    @tf.function
    def f(x):
        if tf.reduce_sum(x) > 0:
            return x
        return -x

    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError, match="tf.cond") as info:
        f(tf.constant([1.0]))
    assert "tf.while_loop" in str(info.value)


def test_escape_names_the_operation_and_line():
    @tf.function
    def f(x):
        return x * float(tf.reduce_sum(x))

    with pytest.raises(TraceError, match=r"float\(\) at .*test_function_compiled.py:\d+ in f"):
        f(tf.constant([1.0, 2.0]))


def test_untraceable_function_can_fall_back_to_eager():
    from featherflow.core.function import Function

    def f(x):
        return x * float(tf.reduce_sum(x))

    g = Function(f, _on_untraceable="eager")
    with pytest.warns(UserWarning, match="runs eagerly"):
        assert g(tf.constant([1.0, 2.0])).numpy().tolist() == [3.0, 6.0]
    assert g(tf.constant([2.0, 2.0])).numpy().tolist() == [8.0, 8.0]
    assert "float()" in g.eager_fallback_reason


def test_run_functions_eagerly_runs_python_each_call():
    calls = []

    @tf.function
    def f(x):
        calls.append(1)
        return x + 1

    tf.config.run_functions_eagerly(True)
    try:
        f(tf.constant(1.0))
        f(tf.constant(2.0))
    finally:
        tf.config.run_functions_eagerly(False)
    assert len(calls) == 2 and f.experimental_get_tracing_count() == 0


def test_nested_structures_in_and_out():
    @tf.function
    def f(inputs, scale=1.0):
        return {"sum": inputs["a"] + inputs["b"][0], "pair": (inputs["a"] * scale, 3)}

    out = f({"a": tf.constant([1.0]), "b": [tf.constant([2.0])]}, scale=2.0)
    assert out["sum"].numpy().tolist() == [3.0]
    assert out["pair"][0].numpy().tolist() == [2.0] and out["pair"][1] == 3
    out = f({"a": tf.constant([5.0]), "b": [tf.constant([1.0])]}, scale=2.0)
    assert out["sum"].numpy().tolist() == [6.0] and out["pair"][0].numpy().tolist() == [10.0]


def test_method_decorator_has_per_instance_traces():
    class Scaler(tf.Module):
        def __init__(self, k):
            super().__init__()
            self.k = tf.Variable(k)

        @tf.function
        def __call__(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(3.0)
    assert float(a(tf.constant(1.0))) == 2.0 and float(b(tf.constant(1.0))) == 3.0
    assert float(a(tf.constant(4.0))) == 8.0
    assert a.__call__.experimental_get_tracing_count() == 1


def test_returned_outputs_are_not_overwritten_by_later_calls():
    f = tf.function(lambda x: x * 2.0 + 1.0)
    first = f(tf.constant([1.0, 2.0]))
    second = f(tf.constant([5.0, 6.0]))
    third = f(tf.constant([7.0, 8.0]))
    assert first.numpy().tolist() == [3.0, 5.0] and second.numpy().tolist() == [11.0, 13.0]
    assert third.numpy().tolist() == [15.0, 17.0]


def test_concrete_function_signature_and_readable_code():
    @tf.function
    def f(x, y):
        return tf.matmul(x, y) + 1.0

    concrete = f.get_concrete_function(tf.TensorSpec([2, 3], tf.float32), tf.TensorSpec([3, 4], tf.float32))
    code = concrete.pretty_printed_code()
    assert code.startswith("def program(x, y):") and "matmul(x, y" in code and "add(" in code
    assert concrete.structured_outputs == tf.TensorSpec([2, 4], tf.float32)
    args, kwargs = concrete.structured_input_signature
    assert args == (tf.TensorSpec([2, 3], tf.float32), tf.TensorSpec([3, 4], tf.float32)) and kwargs == {}
    assert "Input Parameters:" in concrete.pretty_printed_signature()
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(concrete(tf.constant(x), tf.ones((3, 4))).numpy(), x @ np.ones((3, 4)) + 1)


def test_gradient_tape_inside_matches_eager_float64():
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.sin(x) * tf.exp(x))
        return tape.gradient(y, x)

    compiled = tf.function(f)
    for values in ([0.1, 0.2], [1.5, -0.3]):
        x = tf.constant(values, dtype=tf.float64)
        np.testing.assert_array_equal(compiled(x).numpy(), f(x).numpy())
        expected = np.cos(values) * np.exp(values) + np.sin(values) * np.exp(values)
        np.testing.assert_allclose(compiled(x).numpy(), expected, rtol=1e-12)


def _train(compiled, optimizer_factory, steps=4):
    tf.random.set_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)])
    optimizer = optimizer_factory()

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    if compiled:
        step = tf.function(step)
    rng = np.random.default_rng(11)
    losses = []
    for _ in range(steps):
        x = tf.constant(rng.normal(size=(16, 6)).astype("float32"))
        y = tf.constant(rng.normal(size=(16, 2)).astype("float32"))
        losses.append(float(step(x, y)))
    return losses, model.get_weights(), int(optimizer.iterations)


@pytest.mark.parametrize("factory", [lambda: keras.optimizers.Adam(0.01), lambda: keras.optimizers.SGD(0.1, momentum=0.9)],
                         ids=["adam", "sgd_momentum"])
def test_training_step_bit_identical_to_eager(factory):
    eager_losses, eager_weights, eager_steps = _train(False, factory)
    losses, weights, steps = _train(True, factory)
    assert losses == eager_losses and steps == eager_steps == 4
    for a, b in zip(weights, eager_weights):
        np.testing.assert_array_equal(a, b)


def test_gan_style_step_two_models_two_optimizers():
    def run(compiled):
        tf.random.set_seed(5)
        gen = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(6)])
        disc = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
        g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)

        def step(real, noise):
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = gen(noise, training=True)
                real_out, fake_out = disc(real, training=True), disc(fake, training=True)
                g_loss = bce(tf.ones_like(fake_out), fake_out)
                d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
            g_opt.apply_gradients(zip(g_tape.gradient(g_loss, gen.trainable_variables), gen.trainable_variables))
            d_opt.apply_gradients(zip(d_tape.gradient(d_loss, disc.trainable_variables), disc.trainable_variables))
            return g_loss, d_loss

        if compiled:
            step = tf.function(step)
        rng = np.random.default_rng(2)
        out = []
        for _ in range(4):
            real = tf.constant(rng.normal(size=(8, 6)).astype("float32"))
            noise = tf.constant(rng.normal(size=(8, 4)).astype("float32"))
            out.append([float(v) for v in step(real, noise)])
        return out, gen.get_weights() + disc.get_weights()

    eager_losses, eager_weights = run(False)
    losses, weights = run(True)
    assert losses == eager_losses
    for a, b in zip(weights, eager_weights):
        np.testing.assert_array_equal(a, b)


def test_get_concrete_function_updates_no_state():
    # TensorFlow traces symbolically; featherflow traces by running once (on zeros for a TensorSpec): the
    # variables, the optimizer's slots and step count, metric totals and the random generator are put back
    tf.keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dropout(0.5),
                              keras.layers.Dense(1)])
    optimizer = keras.optimizers.Adam(0.1)
    metric = keras.metrics.Mean()
    optimizer.build(model.trainable_variables)
    traced = []

    @tf.function
    def step(x, y):
        traced.append(1)  # a Python side effect: happens at tracing, as in TensorFlow
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y)) + 1.0
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        metric.update_state(loss)
        return loss

    def state():
        return ([v.numpy() for v in model.variables + optimizer.variables + metric.variables],
                np.asarray(tf.random.uniform((4,))))

    x = np.ones((4, 3), "float32")
    y = np.zeros((4, 1), "float32")
    tf.keras.utils.set_random_seed(2)
    before = state()
    tf.keras.utils.set_random_seed(2)
    for args in ((tf.TensorSpec([None, 3]), tf.TensorSpec([None, 1])), (tf.constant(x), tf.constant(y))):
        concrete = step.get_concrete_function(*args)
        assert "apply" in concrete.pretty_printed_code() or "params" in concrete.pretty_printed_code()
    assert len(traced) == 2
    after = state()
    for got, want in zip(after[0], before[0]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(after[1], before[1])
    assert int(optimizer.iterations) == 0 and float(metric.result()) == 0.0
    loss = step(tf.constant(x), tf.constant(y))  # the first real call updates everything once
    assert int(optimizer.iterations) == 1 and float(metric.result()) == float(loss)
    assert len(traced) == 2  # (the call found the trace made by get_concrete_function)


def test_ops_reading_numpy_constants_compile_without_fallback():
    """A NumPy filter given to conv2d and tf.image.ssim's own constant windows were taken for writes into
    arrays from outside the trace, and the function fell back to eager with a warning."""
    import warnings

    rng = np.random.default_rng(0)
    kernel = rng.random((3, 3, 1, 2)).astype("float32")

    @tf.function
    def conv(x):
        return tf.nn.conv2d(x, kernel, 1, "SAME")

    @tf.function
    def ssim(a, b):
        return tf.image.ssim(a, b, 1.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the eager-fallback warning fails the test
        for scale in (1.0, 2.0, 3.0):
            x = tf.constant(rng.random((2, 5, 5, 1)).astype("float32") * scale)
            np.testing.assert_allclose(conv(x).numpy(), tf.nn.conv2d(x, kernel, 1, "SAME").numpy(), rtol=1e-6)
            img = tf.constant(rng.random((1, 24, 24, 3)).astype("float32"))
            np.testing.assert_allclose(ssim(img, img * 0.9).numpy(), tf.image.ssim(img, img * 0.9, 1.0).numpy(),
                                       rtol=1e-5)
    assert conv.experimental_get_tracing_count() == 1 and ssim.experimental_get_tracing_count() == 1


def test_a_function_that_falls_back_gets_numpy_arguments_as_tensors():
    # the trace saw tensors; the eager calls after the fallback must too (they returned NumPy arrays)
    seen = []

    @tf.function
    def f(x, scale=None):
        seen.append(type(x))
        # (a tf.while_loop whose loop variable changes shape is not compiled: the function runs eagerly)
        grown = tf.while_loop(lambda v: tf.logical_and(tf.size(v) < 2, tf.reduce_sum(x) > 0),
                              lambda v: tf.concat([v, v], 0), x)
        y = tf.where(tf.size(grown) > 1, x * 2, x - 1)
        return y if scale is None else y * scale

    with pytest.warns(UserWarning, match="runs eagerly"):
        first = f(np.array([1.0], np.float32))
    results = [first] + [f(np.array([v], np.float32)) for v in (-1.0, 3.0)]
    results.append(f(np.array([2.0], np.float32), scale=np.array(3.0, np.float32)))
    assert all(type(r) is tf.Tensor for r in results), [type(r) for r in results]
    assert [r.numpy().tolist() for r in results] == [[2.0], [-2.0], [6.0], [12.0]]
    tf.config.run_functions_eagerly(True)
    try:  # run_functions_eagerly calls the Python function with the arguments as given, as TensorFlow does
        f(np.array([1.0], np.float32))
        assert seen[-1] is np.ndarray
    finally:
        tf.config.run_functions_eagerly(False)


def test_a_variable_read_after_an_optimizer_built_in_the_same_call_follows_its_updates():
    # the first call builds Adam, which moves the variable into its flat buffer: a trace that read the moved
    # array as a constant must not be replayed
    w = tf.Variable([1.0, 2.0])
    opt = tf.keras.optimizers.Adam(0.1)

    @tf.function
    def step(g):
        opt.apply_gradients([(g, w)])
        return tf.identity(w)

    seen = [step(tf.constant([1.0, 1.0])).numpy().tolist() for _ in range(3)]
    np.testing.assert_allclose(seen, [[0.9, 1.9], [0.8, 1.8], [0.7, 1.7]], rtol=1e-5)
    np.testing.assert_allclose(w.numpy(), [0.7, 1.7], rtol=1e-5)
    assert step.experimental_get_tracing_count() == 1
    fresh = tf.keras.optimizers.Adam(0.1)
    u = tf.Variable([1.0])

    @tf.function
    def update(g):
        fresh.apply_gradients([(g, u)])
        return u * 1.0

    update.get_concrete_function(tf.TensorSpec([1], tf.float32))  # a dry trace that builds the optimizer
    assert float(update(tf.constant([1.0]))[0]) == pytest.approx(0.9, rel=1e-5)
    assert float(update(tf.constant([1.0]))[0]) == pytest.approx(0.8, rel=1e-5)
