"""Slicing and reordering: ``slice``, ``strided_slice``, ``roll``, ``reverse_sequence``,
``dynamic_partition`` and ``dynamic_stitch``.

``slice``/``strided_slice`` build a NumPy key and index with ``getitem`` (its gradient scatters back);
``dynamic_partition``/``dynamic_stitch`` are written with ``boolean_mask``, ``concat`` and ``gather``,
so all of them are differentiable, to any order.

>>> import featherflow as ff
>>> ff.slice([[1, 2, 3], [4, 5, 6]], [0, 1], [2, 2]).numpy()
array([[2, 3],
       [5, 6]], dtype=int32)
"""

from __future__ import annotations

import builtins

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.indexing import getitem

_py_slice = builtins.slice  # `slice` below is TensorFlow's op


def _ints(value, op, arg):
    if isinstance(value, Tensor):
        value = value.value.tolist()
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        raise TypeError(f"{op}: `{arg}` must be a list of integers. Received: {arg}={value!r}") from None


def slice(input_, begin, size, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """The block of ``input_`` starting at ``begin`` with ``size`` elements per axis (``-1``: to the end).

    >>> slice([[1, 2, 3], [4, 5, 6]], [1, 0], [1, -1]).numpy()
    array([[4, 5, 6]], dtype=int32)
    """
    x = as_tensor(input_, "slice", "input_")
    shape = x.value.shape
    begin, size = _ints(begin, "slice", "begin"), _ints(size, "slice", "size")
    if len(begin) != len(shape) or len(size) != len(shape):
        raise InvalidArgumentError(None, None, f"slice: Expected begin and size arguments to be 1-D tensors of size "
                                   f"{len(shape)}, but got shapes [{len(begin)}] and [{len(size)}] instead.")
    key = []
    for axis, (b, s, n) in enumerate(zip(begin, size, shape)):
        if not 0 <= b <= n:
            raise InvalidArgumentError(None, None, f"slice: Expected begin[{axis}] in [0, {n}], but got {b}")
        if s == -1:
            s = n - b
        if not 0 <= s <= n - b:
            raise InvalidArgumentError(None, None, f"slice: Expected size[{axis}] in [0, {n - b}], but got {s}")
        key.append(_py_slice(b, b + s))
    return getitem(x, tuple(key))


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
                  shrink_axis_mask=0, var=None, name=None) -> Tensor:
    """``input_[begin:end:strides]`` with TensorFlow's bit masks (bit ``i`` refers to entry ``i`` of the spec).

    Args:
        begin, end, strides: one entry per spec position (``strides`` default 1).
        begin_mask / end_mask: ignore ``begin[i]`` / ``end[i]`` (slice from the start / to the end).
        ellipsis_mask: position ``i`` is ``...``.
        new_axis_mask: position ``i`` inserts a size-1 axis.
        shrink_axis_mask: position ``i`` takes the single index ``begin[i]``, removing the axis.

    >>> strided_slice([[1, 2, 3], [4, 5, 6]], [0, 2], [2, 0], [1, -1], begin_mask=1).numpy()
    array([[3, 2],
           [6, 5]], dtype=int32)
    """
    x = as_tensor(input_, "strided_slice", "input_")
    begin, end = _ints(begin, "strided_slice", "begin"), _ints(end, "strided_slice", "end")
    strides = [1] * len(begin) if strides is None else _ints(strides, "strided_slice", "strides")
    if not len(begin) == len(end) == len(strides):
        raise ValueError(f"strided_slice: begin, end and strides must have the same length. Received: "
                         f"begin={begin}, end={end}, strides={strides}")
    if 0 in strides:
        raise InvalidArgumentError(None, None, "strided_slice: strides[i] must be non-zero.")
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(b)
        else:
            key.append(_py_slice(None if begin_mask & bit else b, None if end_mask & bit else e, s))
    return getitem(x, tuple(key))


