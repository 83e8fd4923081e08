"""Ordering ops: argmax/argmin, top_k, in_top_k, sort and argsort.

Index outputs have no gradient; ``top_k`` values and ``sort`` pass the gradient back to
the positions they were taken from.

>>> import featherflow as ff
>>> ff.argmax([[1.0, 5.0, 2.0]], axis=1).numpy()
array([1])
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor

TopKV2 = namedtuple("TopKV2", ["values", "indices"])


def _axis(axis, ndim, op):
    if isinstance(axis, Tensor):
        axis = axis.value.tolist()
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ValueError(f"{op}: expected a single axis. Received: axis={axis}")
        axis = axis[0]
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of rank {ndim}. Received: axis={axis}")
    return axis % ndim


def _arg_extreme(input, axis, output_type, op, high):  # noqa: A002
    x = as_tensor(input, op, "input")
    xv = x.value
    if xv.ndim == 0:
        raise ValueError(f"{op}: expected a tensor of rank >= 1. Received: a scalar.")
    axis = _axis(0 if axis is None else axis, xv.ndim, op)
    if xv.shape[axis] == 0:
        raise ValueError(f"{op}: cannot take the {op[3:]} of an empty axis. Received: input.shape={xv.shape}")
    xp = array_module(xv)
    out = xv.argmax(axis=axis) if high else xv.argmin(axis=axis)
    return Tensor(xp.asarray(out).astype(np.dtype(output_type)))


def argmax(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    """Index of the largest value along ``axis`` (default 0); the first one on ties.

    >>> argmax([[1.0, 5.0], [7.0, 2.0]]).numpy()
    array([1, 0])
    """
    return _arg_extreme(input, axis, output_type, "argmax", True)


def argmin(input, axis=None, output_type="int64", name=None) -> Tensor:  # noqa: A002
    """Index of the smallest value along ``axis`` (default 0); the first one on ties.

    >>> argmin([[1.0, 5.0], [7.0, 2.0]], axis=1).numpy()
    array([0, 1])
    """
    return _arg_extreme(input, axis, output_type, "argmin", False)


def _argsort(xv, axis, descending, xp):
    """Stable argsort; descending keeps equal values in their original order."""
    if not descending:
        return xp.argsort(xv, axis=axis, kind="stable")
    n = xv.shape[axis]
    flipped = xp.argsort(xp.flip(xv, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(flipped, axis)


def _direction(direction, op):
    key = str(direction).upper()
    if key not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f'{op}: direction must be "ASCENDING" or "DESCENDING". Received: direction={direction!r}')
    return key == "DESCENDING"


def _gather_along(x, xv, order, axis, op, xp):
    out = xp.take_along_axis(xv, order, axis=axis)

    def backward(g, needs):
        full = xp.zeros(xv.shape, dtype=g.dtype)
        xp.put_along_axis(full, order, g, axis=axis)  # positions are distinct: assignment is exact
        return (full,)

    return record(op, (x,), out, backward)


def sort(values, axis=-1, direction="ASCENDING", name=None) -> Tensor:
    """Sorted copy of ``values`` along ``axis``; the gradient follows each element to its place.

    >>> sort([3.0, 1.0, 2.0], direction="DESCENDING").numpy()
    array([3., 2., 1.], dtype=float32)
    """
    x = as_tensor(values, "sort", "values")
    xv = x.value
    if xv.ndim == 0:
        raise ValueError("sort: expected a tensor of rank >= 1. Received: a scalar.")
    axis = _axis(axis, xv.ndim, "sort")
    xp = array_module(xv)
    order = _argsort(xv, axis, _direction(direction, "sort"), xp)
    return _gather_along(x, xv, order, axis, "sort", xp)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> Tensor:
    """Indices that sort ``values`` along ``axis`` (int32; always stable here).

    >>> argsort([3.0, 1.0, 2.0]).numpy()
    array([1, 2, 0], dtype=int32)
    """
    x = as_tensor(values, "argsort", "values")
    xv = x.value
    if xv.ndim == 0:
        raise ValueError("argsort: expected a tensor of rank >= 1. Received: a scalar.")
    axis = _axis(axis, xv.ndim, "argsort")
    xp = array_module(xv)
    return Tensor(_argsort(xv, axis, _direction(direction, "argsort"), xp).astype("int32"))


def top_k(input, k=1, sorted=True, name=None) -> TopKV2:  # noqa: A002 - TensorFlow's names
    """The ``k`` largest entries of the last axis and their indices (``TopKV2(values, indices)``).

    Equal values are ordered by index (lower first), as in TensorFlow. ``values`` carries a
    gradient back to the selected positions; ``indices`` are int32.

    >>> values, indices = top_k([1.0, 4.0, 3.0, 4.0], k=2)
    >>> values.numpy(), indices.numpy()
    (array([4., 4.], dtype=float32), array([1, 3], dtype=int32))
    """
    x = as_tensor(input, "top_k", "input")
    xv = x.value
    if xv.ndim == 0:
        raise ValueError("top_k: expected a tensor of rank >= 1. Received: a scalar.")
    k = int(k)
    if not 0 <= k <= xv.shape[-1]:
        raise ValueError(
            f"top_k: k must be in [0, {xv.shape[-1]}] (the size of the last axis). Received: k={k}, "
            f"input.shape={xv.shape}"
        )
    xp = array_module(xv)
    order = _argsort(xv, -1, True, xp)[..., :k]
    values = _gather_along(x, xv, order, -1, "top_k", xp)
    return TopKV2(values, Tensor(order.astype("int32")))


def in_top_k(targets, predictions, k, name=None) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row.

    Ties at the boundary count as in the top k (as in TensorFlow); a non-finite target
    prediction gives False.

    Args:
        targets: ``(batch,)`` integer class ids.
        predictions: ``(batch, classes)`` scores.
        k: how many top entries count.

    >>> in_top_k([1, 0], [[0.1, 0.9, 0.5], [0.1, 0.9, 0.5]], k=2).numpy()
    array([ True, False])
    """
    p = as_tensor(predictions, "in_top_k", "predictions").value
    t = as_tensor(targets, "in_top_k", "targets").value
    if p.ndim != 2 or t.shape != p.shape[:1]:
        raise ValueError(
            f"in_top_k: expected predictions of shape (batch, classes) and targets of shape (batch,). "
            f"Received: predictions.shape={p.shape}, targets.shape={t.shape}"
        )
    if t.dtype.kind not in "iu":
        raise TypeError(f"in_top_k: `targets` must be integer class ids, received dtype {t.dtype.name}.")
    xp = array_module(p)
    valid = (t >= 0) & (t < p.shape[1])
    rows = xp.arange(p.shape[0])
    target_scores = p[rows, xp.where(valid, t, 0)]
    higher = (p > target_scores[:, None]).sum(axis=1)
    return Tensor(valid & xp.isfinite(target_scores) & (higher < int(k)))


def _along_rule(op, g):
    from featherflow.ops.indexing import index_add

    c = op.captured
    order, axis, xv = c["order"], c["axis"], c["xv"]
    axis %= xv.ndim
    grids = np.ogrid[tuple(slice(0, n) for n in order.shape)]
    key = tuple(order if i == axis else grids[i] for i in range(order.ndim))
    return (index_add(g, key, xv.shape),)


register_gradient("sort")(_along_rule)
register_gradient("top_k")(_along_rule)
