"""The optional compiled optimizer updates (featherflow/keras/optimizers/_kernels.py): with Numba installed the
fused Adam kernel runs, and it gives bit for bit the parameters and slots of the NumPy update; without it (or
switched off) the NumPy update runs and matches an independent float64 Adam to float32 tolerance."""

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras
from featherflow.keras.optimizers import _kernels


def _train(use_kernels, dtype="float32", steps=12, parts=(7, 130, 1), **adam_kwargs):
    rng = np.random.default_rng(3)
    _kernels.use_kernels(use_kernels)
    try:
        variables = [ff.Variable(rng.standard_normal(n).astype(dtype)) for n in parts]
        opt = keras.optimizers.Adam(learning_rate=0.01, **adam_kwargs)
        for _ in range(steps):
            grads = [rng.standard_normal(n).astype(dtype) for n in parts]
            opt.apply_gradients(zip(grads, variables))
        slots = {name: group.slots[name].copy() for group in opt._groups for name in group.slots}
        return [v.numpy() for v in variables], slots
    finally:
        _kernels.use_kernels(None)


@pytest.mark.skipif(not _kernels.available(), reason="numba not installed (pip install 'featherflow[fast]')")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [{}, {"weight_decay": 0.01, "clipnorm": 1.0}, {"beta_1": 0.5, "epsilon": 1e-3}])
def test_numba_adam_is_bit_identical_to_the_numpy_update(dtype, kwargs):
    fast, fast_slots = _train(True, dtype, **kwargs)
    plain, plain_slots = _train(False, dtype, **kwargs)
    for a, b in zip(fast, plain):
        np.testing.assert_array_equal(a, b)
    for name in plain_slots:
        np.testing.assert_array_equal(fast_slots[name], plain_slots[name])


@pytest.mark.skipif(not _kernels.available(), reason="numba not installed")
def test_the_kernel_runs_when_available(monkeypatch):
    calls = []
    kernel = _kernels.get("adam")
    monkeypatch.setitem(_kernels._state, "kernels", {"adam": lambda *a: (calls.append(1), kernel(*a))})
    _train(True, steps=2)
    assert len(calls) == 2


def _subset_updates(flag):
    """Adam(0.1) for 4 steps on variables 0 and 2 of three (runs of the flat buffer); the kernel on or off."""
    _kernels.use_kernels(flag)
    try:
        rng = np.random.default_rng(0)
        variables = [ff.Variable(rng.standard_normal(5).astype("float32")) for _ in range(3)]
        initial = [v.numpy() for v in variables]
        opt = keras.optimizers.Adam(0.1)
        opt.build(variables)
        for _ in range(4):
            opt.apply_gradients([(np.ones(5, "float32"), variables[0]), (np.full(5, -2.0, "float32"), variables[2])])
        return initial, [v.numpy() for v in variables]
    finally:
        _kernels.use_kernels(None)


@pytest.mark.skipif(not _kernels.available(), reason="numba not installed (pip install 'featherflow[fast]')")
def test_subset_updates_use_the_kernel_on_runs_and_match_numpy(monkeypatch):
    calls = []
    kernel = _kernels.get("adam")
    monkeypatch.setitem(_kernels._state, "kernels", {"adam": lambda *a: (calls.append(1), kernel(*a))})
    _, fast = _subset_updates(True)
    assert calls  # the compiled update ran on the runs
    monkeypatch.undo()
    _, plain = _subset_updates(False)
    for a, b in zip(fast, plain):
        np.testing.assert_array_equal(a, b)


def test_subset_updates_touch_only_the_given_variables_with_adams_values():
    initial, final = _subset_updates(None)
    np.testing.assert_array_equal(final[1], initial[1])  # no gradient given: unchanged, slots too
    # a constant gradient g: m_t / sqrt(v_t) = g / |g| after bias correction, so each step moves lr * sign(g)
    # (up to epsilon): 4 steps of 0.1 against the sign
    np.testing.assert_allclose(final[0], initial[0] - 0.4, rtol=0, atol=1e-5)
    np.testing.assert_allclose(final[2], initial[2] + 0.4, rtol=0, atol=1e-5)


@pytest.mark.parametrize("use", [True, False])
def test_adam_matches_an_independent_float64_adam(use):
    params, _ = _train(use, "float32", steps=10, parts=(50,))
    rng = np.random.default_rng(3)
    p = rng.standard_normal(50).astype("float32").astype(np.float64)
    m = np.zeros(50)
    v = np.zeros(50)
    for t in range(1, 11):
        g = rng.standard_normal(50).astype("float32").astype(np.float64)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p -= 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(params[0], p, rtol=1e-5, atol=1e-5)


