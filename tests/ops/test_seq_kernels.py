"""The compiled (Numba) LSTM step kernels against float64 formulas and the op's NumPy path; the embedding
gradient kernel against numpy.add.at.

The forward kernel computes ``exp``/``tanh`` with its own float32 polynomials, so it must match float64 to
float32 rounding (a few ulp); the backward kernel repeats the NumPy path's float32 operations in order, so it
must match them bit for bit. At the op level both paths run in the same process
(``featherflow.ops._kernels.use_kernels``) and must agree to float32 rounding, outputs and gradients.
"""

import collections
import os
import subprocess
import sys

import numpy as np
import pytest
from bits import bits

import featherflow as ff
from featherflow.ops import _kernels
from featherflow.ops import recurrent as rnn_ops

pytest.importorskip("numba")
from featherflow.ops import _numba_embedding, _numba_lstm  # noqa: E402 - needs numba

F32 = np.float32


def _step_inputs(u, batch, seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-12, 12, (4 * u, batch)).astype(F32)
    # saturating and tiny pre-activations: exp's clamp, tanh's polynomial branch and its switch at 0.625
    z.flat[:10] = [-100.0, 100.0, 89.0, -88.0, 1e-6, -1e-6, 0.0, 0.624, -0.626, 20.0]
    recurrent = rng.uniform(-1, 1, (4 * u, batch)).astype(F32)
    bias = np.repeat(rng.uniform(-0.5, 0.5, (4 * u, 1)), batch, axis=1).astype(F32)
    c_prev = rng.uniform(-3, 3, (u, batch)).astype(F32)
    return z, recurrent, bias, c_prev


def _forward_reference(z, c_prev):
    """float64 activations of the float32 pre-activations ``z`` (sigmoid rows hold ``-z``)."""
    u = c_prev.shape[0]
    v = z.astype(np.float64)
    with np.errstate(over="ignore"):
        ifo = 1 / (1 + np.exp(v[:3 * u]))
    g = np.tanh(v[3 * u:])
    c = ifo[u:2 * u] * c_prev + ifo[:u] * g
    tc = np.tanh(c)
    return np.concatenate([ifo, g]), c, tc, ifo[2 * u:] * tc


