"""Embedding lookup with range checking and a scatter-add gradient.

``embedding(ids, table)`` returns ``table[ids]`` (shape ``ids.shape + (dim,)``); its backward
rule adds every output row's gradient into the row it came from (rows looked up several
times accumulate), so the table's gradient is dense like TensorFlow's after densification.
The accumulation is ``row_sums`` (vectorized rounds, the same sums as ``numpy.add.at``).

>>> import numpy as np
>>> embedding(np.array([[1, 0]]), np.array([[0.0, 1.0], [2.0, 3.0]], "float32")).numpy()
array([[[2., 3.],
        [0., 1.]]], dtype=float32)
"""

from __future__ import annotations

import functools

import numpy as np

from featherflow import compiler as _compiler
from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops import _kernels
from featherflow.ops._convert import as_float_tensor, as_tensor
from featherflow.ops._host import on_host


def check_indices(ids, size: int, op: str) -> None:
    """Raise a clear ``ValueError`` (TensorFlow's ``indices[i] = v is not in [0, size)``) for out-of-range ids."""
    if ids.size == 0:
        return
    if _compiler.is_traced(ids):  # in a tf.function: checked at every call of the compiled program
        _compiler.host_call(check_indices, ids, size, op)
        return
    lo, hi = ids.min(), ids.max()
    if lo < 0 or hi >= size:
        bad_mask = (ids < 0) | (ids >= size)
        position = tuple(int(i) for i in np.argwhere(np.asarray(bad_mask))[0])
        value = ids[position]
        raise ValueError(
            f"{op}: indices{list(position)} = {value} is not in [0, {size}). Every input index must be in "
            f"[0, input_dim) where input_dim={size}; use a larger input_dim or map unknown tokens to a valid index."
        )


# elements of gradient rows from which the compiled loop runs (the default _kernels.MIN_WORK, 262,144, left the
# text classifier's 6,400 x 32 rows a step on the NumPy path: 1.7-2.1 ms instead of 0.1 ms)
_KERNEL_MIN_WORK = 65_536
# below this many ids numpy.add.at's per-row cost is smaller than row_sums's fixed cost (measured)
_SMALL = 64
# a round of row_sums with fewer rows than this costs more than add.at on them: the rest goes to add.at
_TAIL = 8


def row_sums(ids, rows, num_rows: int):
    """``out[r] = sum of rows[k] over every k with ids[k] == r`` as a new ``(num_rows, dim)`` array.

    Same values as ``out = zeros(...); numpy.add.at(out, ids, rows)``, bit for bit (each row's terms
    are added in the order of ``k``; only a gradient row of exactly ``-0.0`` may stay ``-0.0``), at a
    fraction of its cost: ``add.at`` handles one row per step of a C loop with per-element overhead
    (measured 11.6 ms for 6,400 ids x 128 on the benchmark machine). Here, after a stable sort of the
    ids, the occurrences are grouped by their rank among the same id's occurrences (first, second, ...);
    the ids inside one rank are distinct, so each rank is ONE vectorized gather-add-scatter: the first
    rank assigns, later ranks add, in order. Ranks with few rows (heavily repeated ids) are left to
    ``add.at`` in their original order. Measured: 3.5 ms for 6,400 random ids of 20,000, 3.7 ms for 6,400
    ids of 50, 1.9 ms for 6,400 ids of 2,000 (add.at: 11.6, 10.3, 9.3). With Numba installed, from
    ``_KERNEL_MIN_WORK`` elements of float32/float64 rows, one compiled loop in the order of ``k``
    does it instead (add.at's sums exactly; 0.7 ms for the 6,400 random ids).

    Args:
        ids: 1-D integer array, values in ``[0, num_rows)`` (not checked here).
        rows: ``(len(ids), dim)`` float array.
        num_rows: rows of the result.

    >>> import numpy as np
    >>> row_sums(np.array([2, 0, 2]), np.array([[1.0], [2.0], [4.0]], "float32"), 3).ravel()
    array([2., 0., 5.], dtype=float32)
    """
    xp = array_module(rows)
    n = ids.shape[0]
    out = xp.zeros((num_rows,) + rows.shape[1:], dtype=rows.dtype)
    if n and xp is np and rows.ndim == 2 and rows.dtype in (np.float32, np.float64):
        # with Numba: one loop in the order of k, add.at's sums bit for bit (featherflow.ops._numba_embedding)
        kernel = _kernels.get_for_work("embedding_row_sums", rows.size, _KERNEL_MIN_WORK)
        if kernel is not None:
            kernel(ids, rows, out)
            return out
    if n < _SMALL:
        if n:
            xp.add.at(out, ids, rows)
        return out
    order = xp.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    new = xp.empty(n, dtype=bool)
    new[0] = True
    xp.not_equal(sorted_ids[1:], sorted_ids[:-1], out=new[1:])
    starts = xp.flatnonzero(new)
    if starts.shape[0] == n:  # every id once: one scatter
        out[ids] = rows
        return out
    # rank of each sorted occurrence among its id's occurrences (0 = first, in the order of k)
    rank = xp.arange(n) - xp.repeat(starts, xp.diff(xp.append(starts, n)))
    by_rank = order[xp.argsort(rank, kind="stable")]
    counts = [int(c) for c in xp.bincount(rank)]
    first = by_rank[:counts[0]]
    out[ids[first]] = rows[first]
    done = counts[0]
    for count in counts[1:]:
        if count < _TAIL:
            break
        sel = by_rank[done:done + count]
        out[ids[sel]] += rows[sel]  # distinct ids inside one rank: a plain fancy-index add is exact
        done += count
    if done < n:
        rest = xp.sort(by_rank[done:])  # original order keeps every id's terms in the order of k
        xp.add.at(out, ids[rest], rows[rest])
    return out


