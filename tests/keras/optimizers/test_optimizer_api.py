"""Optimizer behaviour beyond the update formulas: names, config, errors, legacy arguments,
learning-rate handling, None gradients, constraints, rebuilds, EMA, weight-decay exclusions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras
from featherflow.keras import optimizers

NAMES = ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamw", "adamax", "nadam", "ftrl", "lion"]


@pytest.mark.parametrize("name", NAMES)
def test_get_by_name_and_config_round_trip(name):
    opt = optimizers.get(name)
    assert type(opt).__name__.lower() == name
    assert optimizers.get(name.upper()).__class__ is opt.__class__
    config = opt.get_config()
    clone = optimizers.deserialize(optimizers.serialize(opt))
    assert clone.get_config() == config
    assert type(optimizers.get({"class_name": type(opt).__name__, "config": config})) is type(opt)


def test_keras_defaults():
    adam = optimizers.Adam()
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    assert adam.get_config()["learning_rate"] == 0.001
    assert optimizers.SGD().get_config()["learning_rate"] == 0.01
    assert optimizers.Lion().get_config()["learning_rate"] == 0.0001
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.RMSprop().rho == 0.9 and optimizers.Adadelta().rho == 0.95
    assert optimizers.Adagrad().initial_accumulator_value == 0.1


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'.*'adam'.*'sgd'"):
        optimizers.get("adamm")


@pytest.mark.parametrize("make,arg", [
    (lambda: optimizers.Adam(learning_rate=-0.1), "learning_rate"),
    (lambda: optimizers.SGD(-1.0), "learning_rate"),
    (lambda: optimizers.Adam(beta_1=1.0), "beta_1"),
    (lambda: optimizers.Adam(beta_1=-0.1), "beta_1"),
    (lambda: optimizers.Adam(beta_2=1.5), "beta_2"),
    (lambda: optimizers.SGD(momentum=1.5), "momentum"),
    (lambda: optimizers.RMSprop(rho=2.0), "rho"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5), "learning_rate_power"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: optimizers.Lion(beta_1=0.0), "beta_1"),
    (lambda: optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0), "global_clipnorm"),
    (lambda: optimizers.Adam(clipnorm=-1.0), "clipnorm"),
])
def test_invalid_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="momentun"):
        optimizers.SGD(momentun=0.9)


def test_legacy_lr_keyword_and_lower_case_names():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = optimizers.SGD(lr=0.1)
    assert opt.get_config()["learning_rate"] == 0.1
    with pytest.warns(DeprecationWarning, match="keras.optimizers.SGD"):
        opt = keras.optimizers.sgd(lr=0.5)
    assert isinstance(opt, optimizers.SGD) and float(opt.learning_rate) == 0.5
    with pytest.warns(DeprecationWarning, match="keras.optimizers.Adam"):
        assert isinstance(keras.optimizers.adam(), optimizers.Adam)
    assert keras.optimizers.legacy.Adam is optimizers.Adam


def test_legacy_decay_is_inverse_time():
    with pytest.warns(DeprecationWarning, match="schedule"):
        opt = optimizers.SGD(learning_rate=1.0, decay=0.5)
    v = ff.Variable([0.0])
    for _ in range(3):
        opt.apply_gradients([(ff.constant([1.0]), v)])
    # lr_t = 1 / (1 + 0.5 * t) for t = 0, 1, 2
    np.testing.assert_allclose(v.numpy(), [-(1 + 1 / 1.5 + 1 / 2)], rtol=1e-6)


def test_learning_rate_is_settable_at_run_time():
    opt = optimizers.SGD(learning_rate=0.1)
    v = ff.Variable([1.0])
    opt.apply_gradients([(ff.constant([1.0]), v)])
    lr_var = opt.learning_rate
    opt.learning_rate = 0.5
    assert opt.learning_rate is lr_var and float(lr_var) == 0.5
    opt.lr = 0.25  # the alias ReduceLROnPlateau uses
    opt.apply_gradients([(ff.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [1.0 - 0.1 - 0.25], rtol=1e-6)
    opt.learning_rate.assign(0.0)
    opt.apply_gradients([(ff.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.65], rtol=1e-6)
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0


def test_schedule_learning_rate():
    schedule = optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=schedule)
    v = ff.Variable([0.0])
    for _ in range(3):
        opt.apply_gradients([(ff.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [-(1 + 0.5 + 0.25)], rtol=1e-6)
    assert float(opt.learning_rate) == 0.25  # the value used by the last step
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.1
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    clone = optimizers.SGD.from_config(config)
    assert isinstance(clone._learning_rate, optimizers.schedules.ExponentialDecay)


def test_callable_learning_rate():
    opt = optimizers.SGD(learning_rate=lambda: 0.5)
    v = ff.Variable([0.0])
    opt.apply_gradients([(ff.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [-0.5])


def test_minimize_with_callable_and_with_tape():
    x = ff.Variable(3.0)
    opt = optimizers.SGD(0.1)
    opt.minimize(lambda: x * x, [x])
    assert float(x) == pytest.approx(2.4)
    with ff.GradientTape() as tape:
        loss = x * x
    opt.minimize(loss, [x], tape=tape)
    assert float(x) == pytest.approx(2.4 - 0.1 * 4.8)
    with pytest.raises(ValueError, match="tape"):
        opt.minimize(x * x, [x])


def test_none_gradients_are_skipped_with_warning():
    a, b = ff.Variable([1.0]), ff.Variable([1.0], name="unused")
    opt = optimizers.Adam(0.1)
    with pytest.warns(UserWarning, match="Gradients do not exist for variables \\['unused'\\]"):
        opt.apply_gradients([(ff.constant([1.0]), a), (None, b)])
    assert b.numpy()[0] == 1.0 and a.numpy()[0] == pytest.approx(0.9)


def test_gradient_shape_mismatch():
    v = ff.Variable(np.zeros((2, 3), "float32"), name="w")
    with pytest.raises(ValueError, match="'w'.*\\(3,\\)"):
        optimizers.SGD().apply_gradients([(np.ones(3, "float32"), v)])


def test_non_variable_is_refused():
    with pytest.raises(TypeError, match="Variables"):
        optimizers.SGD().apply_gradients([(np.ones(3, "float32"), ff.constant([1.0, 2.0, 3.0]))])


def test_flat_buffers_are_views():
    a = ff.Variable(np.ones((2, 3), "float32"))
    b = ff.Variable(np.zeros(4, "float32"))
    opt = optimizers.Adam()
    views = opt.flat_gradient_views([a, b])
    group = opt._groups[0]
    assert a.value.base is group.params and b.value.base is group.params
    assert views[0].shape == (2, 3) and views[1].base is group.grads
    np.testing.assert_array_equal(a.numpy(), 1.0)  # values were copied in
    a.assign(np.full((2, 3), 5.0, "float32"))  # in-place writes keep the aliasing
    assert group.params[0] == 5.0


def test_rebound_variable_is_rehomed():
    a = ff.Variable([1.0, 2.0])
    opt = optimizers.SGD(1.0)
    opt.build([a])
    a.value = np.array([10.0, 20.0], dtype="float32")  # someone rebinds (not allowed, but survive it)
    opt.apply_gradients([(np.array([1.0, 1.0], "float32"), a)])
    np.testing.assert_allclose(a.numpy(), [9.0, 19.0])
    assert a.value.base is opt._groups[0].params


def test_new_variables_trigger_a_clean_rebuild():
    a = ff.Variable([1.0, 2.0])
    opt = optimizers.Adam(0.1)
    ref = optimizers.Adam(0.1)
    a_ref = ff.Variable([1.0, 2.0])
    g = ff.constant([0.5, -1.0])
    for _ in range(3):
        opt.apply_gradients([(g, a)])
        ref.apply_gradients([(g, a_ref)])
    b = ff.Variable(np.ones((2, 2), "float32"))
    for _ in range(3):
        opt.apply_gradients([(g, a), (np.ones((2, 2), "float32"), b)])
        ref.apply_gradients([(g, a_ref)])
    np.testing.assert_array_equal(a.numpy(), a_ref.numpy())  # the old slots were carried over
    assert b.numpy()[0, 0] < 1.0
    assert len(opt.variables) == 1 + 2 * 2


def test_mixed_dtypes_get_one_group_each():
    a = ff.Variable(np.ones(3, "float32"))
    b = ff.Variable(np.ones(2, "float64"))
    opt = optimizers.SGD(0.5)
    opt.apply_gradients([(np.ones(3, "float32"), a), (np.ones(2, "float64"), b)])
    assert len(opt._groups) == 2 and b.dtype == np.float64
    np.testing.assert_allclose(a.numpy(), 0.5)
    np.testing.assert_allclose(b.numpy(), 0.5)


def test_constraints_apply_after_the_update():
    v = ff.Variable([1.0, -1.0], constraint=lambda w: ff.maximum(w, 0.0))
    optimizers.SGD(0.5).apply_gradients([(ff.constant([3.0, -3.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.0, 0.5])


def test_exclude_from_weight_decay():
    kernel, bias = ff.Variable([1.0], name="dense/kernel"), ff.Variable([1.0], name="dense/bias")
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(ff.constant([0.0]), kernel), (ff.constant([0.0]), bias)])
    np.testing.assert_allclose(kernel.numpy(), [0.95])
    np.testing.assert_allclose(bias.numpy(), [1.0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


def test_ema_tracks_and_finalizes():
    v = ff.Variable([0.0])
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    expected_avg = 0.0
    value = 0.0
    for _ in range(4):
        opt.apply_gradients([(ff.constant([-1.0]), v)])
        value += 1.0
        expected_avg = 0.5 * expected_avg + 0.5 * value
    np.testing.assert_allclose(v.numpy(), [4.0])
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(v.numpy(), [expected_avg])


def test_ema_overwrite_frequency():
    v = ff.Variable([0.0])
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    opt.apply_gradients([(ff.constant([-1.0]), v)])  # v=1, avg=0.5
    opt.apply_gradients([(ff.constant([-1.0]), v)])  # v=2, avg=1.25, overwritten
    np.testing.assert_allclose(v.numpy(), [1.25])


def test_variables_and_slots():
    v = ff.Variable(np.zeros((2, 2), "float32"), name="k")
    opt = optimizers.Adam(0.1)
    opt.apply_gradients([(np.ones((2, 2), "float32"), v)])
    names = [s.name for s in opt.variables()]
    assert names == ["iteration", "m/k", "v/k"]
    np.testing.assert_allclose(opt.get_slot(v, "m").numpy(), 0.1)
    np.testing.assert_allclose(opt.get_slot(v, "v").numpy(), 0.001)
    store = {}
    opt.save_own_variables(store)
    fresh = optimizers.Adam(0.1)
    fresh.build([ff.Variable(np.zeros((2, 2), "float32"), name="k")])
    fresh.load_own_variables(store)
    assert int(fresh.iterations) == 1
    with pytest.raises(ValueError, match="state arrays"):
        fresh.set_state([np.array(1)])


def test_zero_size_and_scalar_variables():
    s = ff.Variable(2.0)
    empty = ff.Variable(np.zeros((0, 3), "float32"))
    opt = optimizers.Adam(0.1, clipnorm=1.0)
    opt.apply_gradients([(ff.constant(1.0), s), (np.zeros((0, 3), "float32"), empty)])
    assert float(s) == pytest.approx(1.9)
    assert empty.shape == (0, 3)


def test_integer_variables_are_refused():
    with pytest.raises(TypeError, match="floating-point"):
        optimizers.SGD().build([ff.Variable([1, 2])])


def test_warnings_are_not_raised_for_normal_use():
    v = ff.Variable([1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.Adam().apply_gradients([(ff.constant([1.0]), v)])


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_and_pickle_keep_training_identically(how):
    import copy
    import pickle

    variables = [ff.Variable(np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3), name="k"), ff.Variable([0.5, -0.5])]
    opt = optimizers.Nadam(0.05)
    grads = [np.full((2, 3), 0.3, "float32"), np.array([1.0, -2.0], "float32")]
    for _ in range(3):
        opt.apply_gradients(zip(grads, variables))
    bundle = (variables, opt)
    new_vars, new_opt = copy.deepcopy(bundle) if how == "deepcopy" else pickle.loads(pickle.dumps(bundle))
    assert new_vars[0] is not variables[0] and int(new_opt.iterations) == 3
    for _ in range(3):
        opt.apply_gradients(zip(grads, variables))
        new_opt.apply_gradients(zip(grads, new_vars))
    for a, b in zip(variables, new_vars):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert new_vars[0].value.base is new_opt._groups[0].params  # the copy has its own flat buffer
    assert variables[0].value.base is opt._groups[0].params


@pytest.mark.parametrize("make,message", [
    (lambda: optimizers.Adam(learning_rate=-0.01), "Adam: `learning_rate` must be >= 0. Received: learning_rate=-0.01"),
    (lambda: optimizers.Adam(beta_1=1.5), "Adam: `beta_1` must be in the range [0, 1). Received: beta_1=1.5"),
    (lambda: optimizers.Lion(beta_1=0.0), "Lion: `beta_1` must be in the range (0, 1]. Received: beta_1=0.0"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5),
     "Ftrl: `learning_rate_power` must be <= 0. Received: learning_rate_power=0.5"),
])
def test_out_of_range_hyperparameters_say_the_whole_range(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert str(error.value) == message


def test_all_none_gradients_raise_like_tf_keras():
    a, b = ff.Variable([1.0], name="a"), ff.Variable([2.0], name="b")
    opt = optimizers.Adam(0.1)
    with pytest.raises(ValueError, match=r"No gradients provided for any variable: \(\['a', 'b'\],\)\. Provided "
                                         r"`grads_and_vars` is \(\(None, "):
        opt.apply_gradients([(None, a), (None, b)])
    assert a.numpy()[0] == 1.0 and b.numpy()[0] == 2.0 and int(opt.iterations.numpy()) == 0
    assert opt.apply_gradients([]) is opt.iterations  # nothing to apply: a no-op, as in tf.keras
