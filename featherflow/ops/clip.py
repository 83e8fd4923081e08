"""Norms and norm clipping: norm, l2_normalize, global_norm, clip_by_norm, clip_by_global_norm.

These are compositions of recorded ops (square, reduce_sum, sqrt, maximum, ...), so their
gradients follow from the primitives' rules, with the same safe forms TensorFlow uses at
zero norm.

>>> import featherflow as ff
>>> ff.clip_by_norm([3.0, 4.0], 1.0).numpy()
array([0.6, 0.8], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops import math as _m
from featherflow.ops._convert import as_float_tensor, as_tensor
from featherflow.ops.compare import where
from featherflow.ops.reduce import normalize_axis, reduce_euclidean_norm, reduce_max, reduce_sum


def _safe_norm(sum_of_squares: Tensor) -> Tensor:
    # sqrt has an infinite derivative at 0: take it only where the sum is positive (as TF does).
    positive = sum_of_squares.value > 0
    safe = where(positive, sum_of_squares, 1.0)
    return where(positive, _m.sqrt(safe), sum_of_squares)


def clip_by_norm(t, clip_norm, axes=None, name=None) -> Tensor:
    """Rescale ``t`` so its L2 norm (over ``axes``, default all) is at most ``clip_norm``.

    ``t * clip_norm / max(norm(t), clip_norm)``; unchanged when the norm is already small.

    >>> clip_by_norm([[3.0, 4.0], [0.3, 0.4]], 1.0, axes=[1]).numpy()
    array([[0.6, 0.8],
           [0.3, 0.4]], dtype=float32)
    """
    t = as_float_tensor(t, "clip_by_norm", "t")
    clip = as_tensor(clip_norm, "clip_by_norm", "clip_norm", dtype=t.value.dtype)
    if clip.value.ndim != 0:
        raise ValueError(f"clip_by_norm: `clip_norm` must be a scalar. Received: shape={clip.shape}")
    if clip.value <= 0:
        raise ValueError(f"clip_by_norm: `clip_norm` must be positive. Received: clip_norm={float(clip.value)}")
    norm = _safe_norm(reduce_sum(_m.square(t), axis=axes, keepdims=True))
    return _m.divide(_m.multiply(t, clip), _m.maximum(norm, clip))


def global_norm(t_list, name=None) -> Tensor:
    """``sqrt(sum(||t||^2 for t in t_list))``; ``None`` entries are skipped.

    >>> float(global_norm([[3.0], [4.0]]))
    5.0
    """
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise TypeError(f"global_norm: `t_list` must be a list of tensors. Received: {type(t_list).__name__}")
    tensors = [as_float_tensor(t, "global_norm", f"t_list[{i}]") for i, t in enumerate(t_list) if t is not None]
    if not tensors:
        raise ValueError("global_norm: `t_list` holds no tensors (all entries are None).")
    total = None
    for t in tensors:
        part = reduce_sum(_m.square(t))
        if total is not None and part.value.dtype != total.value.dtype:
            part = _m.cast(part, total.value.dtype)
        total = part if total is None else _m.add(total, part)
    return _safe_norm(total)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None) -> tuple:
    """Scale every tensor of ``t_list`` by ``clip_norm / max(global_norm, clip_norm)``.

    Returns ``(list_clipped, global_norm)``. ``None`` entries stay ``None``; a non-finite
    global norm turns every value into NaN, as in TensorFlow.

    >>> clipped, norm = clip_by_global_norm([[3.0], [4.0]], 1.0)
    >>> [c.numpy() for c in clipped], float(norm)
    ([array([0.6], dtype=float32), array([0.8], dtype=float32)], 5.0)
    """
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise TypeError(
            f"clip_by_global_norm: `t_list` must be a list of tensors. Received: {type(t_list).__name__}")
    norm = global_norm(t_list) if use_norm is None else as_float_tensor(use_norm, "clip_by_global_norm", "use_norm")
    dtype = norm.value.dtype
    clip = as_tensor(clip_norm, "clip_by_global_norm", "clip_norm", dtype=dtype)
    if clip.value <= 0:
        raise ValueError(f"clip_by_global_norm: `clip_norm` must be positive. Received: {float(clip.value)}")
    xp = array_module(norm.value)
    if not bool(xp.isfinite(norm.value)):
        scale = Tensor(xp.asarray(np.nan, dtype=dtype))
    else:
        scale = _m.divide(clip, _m.maximum(norm, clip))
    clipped = []
    for i, t in enumerate(t_list):
        if t is None:
            clipped.append(None)
            continue
        t = as_float_tensor(t, "clip_by_global_norm", f"t_list[{i}]")
        s = scale if t.value.dtype == dtype else _m.cast(scale, t.value.dtype)
        clipped.append(_m.multiply(t, s))
    return clipped, norm


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None) -> Tensor:
    """``x / sqrt(max(sum(x^2, axis), epsilon))``.

    >>> l2_normalize([3.0, 4.0]).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    x = as_float_tensor(x, "l2_normalize")
    axis = dim if axis is None and dim is not None else axis
    square_sum = reduce_sum(_m.square(x), axis=axis, keepdims=True)
    return _m.multiply(x, _m.rsqrt(_m.maximum(square_sum, x.value.dtype.type(epsilon))))


