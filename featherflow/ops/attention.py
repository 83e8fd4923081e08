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

Speed (issue 19's text classifier: 32 x 2 heads x 200 x 200 scores a step): the batch rows are split over
threads when cores are free (``conv_utils.split_batch``; each thread runs its rows' products on one BLAS
thread: a 200 x 32 x 200 product is too small for OpenBLAS's own threads), and with Numba the float32
softmax and its backward are compiled row kernels (``_numba_attention``: 2.4 ms instead of 6.8-7.4 ms for
the 2.56M scores). Measured on one core: forward 14.6 -> 10.6 ms, backward 18.9 -> 13.4 ms of CPU.

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
from featherflow.ops import _kernels
from featherflow.ops._convert import as_float_tensor
from featherflow.ops._host import on_host
from featherflow.ops._workspace import workspace
from featherflow.ops.conv_utils import split_batch, split_parts

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
    m = xp.asarray(mask)
    if m.dtype != bool:
        m = m > 0.5 if m.dtype.kind == "f" else m != 0
    bias = xp.zeros(m.shape, dtype=dtype)
    bias[~m] = _mask_adder(dtype)
    return bias.reshape((1,) * (4 - bias.ndim) + bias.shape)  # 4-D, so blocks of batch rows slice it


def _row_kernel(name: str, scores, xp):
    """The compiled row kernel ``name`` (``_numba_attention``) for a float32 NumPy score array, or None (Numba
    missing or switched off, another dtype or array module, or fewer than ``_KERNEL_MIN_WORK`` scores). Asked
    once per op call, for all of its scores: every block (and thread) then takes the same path."""
    if xp is not np or scores.dtype != np.float32:
        return None
    return _kernels.get_for_work(name, scores.size, _KERNEL_MIN_WORK)


def _softmax_rows_inplace(s, xp, kernel=None) -> None:
    """``s = softmax(s)`` over the last axis, in place (max-shifted; one reciprocal per row, then a multiply);
    with ``kernel`` (``_numba_attention.softmax_rows``, for a C-contiguous block) one pass per row in cache."""
    if kernel is not None and s.flags.c_contiguous:
        kernel(s.reshape(-1, s.shape[-1]), np.empty(s.shape[-1], np.int32))
        return
    s -= s.max(axis=-1, keepdims=True)
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    xp.reciprocal(total, out=total)
    s *= total


def _softmax_grad_inplace(d, p, xp, kernel=None, scale=1.0) -> None:
    """``d = scale * p * (d - sum(d * p))`` over the last axis, in place: the softmax's backward from the output
    gradient ``d`` and the probabilities ``p``, times ``scale`` (``kernel``:
    ``_numba_attention.softmax_grad_rows``)."""
    if kernel is not None and d.flags.c_contiguous and p.flags.c_contiguous:
        kernel(d.reshape(-1, d.shape[-1]), p.reshape(-1, p.shape[-1]), scale)
        return
    row = xp.einsum("...s,...s->...", d, p)
    d -= row[..., None]
    d *= p
    if scale != 1:
        d *= scale


# scores from which the softmax kernels are used (their import is paid once per process, and only by
# attention this large: the text classifier has 2.56M scores a step)
_KERNEL_MIN_WORK = 65_536
_BLOCK_ELEMENTS = 1 << 17  # scores per block (512 KB of float32): about a core's L2 cache


def _block_rows(batch: int, per_row: int) -> int:
    """How many batch rows of ``per_row`` scores the attention processes together."""
    return max(1, min(batch, _BLOCK_ELEMENTS // max(per_row, 1)))


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
    mask, dropout_mask, scale = _check_options(qv, kv, mask, dropout_mask, scale)
    # the array work runs as one host call each way in a tf.function (pooled buffers written in place)
    out, probs, weights = on_host(_forward, qv, kv, vv, mask, dropout_mask, scale)

    def backward(grads, needs):
        g_out, g_probs = grads if return_scores else (grads, None)
        return on_host(_backward, g_out, g_probs, qv, kv, vv, probs, weights, dropout_mask, scale, tuple(needs))

    if return_scores:
        output, scores = record_multi("dot_product_attention", (q, k, v), [out, probs], backward)
        return output, scores
    return record("dot_product_attention", (q, k, v), out, backward)


def _check_options(qv, kv, mask, dropout_mask, scale):
    """``(mask, dropout_mask, scale)`` as arrays and a scalar of the queries' dtype, checked against the scores."""
    mask = mask.value if isinstance(mask, Tensor) else mask
    dropout_mask = dropout_mask.value if isinstance(dropout_mask, Tensor) else dropout_mask
    if dropout_mask is not None and np.ndim(dropout_mask) > 4:
        raise ValueError(f"dot_product_attention: dropout_mask must broadcast against {_scores_shape(qv, kv)}. "
                         f"Received shape {np.shape(dropout_mask)}")
    if mask is not None:
        try:
            np.broadcast_shapes(np.shape(mask), _scores_shape(qv, kv))
        except ValueError:
            raise ValueError(
                f"dot_product_attention: the mask of shape {np.shape(mask)} does not broadcast against the "
                f"attention scores [batch, heads, queries, keys] = {_scores_shape(qv, kv)}. Pass a mask of shape "
                "(B, T, S) expanded to (B, 1, T, S), or (1, 1, T, S).") from None
    scale = qv.dtype.type(1.0 / math.sqrt(qv.shape[3]) if scale is None else scale)
    return mask, dropout_mask, scale


def packed_self_attention(packed, num_heads: int, key_dim: int, value_dim: int, mask=None, scale=None,
                          dropout_mask=None, return_scores: bool = False):
    """Self-attention over one projected tensor ``[B, T, N * (2 * key_dim + value_dim)]`` holding the queries,
    keys and values side by side (``MultiHeadAttention``'s fused projections): the values of
    ``dot_product_attention`` on its three slices, each viewed as ``[B, T, N, dim]``, with ONE gradient for the
    packed tensor, written slice by slice (splitting the tensor first would cost a concatenation of the three
    gradients in the backward pass: 1-2 ms a step for the text classifier's 6,400 x 192 projections).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((2, 3, 2 * (4 + 4 + 4))).astype("float32")
    >>> q, k, v = (x[..., i * 8:(i + 1) * 8].reshape(2, 3, 2, 4) for i in range(3))
    >>> bool(np.allclose(packed_self_attention(x, 2, 4, 4).numpy(), dot_product_attention(q, k, v).numpy()))
    True
    """
    x = as_float_tensor(packed, "packed_self_attention", "packed")
    xv = x.value
    width = num_heads * (2 * key_dim + value_dim)
    if xv.ndim != 3 or xv.shape[2] != width:
        raise ValueError(f"packed_self_attention: expected [batch, positions, num_heads * (2 * key_dim + value_dim)"
                         f"] = [B, T, {width}]. Received: packed.shape={xv.shape}")
    qv, kv, vv = _unpack(xv, num_heads, key_dim, value_dim)
    mask, dropout_mask, scale = _check_options(qv, kv, mask, dropout_mask, scale)
    out, probs, weights = on_host(_forward, qv, kv, vv, mask, dropout_mask, scale)
    layout = (num_heads, key_dim, value_dim)

    def backward(grads, needs):
        g_out, g_probs = grads if return_scores else (grads, None)
        return (on_host(_packed_backward, g_out, g_probs, xv, probs, weights, dropout_mask, scale, layout),)

    if return_scores:
        output, scores = record_multi("packed_self_attention", (x,), [out, probs], backward)
        return output, scores
    return record("packed_self_attention", (x,), out, backward)


def _unpack(xv, num_heads: int, key_dim: int, value_dim: int):
    """The ``[B, T, N, dim]`` views of the queries, keys and values in a packed ``[B, T, width]`` array."""
    batch, positions = xv.shape[:2]
    q_end, k_end = num_heads * key_dim, 2 * num_heads * key_dim
    return (xv[..., :q_end].reshape(batch, positions, num_heads, key_dim),
            xv[..., q_end:k_end].reshape(batch, positions, num_heads, key_dim),
            xv[..., k_end:].reshape(batch, positions, num_heads, value_dim))


def _packed_backward(g_out, g_probs, xv, probs, weights, dropout_mask, scale, layout):
    """The packed tensor's gradient: ``_backward``'s three gradients written into its slices."""
    grad = array_module(xv).empty_like(xv)
    qv, kv, vv = _unpack(xv, *layout)
    _backward(g_out, g_probs, qv, kv, vv, probs, weights, dropout_mask, scale, (True, True, True),
              outs=_unpack(grad, *layout))
    return grad


def _scores_shape(qv, kv) -> tuple:
    return (qv.shape[0], qv.shape[2], qv.shape[1], kv.shape[1])


def _dropout(dropout_mask, dtype, xp):
    if dropout_mask is None:
        return None
    drop = xp.asarray(dropout_mask, dtype=dtype)
    return drop.reshape((1,) * (4 - drop.ndim) + drop.shape)


def _forward(qv, kv, vv, mask, dropout_mask, scale):
    """``(output, probabilities, dropped probabilities)`` (the last is the second without dropout)."""
    out, probs, weights, run = forward_rows(qv, kv, vv, mask, dropout_mask, scale)
    batch, queries, heads, channels = qv.shape
    xp = array_module(qv)
    parts = _threads(batch, heads * queries * kv.shape[1], max(channels, vv.shape[3]), xp)
    split_batch(run, batch, probs.size, xp, parts)
    return out, probs, weights


def forward_rows(qv, kv, vv, mask, dropout_mask, scale):
    """The forward pass by batch rows: ``(output, probabilities, dropped probabilities, run)`` with the three
    arrays allocated and ``run(start, stop)`` filling rows ``start:stop`` of them from the same rows of ``qv``,
    ``kv`` and ``vv`` (read only there and then: a caller may still be writing other rows of them)."""
    xp = array_module(qv)
    dtype = qv.dtype
    batch, queries, heads, channels = qv.shape
    keys, value_channels = kv.shape[1], vv.shape[3]
    scores_shape = (batch, heads, queries, keys)
    bias = _mask_bias(mask, scores_shape, dtype, xp)
    drop = _dropout(dropout_mask, dtype, xp)
    # Keras scales the queries before the product; the scaled copy is made in the heads' layout [B, N, T, H]
    # (contiguous rows for the products), the keys and values are strided views (no copies)
    q_heads = xp.empty((batch, heads, queries, channels), dtype)
    q_view = qv.transpose(0, 2, 1, 3)
    k_heads = kv.transpose(0, 2, 1, 3)  # [B, N, S, H]
    v_heads = vv.transpose(0, 2, 1, 3)  # [B, N, S, Hv]
    # The [B, N, T, S] buffers come from the ops' pool: fresh ones would page-fault on every step
    # (a 10 MB array is 2,500 faults), and the backward rule keeps `probs` alive for as long as needed.
    probs = workspace("attention_probs", scores_shape, dtype, xp)
    weights = probs if drop is None else xp.empty_like(probs)
    out = xp.empty((batch, queries, heads, value_channels), dtype=dtype)
    out_heads = out.transpose(0, 2, 1, 3)
    # A few batch rows at a time: each block's scores stay in cache through the product, the mask, the
    # softmax and the product with the values (one pass over memory instead of six).
    rows = _block_rows(batch, heads * queries * keys)
    kernel = _row_kernel("softmax_rows", probs, xp)

    def run(start, stop):
        xp.multiply(q_view[start:stop], scale, out=q_heads[start:stop])
        for b0 in range(start, stop, rows):
            b1 = min(stop, b0 + rows)
            p = probs[b0:b1]
            xp.matmul(q_heads[b0:b1], k_heads[b0:b1].swapaxes(-1, -2), out=p)
            if bias is not None:
                p += bias if bias.shape[0] == 1 else bias[b0:b1]
            _softmax_rows_inplace(p, xp, kernel)
            w = p
            if drop is not None:
                w = weights[b0:b1]
                xp.multiply(p, drop if drop.shape[0] == 1 else drop[b0:b1], out=w)
            xp.matmul(w, v_heads[b0:b1], out=out_heads[b0:b1])

    return out, probs, weights, run


def _threads(batch: int, scores_per_row: int, channels: int, xp) -> int:
    """How many threads split the batch rows (``conv_utils.split_parts``), with BLAS's own thread count set to
    match: one per split thread (the products of one row, 200 x 32 x 200 in the text classifier, are too
    small for OpenBLAS's threads to pay, and two splitting threads must not both ask for both cores); without
    a split, by the size of one block's product."""
    parts = split_parts(batch, batch * scores_per_row, xp)
    if parts > 1:
        use_threads_for(0)
    else:
        use_threads_for(_block_rows(batch, scores_per_row) * scores_per_row * channels)
    return parts


def _backward(g_out, g_probs, qv, kv, vv, probs, weights, dropout_mask, scale, needs, outs=None):
    """``(g_query, g_key, g_value)`` (None where not needed) from the forward's saved probabilities; ``outs``:
    three arrays to write them into (views of a packed gradient), else new ones."""
    xp = array_module(qv)
    batch, queries, heads, channels = qv.shape
    parts = _threads(batch, heads * queries * kv.shape[1], max(channels, vv.shape[3]), xp)
    grads, run = backward_rows(g_out, g_probs, qv, kv, vv, probs, weights, dropout_mask, scale, needs, outs)
    split_batch(run, batch, probs.size, xp, parts)
    return grads


def backward_rows(g_out, g_probs, qv, kv, vv, probs, weights, dropout_mask, scale, needs, outs=None):
    """The backward pass by batch rows: ``((g_query, g_key, g_value), run)``, the gradients allocated (or
    ``outs``) and ``run(start, stop)`` writing their rows ``start:stop``."""
    xp = array_module(qv)
    dtype = qv.dtype
    batch, queries, heads, channels = qv.shape
    drop = _dropout(dropout_mask, dtype, xp)
    rows = _block_rows(batch, heads * queries * kv.shape[1])
    q_heads = qv.transpose(0, 2, 1, 3)  # unscaled: the scale is folded into the scores' gradient below
    k_heads = kv.transpose(0, 2, 1, 3)
    v_heads = vv.transpose(0, 2, 1, 3)
    g_heads = None if g_out is None else g_out.transpose(0, 2, 1, 3)  # [B, N, T, Hv]
    g_v = g_q = g_k = None
    if outs is not None:
        g_q, g_k, g_v = outs
        if g_heads is None:
            g_v[...] = 0
            g_v = None
    else:
        if needs[2] and g_heads is not None:
            g_v = xp.empty_like(vv)
        if needs[0]:
            g_q = xp.empty_like(qv)
        if needs[1]:
            g_k = xp.empty_like(kv)
    kernel = _row_kernel("softmax_grad_rows", probs, xp)

    def run(start, stop):
        scratch = None
        for b0 in range(start, stop, rows):
            b1 = min(stop, b0 + rows)
            p, w = probs[b0:b1], weights[b0:b1]
            if g_v is not None:
                xp.matmul(w.swapaxes(-1, -2), g_heads[b0:b1], out=g_v.transpose(0, 2, 1, 3)[b0:b1])
            if g_q is None and g_k is None:
                continue
            if scratch is None:  # one per thread (the pool hands each its own memory)
                scratch = workspace("attention_grad", (rows,) + probs.shape[1:], dtype, xp)
            d = scratch[:b1 - b0]  # d loss / d probabilities, then / d scores
            if g_heads is not None:
                xp.matmul(g_heads[b0:b1], v_heads[b0:b1].swapaxes(-1, -2), out=d)
                if drop is not None:
                    d *= drop if drop.shape[0] == 1 else drop[b0:b1]
                if g_probs is not None:
                    d += g_probs[b0:b1]
            else:
                d[...] = g_probs[b0:b1]
            # d(scores) = P * (dP - sum(dP * P)), times the queries' scale: the scores are (scale * Q) K^T, so
            # g_Q = scale * dS K and g_K = dS^T (scale * Q) = (scale * dS)^T Q
            _softmax_grad_inplace(d, p, xp, kernel, scale)
            if g_q is not None:
                xp.matmul(d, k_heads[b0:b1], out=g_q.transpose(0, 2, 1, 3)[b0:b1])
            if g_k is not None:
                xp.matmul(d.swapaxes(-1, -2), q_heads[b0:b1], out=g_k.transpose(0, 2, 1, 3)[b0:b1])

    return (g_q, g_k, g_v), run
