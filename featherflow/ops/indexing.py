"""Indexing: ``tensor[key]``, gather, gather_nd, boolean_mask and one_hot.

Gradients of gathers scatter-add the output gradient back into a zero tensor of the
input's shape (``add.at``), so repeated indices accumulate as they should.

>>> import featherflow as ff
>>> ff.gather([10.0, 20.0, 30.0], [2, 0]).numpy()
array([30., 10.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler as _compiler
from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.shape import snapshot


def _index_key(key):
    if isinstance(key, Tensor):
        return key.value
    if isinstance(key, tuple):
        return tuple(k.value if isinstance(k, Tensor) else k for k in key)
    return key


def _key_kind(key) -> str:
    """``"basic"`` (views: ints, slices, None, Ellipsis), ``"mask"`` (boolean arrays only, no
    duplicates) or ``"advanced"`` (integer arrays: duplicates possible)."""
    items = key if isinstance(key, tuple) else (key,)
    kind = "basic"
    for k in items:
        if k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)):
            continue
        if getattr(k, "dtype", None) is not None and k.dtype.kind == "b":
            kind = "mask" if kind == "basic" else kind
        else:
            return "advanced"
    return kind


def getitem(tensor, key) -> Tensor:
    """``tensor[key]``: NumPy indexing (ints, slices, None, Ellipsis, integer or boolean arrays).

    >>> import featherflow as ff
    >>> ff.constant([[1.0, 2.0], [3.0, 4.0]])[:, 1].numpy()
    array([2., 4.], dtype=float32)
    """
    x = as_tensor(tensor, "getitem", "tensor")
    xv = x.value
    key = _index_key(key)
    try:
        out = xv[key]
    except IndexError as exc:
        raise IndexError(
            f"Index out of range for a tensor of shape {xv.shape}: {exc}. Received: key={key!r}") from None
    kind = _key_kind(key)

    def backward(g, needs):
        xp = array_module(g)
        full = xp.zeros(xv.shape, dtype=g.dtype)
        if kind == "advanced":
            xp.add.at(full, key, g)
        else:  # every element is picked at most once: plain assignment
            full[key] = g
        return (full,)

    out = array_module(xv).asarray(out)
    return record("getitem", (x,), snapshot(x, out) if kind == "basic" else out, backward)


def _indices(indices, op: str, arg: str = "indices"):
    t = as_tensor(indices, op, arg)
    if t.value.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: `{arg}` must be an integer tensor, received dtype {t.dtype.name}. "
            f"Cast it with featherflow.cast({arg}, 'int32')."
        )
    return t.value


def _check_range(idx, limit: int, op: str, where: str):
    if idx.size and _compiler.is_traced(idx):  # in a tf.function: checked at every call of the compiled program
        _compiler.host_call(_check_range, idx, limit, op, where)
        return
    if idx.ndim == 0:  # (one index, as a loop's counter: no reductions)
        if not 0 <= int(idx) < limit:
            raise ValueError(f"{op}: indices must lie in [0, {limit}) for {where}. Received an index of {int(idx)}.")
        return
    if idx.size and (idx.min() < 0 or idx.max() >= limit):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise ValueError(
            f"{op}: indices must lie in [0, {limit}) for {where}. Received an index of {int(bad)}."
        )


def _batch_grid(batch_shape, xp, trailing: int):
    """Open index grids over the leading batch axes, each with ``trailing`` extra size-1 axes."""
    grids = []
    for i, n in enumerate(batch_shape):
        shape = [1] * len(batch_shape) + [1] * trailing
        shape[i] = n
        grids.append(xp.arange(n).reshape(shape))
    return grids


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None) -> Tensor:
    """Gather slices of ``params`` along ``axis`` at ``indices``.

    Output shape: ``params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]``.

    Args:
        params: the tensor to gather from.
        indices: integer tensor with values in ``[0, params.shape[axis])``.
        axis: the axis to gather along (default ``batch_dims``).
        batch_dims: number of leading axes shared by ``params`` and ``indices`` (gather per batch row).

    >>> gather([[1.0, 2.0], [3.0, 4.0]], [1, 1, 0], axis=1).numpy()
    array([[2., 2., 1.],
           [4., 4., 3.]], dtype=float32)
    """
    x = as_tensor(params, "gather", "params")
    xv = x.value
    idx = _indices(indices, "gather")
    batch_dims = int(batch_dims)
    if batch_dims < 0:
        batch_dims += idx.ndim
    axis = batch_dims if axis is None else int(axis.value if isinstance(axis, Tensor) else axis)
    if not -xv.ndim <= axis < xv.ndim:
        raise ValueError(f"gather: axis {axis} is out of range for params of rank {xv.ndim}.")
    axis %= xv.ndim
    if not 0 <= batch_dims <= min(idx.ndim, axis):
        raise ValueError(
            f"gather: batch_dims must be in [0, min(indices rank, axis)]. Received: batch_dims={batch_dims}, "
            f"axis={axis}, indices.shape={idx.shape}"
        )
    if idx.shape[:batch_dims] != xv.shape[:batch_dims]:
        raise ValueError(
            f"gather: the first {batch_dims} axes of params and indices must match. "
            f"Received: params.shape={xv.shape}, indices.shape={idx.shape}"
        )
    _check_range(idx, xv.shape[axis], "gather", f"axis {axis} of params with shape {xv.shape}")
    xp = array_module(xv)
    if batch_dims == 0:
        out = xp.take(xv, idx, axis=axis)

        def backward(g, needs):
            full = xp.zeros(xv.shape, dtype=g.dtype)
            # move the gathered block of g to the front to match the front-moved axis of `full`
            k = idx.ndim
            g_front = xp.moveaxis(g, list(range(axis, axis + k)), list(range(k)))
            xp.add.at(xp.moveaxis(full, axis, 0), idx, g_front)
            return (full,)

        return record("gather", (x,), out, backward)
    # batch_dims > 0: index with open grids over the batch axes plus the indices at `axis`.
    batch_shape = xv.shape[:batch_dims]
    inner = idx.ndim - batch_dims
    grids = _batch_grid(batch_shape, xp, inner)
    # Advanced indices separated by slices would jump to the front; move `axis` next to the batch axes.
    moved = xp.moveaxis(xv, axis, batch_dims)
    key = tuple(grids) + (idx,)
    picked = moved[key]  # batch + inner + params.shape[batch:axis] + params.shape[axis+1:]
    pre = axis - batch_dims
    source = list(range(batch_dims, batch_dims + inner))
    target = list(range(batch_dims + pre, batch_dims + pre + inner))
    out = xp.moveaxis(picked, source, target) if pre and inner else picked

    def backward_batched(g, needs):
        full = xp.zeros(xv.shape, dtype=g.dtype)
        g_back = xp.moveaxis(g, target, source) if pre and inner else g
        xp.add.at(xp.moveaxis(full, axis, batch_dims), key, g_back)
        return (full,)

    return record("gather", (x,), xp.ascontiguousarray(out), backward_batched)


def gather_nd(params, indices, batch_dims=0, name=None) -> Tensor:
    """Gather slices of ``params`` addressed by the last axis of ``indices``.

    ``indices[..., :m]`` indexes the first ``m`` axes (after ``batch_dims``) of ``params``;
    output shape ``indices.shape[:-1] + params.shape[batch_dims + m:]``.

    >>> gather_nd([[1.0, 2.0], [3.0, 4.0]], [[0, 1], [1, 0]]).numpy()
    array([2., 3.], dtype=float32)
    """
    x = as_tensor(params, "gather_nd", "params")
    xv = x.value
    idx = _indices(indices, "gather_nd")
    batch_dims = int(batch_dims)
    if idx.ndim < 1:
        raise ValueError(f"gather_nd: `indices` must have rank >= 1. Received: indices.shape={idx.shape}")
    depth = idx.shape[-1]
    if batch_dims < 0 or batch_dims + depth > xv.ndim or idx.shape[:batch_dims] != xv.shape[:batch_dims]:
        raise ValueError(
            f"gather_nd: indices.shape[-1] + batch_dims must be <= rank(params) and the batch axes must match. "
            f"Received: params.shape={xv.shape}, indices.shape={idx.shape}, batch_dims={batch_dims}"
        )
    for j in range(depth):
        _check_range(idx[..., j], xv.shape[batch_dims + j], "gather_nd", f"axis {batch_dims + j} of params")
    xp = array_module(xv)
    grids = _batch_grid(xv.shape[:batch_dims], xp, idx.ndim - 1 - batch_dims)
    key = tuple(grids) + tuple(idx[..., j] for j in range(depth))
    out = xv[key] if key else xv

    def backward(g, needs):
        full = xp.zeros(xv.shape, dtype=g.dtype)
        if key:
            xp.add.at(full, key, g)
        else:
            full += g
        return (full,)

    return record("gather_nd", (x,), xp.asarray(out), backward)


def boolean_mask(tensor, mask, axis=None, name="boolean_mask") -> Tensor:
    """Keep the entries of ``tensor`` where ``mask`` is true.

    ``mask`` (boolean, rank k) matches ``tensor.shape[axis:axis + k]``; those k axes collapse
    into one of length ``count_nonzero(mask)``.

    >>> boolean_mask([[1.0, 2.0], [3.0, 4.0]], [True, False]).numpy()
    array([[1., 2.]], dtype=float32)
    """
    x = as_tensor(tensor, "boolean_mask", "tensor")
    xv = x.value
    m = as_tensor(mask, "boolean_mask", "mask").value
    if m.dtype.kind != "b":
        raise TypeError(f"boolean_mask: `mask` must be boolean, received dtype {m.dtype.name}.")
    axis = 0 if axis is None else int(axis)
    if axis < 0:
        axis += xv.ndim
    if m.ndim == 0 or axis < 0 or xv.shape[axis:axis + m.ndim] != m.shape:
        raise ValueError(
            f"boolean_mask: mask.shape must equal tensor.shape[axis:axis + mask.ndim]. Received: "
            f"tensor.shape={xv.shape}, mask.shape={m.shape}, axis={axis}"
        )
    return getitem(x, (slice(None),) * axis + (m,))


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None) -> Tensor:
    """One-hot encode integer ``indices`` into a new axis of size ``depth`` (no gradient).

    Indices outside ``[0, depth)`` give a row of ``off_value``, as in TensorFlow.

    Args:
        indices: integer tensor.
        depth: number of classes.
        on_value, off_value: values for hits and misses (default 1 and 0).
        axis: where the new axis goes (default -1, the end).
        dtype: output dtype (default: that of ``on_value``/``off_value``, else float32).

    >>> one_hot([0, 2, 5], 3).numpy()
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.]], dtype=float32)
    """
    idx = _indices(indices, "one_hot")
    depth = int(depth)
    if depth < 0:
        raise ValueError(f"one_hot: depth must be non-negative. Received: depth={depth}")
    if dtype is None:
        given = next((v for v in (on_value, off_value) if isinstance(v, Tensor) or hasattr(v, "dtype")), None)
        if given is not None:
            dtype = given.dtype
        elif any(isinstance(v, float) for v in (on_value, off_value)) or (on_value is None and off_value is None):
            dtype = "float32"
        else:
            dtype = "int32"
    dtype = np.dtype(dtype)
    xp = array_module(idx)
    on = xp.asarray(1 if on_value is None else as_tensor(on_value, "one_hot", "on_value").value, dtype=dtype)
    off = xp.asarray(0 if off_value is None else as_tensor(off_value, "one_hot", "off_value").value, dtype=dtype)
    hits = idx[..., None] == xp.arange(depth)
    out = xp.where(hits, on, off).astype(dtype, copy=False)
    if axis is not None and int(axis) != -1:
        out = xp.moveaxis(out, -1, int(axis))
    return Tensor(xp.ascontiguousarray(out))


# -- differentiable rules (higher-order gradients; core/gradients.py) ----------------------------------------------

def index_add(g, key, shape) -> Tensor:
    """A zero tensor of ``shape`` with ``g`` added at the NumPy index ``key`` (repeats summed): the gradient of
    ``x[key]``, itself differentiable (its gradient is ``grad[key]``).

    >>> index_add(Tensor(np.ones(2, "float32")), (np.array([0, 0]),), (3,)).numpy()
    array([2., 0., 0.], dtype=float32)
    """
    g = as_tensor(g, "index_add", "g")
    gv = g.value
    xp = array_module(gv)
    full = xp.zeros(tuple(shape), dtype=gv.dtype)
    if isinstance(key, tuple) and not key:
        full += gv
    else:
        xp.add.at(full, key, gv)
    return record("index_add", (g,), full, lambda gg, needs: (gg[key] if key != () else gg,))


@register_gradient("index_add")
def _index_add_rule(op, g):
    key = op.captured["key"]
    return (getitem(g, key) if key != () else g,)


@register_gradient("getitem")
def _getitem_rule(op, g):
    return (index_add(g, op.captured["key"], op.inputs[0].value.shape),)


@register_gradient("gather")
def _gather_rule(op, g):
    from featherflow.ops.shape import transpose

    c = op.captured
    xv = op.inputs[0].value
    axis = c["axis"]
    if "key" not in c:  # batch_dims == 0: x[:, ..., idx]
        return (index_add(g, (slice(None),) * axis + (c["idx"],), xv.shape),)
    # batch_dims > 0: scatter into params moved so that `axis` follows the batch axes, then move back
    batch_dims, pre, source, target = c["batch_dims"], c["pre"], c["source"], c["target"]
    if pre and source:  # numpy.moveaxis(g, target, source) as a transpose
        rest = [a for a in range(g.value.ndim) if a not in target]
        perm = [None] * g.value.ndim
        for s_axis, t_axis in zip(source, target):
            perm[s_axis] = t_axis
        free = iter(rest)
        perm = [p if p is not None else next(free) for p in perm]
        g = transpose(g, perm)
    moved_shape = list(xv.shape)
    moved_shape.insert(batch_dims, moved_shape.pop(axis))
    full = index_add(g, c["key"], moved_shape)
    back = list(range(len(moved_shape)))
    back.insert(axis, back.pop(batch_dims))
    return (transpose(full, back),)


@register_gradient("gather_nd")
def _gather_nd_rule(op, g):
    return (index_add(g, op.captured["key"], op.inputs[0].value.shape),)
