"""Reductions over axes (``axis=None`` reduces everything; ``keepdims`` keeps size-1 axes),
and the cumulative sum.

Integer inputs keep their dtype (NumPy would widen int32 sums to int64; TensorFlow does not).

>>> import featherflow as ff
>>> ff.reduce_sum([[1.0, 2.0], [3.0, 4.0]], axis=0).numpy()
array([4., 6.], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor


def normalize_axis(axis, ndim: int, op: str):
    """``axis`` as a sorted tuple of non-negative ints (``None`` -> all axes), validated."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Tensor):
        axis = axis.value.tolist()
    axes = (axis,) if not isinstance(axis, (list, tuple)) else tuple(axis)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int) and not hasattr(a, "__index__"):
            raise TypeError(f"{op}: `axis` must be an integer or a list of integers. Received: axis={axis!r}")
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{op}: axis {a} is out of bounds for a tensor of rank {ndim}. "
                f"Expected an axis in [{-ndim}, {ndim}). Received: axis={axis}"
            )
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def _expand(g, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts back against the input."""
    if keepdims or not axes:
        return g
    kept = list(shape)
    for a in axes:
        kept[a] = 1
    return g.reshape(kept)


def _count(shape, axes) -> int:
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def _int_kwargs(xv):
    # NumPy sums int32 into int64; TensorFlow keeps the input dtype.
    return {"dtype": xv.dtype} if xv.dtype.kind in "iub" else {}


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

    return record("reduce_sum", (x,), xp.asarray(xv.sum(axis=axes, keepdims=keepdims, **_int_kwargs(xv))),
                  backward)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Mean of elements across ``axis`` (integer inputs give an integer mean truncated toward
    zero, as in TensorFlow; an empty reduction gives NaN).

    >>> reduce_mean([[1.0, 2.0], [3.0, 4.0]], axis=1).numpy()
    array([1.5, 3.5], dtype=float32)
    """
    x = as_tensor(input_tensor, "reduce_mean", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_mean")
    shape = xv.shape
    xp = array_module(xv)
    count = _count(shape, axes)
    if xv.dtype.kind in "iub":
        total = xv.sum(axis=axes, keepdims=keepdims, dtype="int64")
        mean = xp.sign(total) * (xp.abs(total) // max(count, 1))
        return Tensor(xp.asarray(mean).astype(xv.dtype))
    out = xp.asarray(xv.mean(axis=axes, keepdims=keepdims)) if count else xp.asarray(
        xv.sum(axis=axes, keepdims=keepdims) * xp.nan)
    scale = 1.0 / count if count else 0.0

    def backward(g, needs):
        return (xp.broadcast_to(_expand(g * scale, shape, axes, keepdims), shape),)

    return record("reduce_mean", (x,), out.astype(xv.dtype, copy=False), backward)


def _reduced_shape(shape, axes, keepdims):
    return tuple(1 if i in axes else d for i, d in enumerate(shape)) if keepdims else tuple(
        d for i, d in enumerate(shape) if i not in axes)


def _identity_fill(xv, axes, keepdims, high: bool):
    """TensorFlow's result for max/min over an empty axis: the lowest / highest value of the dtype."""
    import numpy as np

    xp = array_module(xv)
    if xv.dtype.kind == "f":
        value = -np.inf if high else np.inf
    elif xv.dtype.kind == "b":
        value = not high
    else:
        info = np.iinfo(xv.dtype)
        value = info.min if high else info.max
    return xp.full(_reduced_shape(xv.shape, axes, keepdims), value, dtype=xv.dtype)


def _reduce_extreme(input_tensor, axis, keepdims, name, high):
    x = as_tensor(input_tensor, name, "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, name)
    xp = array_module(xv)
    if xv.size == 0:
        if _count(xv.shape, axes) == 0:
            out = _identity_fill(xv, axes, keepdims, high)
        else:  # nothing is reduced over an empty axis: the result is empty too
            out = xp.zeros(_reduced_shape(xv.shape, axes, keepdims), dtype=xv.dtype)
        return record(name, (x,), out, lambda g, needs: (xp.zeros(xv.shape, dtype=g.dtype),))
    out_keep = xv.max(axis=axes, keepdims=True) if high else xv.min(axis=axes, keepdims=True)
    out = out_keep if keepdims else out_keep.reshape(_reduced_shape(xv.shape, axes, False))

    def backward(g, needs):
        mask = xv == out_keep
        count = mask.sum(axis=axes, keepdims=True)  # ties share the gradient equally
        return (mask * (_expand(g, xv.shape, axes, keepdims) / count),)

    return record(name, (x,), xp.asarray(out), backward)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Maximum across ``axis``; tied maxima share the gradient equally. An empty reduction gives
    the lowest value of the dtype (``-inf`` for floats), as in TensorFlow.

    >>> reduce_max([[1.0, 5.0], [3.0, 2.0]], axis=1).numpy()
    array([5., 3.], dtype=float32)
    """
    return _reduce_extreme(input_tensor, axis, keepdims, "reduce_max", True)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Minimum across ``axis``; tied minima share the gradient equally (``+inf`` when empty).

    >>> reduce_min([[1.0, 5.0], [3.0, 2.0]], axis=1).numpy()
    array([1., 2.], dtype=float32)
    """
    return _reduce_extreme(input_tensor, axis, keepdims, "reduce_min", False)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Product of elements across ``axis``.

    The gradient of each element is the product of the *other* elements, computed from
    exclusive cumulative products from both sides, so zeros are handled exactly.

    >>> reduce_prod([[1.0, 2.0], [3.0, 4.0]], axis=1).numpy()
    array([ 2., 12.], dtype=float32)
    """
    x = as_tensor(input_tensor, "reduce_prod", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_prod")
    xp = array_module(xv)
    out = xp.asarray(xv.prod(axis=axes, keepdims=keepdims, **_int_kwargs(xv)))
    shape = xv.shape

    def backward(g, needs):
        kept = [i for i in range(xv.ndim) if i not in axes]
        perm = kept + list(axes)
        moved = xv.transpose(perm)
        n = _count(shape, axes)
        flat = moved.reshape(-1, n)
        ones = xp.ones((flat.shape[0], 1), dtype=xv.dtype)
        left = xp.concatenate([ones, xp.cumprod(flat[:, :-1], axis=1)], axis=1)
        right = xp.concatenate([xp.cumprod(flat[:, :0:-1], axis=1)[:, ::-1], ones], axis=1)
        others = (left * right).reshape(moved.shape).transpose(_inverse(perm))
        return (others * _expand(g, shape, axes, keepdims),)

    return record("reduce_prod", (x,), out, backward)


def _inverse(perm):
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return inverse


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """``log(sum(exp(x)))`` across ``axis``, computed as ``m + log(sum(exp(x - m)))`` with
    ``m = max(x)`` so it neither overflows nor underflows. Gradient: ``softmax(x)``.

    >>> reduce_logsumexp([[0.0, 0.0], [1000.0, 1000.0]], axis=1).numpy()
    array([6.9314718e-01, 1.0006932e+03], dtype=float32)
    """
    x = as_float_tensor(input_tensor, "reduce_logsumexp", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_logsumexp")
    xp = array_module(xv)
    if _count(xv.shape, axes) == 0:
        out = _identity_fill(xv, axes, keepdims, True)
        return record("reduce_logsumexp", (x,), out, lambda g, needs: (xp.zeros(xv.shape, dtype=g.dtype),))
    m = xv.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out_keep = m + xp.log(xp.exp(xv - m).sum(axis=axes, keepdims=True))
    out = out_keep if keepdims else out_keep.reshape(_reduced_shape(xv.shape, axes, False))

    def backward(g, needs):
        return (xp.exp(xv - out_keep) * _expand(g, xv.shape, axes, keepdims),)

    return record("reduce_logsumexp", (x,), out.astype(xv.dtype, copy=False), backward)


def _centered(xv, axes):
    mean = xv.mean(axis=axes, keepdims=True)
    return xv - mean


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Population variance ``mean((x - mean(x))^2)`` across ``axis``; gradient ``2 (x - mean) / n``.

    >>> float(reduce_variance([[1.0, 2.0], [3.0, 4.0]]))
    1.25
    """
    x = as_float_tensor(input_tensor, "reduce_variance", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_variance")
    xp = array_module(xv)
    n = _count(xv.shape, axes)
    if n == 0:
        return reduce_mean(x, axis=axis, keepdims=keepdims)
    centered = _centered(xv, axes)
    out = xp.asarray((centered * centered).mean(axis=axes, keepdims=keepdims))

    def backward(g, needs):
        return (centered * (_expand(g, xv.shape, axes, keepdims) * (2.0 / n)),)

    return record("reduce_variance", (x,), out.astype(xv.dtype, copy=False), backward)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Population standard deviation across ``axis``; gradient ``(x - mean) / (n * std)``
    (0 where the standard deviation is 0).

    >>> reduce_std([[1.0, 2.0], [3.0, 4.0]], axis=1).numpy()
    array([0.5, 0.5], dtype=float32)
    """
    x = as_float_tensor(input_tensor, "reduce_std", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_std")
    xp = array_module(xv)
    n = _count(xv.shape, axes)
    if n == 0:
        return reduce_mean(x, axis=axis, keepdims=keepdims)
    centered = _centered(xv, axes)
    std_keep = xp.sqrt((centered * centered).mean(axis=axes, keepdims=True))
    out = std_keep if keepdims else std_keep.reshape(_reduced_shape(xv.shape, axes, False))

    def backward(g, needs):
        safe = xp.where(std_keep > 0, std_keep * n, 1)
        return (centered * (_expand(g, xv.shape, axes, keepdims) / safe),)

    return record("reduce_std", (x,), xp.asarray(out).astype(xv.dtype, copy=False), backward)


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """``sqrt(sum(x^2))`` across ``axis``; gradient ``x / norm`` (0 where the norm is 0).

    >>> reduce_euclidean_norm([[3.0, 4.0]], axis=1).numpy()
    array([5.], dtype=float32)
    """
    x = as_tensor(input_tensor, "reduce_euclidean_norm", "input_tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reduce_euclidean_norm")
    xp = array_module(xv)
    if xv.dtype.kind in "iu":
        total = (xv.astype("float64") ** 2).sum(axis=axes, keepdims=keepdims)
        return Tensor(xp.asarray(xp.sqrt(total)).astype(xv.dtype))
    norm_keep = xp.sqrt((xv * xv).sum(axis=axes, keepdims=True))
    out = norm_keep if keepdims else norm_keep.reshape(_reduced_shape(xv.shape, axes, False))

    def backward(g, needs):
        safe = xp.where(norm_keep > 0, norm_keep, 1)
        return (xv * (_expand(g, xv.shape, axes, keepdims) / safe),)

    return record("reduce_euclidean_norm", (x,), xp.asarray(out), backward)


def _bool_input(input_tensor, op):
    x = as_tensor(input_tensor, op, "input_tensor")
    if x.value.dtype.kind != "b":
        raise TypeError(
            f"{op}: `input_tensor` must be a boolean tensor, received dtype {x.dtype.name}. "
            f"Compare first (e.g. featherflow.greater(x, 0)) or cast with featherflow.cast(x, 'bool')."
        )
    return x


def reduce_any(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical OR across ``axis`` of a boolean tensor.

    >>> reduce_any([[True, False], [False, False]], axis=1).numpy()
    array([ True, False])
    """
    x = _bool_input(input_tensor, "reduce_any")
    axes = normalize_axis(axis, x.value.ndim, "reduce_any")
    return Tensor(array_module(x.value).asarray(x.value.any(axis=axes, keepdims=keepdims)))


def reduce_all(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical AND across ``axis`` of a boolean tensor.

    >>> reduce_all([[True, False], [True, True]], axis=1).numpy()
    array([False,  True])
    """
    x = _bool_input(input_tensor, "reduce_all")
    axes = normalize_axis(axis, x.value.ndim, "reduce_all")
    return Tensor(array_module(x.value).asarray(x.value.all(axis=axes, keepdims=keepdims)))


def count_nonzero(input, axis=None, keepdims=None, dtype="int64", name=None) -> Tensor:  # noqa: A002
    """Number of non-zero elements across ``axis`` (no gradient).

    >>> count_nonzero([[0.0, 1.0], [2.0, 0.0]], axis=0).numpy()
    array([1, 1])
    """
    x = as_tensor(input, "count_nonzero", "input")
    axes = normalize_axis(axis, x.value.ndim, "count_nonzero")
    xp = array_module(x.value)
    counts = (x.value != 0).sum(axis=axes, keepdims=bool(keepdims))
    return Tensor(xp.asarray(counts).astype(dtype))


def _shift(arr, axis, xp):
    """Shift ``arr`` by one along ``axis`` (first slot zero): turns inclusive scans exclusive."""
    out = xp.zeros_like(arr)
    index = [slice(None)] * arr.ndim
    index[axis] = slice(1, None)
    source = [slice(None)] * arr.ndim
    source[axis] = slice(None, -1)
    out[tuple(index)] = arr[tuple(source)]
    return out


def _scan_sum(arr, axis, exclusive, reverse, xp):
    if reverse:
        arr = xp.flip(arr, axis)
    out = xp.cumsum(arr, axis=axis, **_int_kwargs(arr))
    if exclusive:
        out = _shift(out, axis, xp)
    return xp.flip(out, axis) if reverse else out


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Cumulative sum along ``axis``.

    Args:
        exclusive: exclude the current element (``[a, b, c] -> [0, a, a + b]``).
        reverse: sum from the end (``[a, b, c] -> [a + b + c, b + c, c]``).

    Gradient: the cumulative sum of the output gradient in the opposite direction.

    >>> cumsum([1.0, 2.0, 3.0]).numpy()
    array([1., 3., 6.], dtype=float32)
    >>> cumsum([1.0, 2.0, 3.0], exclusive=True, reverse=True).numpy()
    array([5., 3., 0.], dtype=float32)
    """
    x = as_tensor(x, "cumsum")
    xv = x.value
    if xv.ndim == 0:
        raise ValueError("cumsum: expected a tensor of rank >= 1. Received: a scalar.")
    axis = normalize_axis(int(axis), xv.ndim, "cumsum")[0]
    xp = array_module(xv)
    out = _scan_sum(xv, axis, exclusive, reverse, xp)
    return record("cumsum", (x,), out, lambda g, needs: (_scan_sum(g, axis, exclusive, not reverse, xp),))


# -- differentiable rules (higher-order gradients; core/gradients.py) ----------------------------------------------

def _expand_op(g, shape, axes, keepdims):
    """``_expand`` with ops: the reduced gradient reshaped to broadcast back against ``shape``."""
    from featherflow.ops.shape import reshape

    if keepdims or not axes:
        return g
    kept = list(shape)
    for a in axes:
        kept[a] = 1
    return reshape(g, kept)


def _broadcast_back(g, c):
    from featherflow.ops.shape import broadcast_to

    return broadcast_to(_expand_op(g, c["shape"], c["axes"], c["keepdims"]), c["shape"])


@register_gradient("reduce_sum")
def _reduce_sum_rule(op, g):
    return (_broadcast_back(g, op.captured),)


@register_gradient("reduce_mean")
def _reduce_mean_rule(op, g):
    c = op.captured
    return (_broadcast_back(g * c["scale"], c),)


@register_gradient("reduce_max")
@register_gradient("reduce_min")
def _reduce_extreme_rule(op, g):
    x = op.inputs[0]
    c = op.captured
    xv = x.value
    if "out_keep" not in c:  # an empty reduction
        return (Tensor(array_module(xv).zeros(xv.shape, dtype=g.value.dtype)),)
    axes, keepdims = c["axes"], c["keepdims"]
    mask = xv == c["out_keep"]
    weight = mask / mask.sum(axis=axes, keepdims=True)
    return (Tensor(weight.astype(g.value.dtype)) * _expand_op(g, xv.shape, axes, keepdims),)


@register_gradient("reduce_prod")
def _reduce_prod_rule(op, g):
    from featherflow.ops.cumulative import cumprod
    from featherflow.ops.shape import reshape, transpose

    x = op.inputs[0]
    c = op.captured
    axes, keepdims, shape = c["axes"], c["keepdims"], c["shape"]
    kept = [i for i in range(len(shape)) if i not in axes]
    perm = kept + list(axes)
    moved = transpose(x, perm)
    flat = reshape(moved, (-1, _count(shape, axes)))
    others = cumprod(flat, axis=1, exclusive=True) * cumprod(flat, axis=1, exclusive=True, reverse=True)
    others = transpose(reshape(others, moved.value.shape), _inverse(perm))
    return (others * _expand_op(g, shape, axes, keepdims),)


@register_gradient("reduce_logsumexp")
def _reduce_logsumexp_rule(op, g):
    from featherflow.ops.math import exp

    x = op.inputs[0]
    c = op.captured
    if "out_keep" not in c:
        return (Tensor(array_module(x.value).zeros(x.value.shape, dtype=g.value.dtype)),)
    out_keep = _expand_op(op.output, x.value.shape, c["axes"], c["keepdims"])
    return (exp(x - out_keep) * _expand_op(g, x.value.shape, c["axes"], c["keepdims"]),)


def _centered_op(x, axes):
    return x - reduce_mean(x, axis=list(axes), keepdims=True)


@register_gradient("reduce_variance")
def _reduce_variance_rule(op, g):
    x = op.inputs[0]
    c = op.captured
    return (_centered_op(x, c["axes"]) * (_expand_op(g, x.value.shape, c["axes"], c["keepdims"]) * (2.0 / c["n"])),)


@register_gradient("reduce_std")
def _reduce_std_rule(op, g):
    from featherflow.ops.compare import where

    x = op.inputs[0]
    c = op.captured
    std_keep = _expand_op(op.output, x.value.shape, c["axes"], c["keepdims"])
    positive = Tensor(c["std_keep"] > 0)
    safe = where(positive, std_keep * c["n"], std_keep * 0 + 1)
    return (_centered_op(x, c["axes"]) * (_expand_op(g, x.value.shape, c["axes"], c["keepdims"]) / safe),)


@register_gradient("reduce_euclidean_norm")
def _reduce_euclidean_norm_rule(op, g):
    from featherflow.ops.compare import where

    x = op.inputs[0]
    c = op.captured
    norm_keep = _expand_op(op.output, x.value.shape, c["axes"], c["keepdims"])
    positive = Tensor(c["norm_keep"] > 0)
    safe = where(positive, norm_keep, norm_keep * 0 + 1)
    return (x * (_expand_op(g, x.value.shape, c["axes"], c["keepdims"]) / safe),)


@register_gradient("cumsum")
def _cumsum_rule(op, g):
    c = op.captured
    return (cumsum(g, axis=c["axis"], exclusive=c["exclusive"], reverse=not c["reverse"]),)
