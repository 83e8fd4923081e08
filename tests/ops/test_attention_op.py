import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops.attention import dot_product_attention


def _reference(q, k, v, mask=None, drop=None, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = np.einsum("btnh,bsnh->bnts", q * scale, k)
    if mask is not None:
        scores = scores + (1.0 - mask) * -1e9
    e = np.exp(scores - scores.max(-1, keepdims=True))
    probs = e / e.sum(-1, keepdims=True)
    weights = probs if drop is None else probs * drop
    return np.einsum("bnts,bsnh->btnh", weights, v), probs


def _inputs(seed=0, b=2, t=3, s=4, n=2, h=3, hv=5):
    return [random_array(shape, seed=seed + i) for i, shape in enumerate([(b, t, n, h), (b, s, n, h), (b, s, n, hv)])]


def test_forward_matches_einsum_reference():
    q, k, v = _inputs()
    rng = np.random.default_rng(0)
    mask = rng.random((2, 1, 3, 4)) > 0.3
    drop = (rng.random((2, 2, 3, 4)) > 0.25) / 0.75
    out, probs = dot_product_attention(q, k, v, mask=mask, dropout_mask=drop, scale=0.7, return_scores=True)
    ref_out, ref_probs = _reference(q, k, v, mask, drop, scale=0.7)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(probs.numpy(), ref_probs, rtol=1e-12, atol=1e-14)
    assert out.shape == (2, 3, 2, 5) and probs.shape == (2, 2, 3, 4)


@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize("with_dropout", [False, True])
@pytest.mark.parametrize("scores", [False, True])
def test_gradients(with_mask, with_dropout, scores):
    q, k, v = _inputs(seed=3)
    rng = np.random.default_rng(1)
    mask = (rng.random((2, 1, 3, 4)) > 0.3) if with_mask else None
    drop = ((rng.random((2, 2, 3, 4)) > 0.25) / 0.75) if with_dropout else None
    check_gradient(lambda a, b, c: dot_product_attention(a, b, c, mask=mask, dropout_mask=drop,
                                                         return_scores=scores), [q, k, v])


def test_gradient_of_the_scores_alone():
    q, k, v = _inputs(seed=5)
    check_gradient(lambda a, b, c: dot_product_attention(a, b, c, return_scores=True)[1], [q, k, v], wrt=[0, 1])


def test_float32_and_a_fully_masked_row_is_uniform():
    q, k, v = [x.astype("float32") for x in _inputs(seed=7)]
    mask = np.ones((1, 1, 3, 4), bool)
    mask[..., 1, :] = False
    out, probs = dot_product_attention(q, k, v, mask=mask, return_scores=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(probs.numpy()[:, :, 1], 0.25, rtol=1e-6)


def test_errors():
    q, k, v = _inputs()
    with pytest.raises(ValueError, match="4-D"):
        dot_product_attention(q[0], k, v)
    with pytest.raises(ValueError, match="matching"):
        dot_product_attention(q, k[:, :2], v)
    with pytest.raises(ValueError, match="does not broadcast"):
        dot_product_attention(q, k, v, mask=np.ones((2, 3, 3), bool))
    with pytest.raises(TypeError, match="one dtype"):
        dot_product_attention(q.astype("float32"), k, v)


def test_only_needed_gradients_are_computed():
    q, k, v = [ff.Variable(x) for x in _inputs(seed=9)]
    with ff.GradientTape() as tape:
        loss = ff.reduce_sum(dot_product_attention(q, k, ff.constant(v.numpy())))
    gq, gk = tape.gradient(loss, [q, k])
    assert gq.shape == q.shape and gk.shape == k.shape


@pytest.mark.parametrize("block_elements", [1, 24, 1 << 17])
def test_blocked_rows_give_the_same_values_and_gradients(block_elements, monkeypatch):
    from featherflow.ops import attention

    q, k, v = _inputs(seed=11, b=5)
    mask = np.random.default_rng(3).random((3, 4)) > 0.3  # 2-D: broadcast over batch and heads
    drop = (np.random.default_rng(4).random((5, 1, 3, 4)) > 0.2) / 0.8
    reference = _reference(q, k, v, mask, drop)
    monkeypatch.setattr(attention, "_BLOCK_ELEMENTS", block_elements)  # 1: one batch row per block
    out, probs = dot_product_attention(q, k, v, mask=mask, dropout_mask=drop, return_scores=True)
    np.testing.assert_allclose(out.numpy(), reference[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(probs.numpy(), reference[1], rtol=1e-12, atol=1e-14)
    check_gradient(lambda a, b, c: dot_product_attention(a, b, c, mask=mask, dropout_mask=drop, return_scores=True),
                   [q, k, v])


def _float32_case(seed=13, b=6, t=48, s=40, n=2, h=8):
    """6 x 2 x 48 x 40 = 23,040 scores (the kernels are asked for with ``use_kernels``)."""
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal(shape) * 2 for shape in [(b, t, n, h), (b, s, n, h), (b, s, n, h)])
    mask = rng.random((b, 1, t, s)) > 0.2
    return q, k, v, mask


@pytest.mark.parametrize("kernels", [True, False])
def test_float32_values_and_gradients_match_float64(kernels):
    """The float32 path (with Numba: the compiled softmax and its backward, ``_numba_attention``; without: NumPy)
    against the float64 op: float32 rounding apart, the same probabilities, outputs and gradients, and masked
    scores exactly zero."""
    from featherflow.ops import _kernels

    q, k, v, mask = _float32_case()
    rng = np.random.default_rng(2)
    g_out = rng.standard_normal(q.shape[:3] + (v.shape[3],))
    results = {}
    _kernels.use_kernels(kernels)
    try:
        for dtype in ("float64", "float32"):
            variables = [ff.Variable(x.astype(dtype)) for x in (q, k, v)]
            with ff.GradientTape() as tape:
                out, probs = dot_product_attention(*variables, mask=mask, return_scores=True)
                loss = ff.reduce_sum(out * g_out.astype(dtype)) + ff.reduce_sum(probs * probs)
            results[dtype] = [out.numpy(), probs.numpy()] + [g.numpy() for g in tape.gradient(loss, variables)]
    finally:
        _kernels.use_kernels(None)
    for got, want in zip(results["float32"], results["float64"]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5 * np.abs(want).max())
    probs32 = results["float32"][1]
    assert np.all(probs32[~np.broadcast_to(mask, probs32.shape)] == 0)
    np.testing.assert_allclose(probs32.sum(-1), 1, rtol=1e-6)


def test_softmax_kernel_extremes_match_numpy():
    """``softmax_rows`` on logits NumPy's float32 exp handles at its edges: huge spreads (underflow to 0), -1e9
    masks, equal rows, one dominant logit."""
    from featherflow.ops import _kernels

    kernel = _kernels.get_for_work("softmax_rows", None)
    if kernel is None:
        pytest.skip("Numba is not installed: the NumPy path is the only one")
    rng = np.random.default_rng(8)
    s = (rng.standard_normal((64, 50)) * np.exp(rng.uniform(-5, 5, (64, 1)))).astype("float32")
    s[1] = 0.0
    s[2, ::3] = -1e9
    s[3] = -1e9
    s[4, 7] = 80.0
    s[5] = np.linspace(-200, 0, 50)
    s[6, 49] = 30.0  # the maximum in the tail after the eight-wide running maxima (50 = 6 * 8 + 2)
    s[7, 8] = 30.0  # ... and in the second lane group
    want = np.exp(s.astype("float64") - s.max(-1, keepdims=True))
    want /= want.sum(-1, keepdims=True)
    got = s.copy()
    kernel(got, np.empty(50, np.int32))
    # float32 rounding of the shifted logits x costs ~|x| * 6e-8 relative error in exp(x) on any path
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    # below float32's normal range (2**-126, x < -88) the exponential is 0, as float32 underflow gives
    assert np.all(got[2, ::3] == 0) and np.all(got[5, s[5] < -88.1] == 0) and np.all(got[5, s[5] > -87] > 0)
    short = np.array([[3.0, -1.0, 7.0, 0.5, 2.0], [-4.0, -3.0, -2.0, -1.0, -90.0]], "float32")  # rows under 8
    want = np.exp(short.astype("float64") - short.max(-1, keepdims=True))
    got = short.copy()
    kernel(got, np.empty(5, np.int32))
    np.testing.assert_allclose(got, want / want.sum(-1, keepdims=True), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("parts", [2, 3])
def test_rows_split_over_threads_give_identical_results(parts, monkeypatch):
    """Batch rows split over threads (``split_parts``) run the same per-row work: bit-identical outputs and
    gradients (with OpenBLAS on one thread either way: its sums depend on its thread count)."""
    from featherflow.backend import blas
    from featherflow.ops import attention

    monkeypatch.setattr(attention, "use_threads_for", lambda macs: blas.use_threads_for(0))

    from featherflow.ops import _kernels

    q, k, v, mask = [x.astype("float32") if x.dtype != bool else x for x in _float32_case(seed=17, b=24)]
    drop = ((np.random.default_rng(5).random((24, 2, 48, 40)) > 0.1) / 0.9).astype("float32")
    assert q.shape[0] * 2 * 48 * 40 >= attention._KERNEL_MIN_WORK or _kernels.get_for_work("softmax_rows") is None

    def run():
        variables = [ff.Variable(x) for x in (q, k, v)]
        with ff.GradientTape() as tape:
            out = dot_product_attention(*variables, mask=mask, dropout_mask=drop)
            loss = ff.reduce_sum(out * out)
        return [out.numpy()] + [g.numpy() for g in tape.gradient(loss, variables)]

    monkeypatch.setattr(attention, "split_parts", lambda n, work, xp: 1)
    want = run()
    monkeypatch.setattr(attention, "split_parts", lambda n, work, xp: parts)
    for got, expected in zip(run(), want):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("with_mask_and_dropout", [False, True])
def test_packed_self_attention_equals_the_op_on_its_slices(scores, with_mask_and_dropout):
    """``packed_self_attention`` (MultiHeadAttention's fused projections, one gradient for the packed tensor)
    gives ``dot_product_attention``'s values on the three slices, and finite differences agree."""
    from featherflow.ops.attention import packed_self_attention

    heads, key_dim, value_dim = 2, 3, 4
    x = random_array((2, 5, heads * (2 * key_dim + value_dim)), seed=21)
    rng = np.random.default_rng(6)
    mask = (rng.random((2, 1, 5, 5)) > 0.3) if with_mask_and_dropout else None
    drop = ((rng.random((2, 2, 5, 5)) > 0.25) / 0.75) if with_mask_and_dropout else None

    def packed(a):
        return packed_self_attention(a, heads, key_dim, value_dim, mask=mask, dropout_mask=drop, scale=0.6,
                                     return_scores=scores)

    def sliced(a):
        q = ff.reshape(a[..., :6], (2, 5, heads, key_dim))
        k = ff.reshape(a[..., 6:12], (2, 5, heads, key_dim))
        v = ff.reshape(a[..., 12:], (2, 5, heads, value_dim))
        return dot_product_attention(q, k, v, mask=mask, dropout_mask=drop, scale=0.6, return_scores=scores)

    results = []
    for fn in (packed, sliced):
        variable = ff.Variable(x)
        with ff.GradientTape() as tape:
            out = fn(variable)
            outs = list(out) if scores else [out]
            loss = sum(ff.reduce_sum(o * np.cos(np.arange(o.size)).reshape(o.shape)) for o in outs)
        results.append([o.numpy() for o in outs] + [tape.gradient(loss, variable).numpy()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    check_gradient(packed, [x])
    with pytest.raises(ValueError, match="num_heads"):
        packed_self_attention(x[..., :-1], heads, key_dim, value_dim)
