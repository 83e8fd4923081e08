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
