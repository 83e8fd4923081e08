"""The embedding op's scatter-add gradient (``row_sums``) against ``numpy.add.at`` and finite differences."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops.embedding import _flat_pairs, embedding, row_sums


def _add_at(ids, rows, num_rows):
    out = np.zeros((num_rows,) + rows.shape[1:], dtype=rows.dtype)
    np.add.at(out, ids, rows)
    return out


@pytest.mark.parametrize("n, vocab, num_rows", [
    (0, 5, 5), (10, 5, 5), (63, 7, 7), (64, 1000, 1000), (300, 3, 3), (500, 1, 4), (2000, 20000, 20000),
    (2000, 50, 60), (700, 10, 10)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_sums_equals_add_at_bit_for_bit(n, vocab, num_rows, dtype):
    rng = np.random.default_rng(n + vocab)
    ids = rng.integers(0, vocab, n)
    rows = rng.standard_normal((n, 6)).astype(dtype) * np.exp(rng.uniform(-8, 8, (n, 1))).astype(dtype)
    got = row_sums(ids, rows, num_rows)
    want = _add_at(ids, rows, num_rows)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # same terms added in the same order: identical floats


def test_row_sums_mixed_multiplicities_and_int32_ids():
    # one id 300 times (left to add.at), some twice, most once: every path of row_sums at once
    rng = np.random.default_rng(3)
    ids = np.concatenate([np.full(300, 7), np.arange(100, 400), np.arange(200, 260)]).astype("int32")
    rng.shuffle(ids)
    rows = rng.standard_normal((ids.size, 4)).astype("float32")
    np.testing.assert_array_equal(row_sums(ids, rows, 500), _add_at(ids, rows, 500))
    # independent float64 reference of the sums (order-insensitive up to rounding)
    ref = np.zeros((500, 4))
    for i, r in zip(ids, rows.astype("float64")):
        ref[i] += r
    np.testing.assert_allclose(row_sums(ids, rows, 500), ref, rtol=1e-5, atol=1e-5)


def test_embedding_gradient_counts_repeats():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 30, (8, 25))
    table = ff.Variable(rng.standard_normal((30, 5)).astype("float32"))
    w = rng.standard_normal((8, 25, 5)).astype("float32")
    with ff.GradientTape() as tape:
        loss = ff.reduce_sum(embedding(ids, table) * w)
    grad = tape.gradient(loss, table).numpy()
    ref = np.zeros((30, 5))
    for pos, i in np.ndenumerate(ids):
        ref[i] += w[pos]
    np.testing.assert_allclose(grad, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(3,), (4, 20), (2, 40, 3), (0, 5)])
def test_embedding_gradcheck_float64(shape):
    ids = np.random.default_rng(1).integers(0, 6, shape)
    check_gradient(lambda t: embedding(ids, t), [random_array((6, 3))])


def test_embedding_gradient_from_a_transposed_upstream_gradient():
    # the fused LSTM hands back its input gradient as a time-major view: walked without a copy, same sums
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 9, (5, 7))
    g_time_major = rng.standard_normal((7, 5, 3)).astype("float32")
    g = g_time_major.swapaxes(0, 1)
    flat_ids, rows = _flat_pairs(np, ids, g)
    assert np.shares_memory(rows, g_time_major)
    np.testing.assert_array_equal(rows, g_time_major.reshape(-1, 3))
    np.testing.assert_array_equal(flat_ids, ids.T.reshape(-1))
    ref = np.zeros((9, 3))
    for (b, t), i in np.ndenumerate(ids):
        ref[i] += g_time_major[t, b]
    np.testing.assert_allclose(row_sums(flat_ids, rows, 9), ref, rtol=1e-5, atol=1e-5)
    # through the op: an upstream op returning the transposed view
    table = ff.Variable(rng.standard_normal((9, 3)).astype("float32"))
    with ff.GradientTape() as tape:
        out = embedding(ids, table)
    grad = tape.gradient(out, table, output_gradients=ff.constant(g))
    np.testing.assert_allclose(grad.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_constant_ids_compile_in_a_tf_function():
    """keras.io's position embedding looks up a plain array (``np.arange(maxlen)``) created outside the function:
    its gradient's host call must not be taken for a write into that array (which made every step of the
    Transformer classifier fall back to eager); compiled gradients equal the eager ones at every call."""
    from featherflow.core.function import Function

    rng = np.random.default_rng(5)
    positions = np.arange(6)
    tokens = ff.Variable(rng.standard_normal((40, 3)).astype("float32"))
    table = ff.Variable(rng.standard_normal((6, 3)).astype("float32"))

    def step(ids, weights):
        with ff.GradientTape() as tape:
            out = embedding(ids, tokens) + embedding(positions, table)
            loss = ff.reduce_sum(out * weights)
        return tape.gradient(loss, [tokens, table])

    compiled = Function(step, _on_untraceable="eager")
    for seed in range(3):
        rng = np.random.default_rng(seed)
        ids = ff.constant(rng.integers(0, 40, (4, 6)).astype("int32"))
        weights = ff.constant(rng.standard_normal((4, 6, 3)).astype("float32"))
        got = compiled(ids, weights)
        want = step(ids, weights)
        assert compiled.eager_fallback_reason is None
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert compiled.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(positions, np.arange(6))  # the constant ids are left as they were
