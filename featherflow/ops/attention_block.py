"""Self-attention with its query/key/value projection, as one op: ``projected_self_attention``.

``MultiHeadAttention(x, x)`` projects ``x`` ``[B, T, E]`` with the three kernels side by side (one ``[E, width]``
product, ``width = N * (2 * key_dim + value_dim)``) and runs ``packed_self_attention`` over the result. This op
does both, by batch rows: each thread projects ITS rows and goes on with their attention, and in the backward
pass writes their packed gradient, the input gradient of those rows and a partial kernel (and bias) gradient.
One fork and one join per direction instead of a single-threaded product between two threaded attention
passes (issue 19's text classifier: the 6,400 x 32 x 192 projection and its two gradient products were
4.3 ms of one core a step; the attention is split over the cores already).

The values are those of ``dense`` then ``packed_self_attention``: the rows' products are the same dot
products. The op works in chunks of batch rows fixed by the batch size and the machine's full thread count
(``backend.blas.full_threads``), not by the load; threads take whole chunks, and the kernel's (and bias's)
gradient is the sum of one partial product per chunk. So the results do not depend on how many threads
ran: seeded runs are bit-identical (with ``set_intra_op_parallelism_threads(1)``, one chunk: one product).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((2, 3, 4)).astype("float32")
>>> w = rng.standard_normal((4, 2 * (2 + 2 + 2))).astype("float32")
>>> from featherflow.ops.attention import packed_self_attention
>>> ref = packed_self_attention(x @ w, 2, 2, 2).numpy()
>>> bool(np.allclose(projected_self_attention(x, w, None, 2, 2, 2).numpy(), ref, atol=1e-6))
True
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import full_threads, use_threads_for
from featherflow.core.tape import record, record_multi
from featherflow.ops._convert import as_float_tensor
from featherflow.ops._host import on_host
from featherflow.ops.array_kernels import _column_sums
from featherflow.ops.attention import _check_options, _unpack, backward_rows, forward_rows
from featherflow.ops.conv_utils import split_batch, split_parts


def projected_self_attention(x, kernel, bias, num_heads: int, key_dim: int, value_dim: int, mask=None, scale=None,
                             dropout_mask=None, return_scores: bool = False, output_kernel=None, output_bias=None):
    """``packed_self_attention(x @ kernel + bias, ...)`` as one op (see the module docstring), optionally followed
    by the output projection ``(heads' outputs flattened) @ output_kernel + output_bias``.

    Args:
        x: ``[B, T, E]`` inputs.
        kernel: ``[E, N * (2 * key_dim + value_dim)]``: the query, key and value kernels side by side.
        bias: ``[N * (2 * key_dim + value_dim)]`` or None.
        num_heads, key_dim, value_dim: the heads' layout in the projection.
        mask, scale, dropout_mask, return_scores: as for ``dot_product_attention``.
        output_kernel: optional ``[N * value_dim, F]``: the output projection (``MultiHeadAttention``'s
            ``attention_output`` kernel flattened over its heads and channels).
        output_bias: optional ``[F]`` (only with ``output_kernel``).

    Returns:
        ``output`` ``[B, T, N, value_dim]`` (``[B, T, F]`` with ``output_kernel``), or ``(output, probabilities)``
        with ``return_scores``.
    """
    op = "projected_self_attention"
    named = {"x": x, "kernel": kernel, "bias": bias, "output_kernel": output_kernel, "output_bias": output_bias}
    if output_kernel is None and output_bias is not None:
        raise ValueError(f"{op}: output_bias needs an output_kernel. Received: output_kernel=None")
    tensors = {name: as_float_tensor(value, op, name) for name, value in named.items() if value is not None}
    values = {name: tensor.value for name, tensor in tensors.items()}
    xv, wv, bv = values["x"], values["kernel"], values.get("bias")
    wo, bo = values.get("output_kernel"), values.get("output_bias")
    width = num_heads * (2 * key_dim + value_dim)
    if xv.ndim != 3 or wv.shape != (xv.shape[2], width) or (bv is not None and bv.shape != (width,)):
        raise ValueError(
            f"{op}: expected x [B, T, E], kernel [E, num_heads * (2 * key_dim + value_dim)] = [E, {width}] and a "
            f"bias of {width} (or None). Received: x.shape={xv.shape}, kernel.shape={wv.shape}, "
            f"bias.shape={None if bv is None else bv.shape}")
    if wo is not None and (wo.ndim != 2 or wo.shape[0] != num_heads * value_dim
                           or (bo is not None and bo.shape != wo.shape[1:])):
        raise ValueError(
            f"{op}: expected output_kernel [num_heads * value_dim, F] = [{num_heads * value_dim}, F] and an "
            f"output_bias of F (or None). Received: output_kernel.shape={wo.shape}, "
            f"output_bias.shape={None if bo is None else bo.shape}")
    if len({v.dtype for v in values.values()}) != 1:
        raise TypeError(f"{op}: x, the kernels and the biases must share one dtype. Received: "
                        + ", ".join(f"{name}={v.dtype}" for name, v in values.items()))
    layout = (num_heads, key_dim, value_dim)
    shape_probe = np.broadcast_to(np.zeros((), xv.dtype), (xv.shape[0], xv.shape[1], width))  # for the checks
    mask, dropout_mask, scale = _check_options(*_unpack(shape_probe, *layout)[:2], mask, dropout_mask, scale)
    final, probs, weights, projected, attended = on_host(_forward, xv, wv, bv, wo, bo, mask, dropout_mask, scale,
                                                         layout)
    names = list(tensors)

    def backward(grads, needs):
        g_out, g_probs = grads if return_scores else (grads, None)
        wanted = dict(zip(names, needs))
        result = on_host(_backward, g_out, g_probs, xv, wv, wo, projected, attended, probs, weights, dropout_mask,
                         scale, layout, tuple(wanted.get(name, False) for name in named))
        return tuple(grad for name, grad in zip(named, result) if name in wanted)

    inputs = tuple(tensors.values())
    if return_scores:
        output, scores = record_multi(op, inputs, [final, probs], backward)
        return output, scores
    return record(op, inputs, final, backward)


def _parts(batch: int, work: int, xp) -> int:
    """Threads over the batch rows, BLAS on one thread inside each when there are several (as in attention)."""
    parts = split_parts(batch, work, xp)
    use_threads_for(0 if parts > 1 else work)
    return parts


def _forward(xv, wv, bv, wo, bo, mask, dropout_mask, scale, layout):
    """``(output, probabilities, dropped probabilities, projection, attention output)``: the output is the
    attention's (the last entry, the same array) without an output kernel."""
    xp = array_module(xv)
    batch, positions, features = xv.shape
    width = wv.shape[1]
    xv = xp.ascontiguousarray(xv)
    projected = xp.empty((batch, positions, width), dtype=xv.dtype)
    attended, probs, weights, attend = forward_rows(*_unpack(projected, *layout), mask, dropout_mask, scale)
    final = attended if wo is None else xp.empty((batch, positions, wo.shape[1]), dtype=xv.dtype)
    chunks = reduction_chunks(batch)
    bounds = [batch * i // chunks for i in range(chunks + 1)]

    def run(first, last):
        for index in range(first, last):
            start, stop = bounds[index], bounds[index + 1]
            rows = projected[start:stop].reshape(-1, width)
            xp.matmul(xv[start:stop].reshape(-1, features), wv, out=rows)
            if bv is not None:
                rows += bv
            attend(start, stop)
            if wo is not None:
                out_rows = final[start:stop].reshape(-1, wo.shape[1])
                xp.matmul(attended[start:stop].reshape(-1, wo.shape[0]), wo, out=out_rows)
                if bo is not None:
                    out_rows += bo

    split_batch(run, chunks, probs.size, xp, min(chunks, _parts(batch, probs.size, xp)))
    return final, probs, weights, projected, attended


def reduction_chunks(batch: int) -> int:
    """How many chunks of batch rows the op works in (each its own products: OpenBLAS's rounding can depend on a
    product's row count) and how many partial kernel gradients the backward pass sums: one per thread of the
    full count (at most the batch), fixed for a machine and its settings whatever the load (see the module
    docstring). The threads share out whole chunks."""
    return max(1, min(batch, full_threads()))


def _backward(g_final, g_probs, xv, wv, wo, projected, attended, probs, weights, dropout_mask, scale, layout, needs):
    """``(g_x, g_kernel, g_bias, g_output_kernel, g_output_bias)``, None where not needed."""
    xp = array_module(xv)
    batch, positions, features = xv.shape
    width = wv.shape[1]
    xv = xp.ascontiguousarray(xv)
    if g_final is not None:
        g_final = xp.ascontiguousarray(g_final)  # (a broadcast view, say, read row block by row block)
    g_attended = g_final
    if wo is not None and g_final is not None:
        g_attended = xp.empty_like(attended)  # filled chunk by chunk, just before that chunk's attention
    g_projected = xp.empty_like(projected)
    _, attend = backward_rows(g_attended, g_probs, *_unpack(projected, *layout), probs, weights, dropout_mask, scale,
                              (True, True, True), outs=_unpack(g_projected, *layout))
    chunks = reduction_chunks(batch)
    bounds = [batch * i // chunks for i in range(chunks + 1)]

    def partials(shape, wanted):
        return xp.empty((chunks,) + shape, dtype=wv.dtype) if wanted else None

    g_x = xp.empty_like(xv) if needs[0] else None
    g_kernels, g_biases = partials(wv.shape, needs[1]), partials((width,), needs[2])
    out_wanted = wo is not None and g_final is not None
    g_out_kernels = partials(wo.shape if wo is not None else (), out_wanted and needs[3])
    g_out_biases = partials(wo.shape[1:] if wo is not None else (), out_wanted and needs[4])

    def chunk(index):
        start, stop = bounds[index], bounds[index + 1]
        if out_wanted:
            g_rows = g_final[start:stop].reshape(-1, wo.shape[1])
            xp.matmul(g_rows, wo.T, out=g_attended[start:stop].reshape(-1, wo.shape[0]))
            if g_out_kernels is not None:
                xp.matmul(attended[start:stop].reshape(-1, wo.shape[0]).T, g_rows, out=g_out_kernels[index])
            if g_out_biases is not None:
                _column_sums(g_rows, out=g_out_biases[index])
        attend(start, stop)
        g_rows = g_projected[start:stop].reshape(-1, width)
        if g_x is not None:
            xp.matmul(g_rows, wv.T, out=g_x[start:stop].reshape(-1, features))
        if g_kernels is not None:
            xp.matmul(xv[start:stop].reshape(-1, features).T, g_rows, out=g_kernels[index])
        if g_biases is not None:
            _column_sums(g_rows, out=g_biases[index])

    def run(first, last):
        for index in range(first, last):
            chunk(index)

    split_batch(run, chunks, probs.size, xp, min(chunks, _parts(batch, probs.size, xp)))

    def total(parts):
        return None if parts is None else (parts[0] if chunks == 1 else parts.sum(axis=0))

    return g_x, total(g_kernels), total(g_biases), total(g_out_kernels), total(g_out_biases)