@pytest.mark.parametrize("u,batch", [(24, 16), (5, 3), (64, 32)])
@pytest.mark.parametrize("adds", ["bias+recurrent", "bias", "recurrent", "none"])
def test_forward_step_matches_float64(u, batch, adds):
    z, recurrent, bias, c_prev = _step_inputs(u, batch, seed=u + batch)
    empty = np.empty((0, 0), F32)
    rec_arg = recurrent if "recurrent" in adds else empty
    bias_arg = bias if "bias" in adds else empty
    pre = z.copy()  # the additions in the kernel's order, in float32: (z + bias) + recurrent
    if "bias" in adds:
        pre = pre + bias
    if "recurrent" in adds:
        pre = pre + recurrent
    h_storage = np.full((u, 3, batch), np.nan, F32)  # h as a strided view, like the stacked input path
    h = h_storage[:, 1]
    c, tc = np.empty((u, batch), F32), np.empty((u, batch), F32)
    gates = z.copy()
    _numba_lstm.lstm_forward_step(gates, rec_arg, bias_arg, c_prev, c, tc, h)
    want_gates, want_c, want_tc, want_h = _forward_reference(pre, c_prev)
    np.testing.assert_allclose(gates, want_gates, rtol=5e-7, atol=1e-30)
    # c, tanh(c) and h are computed from float32 gates: a few ulp of the terms (atol for c near 0)
    np.testing.assert_allclose(c, want_c, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(tc, want_tc, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(h, want_h, rtol=1e-6, atol=1e-6)
    assert np.isnan(h_storage[:, [0, 2]]).all()  # nothing written outside the view
    assert np.isfinite(gates).all() and (0 <= gates[:3 * u]).all() and (gates[:3 * u] <= 1).all()
    assert (np.abs(gates[3 * u:]) <= 1).all() and (np.abs(tc) <= 1).all()


def test_forward_step_activations_over_the_float32_range():
    """Sigmoid and tanh rows against float64 on a dense grid: within a few ulp, exact limits at saturation."""
    u, batch = 1, 200_000
    grid = np.linspace(-95, 95, batch).astype(F32)
    grid[::7] = np.linspace(-1, 1, grid[::7].size).astype(F32) * F32(1e-3)  # near zero: tanh's relative error
    z = np.tile(grid, (4, 1))
    gates, c, tc, h = z.copy(), *(np.empty((u, batch), F32) for _ in range(3))
    _numba_lstm.lstm_forward_step(gates, np.empty((0, 0), F32), np.empty((0, 0), F32), np.zeros((u, batch), F32),
                                  c, tc, h)
    want = _forward_reference(z, np.zeros((u, batch)))[0]
    np.testing.assert_allclose(gates[:3], want[:3], rtol=5e-7, atol=1e-37)
    np.testing.assert_allclose(gates[3], want[3], rtol=5e-7, atol=0)
    assert gates[0, 1] == 1.0 and gates[0, -1] < 1e-37  # rows hold -z: sigmoid(95), sigmoid(-95)
    assert gates[3, 1] == -1.0 and gates[3, -1] == 1.0


def test_backward_step_is_bit_identical_to_the_numpy_order():
    u, batch = 12, 10
    rng = np.random.default_rng(7)
    gates = np.concatenate([rng.uniform(0, 1, (3 * u, batch)), rng.uniform(-1, 1, (u, batch))]).astype(F32)
    c_prev, tc, dh, dc = (rng.uniform(-2, 2, (u, batch)).astype(F32) for _ in range(4))
    tc = np.tanh(tc)
    i, f, o, g = (gates[j * u:(j + 1) * u] for j in range(4))
    one = F32(1)
    # the NumPy path's factors and products, in its order (ops.recurrent.lstm's backward)
    dz_o = (one - o) * o * tc * dh
    dcell = dc + (one - tc * tc) * o * dh
    want_dz = np.concatenate([(one - i) * i * g * dcell, (one - f) * f * c_prev * dcell,
                              (one - g * g) * i * dcell, dz_o])
    want_dc = dcell * f
    dz = np.empty((4 * u, batch), F32)
    dz_t = np.full((3, batch, 4 * u), np.nan, F32)  # one step's rows of a (steps, batch, 4u) matrix
    _numba_lstm.lstm_backward_step(gates, c_prev, tc, dh, dc, dz, dz_t[1])
    np.testing.assert_array_equal(bits(dz), bits(want_dz))
    np.testing.assert_array_equal(bits(dz_t[1]), bits(want_dz.T))
    np.testing.assert_array_equal(bits(dc), bits(want_dc))
    assert np.isnan(dz_t[[0, 2]]).all()


@pytest.mark.parametrize("u,batch", [(24, 16), (5, 3), (64, 32)])
def test_forward_rows_matches_float64_and_the_block_kernel(u, batch):
    """The batch-major forward kernel: float64 values to float32 rounding, and the block kernel's gates."""
    z, _, _, c_prev = _step_inputs(u, batch, seed=u * batch)
    xh = np.full((batch, 7 + u), np.nan, F32)
    h = xh[:, 7:]  # h as a row-strided view, like the h columns of the stacked [x, 1, h]
    c, tc = np.empty((batch, u), F32), np.empty((batch, u), F32)
    gates = np.ascontiguousarray(z.T)
    _numba_lstm.lstm_forward_rows(gates, np.ascontiguousarray(c_prev.T), c, tc, h)
    want_gates, want_c, want_tc, want_h = _forward_reference(z, c_prev)
    np.testing.assert_allclose(gates, want_gates.T, rtol=5e-7, atol=1e-30)
    np.testing.assert_allclose(c, want_c.T, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(tc, want_tc.T, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(h, want_h.T, rtol=1e-6, atol=1e-6)
    assert np.isnan(xh[:, :7]).all()  # nothing written outside the view
    block = z.copy()
    empty = np.empty((0, 0), F32)
    _numba_lstm.lstm_forward_step(block, empty, empty, c_prev, *(np.empty((u, batch), F32) for _ in range(3)))
    np.testing.assert_array_equal(bits(gates), bits(block.T))  # the same activation code


def test_backward_rows_is_bit_identical_to_the_block_kernel():
    u, batch = 12, 10
    rng = np.random.default_rng(8)
    gates = np.concatenate([rng.uniform(0, 1, (3 * u, batch)), rng.uniform(-1, 1, (u, batch))]).astype(F32)
    c_prev, tc, dh, dc = (rng.uniform(-2, 2, (u, batch)).astype(F32) for _ in range(4))
    tc = np.tanh(tc)
    dz, dz_t, dc_block = np.empty((4 * u, batch), F32), np.empty((batch, 4 * u), F32), dc.copy()
    _numba_lstm.lstm_backward_step(gates, c_prev, tc, dh, dc_block, dz, dz_t)
    rows = np.full((3, batch, 4 * u), np.nan, F32)  # one step's rows of a (steps, batch, 4u) matrix
    dc_rows = np.ascontiguousarray(dc.T)
    _numba_lstm.lstm_backward_rows(*(np.ascontiguousarray(a.T) for a in (gates, c_prev, tc, dh)), dc_rows, rows[1])
    np.testing.assert_array_equal(bits(rows[1]), bits(dz_t))
    np.testing.assert_array_equal(bits(dc_rows), bits(dc_block.T))
    assert np.isnan(rows[[0, 2]]).all()


def _counting_kernels(monkeypatch):
    calls = collections.Counter()
    kernels = _kernels._compiled()

    def counting(name, fn):
        def wrapper(*args):
            calls[name] += 1
            return fn(*args)
        return wrapper

    monkeypatch.setitem(_kernels._state, "kernels", {n: counting(n, f) for n, f in kernels.items()})
    return calls


def _run_lstm(dtype, compiled, seed=0, batch=5, steps=7, features=6, units=4, mask=None, **kw):
    """Outputs and the gradients w.r.t. every input of a weighted sum of all outputs."""
    _kernels.use_kernels(compiled)
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1, 1, (batch, steps, features)), rng.uniform(-0.6, 0.6, (features, 4 * units)),
              rng.uniform(-0.6, 0.6, (units, 4 * units)), rng.uniform(-0.3, 0.3, (4 * units,)),
              rng.uniform(-0.5, 0.5, (batch, units)), rng.uniform(-0.5, 0.5, (batch, units))]
    tensors = [ff.Variable(a.astype(dtype)) for a in arrays]
    x, k, rk, b, h0, c0 = tensors
    with ff.GradientTape() as tape:
        outs = rnn_ops.lstm(x, k, rk, b, [h0, c0], mask=mask, **kw)
        weights = [np.random.default_rng(seed + 1 + j).uniform(-1, 1, o.shape).astype(dtype)
                   for j, o in enumerate(outs)]
        loss = sum(ff.reduce_sum(o * w) for o, w in zip(outs, weights))
    grads = tape.gradient(loss, tensors)
    return [o.numpy() for o in outs] + [g.numpy() for g in grads]


@pytest.mark.parametrize("path", ["stacked", "projected"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_op_compiled_matches_numpy_path(path, return_sequences, go_backwards, monkeypatch):
    monkeypatch.setattr(rnn_ops, "_stack_inputs", lambda features, units: path == "stacked")
    kw = dict(return_sequences=return_sequences, go_backwards=go_backwards)
    want = _run_lstm("float32", False, **kw)
    calls = _counting_kernels(monkeypatch)
    got = _run_lstm("float32", True, **kw)
    if path == "stacked":  # the batch-major compiled path (ops._lstm_rows)
        assert calls == {"lstm_forward_rows": 7, "lstm_backward_rows": 7}
    else:
        assert calls == {"lstm_forward_step": 7, "lstm_backward_step": 7}
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
    again = _run_lstm("float32", True, **kw)  # deterministic: bit for bit
    for g, a in zip(got, again):
        np.testing.assert_array_equal(bits(g), bits(a))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("states", [True, False])
def test_lstm_op_rows_path_without_bias_or_states(bias, states, monkeypatch):
    """The batch-major path (stacked inputs) with and without a bias column and initial states (zero initial
    states skip the first step's recurrent block) against the NumPy path."""
    rng = np.random.default_rng(3)
    x, k, rk, b, h0, c0 = (ff.Variable(rng.uniform(-0.6, 0.6, shape).astype("float32"))
                           for shape in [(6, 5, 3), (3, 32), (8, 32), (32,), (6, 8), (6, 8)])
    inputs = [x, k, rk] + ([b] if bias else []) + ([h0, c0] if states else [])
    head = rng.uniform(-1, 1, (6, 5, 8)).astype("float32")

    def run(compiled):
        _kernels.use_kernels(compiled)
        with ff.GradientTape() as tape:
            out, h, c = rnn_ops.lstm(x, k, rk, b if bias else None, [h0, c0] if states else None)
            loss = ff.reduce_sum(out * head) + ff.reduce_sum(h) + ff.reduce_sum(c * c)
        return [out.numpy(), h.numpy(), c.numpy()] + [g.numpy() for g in tape.gradient(loss, inputs)]

    want = run(False)
    calls = _counting_kernels(monkeypatch)
    got = run(True)
    assert calls == {"lstm_forward_rows": 5, "lstm_backward_rows": 5}
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_lstm_op_rows_path_split_over_threads(workers, return_sequences, monkeypatch):
    """The batch-major recurrences split over threads (slices of samples, each its own time loop) give what one
    loop gives (to float32 rounding: a product's rounding may depend on its rows) and what the NumPy path gives."""
    from featherflow.ops import _lstm_rows

    monkeypatch.setattr(_lstm_rows, "MIN_SPLIT_ROWS", 16)

    def run(compiled, parts):
        monkeypatch.setattr(_lstm_rows, "parallel_workers", lambda default: parts)
        return _run_lstm("float32", compiled, batch=50, steps=6, features=3, units=8,
                         return_sequences=return_sequences)

    want = run(False, 1)
    one = run(True, 1)
    calls = _counting_kernels(monkeypatch)
    split = run(True, workers)
    assert _lstm_rows.split_parts(50) == workers
    assert calls == {"lstm_forward_rows": 6 * workers, "lstm_backward_rows": 6 * workers}
    for g, o, w in zip(split, one, want):
        np.testing.assert_allclose(g, o, rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


def test_lstm_op_rows_backward_after_the_kernels_were_switched_off():
    """A forward pass on the batch-major path keeps its backward there even if the kernels go off between."""
    rng = np.random.default_rng(4)
    x, k, rk = (ff.Variable(rng.uniform(-0.5, 0.5, s).astype("float32")) for s in [(4, 3, 2), (2, 16), (4, 16)])
    _kernels.use_kernels(True)
    with ff.GradientTape(persistent=True) as tape:
        loss = ff.reduce_sum(rnn_ops.lstm(x, k, rk)[0])
    want = [g.numpy() for g in tape.gradient(loss, [x, k, rk])]
    _kernels.use_kernels(False)
    got = [g.numpy() for g in tape.gradient(loss, [x, k, rk])]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(bits(g), bits(w))


@pytest.mark.parametrize("return_sequences", [False, True])
def test_lstm_fit_compiled_is_bit_identical_to_eager_on_the_kernels(return_sequences, monkeypatch):
    """``fit`` through the compiled step (the kernels run as host calls) and eagerly: the same weights bit for bit."""
    keras = ff.keras
    rng = np.random.default_rng(5)
    x = rng.standard_normal((48, 6, 3)).astype("float32")
    y = rng.integers(0, 4, 48)

    def run(run_eagerly):
        _kernels.use_kernels(True)
        keras.utils.set_random_seed(1)
        model = keras.models.Sequential([keras.Input(shape=(6, 3)), keras.layers.LSTM(8, return_sequences=return_sequences),
                                         keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
        model.run_eagerly = run_eagerly
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        assert model._train_fn.compiled != run_eagerly  # the compiled run replayed its traced step
        return model.get_weights()

    eager = run(True)
    calls = _counting_kernels(monkeypatch)
    compiled = run(False)
    assert calls["lstm_forward_rows"] >= 6 and calls["lstm_backward_rows"] >= 6
    for got, want in zip(compiled, eager):
        np.testing.assert_array_equal(bits(got), bits(want))


def test_lstm_fit_switching_paths_between_calls_replays(monkeypatch):
    """Default mode, LSTM(64) over 28 steps: a batch of 64 runs the kernels (batch-major path), a batch of 32 is
    below ``LSTM_MIN_WORK`` and runs NumPy; and a second ``fit`` with the kernels switched off replays the same
    traced step on the NumPy path (the host call keeps its structure). Compiled matches eager bit for bit."""
    keras = ff.keras
    rng = np.random.default_rng(6)
    x = rng.standard_normal((96, 28, 4)).astype("float32")
    y = rng.integers(0, 3, 96)
    assert 28 * 32 * 64 < rnn_ops.LSTM_MIN_WORK <= 28 * 64 * 64

    def run(run_eagerly):
        _kernels.use_kernels(None)
        keras.utils.set_random_seed(2)
        model = keras.models.Sequential([keras.Input(shape=(28, 4)), keras.layers.LSTM(64),
                                         keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.run_eagerly = run_eagerly
        model.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False)
        _kernels.use_kernels(False)
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
        return model.get_weights()

    eager = run(True)
    calls = _counting_kernels(monkeypatch)
    compiled = run(False)
    assert calls["lstm_forward_rows"] == calls["lstm_backward_rows"] == 2 * 28  # the first fit's batches of 64
    for got, want in zip(compiled, eager):
        np.testing.assert_array_equal(bits(got), bits(want))


def test_lstm_op_masked_uses_forward_kernel_and_numpy_backward(monkeypatch):
    mask = np.array([[1, 1, 1, 0, 0, 0, 1], [0, 0, 1, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0, 1],
                     [1] * 7, [0] * 6 + [1]], dtype=bool)
    want = _run_lstm("float32", False, mask=mask, zero_output_for_mask=False)
    calls = _counting_kernels(monkeypatch)
    got = _run_lstm("float32", True, mask=mask, zero_output_for_mask=False)
    assert calls == {"lstm_forward_step": 7}
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


def test_float64_and_other_activations_keep_numpy(monkeypatch):
    calls = _counting_kernels(monkeypatch)
    want = _run_lstm("float64", False)
    got = _run_lstm("float64", True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    _kernels.use_kernels(True)
    x = np.ones((2, 3, 4), "float32")
    rnn_ops.lstm(x, np.full((4, 8), 0.1, "float32"), np.zeros((2, 8), "float32"), activation="relu")
    assert not calls


def test_default_mode_threshold():
    _kernels.use_kernels(None)
    assert _kernels.get_for_work("lstm_forward_step", _kernels.MIN_WORK - 1) is None
    assert _kernels.get_for_work("lstm_forward_step", _kernels.MIN_WORK) is _numba_lstm.lstm_forward_step
    _kernels.use_kernels(False)
    assert _kernels.get_for_work("lstm_backward_step", 10 ** 9) is None
    _kernels.use_kernels(True)
    assert _kernels.get_for_work("lstm_backward_step", 1) is _numba_lstm.lstm_backward_step


@pytest.mark.parametrize("batch,units,used", [(64, 64, True), (16, 64, False)])
def test_lstm_default_mode_uses_the_kernels_from_lstm_min_work(batch, units, used, monkeypatch):
    """Issue 22's LSTM(64) (28 steps of a (64, 64) state: 114,688 < MIN_WORK) runs the kernels by default;
    an LSTM below ``LSTM_MIN_WORK`` keeps NumPy."""
    assert (28 * batch * units >= rnn_ops.LSTM_MIN_WORK) == used
    calls = _counting_kernels(monkeypatch)
    _kernels.use_kernels(None)
    rng = np.random.default_rng(0)
    x = ff.Variable(rng.standard_normal((batch, 28, 28)).astype("float32"))
    k = ff.Variable(rng.uniform(-0.2, 0.2, (28, 4 * units)).astype("float32"))
    rk = ff.Variable(rng.uniform(-0.2, 0.2, (units, 4 * units)).astype("float32"))
    with ff.GradientTape() as tape:
        loss = ff.reduce_sum(rnn_ops.lstm(x, k, rk, return_sequences=False)[0])
    assert all(g is not None for g in tape.gradient(loss, [x, k, rk]))
    assert calls == ({"lstm_forward_rows": 28, "lstm_backward_rows": 28} if used else {})


def test_environment_switch_keeps_numpy_and_does_not_import_numba():
    code = ("import sys, numpy as np; from featherflow.ops import _kernels as K, recurrent as r; "
            "x = np.ones((32, 200, 64), 'float32'); "
            "r.lstm(x, np.full((64, 256), 0.01, 'float32'), np.full((64, 256), 0.01, 'float32')); "
            "print(K.get_for_work('lstm_forward_step', 10 ** 9) is None, 'numba' in sys.modules)")
    env = dict(os.environ, FEATHERFLOW_NUMBA="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


# -- the embedding gradient ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("vocab", [20_000, 50, 3])
def test_embedding_row_sums_kernel_equals_add_at(dtype, vocab):
    rng = np.random.default_rng(vocab)
    ids = rng.integers(0, vocab, 3_000)
    rows = rng.standard_normal((3_000, 24)).astype(dtype)
    rows[5] = -0.0  # add.at adds into zeros: a -0.0 row leaves +0.0
    want = np.zeros((vocab, 24), dtype)
    np.add.at(want, ids, rows)
    got = np.zeros((vocab, 24), dtype)
    _numba_embedding.embedding_row_sums(ids, rows, got)
    np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


def test_embedding_op_gradient_uses_the_kernel_from_min_work(monkeypatch):
    from featherflow.ops.embedding import embedding, row_sums

    calls = _counting_kernels(monkeypatch)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 500, (64, 200)).astype("int32")  # 12,800 ids x 32 = 409,600 >= MIN_WORK
    table = ff.Variable(rng.standard_normal((500, 32)).astype("float32"))
    g = rng.standard_normal((64, 200, 32)).astype("float32")
    with ff.GradientTape() as tape:
        out = embedding(ids, table)
    got = tape.gradient(out, table, output_gradients=g).numpy()
    assert calls["embedding_row_sums"] == 1
    want = np.zeros((500, 32), "float32")
    np.add.at(want, ids.ravel(), g.reshape(-1, 32))
    np.testing.assert_array_equal(got, want)
    _kernels.use_kernels(False)
    np.testing.assert_array_equal(row_sums(ids.ravel(), g.reshape(-1, 32), 500), want)  # the NumPy rounds
    assert calls["embedding_row_sums"] == 1
    _kernels.use_kernels(None)
    assert _kernels.get_for_work("embedding_row_sums", _kernels.MIN_WORK - 1) is None


def test_without_numba_the_numpy_path_runs():
    """Numba not installed (an import that fails): ``get`` answers None and the ops keep NumPy."""
    code = ("import sys; sys.modules['numba'] = None; import numpy as np; "
            "from featherflow.ops import _kernels as K, recurrent as r, embedding as e; "
            "K.use_kernels(True); x = np.ones((4, 3, 2), 'float32'); "
            "out = r.lstm(x, np.full((2, 8), 0.1, 'float32'), np.zeros((2, 8), 'float32'))[1].numpy(); "
            "rows = e.row_sums(np.array([1, 1]), np.ones((2, 3), 'float32'), 2); "
            "print(K.available(), K.get_for_work('lstm_forward_step') is None, out.shape, rows.tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "False True (4, 2) [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]"
