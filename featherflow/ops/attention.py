"""Fused multi-head dot-product attention: one op, one backward rule.

``dot_product_attention(query, key, value)`` takes projected heads in Keras's layout ``[B, T, N, H]``
(batch, positions, heads, channels) and computes, per batch row and head,

    scores = (query * scale) @ key^T            [B, N, T, S]
    probs  = softmax(scores + (1 - mask) * -1e9) over S
    output = dropout(probs) @ value             [B, T, N, Hv]

as ``MultiHeadAttention`` does (Vaswani et al. 2017, "Attention Is All You Need"; the masked logits get
-1e9 added exactly as Keras's ``Softmax`` layer adds it). The products are batched matrix products over
``B * N`` heads on strided views (no per-head Python loop, no transposed copies of the inputs); the
softmax runs in place on the score buffer, and the backward rule uses the closed form

    dS = P * (dP - sum(dP * P, over S))

instead of differentiating max/exp/sum/divide separately. The probabilities are kept for the backward
pass (``B * N * T * S`` values, as in any attention without recomputation).

>>> import numpy as np
>>> q = np.ones((1, 2, 1, 4), "float32")
>>> out, probs = dot_product_attention(q, q, np.arange(8, dtype="float32").reshape(1, 2, 1, 4),
...                                    return_scores=True)
>>> probs.numpy()[0, 0]
array([[0.5, 0.5],
       [0.5, 0.5]], dtype=float32)
>>> out.numpy()[0, :, 0]
array([[2., 3., 4., 5.],
       [2., 3., 4., 5.]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import use_threads_for
from featherflow.core.tape import record, record_multi
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor
from featherflow.ops._workspace import workspace

_MASK_ADDER = -1e9  # Keras's large negative for masked logits (float16: half its minimum)


def _mask_adder(dtype) -> float:
    return float(np.finfo(np.float16).min) / 2 if np.dtype(dtype) == np.float16 else _MASK_ADDER


def _check_shapes(q, k, v) -> None:
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(
            "dot_product_attention: query, key and value must be 4-D [batch, positions, heads, channels]. "
            f"Received: query.shape={q.shape}, key.shape={k.shape}, value.shape={v.shape}")
    if q.shape[0] != k.shape[0] or k.shape[:3] != v.shape[:3] or q.shape[2] != k.shape[2] \
            or q.shape[3] != k.shape[3]:
        raise ValueError(
            "dot_product_attention: expected query [B, T, N, H], key [B, S, N, H] and value [B, S, N, Hv] "
            f"with matching B, S, N and H. Received: query.shape={q.shape}, key.shape={k.shape}, "
            f"value.shape={v.shape}")


def _mask_bias(mask, scores_shape, dtype, xp):
    """The additive mask ``(1 - mask) * -1e9`` shaped to broadcast against ``[B, N, T, S]``, or None."""
    if mask is None:
        return None
    m = mask.value if isinstance(mask, Tensor) else mask
    m = xp.asarray(m)
    if m.dtype != bool:
        m = m > 0.5 if m.dtype.kind == "f" else m != 0
    try:
        xp.broadcast_shapes(m.shape, scores_shape)
    except ValueError:
        raise ValueError(
            f"dot_product_attention: the mask of shape {m.shape} does not broadcast against the attention "
            f"scores [batch, heads, queries, keys] = {scores_shape}. Pass a mask of shape (B, T, S) expanded "
            "to (B, 1, T, S), or (1, 1, T, S).") from None
    bias = xp.zeros(m.shape, dtype=dtype)
    bias[~m] = _mask_adder(dtype)
    return bias


def _softmax_rows_inplace(s, xp) -> None:
    """``s = softmax(s)`` over the last axis, in place (max-shifted; one reciprocal per row, then a multiply)."""
    s -= s.max(axis=-1, keepdims=True)
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    xp.reciprocal(total, out=total)
    s *= total


def dot_product_attention(query, key, value, mask=None, scale=None, dropout_mask=None,
                          return_scores: bool = False):
    """Multi-head scaled dot-product attention as one op (see the module docstring).

    Args:
        query: ``[B, T, N, H]`` projected queries (``N`` heads of ``H`` channels).
        key: ``[B, S, N, H]`` projected keys.
        value: ``[B, S, N, Hv]`` projected values.
        mask: optional boolean array broadcasting against the scores ``[B, N, T, S]`` (``True`` =
            attend); masked logits get -1e9 added before the softmax.
        scale: multiplies the queries (default ``1 / sqrt(H)``).
        dropout_mask: optional array broadcasting against ``[B, N, T, S]`` that multiplies the
            probabilities (zeros and ``1 / (1 - rate)``: inverted dropout drawn by the caller).
        return_scores: also return the probabilities ``[B, N, T, S]`` (before dropout).

    Returns:
        ``output`` ``[B, T, N, Hv]``, or ``(output, probabilities)`` with ``return_scores``.
    """
    q = as_float_tensor(query, "dot_product_attention", "query")
    k = as_float_tensor(key, "dot_product_attention", "key")
    v = as_float_tensor(value, "dot_product_attention", "value")
    if not q.value.dtype == k.value.dtype == v.value.dtype:
        raise TypeError(f"dot_product_attention: query, key and value must share one dtype. Received: "
                        f"{q.dtype.name}, {k.dtype.name}, {v.dtype.name}")
    qv, kv, vv = q.value, k.value, v.value
    _check_shapes(qv, kv, vv)
    xp = array_module(qv)
    dtype = qv.dtype
    batch, queries, heads, channels = qv.shape
    keys, value_channels = kv.shape[1], vv.shape[3]
    scale = dtype.type(1.0 / math.sqrt(channels) if scale is None else scale)
    scores_shape = (batch, heads, queries, keys)
    bias = _mask_bias(mask, scores_shape, dtype, xp)
    drop = None
    if dropout_mask is not None:
        drop = xp.asarray(dropout_mask.value if isinstance(dropout_mask, Tensor) else dropout_mask, dtype=dtype)

    use_threads_for(batch * heads * queries * keys * max(channels, value_channels))
    q_scaled = qv * scale  # Keras scales the queries before the product
    q_heads = q_scaled.transpose(0, 2, 1, 3)  # [B, N, T, H] views: no copies
    k_heads = kv.transpose(0, 2, 1, 3)  # [B, N, S, H]
    v_heads = vv.transpose(0, 2, 1, 3)  # [B, N, S, Hv]
    # The [B, N, T, S] buffers come from the ops' pool: fresh ones would page-fault on every step
    # (a 10 MB array is 2,500 faults), and the backward rule keeps `probs` alive for as long as needed.
    probs = xp.matmul(q_heads, k_heads.swapaxes(-1, -2), out=workspace("attention_probs", scores_shape, dtype, xp))
    if bias is not None:
        probs += bias
    _softmax_rows_inplace(probs, xp)
    weights = probs if drop is None else probs * drop
    out = xp.empty((batch, queries, heads, value_channels), dtype=dtype)
    xp.matmul(weights, v_heads, out=out.transpose(0, 2, 1, 3))

    def backward(grads, needs):
        g_out, g_probs = grads if return_scores else (grads, None)
        use_threads_for(batch * heads * queries * keys * max(channels, value_channels))
        g_heads = None if g_out is None else g_out.transpose(0, 2, 1, 3)  # [B, N, T, Hv]
        g_v = None
        if needs[2] and g_heads is not None:
            g_v = xp.empty_like(vv)
            xp.matmul(weights.swapaxes(-1, -2), g_heads, out=g_v.transpose(0, 2, 1, 3))
        if not (needs[0] or needs[1]):
            return None, None, g_v
        if g_heads is not None:
            # d loss / d weights, [B, N, T, S]
            d = xp.matmul(g_heads, v_heads.swapaxes(-1, -2), out=workspace("attention_grad", scores_shape, dtype, xp))
            if drop is not None:
                d *= drop
            if g_probs is not None:
                d += g_probs
        else:
            d = xp.array(g_probs, dtype=dtype, copy=True)
        # softmax backward in place: dS = P * (dP - sum(dP * P))
        row = xp.einsum("...s,...s->...", d, probs)
        d -= row[..., None]
        d *= probs
        g_q = g_k = None
        if needs[0]:
            g_q = xp.empty_like(qv)
            xp.matmul(d, k_heads, out=g_q.transpose(0, 2, 1, 3))
            g_q *= scale
        if needs[1]:
            g_k = xp.empty_like(kv)
            xp.matmul(d.swapaxes(-1, -2), q_heads, out=g_k.transpose(0, 2, 1, 3))
        return g_q, g_k, g_v

    if return_scores:
        output, scores = record_multi("dot_product_attention", (q, k, v), [out, probs], backward)
        return output, scores
    return record("dot_product_attention", (q, k, v), out, backward)
