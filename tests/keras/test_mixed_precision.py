"""keras.mixed_precision: policies and the layers under them, LossScaleOptimizer's dynamic loss scale."""

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras

mp = keras.mixed_precision


@pytest.fixture(autouse=True)
def default_policy():
    yield
    mp.set_global_policy(None)


def test_policies():
    mixed = mp.Policy("mixed_float16")
    assert (mixed.name, mixed.compute_dtype, mixed.variable_dtype) == ("mixed_float16", "float16", "float32")
    assert mp.Policy("float64").compute_dtype == "float64" and mp.global_policy().name == "float32"
    assert mp.Policy.from_config(mixed.get_config()) == mixed
    with pytest.raises(ValueError, match="Cannot convert value"):
        mp.Policy("float8")
    with pytest.raises(ValueError, match="bfloat16"):
        mp.set_global_policy("bfloat16")


def test_layers_follow_the_global_policy_and_their_own():
    mp.set_global_policy("float64")
    dense = keras.layers.Dense(2)
    assert dense.dtype == "float64" and dense(np.ones((1, 3), "float32")).dtype == np.float64
    mp.set_global_policy("mixed_float16")  # accepted; featherflow computes in the variables' float32
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                              keras.layers.Activation("softmax", dtype="float32")])
    assert [layer.dtype for layer in model.layers] == ["float32", "float32"]
    assert model(np.ones((2, 3))).dtype == np.float32
    assert keras.layers.Dense(1, dtype=mp.Policy("float64")).dtype == "float64"
    assert keras.layers.Dense(1, dtype={"class_name": "Policy", "config": {"name": "float64"}}).dtype == "float64"


def test_layers_report_their_policy():
    # The mixed-precision guide prints `layer.dtype_policy` after set_global_policy.
    mp.set_global_policy("mixed_float16")
    dense = keras.layers.Dense(2)
    assert dense.dtype_policy == mp.Policy("mixed_float16") and dense.dtype_policy.compute_dtype == "float16"
    assert keras.layers.Dense(2, dtype="float32").dtype_policy == mp.Policy("float32")
    mp.set_global_policy(None)
    assert keras.layers.Dense(2).dtype_policy.name == "float32"
    assert keras.layers.Dense(2, dtype="float64").dtype_policy.variable_dtype == "float64"
    assert keras.layers.Dense(2, dtype=mp.Policy("mixed_float16")).dtype_policy.name == "mixed_float16"


def test_loss_scale_optimizer_skips_non_finite_steps_and_grows():
    v = tf.Variable([1.0, 2.0])
    opt = mp.LossScaleOptimizer(keras.optimizers.SGD(0.5), initial_scale=8.0, dynamic_growth_steps=2)
    assert float(opt.get_scaled_loss(tf.constant(3.0))) == 24.0
    assert [float(g) for g in opt.get_unscaled_gradients([tf.constant(16.0), None])[:1]] == [2.0]
    opt.apply_gradients([(tf.constant([np.inf, 1.0]), v)])  # skipped, scale halved
    assert v.numpy().tolist() == [1.0, 2.0] and float(opt.loss_scale.numpy()) == 4.0
    opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])  # two finite steps: doubled
    assert v.numpy().tolist() == [0.0, 1.0] and float(opt.loss_scale.numpy()) == 8.0
    assert int(opt.iterations.numpy()) == 2 and int(opt.dynamic_counter.numpy()) == 0
    opt.learning_rate = 0.1
    assert float(opt.inner_optimizer.learning_rate.numpy()) == pytest.approx(0.1)
    fixed = mp.LossScaleOptimizer(keras.optimizers.SGD(0.5), dynamic=False, initial_scale=4.0)
    fixed.apply_gradients([(tf.constant([np.nan, 0.0]), v)])
    assert float(fixed.loss_scale.numpy()) == 4.0 and fixed.dynamic_counter is None
    with pytest.raises(ValueError, match="initial_scale"):
        mp.LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False)
    with pytest.raises(TypeError, match="cannot wrap another"):
        mp.LossScaleOptimizer(fixed)