def _spectral_norm(x: Tensor, axes, keepdims) -> Tensor:
    """Largest singular value over the two ``axes``; gradient ``u1 v1^T``."""
    xv = x.value
    xp = array_module(xv)
    rest = [i for i in range(xv.ndim) if i not in axes]
    moved = xv.transpose(rest + list(axes))
    u, s, vt = xp.linalg.svd(moved, full_matrices=False)
    top = s[..., 0]
    out_keep = top.reshape(top.shape + (1, 1))
    inverse = np.argsort(rest + list(axes))
    out = out_keep.transpose(inverse) if keepdims else top

    def backward(g, needs):
        gk = g if not keepdims else g.transpose(rest + list(axes)).reshape(top.shape)
        outer = u[..., :, :1] * vt[..., :1, :]
        return ((outer * gk[..., None, None]).transpose(inverse),)

    # (np.ascontiguousarray would turn a 0-d result into shape (1,))
    return record("norm", (x,), xp.array(out, dtype=xv.dtype), backward)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None) -> Tensor:  # noqa: A002
    """Vector or matrix norm.

    Args:
        tensor: float tensor.
        ord: ``"euclidean"``/``2`` (default), ``1``, ``np.inf`` or any ``p > 0`` for vectors;
            ``"fro"``/``"euclidean"``, ``1`` (max column sum), ``2`` (largest singular value),
            ``np.inf`` (max row sum) for matrices.
        axis: ``None`` (the whole tensor as one vector), an int (vector norms), or a pair of
            ints (matrix norms over those two axes).
        keepdims: keep the reduced axes as size 1.

    >>> norm([3.0, -4.0]).numpy()
    array(5., dtype=float32)
    >>> float(norm([[1.0, -2.0], [3.0, 4.0]], ord=1, axis=[0, 1]))
    6.0
    """
    x = as_float_tensor(tensor, "norm", "tensor")
    keepdims = bool(keepdims)
    if axis is None:
        axes = tuple(range(x.value.ndim))
        matrix = False
    else:
        axis_list = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if len(axis_list) not in (1, 2):
            raise ValueError(f"norm: `axis` must be None, an int or a pair of ints. Received: axis={axis}")
        axes = tuple(normalize_axis(a, x.value.ndim, "norm")[0] for a in axis_list)
        matrix = len(axes) == 2
        if matrix and axes[0] == axes[1]:
            raise ValueError(f"norm: the two axes must differ. Received: axis={axis}")
    inf = float("inf")
    valid = ord in ("euclidean", "fro", 1, 2, inf) or (
        not matrix and not isinstance(ord, str) and isinstance(ord, (int, float)) and ord > 0)
    if not valid or (ord == "fro" and not matrix):
        raise ValueError(
            f"norm: ord={ord!r} is not supported for {'matrix' if matrix else 'vector'} norms. Supported: "
            f"{'euclidean, fro, 1, 2, inf' if matrix else 'euclidean, 1, 2, inf or any positive number'}"
        )
    if matrix and ord == 2:
        return _spectral_norm(x, axes, keepdims)
    if ord in ("euclidean", "fro", 2) or (not matrix and ord == 2.0):
        return reduce_euclidean_norm(x, axis=list(axes), keepdims=keepdims)
    magnitude = _m.abs(x)
    if matrix:
        # ord=1: max over columns of the column sums; ord=inf: max over rows of the row sums.
        summed, other = (axes[0], axes[1]) if ord == 1 else (axes[1], axes[0])
        sums = reduce_sum(magnitude, axis=summed, keepdims=True)
        out = reduce_max(sums, axis=other, keepdims=True)
        return out if keepdims else _m_squeeze(out, sorted(axes))
    if ord == inf:
        return reduce_max(magnitude, axis=list(axes), keepdims=keepdims)
    if ord == 1:
        return reduce_sum(magnitude, axis=list(axes), keepdims=keepdims)
    p = float(ord)
    total = reduce_sum(_m.pow(magnitude, x.value.dtype.type(p)), axis=list(axes), keepdims=keepdims)
    return _m.pow(total, x.value.dtype.type(1.0 / p))


def _m_squeeze(t, axes):
    from featherflow.ops.shape import squeeze

    return squeeze(t, axis=axes)
