"""The fused sequence ops (featherflow.ops.recurrent): values against per-step NumPy references in
Keras's layout, and float64 finite-difference gradients w.r.t. every input."""

import numpy as np
import pytest
from gradcheck import check_gradient
from rnn_reference import gru_reference, lstm_reference, simple_rnn_reference

import featherflow as ff
from featherflow.ops import recurrent as rnn_ops

BATCH, STEPS, FEATURES, UNITS = 3, 5, 4, 3
MASK = np.array([[1, 1, 1, 0, 0],   # right padded
                 [0, 0, 1, 1, 1],   # left padded
                 [1, 0, 1, 0, 1]], dtype=bool)  # holes

SPECS = {
    "lstm": (rnn_ops.lstm, lstm_reference, 4, lambda u: (4 * u,), 2),
    "gru": (rnn_ops.gru, gru_reference, 3, lambda u: (2, 3 * u), 1),
    "simple_rnn": (rnn_ops.simple_rnn, simple_rnn_reference, 1, lambda u: (u,), 1),
}


@pytest.fixture(params=["stacked", "projected"])
def lstm_path(request, monkeypatch):
    """Run an LSTM test through both input paths of the kernel (``_stack_inputs``); other kinds once."""
    # (the other kinds' "stacked" combinations are removed at collection: tests/keras/layers/conftest.py)
    monkeypatch.setattr(rnn_ops, "_stack_inputs", lambda features, units: request.param == "stacked")
    return request.param


def _arrays(kind, seed=0, batch=BATCH, steps=STEPS, features=FEATURES, units=UNITS, scale=0.6):
    _, _, gates, bias_shape, n_states = SPECS[kind]
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (batch, steps, features))
    kernel = rng.uniform(-scale, scale, (features, gates * units))
    recurrent = rng.uniform(-scale, scale, (units, gates * units))
    bias = rng.uniform(-0.3, 0.3, bias_shape(units))
    states = [rng.uniform(-0.5, 0.5, (batch, units)) for _ in range(n_states)]
    return x, kernel, recurrent, bias, states


def _reference(kind, x, kernel, recurrent, bias, states, **kw):
    ref = SPECS[kind][1]
    if kind == "lstm":
        return ref(x, kernel, recurrent, bias, states[0], states[1], **kw)
    return ref(x, kernel, recurrent, bias, states[0], **kw)


