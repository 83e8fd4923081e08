"""Reductions over axes (``axis=None`` reduces everything; ``keepdims`` keeps size-1 axes).

>>> import featherflow as ff
>>> ff.reduce_sum([[1.0, 2.0], [3.0, 4.0]], axis=0).numpy()
array([4., 6.], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor


def normalize_axis(axis, ndim: int, op: str):
    """``axis`` as a sorted tuple of non-negative ints (``None`` -> all axes), validated."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Tensor):
        axis = axis.value.tolist()
    axes = (axis,) if not isinstance(axis, (list, tuple)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(
                f"{op}: axis {a} is out of bounds for a tensor of rank {ndim}. "
                f"Expected an axis in [{-ndim}, {ndim}). Received: axis={axis}"
            )
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def _expand(g, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts back against the input."""
    if keepdims or not axes:
        return g
    kept = list(shape)
    for a in axes:
        kept[a] = 1
    return g.reshape(kept)


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Sum of elements across ``axis``.

    >>> float(reduce_sum([1.0, 2.0, 3.0]))
    6.0
    """
    x = as_tensor(input_tensor, "reduce_sum", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_sum")
    shape = xv.shape
    xp = array_module(xv)

    def backward(g, needs):
        return (xp.broadcast_to(_expand(g, shape, axes, keepdims), shape),)

    return record("reduce_sum", (x,), xp.asarray(xv.sum(axis=axes, keepdims=keepdims)), backward)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Mean of elements across ``axis`` (integer inputs give an integer mean, as in TensorFlow).

    >>> reduce_mean([[1.0, 2.0], [3.0, 4.0]], axis=1).numpy()
    array([1.5, 3.5], dtype=float32)
    """
    x = as_tensor(input_tensor, "reduce_mean", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_mean")
    shape = xv.shape
    xp = array_module(xv)
    count = 1
    for a in axes:
        count *= shape[a]
    if xv.dtype.kind in "iu":
        return Tensor(xp.asarray(xv.sum(axis=axes, keepdims=keepdims) // max(count, 1)).astype(xv.dtype))
    out = xp.asarray(xv.mean(axis=axes, keepdims=keepdims)) if count else xp.asarray(
        xv.sum(axis=axes, keepdims=keepdims) * xp.nan)
    scale = 1.0 / count if count else 0.0

    def backward(g, needs):
        return (xp.broadcast_to(_expand(g * scale, shape, axes, keepdims), shape),)

    return record("reduce_mean", (x,), out.astype(xv.dtype, copy=False), backward)


def _reduce_extreme(input_tensor, axis, keepdims, name, fn):
    x = as_tensor(input_tensor, name, "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, name)
    if xv.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor (shape {xv.shape}) over axis {axis}.")
    xp = array_module(xv)
    out_keep = fn(xv, axis=axes, keepdims=True)
    out = out_keep if keepdims else out_keep.reshape([d for i, d in enumerate(xv.shape) if i not in axes])

    def backward(g, needs):
        mask = xv == out_keep
        count = mask.sum(axis=axes, keepdims=True)  # ties share the gradient equally
        return (mask * (_expand(g, xv.shape, axes, keepdims) / count),)

    return record(name, (x,), xp.asarray(out), backward)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Maximum across ``axis``; tied maxima share the gradient equally.

    >>> reduce_max([[1.0, 5.0], [3.0, 2.0]], axis=1).numpy()
    array([5., 3.], dtype=float32)
    """
    return _reduce_extreme(input_tensor, axis, keepdims, "reduce_max", array_module().max)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Minimum across ``axis``; tied minima share the gradient equally.

    >>> reduce_min([[1.0, 5.0], [3.0, 2.0]], axis=1).numpy()
    array([1., 2.], dtype=float32)
    """
    return _reduce_extreme(input_tensor, axis, keepdims, "reduce_min", array_module().min)