def _flat_pairs(xp, ids, g):
    """``(ids, rows)`` flattened in the same order, without copying ``g`` when it is a transposed view.

    An upstream op may return the gradient as a view in another memory order (the fused LSTM's input
    gradient is time-major, ``(timesteps, batch, dim)`` seen as ``(batch, timesteps, dim)``);
    ``g.reshape(-1, dim)`` would copy it. Walking the leading axes in memory order instead only
    reorders the (small) id array; the sums are the same up to the order of the terms.
    """
    dim = g.shape[-1]
    if g.ndim > 2 and not g.flags.c_contiguous:
        lead = sorted(range(g.ndim - 1), key=lambda a: -g.strides[a])
        moved = g.transpose(lead + [g.ndim - 1])
        if moved.flags.c_contiguous:
            return ids.transpose(lead).reshape(-1), moved.reshape(-1, dim)
    return ids.reshape(-1), g.reshape(-1, dim)


def embedding(ids, table, op: str = "embedding") -> Tensor:
    """Rows of ``table`` (``(input_dim, output_dim)``) at integer ``ids``.

    Args:
        ids: integer tensor of any shape, values in ``[0, input_dim)`` (float ids are truncated, as Keras
            casts them to integers).
        table: the float embedding matrix.
    """
    table = as_float_tensor(table, op, "embeddings")
    ids_t = as_tensor(ids, op, "inputs")
    iv = ids_t.value
    if iv.dtype.kind == "f":
        iv = iv.astype("int64")  # as Keras's cast to int32: float ids are truncated toward zero
    elif iv.dtype.kind not in "iu":
        raise TypeError(f"{op}: inputs must be integer token ids. Received dtype {iv.dtype}.")
    tv = table.value
    if tv.ndim != 2:
        raise ValueError(f"{op}: embeddings must be 2-D (input_dim, output_dim). Received shape {tv.shape}")
    check_indices(iv, tv.shape[0], op)
    out = array_module(tv).take(tv, iv, axis=0)

    # (the rules see `iv` and `tv`: the higher-order rule reads both from the closure, ops/kernel_gradients.py)
    if _compiler.is_traced(iv):
        def backward(g, needs):
            # the scatter-add depends on the ids' values (sorting, counting repeats): one host call in a
            # tf.function, with this call's ids as an argument
            return (on_host(_table_gradient, iv, g, tv.shape[0]),)
    else:
        def backward(g, needs):
            # constant ids (a plain array such as a position range): bound into the host call, not passed to
            # it; a tf.function's host call must assume it writes its plain-array arguments, and a write into
            # an array created outside the trace cannot be replayed (the step would fall back to eager)
            return (on_host(functools.partial(_table_gradient, iv), g, tv.shape[0]),)

    return record(op, (table,), out, backward)


def _table_gradient(ids, g, num_rows: int):
    """The dense gradient of the table: every output row's gradient added into the row it came from."""
    ids_flat, rows = _flat_pairs(array_module(g), ids, g)
    return row_sums(ids_flat, rows, num_rows)
