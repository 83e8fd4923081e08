"""Segment reductions: ``segment_*`` (sorted ids) and ``unsorted_segment_*`` (any ids, ``num_segments``).

``output[i]`` reduces the slices ``data[j]`` with ``segment_ids[j] == i``. For the unsorted ops
``segment_ids`` may have the shape of a prefix of ``data.shape`` and negative ids are dropped. Empty
segments give 0 (sum, mean, sqrt_n; and max/min for the sorted ops), 1 (prod), or the dtype's lowest /
highest value (unsorted max / min), as in TensorFlow.

Gradients: sum, mean and sqrt_n gather the output gradient (scaled by the segment count); max and min
split it evenly among the tied maxima; prod is exact with zeros (the product of the other elements).

>>> import featherflow as ff
>>> ff.math.segment_sum([1.0, 2.0, 3.0], [0, 0, 1]).numpy()
array([3., 3.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor


def _prepare(data, segment_ids, num_segments, op, sorted_ids):
    x = as_tensor(data, op, "data")
    ids_t = as_tensor(segment_ids, op, "segment_ids")
    ids = ids_t.value
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: `segment_ids` must be an integer tensor, received dtype {ids_t.dtype.name}.")
    xv = x.value
    if sorted_ids:
        if ids.ndim != 1 or xv.ndim < 1 or ids.shape[0] != xv.shape[0]:
            raise InvalidArgumentError(None, None, f"{op}: segment_ids should be a vector the size of data's first "
                                       f"dimension. Received: data.shape={xv.shape}, segment_ids.shape={ids.shape}")
        if ids.size and (ids.min() < 0 or (np.diff(ids) < 0).any()):
            raise InvalidArgumentError(None, None, f"{op}: segment ids are not increasing (and must be >= 0). "
                                       f"Received: segment_ids={ids.tolist()}")
        count = int(ids[-1]) + 1 if ids.size else 0
    else:
        if xv.shape[:ids.ndim] != ids.shape:
            raise InvalidArgumentError(None, None, f"{op}: segment_ids.shape must be a prefix of data.shape. "
                                       f"Received: data.shape={xv.shape}, segment_ids.shape={ids.shape}")
        count = int(num_segments.value if isinstance(num_segments, Tensor) else num_segments)
        if count < 0:
            raise InvalidArgumentError(None, None, f"{op}: num_segments must be non-negative. Received: {count}")
        flat = ids.reshape(-1)
        if flat.size and flat.max() >= count:
            where = int(np.argmax(flat >= count))
            raise InvalidArgumentError(None, None, f"{op}: segment_ids[{where}] = {int(flat[where])} is out of range "
                                       f"[0, {count})")
    id_rank = ids.ndim
    ids = ids.reshape(-1).astype(np.int64)
    rows = xv.reshape((ids.size,) + xv.shape[id_rank:])
    return x, ids, rows, count


def _counts(ids, count, xp):
    valid = ids >= 0
    return xp.bincount(ids[valid], minlength=count)[:count] if count else xp.zeros(0, dtype=np.int64)


def _gather_rows(g, ids, xp):
    """``g[ids]``, with zero rows for dropped (negative) ids."""
    valid = ids >= 0
    out = g[xp.where(valid, ids, 0)]
    if not valid.all():
        out = out * valid.reshape((-1,) + (1,) * (out.ndim - 1))
    return out


def _finish(x, rows_out, op_name, backward):
    return record(op_name, (x,), rows_out, backward)


def _sum_like(data, segment_ids, num_segments, op, kind, sorted_ids):
    x, ids, rows, count = _prepare(data, segment_ids, num_segments, op, sorted_ids)
    xv = x.value
    xp = array_module(xv)
    out = xp.zeros((count,) + rows.shape[1:], dtype=xv.dtype)
    valid = ids >= 0
    xp.add.at(out, ids[valid], rows[valid])
    counts = _counts(ids, count, xp)
    scale = None
    if kind != "sum":
        denom = counts if kind == "mean" else xp.sqrt(counts)
        scale = xp.where(counts > 0, 1.0 / xp.where(counts > 0, denom, 1), 0.0).astype(
            xv.dtype if xv.dtype.kind == "f" else np.float64)
        scale = scale.reshape((-1,) + (1,) * (out.ndim - 1))
        if xv.dtype.kind in "iu":
            out = (out // xp.maximum(counts, 1).reshape(scale.shape)).astype(xv.dtype) if kind == "mean" else out
        else:
            out = out * scale
    shape = xv.shape

    def backward(g, needs):
        gs = g if scale is None else g * scale
        return (_gather_rows(gs, ids, xp).reshape(shape),)

    return _finish(x, out, op, backward)


def _extreme(data, segment_ids, num_segments, op, high, sorted_ids):
    x, ids, rows, count = _prepare(data, segment_ids, num_segments, op, sorted_ids)
    xv = x.value
    xp = array_module(xv)
    info = np.finfo(xv.dtype) if xv.dtype.kind == "f" else np.iinfo(xv.dtype)
    fill = info.min if high else info.max
    out = xp.full((count,) + rows.shape[1:], fill, dtype=xv.dtype)
    valid = ids >= 0
    (xp.maximum if high else xp.minimum).at(out, ids[valid], rows[valid])
    if sorted_ids:
        empty = _counts(ids, count, xp) == 0
        out[empty] = 0
    chosen = (rows == _gather_rows(out, ids, xp)) & valid.reshape((-1,) + (1,) * (rows.ndim - 1))
    ties = xp.zeros(out.shape, dtype=np.int64)
    xp.add.at(ties, ids[valid], chosen[valid].astype(np.int64))
    share = chosen / xp.maximum(_gather_rows(ties, ids, xp), 1)
    shape = xv.shape

    def backward(g, needs):
        return ((_gather_rows(g, ids, xp) * share).astype(g.dtype, copy=False).reshape(shape),)

    return _finish(x, out, op, backward)


def _prod(data, segment_ids, num_segments, op, sorted_ids):
    x, ids, rows, count = _prepare(data, segment_ids, num_segments, op, sorted_ids)
    xv = x.value
    xp = array_module(xv)
    valid = ids >= 0
    out = xp.ones((count,) + rows.shape[1:], dtype=xv.dtype)
    xp.multiply.at(out, ids[valid], rows[valid])
    shape = xv.shape

    def backward(g, needs):
        zero = rows == 0
        zeros_in = xp.zeros(out.shape, dtype=np.int64)
        xp.add.at(zeros_in, ids[valid], zero[valid].astype(np.int64))
        nonzero_prod = xp.ones(out.shape, dtype=xv.dtype)
        xp.multiply.at(nonzero_prod, ids[valid], xp.where(zero, 1, rows)[valid])
        seg_zeros = _gather_rows(zeros_in, ids, xp)
        with np.errstate(all="ignore"):
            others = xp.where(seg_zeros == 0, _gather_rows(out, ids, xp) / xp.where(zero, 1, rows),
                              xp.where(zero & (seg_zeros == 1), _gather_rows(nonzero_prod, ids, xp), 0))
        return ((_gather_rows(g, ids, xp) * others).reshape(shape),)

    return _finish(x, out, op, backward)


def segment_sum(data, segment_ids, name=None) -> Tensor:
    """Sums of the slices of ``data`` in each segment (``segment_ids`` sorted, one per row of ``data``).

    >>> segment_sum([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 0, 2]).numpy()
    array([[4., 6.],
           [0., 0.],
           [5., 6.]], dtype=float32)
    """
    return _sum_like(data, segment_ids, None, "segment_sum", "sum", True)


def segment_mean(data, segment_ids, name=None) -> Tensor:
    """Means of the segments (0 for an empty one).

    >>> segment_mean([1.0, 3.0, 5.0], [0, 0, 1]).numpy()
    array([2., 5.], dtype=float32)
    """
    return _sum_like(data, segment_ids, None, "segment_mean", "mean", True)


def segment_max(data, segment_ids, name=None) -> Tensor:
    """Maxima of the segments (0 for an empty one); the gradient is split among ties.

    >>> segment_max([1.0, 5.0, 2.0], [0, 0, 1]).numpy()
    array([5., 2.], dtype=float32)
    """
    return _extreme(data, segment_ids, None, "segment_max", True, True)


def segment_min(data, segment_ids, name=None) -> Tensor:
    """Minima of the segments (0 for an empty one).

    >>> segment_min([1.0, 5.0, 2.0], [0, 0, 1]).numpy()
    array([1., 2.], dtype=float32)
    """
    return _extreme(data, segment_ids, None, "segment_min", False, True)


def segment_prod(data, segment_ids, name=None) -> Tensor:
    """Products of the segments (1 for an empty one).

    >>> segment_prod([2.0, 3.0, 4.0], [0, 0, 1]).numpy()
    array([6., 4.], dtype=float32)
    """
    return _prod(data, segment_ids, None, "segment_prod", True)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    """Sums over segments given by any ids (negative ids dropped); ``num_segments`` outputs.

    >>> unsorted_segment_sum([1.0, 2.0, 3.0], [1, 0, 1], 2).numpy()
    array([2., 4.], dtype=float32)
    """
    return _sum_like(data, segment_ids, num_segments, "unsorted_segment_sum", "sum", False)


def unsorted_segment_mean(data, segment_ids, num_segments, name=None) -> Tensor:
    """Means over unsorted segments (0 for an empty one).

    >>> unsorted_segment_mean([1.0, 2.0, 3.0], [1, 0, 1], 2).numpy()
    array([2., 2.], dtype=float32)
    """
    return _sum_like(data, segment_ids, num_segments, "unsorted_segment_mean", "mean", False)


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None) -> Tensor:
    """Sums over unsorted segments divided by the square root of their sizes (0 for an empty one).

    >>> unsorted_segment_sqrt_n([1.0, 3.0], [0, 0], 1).numpy()
    array([2.828427], dtype=float32)
    """
    return _sum_like(data, segment_ids, num_segments, "unsorted_segment_sqrt_n", "sqrt_n", False)


def unsorted_segment_max(data, segment_ids, num_segments, name=None) -> Tensor:
    """Maxima over unsorted segments (the dtype's lowest value for an empty one).

    >>> unsorted_segment_max([1.0, 2.0, 3.0], [1, 0, 1], 2).numpy()
    array([2., 3.], dtype=float32)
    """
    return _extreme(data, segment_ids, num_segments, "unsorted_segment_max", True, False)


def unsorted_segment_min(data, segment_ids, num_segments, name=None) -> Tensor:
    """Minima over unsorted segments (the dtype's highest value for an empty one).

    >>> unsorted_segment_min([1.0, 2.0, 3.0], [1, 0, 1], 2).numpy()
    array([2., 1.], dtype=float32)
    """
    return _extreme(data, segment_ids, num_segments, "unsorted_segment_min", False, False)


def unsorted_segment_prod(data, segment_ids, num_segments, name=None) -> Tensor:
    """Products over unsorted segments (1 for an empty one).

    >>> unsorted_segment_prod([2.0, 3.0, 4.0], [1, 0, 1], 2).numpy()
    array([3., 8.], dtype=float32)
    """
    return _prod(data, segment_ids, num_segments, "unsorted_segment_prod", False)


# -- differentiable rules (higher-order gradients) -----------------------------------------------------------------

def _gather_rows_op(g, ids, shape):
    from featherflow.ops.indexing import gather
    from featherflow.ops.shape import reshape

    valid = ids >= 0
    picked = gather(g, np.where(valid, ids, 0))
    if not valid.all():
        picked = picked * Tensor(valid.reshape((-1,) + (1,) * (picked.value.ndim - 1)).astype(picked.dtype))
    return reshape(picked, shape)


def _sum_rule(op, g):
    c = op.captured
    scale = c["scale"]
    gs = g if scale is None else g * Tensor(scale.astype(g.dtype))
    return (_gather_rows_op(gs, c["ids"], c["shape"]),)


def _extreme_rule(op, g):
    c = op.captured
    share = c["share"]
    picked = _gather_rows_op(g, c["ids"], (c["ids"].size,) + share.shape[1:])
    from featherflow.ops.shape import reshape

    return (reshape(picked * Tensor(share.astype(g.dtype)), c["shape"]),)


def _prod_rule(op, g):
    from featherflow.ops.compare import where
    from featherflow.ops.shape import reshape

    c = op.captured
    ids, shape = c["ids"], c["shape"]
    x = op.inputs[0]
    rows = reshape(x, (ids.size,) + op.output.shape[1:])
    zero = rows.value == 0
    count = op.output.shape[0]
    safe = where(Tensor(zero), rows * 0 + 1, rows)
    nonzero_prod = unsorted_segment_prod(safe, ids, count)
    zeros_in = np.zeros(op.output.shape, dtype=np.int64)
    np.add.at(zeros_in, ids[ids >= 0], zero[ids >= 0].astype(np.int64))
    seg_zeros = zeros_in[np.where(ids >= 0, ids, 0)]
    row_shape = (ids.size,) + op.output.shape[1:]
    out_rows = _gather_rows_op(g * op.output, ids, row_shape)
    nz_rows = _gather_rows_op(g * nonzero_prod, ids, row_shape)
    others = where(Tensor(seg_zeros == 0), out_rows / safe, where(Tensor(zero & (seg_zeros == 1)), nz_rows, nz_rows * 0))
    return (reshape(others, shape),)


for _name in ("segment_sum", "segment_mean", "unsorted_segment_sum", "unsorted_segment_mean",
              "unsorted_segment_sqrt_n"):
    register_gradient(_name)(_sum_rule)
for _name in ("segment_max", "segment_min", "unsorted_segment_max", "unsorted_segment_min"):
    register_gradient(_name)(_extreme_rule)
for _name in ("segment_prod", "unsorted_segment_prod"):
    register_gradient(_name)(_prod_rule)
