"""tf.nn extras (ops/nn_extra.py, ops/nn_losses.py): gradients by finite differences in float64, values
worked out by hand or with NumPy; the cases compared with TensorFlow itself are in tests/tf_reference."""

import itertools

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


def test_morphological_gradients():
    x, f = random_array((1, 5, 5, 2), seed=1), random_array((2, 2, 2), seed=2)
    check_gradient(lambda a, b: ff.nn.dilation2d(a, b, [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]), [x, f])
    check_gradient(lambda a, b: ff.nn.erosion2d(a, b, [1, 2, 2, 1], "VALID", "NHWC", [1, 1, 1, 1]), [x, f])


def test_dilation2d_is_a_max_plus_convolution():
    x = np.arange(9, dtype="float64").reshape(1, 3, 3, 1)
    f = np.array([[0.0, -1.0], [-2.0, 0.5]]).reshape(2, 2, 1)
    got = ff.nn.dilation2d(x, f, [1, 1, 1, 1], "VALID", "NHWC", [1, 1, 1, 1]).numpy()[0, :, :, 0]
    want = np.array([[max(x[0, i + a, j + b, 0] + f[a, b, 0] for a in range(2) for b in range(2))
                      for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(got, want)


def test_conv_family_gradients():
    x = random_array((1, 6, 6, 2), seed=3)
    check_gradient(lambda a, d, p: ff.nn.separable_conv2d(a, d, p, [1, 1, 1, 1], "SAME"),
                   [x, random_array((3, 3, 2, 2), seed=4), random_array((1, 1, 4, 3), seed=5)])
    check_gradient(lambda a, w: ff.nn.atrous_conv2d(a, w, 2, "VALID"), [x, random_array((2, 2, 2, 3), seed=6)])
    check_gradient(lambda a, w: ff.nn.convolution(a, w, padding="SAME", dilations=2),
                   [x, random_array((3, 3, 2, 1), seed=7)])


def test_conv2d_backprop_v2_match_the_tape():
    # TensorFlow registers no CPU kernel for these two, so they are checked against the tape's gradient.
    x, w, g = random_array((1, 4, 4, 2), seed=8), random_array((2, 2, 2, 3), seed=9), random_array((1, 3, 3, 3), seed=10)
    xt, wt = ff.constant(x), ff.constant(w)
    with ff.GradientTape(persistent=True) as tape:
        tape.watch([xt, wt])
        y = ff.nn.conv2d(xt, wt, 1, "VALID")
    want_x, want_w = tape.gradient(y, [xt, wt], output_gradients=ff.constant(g))
    np.testing.assert_allclose(ff.conv2d_backprop_input_v2(x, w, g, [1, 1, 1, 1], "VALID").numpy(), want_x.numpy())
    np.testing.assert_allclose(ff.conv2d_backprop_filter_v2(x, w, g, [1, 1, 1, 1], "VALID").numpy(), want_w.numpy())


def test_lrn_gradient_and_value():
    x = random_array((1, 2, 2, 5), seed=11)
    check_gradient(lambda a: ff.nn.local_response_normalization(a, 2, 1.0, 0.5, 0.75), [x])
    got = ff.nn.lrn(x, 1, 2.0, 1.0, 0.5).numpy()
    sq = np.pad(x ** 2, [(0, 0), (0, 0), (0, 0), (1, 1)])
    want = x / np.sqrt(2.0 + sq[..., :-2] + sq[..., 1:-1] + sq[..., 2:])
    np.testing.assert_allclose(got, want)


def test_isotonic_regression_values_and_gradient():
    out, seg = ff.nn.isotonic_regression([[3.0, 1.0, 2.0, 5.0, 4.0]], decreasing=False)
    np.testing.assert_allclose(out.numpy(), [[2.0, 2.0, 2.0, 4.5, 4.5]])
    np.testing.assert_array_equal(seg.numpy(), [[0, 0, 1, 2, 2]])  # equal means are not merged
    out, _ = ff.nn.isotonic_regression([[1.0, 3.0, 2.0]])  # decreasing by default
    np.testing.assert_allclose(out.numpy(), [[2.0, 2.0, 2.0]])
    check_gradient(lambda a: ff.nn.isotonic_regression(a, decreasing=False, axis=0)[0],
                   [random_array((6, 3), seed=12)])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("overlapping", [False, True])
def test_fractional_pool_partitions_the_input(kind, overlapping):
    x = random_array((2, 7, 7, 3), seed=13)
    fn = ff.nn.fractional_max_pool if kind == "max" else ff.nn.fractional_avg_pool
    out, rows, cols = fn(x, [1.0, 1.5, 1.7, 1.0], pseudo_random=True, overlapping=overlapping, seed=5)
    rows, cols = rows.numpy(), cols.numpy()
    assert out.shape == (2, len(rows) - 1, len(cols) - 1, 3)
    assert rows[0] == 0 and rows[-1] == 7 and np.all(np.diff(rows) > 0)
    reduce = np.max if kind == "max" else np.mean
    extra = 1 if overlapping else 0
    for i, j in itertools.product(range(len(rows) - 1), range(len(cols) - 1)):
        window = x[:, rows[i]:min(rows[i + 1] + extra, 7), cols[j]:min(cols[j + 1] + extra, 7)]
        np.testing.assert_allclose(out.numpy()[:, i, j], reduce(window, axis=(1, 2)))
    check_gradient(lambda a: fn(a, [1.0, 1.5, 1.7, 1.0], pseudo_random=True, overlapping=overlapping, seed=5)[0],
                   [x])


def test_max_pool_with_argmax_indices():
    x = random_array((1, 4, 4, 2), seed=14)
    out, arg = ff.nn.max_pool_with_argmax(x, 2, 2, "VALID", include_batch_in_index=True)
    flat = x.reshape(-1)
    np.testing.assert_allclose(flat[arg.numpy()], out.numpy())
    assert arg.dtype == "int64"


def test_losses_match_their_formulas():
    z, y = random_array((3, 4), seed=15), random_array((3, 4), seed=16, low=0.0)
    got = ff.nn.weighted_cross_entropy_with_logits(y, z, 2.5).numpy()
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(got, -(2.5 * y * np.log(p) + (1 - y) * np.log(1 - p)))
    check_gradient(lambda a: ff.nn.weighted_cross_entropy_with_logits(y, a, 2.5), [z])
    t = np.array([0.0, 1.0, 3.0])
    lg = np.array([0.5, -0.2, 1.0])
    full = ff.nn.log_poisson_loss(t, lg, compute_full_loss=True).numpy()
    stirling = np.where(t > 1, t * np.log(np.maximum(t, 1)) - t + 0.5 * np.log(2 * np.pi * np.maximum(t, 1)), 0.0)
    np.testing.assert_allclose(full, np.exp(lg) - t * lg + stirling)


def test_moments_helpers():
    x = random_array((4, 3), seed=17)
    count, s, ss, _ = ff.nn.sufficient_statistics(x, [0])
    mean, var = ff.nn.normalize_moments(count, s, ss, None)
    np.testing.assert_allclose(mean.numpy(), x.mean(0))
    np.testing.assert_allclose(var.numpy(), x.var(0))
    w = np.array([[1.0], [2.0], [0.0], [1.0]])
    wm, wv = ff.nn.weighted_moments(x, [0], w)
    want_mean = (x * w).sum(0) / w.sum()
    np.testing.assert_allclose(wm.numpy(), want_mean)
    np.testing.assert_allclose(wv.numpy(), (w * (x - want_mean) ** 2).sum(0) / w.sum())


def test_sampled_losses_with_given_samples():
    rng = np.random.default_rng(18)
    w, b, x = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=(2, 3))
    labels = np.array([[1], [4]])
    sampled = np.array([0, 4, 5])
    true_q, sampled_q = np.array([[0.3], [0.1]]), np.array([0.5, 0.1, 0.05])
    values = (ff.constant(sampled), ff.constant(true_q), ff.constant(sampled_q))
    true_logit = (w[labels[:, 0]] * x).sum(1, keepdims=True) + b[labels] - np.log(true_q)
    sampled_logit = x @ w[sampled].T + b[sampled] - np.log(sampled_q)
    nce = ff.nn.nce_loss(w, b, labels, x, 3, 6, sampled_values=values).numpy()

    def softplus(v):
        return np.log1p(np.exp(v))
    np.testing.assert_allclose(nce, softplus(-true_logit[:, 0]) + softplus(sampled_logit).sum(1))
    soft = ff.nn.sampled_softmax_loss(w, b, labels, x, 3, 6, sampled_values=values).numpy()
    hit = sampled_logit.copy()
    hit[1, 1] = -np.inf  # example 1's label 4 was also sampled: an accidental hit is removed
    logits = np.concatenate([true_logit, hit], axis=1)
    np.testing.assert_allclose(soft, np.log(np.exp(logits).sum(1)) - logits[:, 0], rtol=1e-6)
    rows, ids, weights = ff.nn.compute_accidental_hits(labels, sampled, 1)
    np.testing.assert_array_equal(rows.numpy(), [1])
    np.testing.assert_array_equal(ids.numpy(), [1])
    assert weights.numpy()[0] < -1e30
    check_gradient(lambda ww, xx: ff.nn.sampled_softmax_loss(ww, b, labels, xx, 3, 6, sampled_values=values),
                   [w, x])


def test_embedding_lookup_sparse_combiners():
    params = np.arange(12, dtype="float64").reshape(3, 4)
    ids = ff.SparseTensor([[0, 0], [0, 1], [1, 0]], ff.constant([0, 2, 1], "int64"), [2, 2])
    weights = ff.SparseTensor([[0, 0], [0, 1], [1, 0]], ff.constant([1.0, 3.0, 2.0], "float64"), [2, 2])
    np.testing.assert_allclose(ff.nn.embedding_lookup_sparse(params, ids, None, combiner="mean").numpy(),
                               [(params[0] + params[2]) / 2, params[1]])
    np.testing.assert_allclose(ff.nn.embedding_lookup_sparse(params, ids, None, combiner="sqrtn").numpy(),
                               [(params[0] + params[2]) / np.sqrt(2), params[1]])
    np.testing.assert_allclose(ff.nn.embedding_lookup_sparse(params, ids, weights, combiner="sum").numpy(),
                               [params[0] + 3 * params[2], 2 * params[1]])
    holes = ff.SparseTensor([[0, 0], [2, 0]], ff.constant([0, -1], "int64"), [3, 2])
    np.testing.assert_allclose(ff.nn.safe_embedding_lookup_sparse(params, holes).numpy(),
                               [params[0], np.zeros(4), np.zeros(4)])
    check_gradient(lambda p: ff.nn.embedding_lookup_sparse(p, ids, weights, combiner="sqrtn"), [params])


def _labelling_log_probs(probs, blank):
    """Sum over every alignment of a (time, classes) probability table, by brute force."""
    totals = {}
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        collapsed = tuple(c for k, c in enumerate(path) if c != blank and (k == 0 or path[k - 1] != c))
        totals[collapsed] = totals.get(collapsed, 0.0) + np.prod([probs[t, c] for t, c in enumerate(path)])
    return totals


def test_ctc_decoders():
    probs = np.array([[0.1, 0.7, 0.2], [0.1, 0.7, 0.2], [0.6, 0.2, 0.2], [0.1, 0.2, 0.7]])
    logits = np.log(probs)[:, None, :]  # (time, batch=1, classes); the blank is the last class
    decoded, neg_sum = ff.nn.ctc_greedy_decoder(logits, [4])
    np.testing.assert_array_equal(ff.sparse.to_dense(decoded[0]).numpy(), [[1, 0]])
    np.testing.assert_allclose(neg_sum.numpy(), [[-np.log(probs.max(1)).sum()]])
    decoded, log_probs = ff.nn.ctc_beam_search_decoder(logits, [4], beam_width=10, top_paths=2)
    best = sorted(_labelling_log_probs(probs, 2).items(), key=lambda kv: -kv[1])[:2]
    for k, (labelling, p) in enumerate(best):
        np.testing.assert_array_equal(ff.sparse.to_dense(decoded[k]).numpy(), [list(labelling)])
        np.testing.assert_allclose(log_probs.numpy()[0, k], np.log(p), rtol=1e-6)


def test_dropout_variants():
    x = np.ones((100,), "float32")
    a = ff.nn.experimental.stateless_dropout(x, 0.3, seed=[3, 4]).numpy()
    b = ff.nn.experimental.stateless_dropout(x, 0.3, seed=[3, 4]).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.7)}
    out = ff.nn.experimental.general_dropout(ff.ones((2, 3)), 0.5, lambda s, dtype: np.full(s, 0.7),
                                              noise_shape=[2, 1])
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="rate"):
        ff.nn.experimental.general_dropout(x, 1.0, lambda s, dtype: np.zeros(s))


def test_pool_and_with_space_to_batch():
    x = random_array((1, 6, 6, 1), seed=19)
    got = ff.nn.pool(x, [2, 2], "MAX", strides=[2, 2]).numpy()
    np.testing.assert_allclose(got[0, :, :, 0], x[0, :, :, 0].reshape(3, 2, 3, 2).max(axis=(1, 3)))
    w = random_array((2, 2, 1, 1), seed=20)
    direct = ff.nn.convolution(x, w, padding="VALID", dilations=2).numpy()
    via = ff.nn.with_space_to_batch(x, [2, 2], "VALID", lambda inp, _, padding: ff.nn.conv2d(inp, w, 1, padding))
    np.testing.assert_allclose(via.numpy(), direct)


def test_crelu_and_zero_fraction():
    np.testing.assert_allclose(ff.nn.crelu([[1.0, -2.0]]).numpy(), [[1.0, 0.0, 0.0, 2.0]])
    assert float(ff.nn.zero_fraction([0.0, 1.0, 0.0, 3.0])) == 0.5