def roll(input, shift, axis, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Shift elements along ``axis`` by ``shift`` places, wrapping around (several axes: lists of both).

    >>> roll([0, 1, 2, 3, 4], 2, 0).numpy()
    array([3, 4, 0, 1, 2], dtype=int32)
    """
    x = as_tensor(input, "roll", "input")
    shifts, axes = _ints(shift, "roll", "shift"), _ints(axis, "roll", "axis")
    if len(shifts) != len(axes):
        raise InvalidArgumentError(None, None, f"roll: shift and axis must have the same size. Received: "
                                   f"shift={shifts}, axis={axes}")
    ndim = x.value.ndim
    for a in axes:
        if not -ndim <= a < ndim:
            raise InvalidArgumentError(None, None, f"roll: axis {a} is out of range for a tensor of rank {ndim}.")
    xp = array_module(x.value)
    out = xp.roll(x.value, shifts, axes)
    back = [-s for s in shifts]
    return record("roll", (x,), out, lambda g, needs: (xp.roll(g, back, axes),))


@register_gradient("roll")
def _roll_rule(op, g):
    c = op.captured
    return (roll(g, c["back"], c["axes"]),)


def _sequence_order(lengths, n, batch, xp):
    """``order[b, t]``: the source position of output step ``t`` in batch row ``b``."""
    t = np.arange(n)[None, :]
    lens = np.asarray(lengths, dtype=np.int64)[:, None]
    return np.where(t < lens, lens - 1 - t, t)


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None) -> Tensor:  # noqa: A002
    """Reverse the first ``seq_lengths[b]`` steps along ``seq_axis`` of each batch row ``b`` (the rest stays).

    >>> reverse_sequence([[1, 2, 3, 4], [5, 6, 7, 8]], [2, 3], seq_axis=1, batch_axis=0).numpy()
    array([[2, 1, 3, 4],
           [7, 6, 5, 8]], dtype=int32)
    """
    x = as_tensor(input, "reverse_sequence", "input")
    xv = x.value
    if seq_axis is None:
        raise ValueError("reverse_sequence: `seq_axis` must be given. Received: seq_axis=None")
    batch_axis = 0 if batch_axis is None else int(batch_axis)
    seq_axis, batch_axis = int(seq_axis) % xv.ndim, batch_axis % xv.ndim
    lengths = _ints(seq_lengths, "reverse_sequence", "seq_lengths")
    n, batch = xv.shape[seq_axis], xv.shape[batch_axis]
    if seq_axis == batch_axis or len(lengths) != batch or any(not 0 <= s <= n for s in lengths):
        raise InvalidArgumentError(None, None, f"reverse_sequence: seq_lengths needs one length in [0, {n}] per batch "
                                   f"row ({batch}), and seq_axis != batch_axis. Received: seq_lengths={lengths}, "
                                   f"seq_axis={seq_axis}, batch_axis={batch_axis}")
    xp = array_module(xv)
    order = _sequence_order(lengths, n, batch, xp)
    shape = [1] * xv.ndim
    shape[batch_axis], shape[seq_axis] = batch, n
    index = order if batch_axis < seq_axis else order.T
    index = xp.asarray(index.reshape(shape))
    index = xp.broadcast_to(index, xv.shape)
    out = xp.take_along_axis(xv, index, axis=seq_axis)

    def backward(g, needs):
        return (xp.take_along_axis(g, index, axis=seq_axis),)

    backward.attrs = (lengths, seq_axis, batch_axis)  # what the second-order rule reads as op.captured["attrs"]
    return record("reverse_sequence", (x,), out, backward)


@register_gradient("reverse_sequence")
def _reverse_sequence_rule(op, g):
    return (reverse_sequence(g, *op.captured["attrs"]),)  # the reversal is its own inverse


def dynamic_partition(data, partitions, num_partitions, name=None) -> list:
    """Split ``data`` into ``num_partitions`` tensors: slice ``data[i]`` goes to output ``partitions[i]``.

    ``partitions`` has the shape of a prefix of ``data.shape``; its values lie in ``[0, num_partitions)``.

    >>> [t.numpy() for t in dynamic_partition([10.0, 20.0, 30.0], [1, 0, 1], 2)]
    [array([20.], dtype=float32), array([10., 30.], dtype=float32)]
    """
    from featherflow.ops.indexing import boolean_mask

    x = as_tensor(data, "dynamic_partition", "data")
    p = as_tensor(partitions, "dynamic_partition", "partitions").value
    num_partitions = int(num_partitions)
    if p.dtype.kind not in "iu":
        raise TypeError(f"dynamic_partition: `partitions` must be an integer tensor. Received dtype {p.dtype}.")
    if x.value.shape[:p.ndim] != p.shape:
        raise InvalidArgumentError(None, None, f"dynamic_partition: partitions.shape must be a prefix of data.shape. "
                                   f"Received: data.shape={x.value.shape}, partitions.shape={p.shape}")
    if p.size and (p.min() < 0 or p.max() >= num_partitions):
        raise InvalidArgumentError(None, None, f"dynamic_partition: partitions must be in [0, {num_partitions}). "
                                   f"Received: {p.reshape(-1).tolist()}")
    if p.ndim == 0:
        from featherflow.ops.shape import expand_dims

        x, p = expand_dims(x, 0), p.reshape(1)
    return [boolean_mask(x, p == i) for i in range(num_partitions)]


def dynamic_stitch(indices, data, name=None) -> Tensor:
    """Interleave the ``data`` tensors into one: ``merged[indices[m][i]] = data[m][i]`` (later entries win).

    >>> dynamic_stitch([[0, 2], [1, 2]], [[1.0, 2.0], [3.0, 4.0]]).numpy()
    array([1., 3., 4.], dtype=float32)
    """
    from featherflow.ops.indexing import gather
    from featherflow.ops.shape import concat, reshape

    if len(indices) != len(data) or not indices:
        raise ValueError(f"dynamic_stitch: expected as many index tensors as data tensors (at least one). Received: "
                         f"{len(indices)} and {len(data)}")
    flat_ids, rows = [], []
    trailing = None
    for m, (idx, d) in enumerate(zip(indices, data)):
        iv = as_tensor(idx, "dynamic_stitch", f"indices[{m}]").value
        dt = as_tensor(d, "dynamic_stitch", f"data[{m}]")
        if dt.value.shape[:iv.ndim] != iv.shape:
            raise InvalidArgumentError(None, None, f"dynamic_stitch: data[{m}].shape must start with "
                                       f"indices[{m}].shape. Received: {dt.value.shape} and {iv.shape}")
        rest = dt.value.shape[iv.ndim:]
        if trailing is not None and rest != trailing:
            raise InvalidArgumentError(None, None, "dynamic_stitch: the data tensors' trailing shapes differ.")
        trailing = rest
        flat_ids.append(np.asarray(iv, dtype=np.int64).reshape(-1))
        rows.append(reshape(dt, (-1,) + rest))
    ids = np.concatenate(flat_ids)
    if ids.size and ids.min() < 0:
        raise InvalidArgumentError(None, None, "dynamic_stitch: indices must be non-negative.")
    size = int(ids.max()) + 1 if ids.size else 0
    writer = np.full(size, -1, dtype=np.int64)
    writer[ids] = np.arange(ids.size)  # NumPy assigns in order: the last occurrence wins
    stacked = concat(rows, axis=0)
    picked = gather(stacked, np.maximum(writer, 0))
    if (writer < 0).any():
        picked = picked * Tensor((writer >= 0).reshape((-1,) + (1,) * len(trailing)).astype(picked.dtype))
    return picked