def test_loss_scale_optimizer_trains_in_fit_and_minimize(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    y = x @ np.array([[1.0], [2.0]], "float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(mp.LossScaleOptimizer(keras.optimizers.SGD(0.1)), "mse")
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 4
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.optimizer, mp.LossScaleOptimizer)
    w = tf.Variable(3.0)
    opt = mp.LossScaleOptimizer(keras.optimizers.SGD(0.1))
    opt.minimize(lambda: w * w, [w])  # the gradient of the scaled loss, unscaled: 2w
    assert float(w.numpy()) == pytest.approx(3.0 - 0.1 * 6.0)


def test_loss_scale_optimizer_compiles_in_a_tf_function():
    import warnings

    v = tf.Variable([1.0, 2.0])
    opt = mp.LossScaleOptimizer(keras.optimizers.SGD(0.5), initial_scale=8.0, dynamic_growth_steps=2)

    @tf.function
    def step(grad):
        opt.apply_gradients([(grad, v)])
        return opt.loss_scale * 1.0

    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an eager fallback warns: fail
        for grad in ([1.0, 1.0], [np.inf, 1.0], [1.0, 1.0], [1.0, 1.0], [np.nan, 0.0], [2.0, 0.0]):
            seen.append((float(step(tf.constant(grad))), v.numpy().tolist()))
    assert step.eager_fallback_reason is None and step.experimental_get_tracing_count() == 1
    # finite: applied (counter 1); inf: skipped, halved; two finite: applied, doubled; nan: skipped, halved
    assert seen == [(8.0, [0.5, 1.5]), (4.0, [0.5, 1.5]), (4.0, [0.0, 1.0]), (8.0, [-0.5, 0.5]),
                    (4.0, [-0.5, 0.5]), (4.0, [-1.5, 0.5])]
    assert int(opt.iterations.numpy()) == 4 and int(opt.dynamic_counter.numpy()) == 1
    big = mp.LossScaleOptimizer(keras.optimizers.SGD(0.5), initial_scale=2.0 ** 127, dynamic_growth_steps=1)
    big.apply_gradients([(tf.constant([0.0, 0.0]), v)])  # doubling would overflow: the scale stays
    assert float(big.loss_scale.numpy()) == 2.0 ** 127


def test_compile_wraps_the_optimizer_under_mixed_float16_and_fit_compiles():
    import warnings

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = rng.integers(0, 3, 64)
    mp.set_global_policy("mixed_float16")
    results = []
    for run_eagerly in (False, True):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(3), keras.layers.Activation("softmax", dtype="float32")])
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", run_eagerly=run_eagerly)
        assert isinstance(model.optimizer, mp.LossScaleOptimizer)  # as tf.keras does under mixed_float16
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # the compiled step must not fall back to eager
            history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
        results.append((history.history["loss"], model.get_weights(), int(model.optimizer.iterations.numpy())))
    assert results[0][0] == results[1][0] and results[0][2] == results[1][2] == 8
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)
    mp.set_global_policy("float32")
    plain = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    plain.compile("adam", "mse")
    assert not isinstance(plain.optimizer, mp.LossScaleOptimizer)


def test_a_first_step_with_a_non_finite_gradient_does_not_stop_later_updates():
    def run(compiled):
        v = tf.Variable([1.0, 2.0])
        opt = mp.LossScaleOptimizer(keras.optimizers.Adam(0.1), initial_scale=4.0, dynamic_growth_steps=2)

        def step(g):
            opt.apply_gradients([(g, v)])
            return v * 1.0, opt.loss_scale * 1.0

        fn = tf.function(step) if compiled else step
        return [[t.numpy().tolist() for t in fn(tf.constant(g))]
                for g in ([np.inf, 1.0], [1.0, 1.0], [0.5, -1.0], [np.nan, 0.0], [1.0, 2.0])]

    eager, compiled = run(False), run(True)
    assert compiled == eager
    assert eager[0][0] == [1.0, 2.0] and eager[1][0] != [1.0, 2.0]  # skipped, then applied