@pytest.mark.parametrize("kind", sorted(SPECS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_fused_matches_per_step_reference(kind, go_backwards, masked, zero_output, lstm_path):
    if zero_output and not masked:
        pytest.skip("zero_output_for_mask only matters with a mask")
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, states = _arrays(kind)
    mask = MASK if masked else None
    last, seq, final = _reference(kind, x, kernel, recurrent, bias, states, mask=mask, go_backwards=go_backwards,
                                  zero_output_for_mask=zero_output)
    out = op(x, kernel, recurrent, bias, states, mask=mask, go_backwards=go_backwards,
             zero_output_for_mask=zero_output, return_sequences=True)
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-10, atol=1e-12)
    for got, want in zip(out[1:], final):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    out_last = op(x, kernel, recurrent, bias, states, mask=mask, go_backwards=go_backwards,
                  zero_output_for_mask=zero_output, return_sequences=False)
    np.testing.assert_allclose(out_last[0].numpy(), last, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_float32_matches_reference_and_default_states(kind):
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, states = _arrays(kind, seed=3)
    zeros = [np.zeros_like(s) for s in states]
    _, seq, final = _reference(kind, x, kernel, recurrent, bias, zeros)
    out = op(x.astype("float32"), kernel.astype("float32"), recurrent.astype("float32"), bias.astype("float32"))
    assert out[0].dtype == np.float32
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(out[1].numpy(), final[0], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("activation,recurrent_activation", [
    ("relu", "hard_sigmoid"), ("linear", "tanh"), ("sigmoid", "sigmoid"), ("tanh", "linear")])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_other_activations(kind, activation, recurrent_activation, lstm_path):
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, states = _arrays(kind, seed=5, scale=0.4)
    _, seq, final = _reference(kind, x, kernel, recurrent, bias, states, activation=activation,
                               recurrent_activation=recurrent_activation, mask=MASK)
    out = op(x, kernel, recurrent, bias, states, activation=activation, recurrent_activation=recurrent_activation,
             mask=MASK)
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-10, atol=1e-12)

    def fn(x_, k_, r_, b_, *s_):
        return op(x_, k_, r_, b_, list(s_), activation=activation, recurrent_activation=recurrent_activation,
                  mask=MASK)

    check_gradient(fn, [x, kernel, recurrent, bias, *states])


@pytest.mark.parametrize("activation", ["relu", "linear", "sigmoid"])
def test_simple_rnn_activations(activation):
    x, kernel, recurrent, bias, states = _arrays("simple_rnn", seed=6, scale=0.4)
    _, seq, _ = _reference("simple_rnn", x, kernel, recurrent, bias, states, activation=activation)
    out = rnn_ops.simple_rnn(x, kernel, recurrent, bias, states, activation=activation)
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-10, atol=1e-12)
    check_gradient(lambda *a: rnn_ops.simple_rnn(a[0], a[1], a[2], a[3], [a[4]], activation=activation),
                   [x, kernel, recurrent, bias, *states])


@pytest.mark.parametrize("kind", sorted(SPECS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradients_all_inputs_and_outputs(kind, go_backwards, masked, return_sequences, lstm_path):
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, states = _arrays(kind, seed=1)
    mask = MASK if masked else None

    def fn(x_, k_, r_, b_, *s_):
        # every output, final states included, enters the checked objective
        return list(op(x_, k_, r_, b_, list(s_), mask=mask, go_backwards=go_backwards,
                       return_sequences=return_sequences))

    check_gradient(fn, [x, kernel, recurrent, bias, *states])


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_gradients_zero_output_for_mask_and_states_only(kind, lstm_path):
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, states = _arrays(kind, seed=2)

    def fn(x_, k_, r_, b_, *s_):
        return list(op(x_, k_, r_, b_, list(s_), mask=MASK, zero_output_for_mask=True))

    check_gradient(fn, [x, kernel, recurrent, bias, *states])

    def states_only(x_, k_, r_, b_, *s_):  # only a secondary output is used
        return op(x_, k_, r_, b_, list(s_), mask=MASK, return_sequences=False)[-1]

    check_gradient(states_only, [x, kernel, recurrent, bias, *states])


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_no_bias_default_states_and_size_one_axes(kind, lstm_path):
    op = SPECS[kind][0]
    x, kernel, recurrent, _, _ = _arrays(kind, seed=4, batch=1, steps=1, features=1, units=1)
    check_gradient(lambda x_, k_, r_: op(x_, k_, r_)[0], [x, kernel, recurrent])
    x, kernel, recurrent, _, _ = _arrays(kind, seed=4, batch=2, steps=3, features=2, units=2)
    _, seq, _ = _reference(kind, x, kernel, recurrent, None, [np.zeros((2, 2))] * 2)
    np.testing.assert_allclose(op(x, kernel, recurrent)[0].numpy(), seq, rtol=1e-10, atol=1e-12)


def test_fully_masked_rows_keep_initial_state_and_zero_output():
    x, kernel, recurrent, bias, states = _arrays("lstm")
    mask = np.zeros((BATCH, STEPS), bool)
    mask[0] = True
    out, h, c = rnn_ops.lstm(x, kernel, recurrent, bias, states, mask=mask)
    np.testing.assert_array_equal(out.numpy()[1:], 0.0)  # no unmasked step yet: outputs are zeros
    np.testing.assert_allclose(h.numpy()[1:], states[0][1:])
    np.testing.assert_allclose(c.numpy()[1:], states[1][1:])


def test_gradient_through_tape_with_variables_and_persistent_tape():
    x, kernel, recurrent, bias, _ = _arrays("lstm")
    k, r, b = ff.Variable(kernel), ff.Variable(recurrent), ff.Variable(bias)
    with ff.GradientTape(persistent=True) as tape:
        out, h, c = rnn_ops.lstm(ff.constant(x), k, r, b, return_sequences=False)
        loss_out = ff.reduce_sum(out * out)
        loss_c = ff.reduce_sum(c)
    g1 = tape.gradient(loss_out, [k, r, b])
    g2 = tape.gradient(loss_c, [k, r, b])
    g1_again = tape.gradient(loss_out, [k, r, b])
    for a, b_ in zip(g1, g1_again):
        np.testing.assert_array_equal(a.numpy(), b_.numpy())
    assert not np.allclose(g1[0].numpy(), g2[0].numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_reuses_released_buffers_without_changing_results(dtype, lstm_path):
    """The op's sequence buffers come from the ops' pool (``ops._workspace``) and are free again once no tape
    holds its backward rule; a later call takes them, and no call's results depend on what they held or on
    another live call."""
    from featherflow.ops import _workspace

    batch, steps, units = 4, 6, 5

    def run(seed, tape=None):
        x, kernel, recurrent, bias, states = _arrays("lstm", seed=seed, batch=batch, steps=steps, units=units)
        tensors = [ff.Variable(a.astype(dtype)) for a in (x, kernel, recurrent, bias, *states)]
        with tape or ff.GradientTape() as t:
            out, h, c = rnn_ops.lstm(*tensors[:4], tensors[4:])
            loss = ff.reduce_sum(out * out) + ff.reduce_sum(h * c)
        return t, loss, tensors, [out.numpy(), h.numpy(), c.numpy()]

    def results(seed):
        t, loss, tensors, values = run(seed)
        return values + [g.numpy() for g in t.gradient(loss, tensors)]

    want = {seed: results(seed) for seed in (0, 1)}
    assert (steps, 4 * units, batch) in {key[1] for key in _workspace.pooled_keys()}  # the gates, pooled
    kept, loss, tensors, values = run(1, ff.GradientTape(persistent=True))  # holds its buffers
    got_0 = results(0)  # takes the released buffers while call 1's are alive
    got_1 = values + [g.numpy() for g in kept.gradient(loss, tensors)]
    again_1 = [g.numpy() for g in kept.gradient(loss, tensors)]
    del kept
    got_1_fresh = results(1)  # reuses buffers that held call 1's and call 0's values
    for got, ref in ((got_0, want[0]), (got_1, want[1]), (got_1[3:], again_1), (got_1_fresh, want[1])):
        for g, w in zip(got, ref):
            np.testing.assert_array_equal(g, w)
    assert not np.allclose(want[0][0], want[1][0])  # the two calls differ: a mix-up would show


def test_errors_name_the_argument():
    x, kernel, recurrent, bias, _ = _arrays("lstm")
    with pytest.raises(ValueError, match="kernel"):
        rnn_ops.lstm(x, kernel[:, :-1], recurrent, bias)
    with pytest.raises(ValueError, match="3-D"):
        rnn_ops.lstm(x[0], kernel, recurrent, bias)
    with pytest.raises(ValueError, match="mask"):
        rnn_ops.lstm(x, kernel, recurrent, bias, mask=np.ones((BATCH, STEPS + 1), bool))
    with pytest.raises(ValueError, match="activation"):
        rnn_ops.lstm(x, kernel, recurrent, bias, activation="softplus")
    x, kernel, recurrent, _, _ = _arrays("gru")
    with pytest.raises(TypeError, match="dtype"):
        rnn_ops.gru(ff.constant(x.astype("float32")), ff.constant(kernel), recurrent)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_distinct_batch_units_features_steps(kind, lstm_path):
    # every size different, so a mixed-up axis in the kernels' transposed layouts cannot go unnoticed
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, states = _arrays(kind, seed=7, batch=5, steps=4, features=3, units=2)
    for go_backwards in (False, True):
        _, seq, final = _reference(kind, x, kernel, recurrent, bias, states, go_backwards=go_backwards)
        out = op(x, kernel, recurrent, bias, states, go_backwards=go_backwards)
        np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-10, atol=1e-12)
        for got, want in zip(out[1:], final):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    check_gradient(lambda x_, k_, r_, b_, *s_: list(op(x_, k_, r_, b_, list(s_))), [x, kernel, recurrent, bias, *states])
    x, kernel, recurrent, bias, states = _arrays(kind, seed=8, batch=7, steps=9, features=6, units=5)
    _, seq, final = _reference(kind, x, kernel, recurrent, bias, states)
    f32 = [a.astype("float32") for a in (x, kernel, recurrent, bias)]
    out = op(*f32, [s.astype("float32") for s in states])
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(out[1].numpy(), final[0], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("kind", sorted(SPECS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saturated_sigmoids_reach_their_limits_without_warnings(kind, dtype, lstm_path):
    # pre-activations of several hundred: exp(-z) overflows to inf inside the kernels (1 / inf = 0 is the
    # limit); pyproject turns featherflow RuntimeWarnings into errors, so a leaked overflow warning fails here
    activation = "sigmoid" if kind == "simple_rnn" else "tanh"
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, states = _arrays(kind, seed=9, scale=300.0)
    kwargs = {"activation": activation} if kind == "simple_rnn" else {}
    with np.errstate(over="ignore"):
        _, seq, _ = _reference(kind, x, kernel, recurrent, bias, states, **kwargs)
    cast = [a.astype(dtype) for a in (x, kernel, recurrent, bias)]
    out = op(*cast, [s.astype(dtype) for s in states], **kwargs)
    assert np.all(np.isfinite(out[0].numpy()))
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_empty_batch_gives_empty_outputs_and_zero_weight_gradients(kind, lstm_path):
    op = SPECS[kind][0]
    x, kernel, recurrent, bias, _ = _arrays(kind, seed=10, batch=0)
    x_t, k, r, b = ff.constant(x), ff.Variable(kernel), ff.Variable(recurrent), ff.Variable(bias)
    with ff.GradientTape() as tape:
        tape.watch(x_t)
        out = op(x_t, k, r, b)
        loss = ff.reduce_sum(out[0]) + ff.reduce_sum(out[-1])
    assert out[0].shape == (0, STEPS, UNITS)
    grads = tape.gradient(loss, [x_t, k, r, b])
    assert grads[0].shape == x.shape
    for g, w in zip(grads[1:], (kernel, recurrent, bias)):
        np.testing.assert_array_equal(g.numpy(), np.zeros_like(w))
