"""Scatter ops: ``scatter_nd`` and the ``tensor_scatter_nd_*`` family.

``indices`` has shape ``(..., k)``: each row addresses the first ``k`` axes of the target, and
``updates`` has shape ``indices.shape[:-1] + shape[k:]``. ``scatter_nd`` and ``tensor_scatter_nd_add``
sum duplicate indices; ``tensor_scatter_nd_update`` keeps the last update for a duplicated index.

Gradients: ``gather_nd`` of the output gradient for the updates; the target tensor gets the output
gradient except where it was overwritten (update) or lost the comparison (max / min, ties split).

>>> import featherflow as ff
>>> ff.scatter_nd([[1], [3]], [9.0, 10.0], [5]).numpy()
array([ 0.,  9.,  0., 10.,  0.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.shape import _shape_arg


def _key(indices, target_shape, updates_shape, op):
    idx = as_tensor(indices, op, "indices").value
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: `indices` must be an integer tensor. Received dtype {idx.dtype}.")
    if idx.ndim < 1:
        raise InvalidArgumentError(None, None, f"{op}: indices must have rank >= 1. Received: indices.shape={idx.shape}")
    depth = idx.shape[-1]
    expected = idx.shape[:-1] + tuple(target_shape[depth:])
    if depth > len(target_shape) or tuple(updates_shape) != expected:
        raise InvalidArgumentError(
            None, None, f"{op}: updates.shape must be indices.shape[:-1] + shape[indices.shape[-1]:] = "
            f"{list(expected)}. Received: indices.shape={idx.shape}, updates.shape={tuple(updates_shape)}, "
            f"shape={list(target_shape)}")
    flat = idx.reshape(-1, depth)
    bad = ((flat < 0) | (flat >= np.asarray(target_shape[:depth], dtype=np.int64))).any(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidArgumentError(None, None, f"{op}: indices[{i}] = {flat[i].tolist()} does not index into shape "
                                   f"{list(target_shape)}")
    return tuple(idx[..., j] for j in range(depth)), idx


def scatter_nd(indices, updates, shape, bad_indices_policy="", name=None) -> Tensor:
    """A zero tensor of ``shape`` with ``updates`` added at ``indices`` (duplicates summed).

    >>> scatter_nd([[0, 1], [1, 0]], [1.0, 2.0], [2, 2]).numpy()
    array([[0., 1.],
           [2., 0.]], dtype=float32)
    """
    u = as_tensor(updates, "scatter_nd", "updates")
    target = _shape_arg(shape, "scatter_nd")
    key, idx = _key(indices, target, u.value.shape, "scatter_nd")
    uv = u.value
    xp = array_module(uv)
    out = xp.zeros(target, dtype=uv.dtype)
    if key:
        xp.add.at(out, key, uv)
    else:
        out += uv.sum(axis=tuple(range(uv.ndim - len(target)))) if uv.ndim > len(target) else uv
    return record("scatter_nd", (u,), out, lambda g, needs: (_gather(g, key, uv.shape, xp),))


def _gather(g, key, shape, xp):
    if not key:
        return xp.broadcast_to(g, shape)
    return g[key]


def _scatter_into(tensor, indices, updates, op, combine):
    t = as_tensor(tensor, op, "tensor")
    u = as_tensor(updates, op, "updates", dtype=t.value.dtype) if not isinstance(updates, Tensor) else updates
    if u.value.dtype != t.value.dtype:
        raise TypeError(f"{op}: `updates` must have the dtype of `tensor` ({t.dtype.name}). Received: {u.dtype.name}")
    key, idx = _key(indices, t.value.shape, u.value.shape, op)
    tv, uv = t.value, u.value
    xp = array_module(tv)
    out = tv.copy()
    combine(out, key, uv, xp)
    return t, u, key, out, xp


def tensor_scatter_nd_update(tensor, indices, updates, name=None) -> Tensor:
    """A copy of ``tensor`` with the slices at ``indices`` replaced by ``updates``.

    >>> tensor_scatter_nd_update([1.0, 2.0, 3.0], [[0], [2]], [9.0, 8.0]).numpy()
    array([9., 2., 8.], dtype=float32)
    """
    def assign(out, key, uv, xp):
        if key:
            out[key] = uv
        else:
            out[...] = uv

    t, u, key, out, xp = _scatter_into(tensor, indices, updates, "tensor_scatter_nd_update", assign)
    kept = xp.ones(out.shape, dtype=bool)
    if key:
        kept[key] = False
    else:
        kept[...] = False
    ushape = u.value.shape

    def backward(g, needs):
        return (g * kept if needs[0] else None, _gather(g, key, ushape, xp) if needs[1] else None)

    return record("tensor_scatter_nd_update", (t, u), out, backward)


def tensor_scatter_nd_add(tensor, indices, updates, bad_indices_policy="", name=None) -> Tensor:
    """A copy of ``tensor`` with ``updates`` added at ``indices`` (duplicates summed).

    >>> tensor_scatter_nd_add([1.0, 2.0], [[0], [0]], [1.0, 1.0]).numpy()
    array([3., 2.], dtype=float32)
    """
    t, u, key, out, xp = _scatter_into(tensor, indices, updates, "tensor_scatter_nd_add",
                                       lambda out, key, uv, xp: xp.add.at(out, key, uv) if key else out.__iadd__(uv))
    ushape = u.value.shape
    return record("tensor_scatter_nd_add", (t, u), out,
                  lambda g, needs: (g, _gather(g, key, ushape, xp) if needs[1] else None))


def tensor_scatter_nd_sub(tensor, indices, updates, bad_indices_policy="", name=None) -> Tensor:
    """A copy of ``tensor`` with ``updates`` subtracted at ``indices``.

    >>> tensor_scatter_nd_sub([1.0, 2.0], [[1]], [5.0]).numpy()
    array([ 1., -3.], dtype=float32)
    """
    t, u, key, out, xp = _scatter_into(tensor, indices, updates, "tensor_scatter_nd_sub",
                                       lambda out, key, uv, xp: xp.subtract.at(out, key, uv) if key
                                       else out.__isub__(uv))
    ushape = u.value.shape
    return record("tensor_scatter_nd_sub", (t, u), out,
                  lambda g, needs: (g, -_gather(g, key, ushape, xp) if needs[1] else None))


def _extreme(tensor, indices, updates, op, high):
    ufunc_name = "maximum" if high else "minimum"
    t, u, key, out, xp = _scatter_into(
        tensor, indices, updates, op,
        lambda out, key, uv, xp: getattr(xp, ufunc_name).at(out, key, uv) if key
        else getattr(xp, ufunc_name)(out, uv, out=out))
    tv, uv = t.value, u.value
    x_won = tv == out
    y_won = uv == _gather(out, key, uv.shape, xp)
    winners = x_won.astype(np.int64)
    if key:
        xp.add.at(winners, key, y_won.astype(np.int64))
    else:
        winners += y_won
    x_share = x_won / winners
    y_share = y_won / xp.maximum(_gather(winners, key, uv.shape, xp), 1)

    def backward(g, needs):
        return ((g * x_share).astype(g.dtype) if needs[0] else None,
                (_gather(g, key, uv.shape, xp) * y_share).astype(g.dtype) if needs[1] else None)

    return record(op, (t, u), out, backward)


def tensor_scatter_nd_max(tensor, indices, updates, bad_indices_policy="", name=None) -> Tensor:
    """A copy of ``tensor`` where each addressed slice becomes the maximum of itself and the updates.

    >>> tensor_scatter_nd_max([1.0, 5.0], [[0], [1]], [3.0, 3.0]).numpy()
    array([3., 5.], dtype=float32)
    """
    return _extreme(tensor, indices, updates, "tensor_scatter_nd_max", True)


def tensor_scatter_nd_min(tensor, indices, updates, bad_indices_policy="", name=None) -> Tensor:
    """A copy of ``tensor`` where each addressed slice becomes the minimum of itself and the updates.

    >>> tensor_scatter_nd_min([1.0, 5.0], [[0], [1]], [3.0, 3.0]).numpy()
    array([1., 3.], dtype=float32)
    """
    return _extreme(tensor, indices, updates, "tensor_scatter_nd_min", False)


# -- differentiable rules -------------------------------------------------------------------------------------------

def _gather_op(g, op):
    from featherflow.ops.indexing import gather_nd
    from featherflow.ops.shape import broadcast_to

    c = op.captured
    key = c["key"]
    if not key:
        return broadcast_to(g, op.inputs[-1].shape)
    return gather_nd(g, np.stack(key, axis=-1))


@register_gradient("scatter_nd")
def _scatter_nd_rule(op, g):
    return (_gather_op(g, op),)


@register_gradient("tensor_scatter_nd_update")
def _update_rule(op, g):
    kept = op.captured["kept"]
    return g * Tensor(kept.astype(g.dtype)), _gather_op(g, op)


@register_gradient("tensor_scatter_nd_add")
def _add_rule(op, g):
    return g, _gather_op(g, op)


@register_gradient("tensor_scatter_nd_sub")
def _sub_rule(op, g):
    return g, -_gather_op(g, op)


def _extreme_rule(op, g):
    c = op.captured
    return g * Tensor(c["x_share"].astype(g.dtype)), _gather_op(g, op) * Tensor(c["y_share"].astype(g.dtype))


register_gradient("tensor_scatter_nd_max")(_extreme_rule)
register_gradient("tensor_scatter_nd_min")(_extreme_rule)