def test_switched_off_means_no_kernel():
    _kernels.use_kernels(False)
    try:
        assert _kernels.get("adam") is None
    finally:
        _kernels.use_kernels(None)


@pytest.mark.skipif(not _kernels.available(), reason="numba not installed")
def test_default_mode_uses_the_kernel_for_large_buffers_only():
    assert _kernels.get("adam", _kernels.MIN_SIZE - 1) is None
    assert _kernels.get("adam", _kernels.MIN_SIZE) is not None
    _kernels.use_kernels(True)
    try:
        assert _kernels.get("adam", 10) is not None
    finally:
        _kernels.use_kernels(None)


def _train_traced(compiled, steps=5):
    """Adam(0.01) on three variables through a tf.function step (or eagerly), the kernel on for any size."""
    rng = np.random.default_rng(5)
    _kernels.use_kernels(True)
    try:
        variables = [ff.Variable(rng.standard_normal(n).astype("float32")) for n in (7, 130, 1)]
        opt = keras.optimizers.Adam(learning_rate=0.01)
        opt.build(variables)

        def step(g0, g1, g2):
            opt.apply_gradients(zip([g0, g1, g2], variables))

        fn = ff.function(step) if compiled else step
        for _ in range(steps):
            fn(*[ff.constant(rng.standard_normal(n).astype("float32")) for n in (7, 130, 1)])
        return [v.numpy() for v in variables], fn
    finally:
        _kernels.use_kernels(None)


@pytest.mark.skipif(not _kernels.available(), reason="numba not installed (pip install 'featherflow[fast]')")
def test_a_traced_adam_step_runs_the_kernel_at_every_call_with_eager_results(monkeypatch):
    calls = []
    kernel = _kernels.get("adam")
    monkeypatch.setitem(_kernels._state, "kernels", {"adam": lambda *a: (calls.append(1), kernel(*a))})
    compiled, fn = _train_traced(True)
    assert fn.experimental_get_tracing_count() == 1
    assert len(calls) == 5  # the trace's call and four replays: a host call in the program
    assert "_run_kernel" in fn.get_concrete_function(*[ff.constant(np.zeros(n, "float32"))
                                                       for n in (7, 130, 1)]).pretty_printed_code()
    monkeypatch.undo()
    eager, _ = _train_traced(False)
    for a, b in zip(compiled, eager):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not _kernels.available(), reason="numba not installed (pip install 'featherflow[fast]')")
def test_fit_with_the_kernel_gives_eager_weights_and_logs_bit_for_bit():
    """A compiled fit step runs Adam as one host call computing its own step scalars: the same weights and
    logs as eager steps (which compute alpha in Python and call the same kernel)."""
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(48, 6)).astype("float32"), rng.integers(0, 3, size=48)
    results = []
    _kernels.use_kernels(True)
    try:
        for eager in (False, True):
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(5, activation="relu"),
                                      keras.layers.Dense(3, activation="softmax")])
            schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.5)
            model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"], run_eagerly=eager)
            history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
            results.append((history.history, model.get_weights(), int(model.optimizer.iterations)))
            if not eager:
                assert model._train_fn.compiled
    finally:
        _kernels.use_kernels(None)
    (h1, w1, i1), (h2, w2, i2) = results
    assert h1 == h2 and i1 == i2 == 12
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not _kernels.available(), reason="numba not installed (pip install 'featherflow[fast]')")
def test_a_large_buffer_traced_update_matches_eager_bit_for_bit():
    """Buffers from ``PARALLEL_MIN_WORK`` elements take the sliced branch of the traced host update."""
    results = []
    for compiled in (False, True):
        rng = np.random.default_rng(1)
        variable = ff.Variable(rng.standard_normal(600_000).astype("float32"))
        opt = keras.optimizers.Adam(0.01)
        opt.build([variable])

        def step(g, opt=opt, variable=variable):
            opt.apply_gradients([(g, variable)])

        fn = ff.function(step) if compiled else step
        for _ in range(3):
            fn(ff.constant(rng.standard_normal(600_000).astype("float32")))
        if compiled:
            code = fn.get_concrete_function(ff.constant(np.zeros(600_000, "float32"))).pretty_printed_code()
            assert "host__run_kernel(params, grads, m, v)" in code and fn.experimental_get_tracing_count() == 1
        results.append(variable.numpy())
    np.testing.assert_array_equal(results[0], results[1])
