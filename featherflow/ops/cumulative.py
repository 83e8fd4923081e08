"""Cumulative products and cumulative log-sum-exp along an axis (``cumsum`` lives in ``ops.reduce``).

``cumprod``'s gradient is exact with zeros in the input: ``d/dx_i = prod_{j<i} x_j * S_i`` with the
reverse recurrence ``S_i = g_i + x_{i+1} S_{i+1}`` (no division; TensorFlow divides by ``x`` and
returns 0 there). ``cumulative_logsumexp`` uses ``logaddexp`` accumulation and TensorFlow's gradient,
computed in the log domain on the positive and negative parts of the output gradient.

>>> import featherflow as ff
>>> ff.math.cumprod([1.0, 2.0, 3.0]).numpy()
array([1., 2., 6.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor
from featherflow.ops.reduce import normalize_axis


def _axis(x: Tensor, axis, op: str) -> int:
    if x.value.ndim == 0:
        raise ValueError(f"{op}: expected a tensor of rank >= 1. Received: a scalar.")
    axis = int(axis.value) if isinstance(axis, Tensor) else axis
    return normalize_axis(int(axis), x.value.ndim, op)[0]


def _take(arr, axis, index):
    key = [slice(None)] * arr.ndim
    key[axis] = index
    return tuple(key)


def _cumprod_array(a, axis, exclusive, xp):
    out = xp.cumprod(a, axis=axis, dtype=a.dtype)
    if not exclusive:
        return out
    shifted = xp.ones_like(out)
    shifted[_take(a, axis, slice(1, None))] = out[_take(a, axis, slice(None, -1))]
    return shifted


def _cumprod_grad_array(a, out, g, axis, exclusive, xp):
    """Gradient of the forward-direction cumprod (``a`` already flipped for ``reverse``)."""
    n = a.shape[axis]
    before = _cumprod_array(a, axis, True, xp)  # prod_{j<i} a_j
    if not exclusive and not (a == 0).any():
        return xp.flip(xp.cumsum(xp.flip(g * out, axis), axis=axis), axis) / a
    running = xp.zeros_like(before[_take(a, axis, slice(0, 1))])
    sums = xp.zeros_like(before)
    for i in range(n - 1, -1, -1):
        key = _take(a, axis, slice(i, i + 1))
        if exclusive:  # T_i = g_{i+1} + a_{i+1} T_{i+1}
            sums[key] = running
            running = g[key] + a[key] * running
        else:  # S_i = g_i + a_{i+1} S_{i+1}
            nxt = a[_take(a, axis, slice(i + 1, i + 2))] if i + 1 < n else 0
            running = g[key] + nxt * running
            sums[key] = running
    return before * sums


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Cumulative product along ``axis``.

    Args:
        x: the tensor.
        axis: the axis to scan.
        exclusive: exclude the current element (``[a, b, c] -> [1, a, a * b]``).
        reverse: scan from the end (``[a, b, c] -> [a * b * c, b * c, c]``).

    >>> cumprod([1.0, 2.0, 3.0], exclusive=True, reverse=True).numpy()
    array([6., 3., 1.], dtype=float32)
    """
    x = as_tensor(x, "cumprod")
    axis = _axis(x, axis, "cumprod")
    xv = x.value
    xp = array_module(xv)
    a = xp.flip(xv, axis) if reverse else xv
    out = _cumprod_array(a, axis, exclusive, xp)
    if reverse:
        out = xp.flip(out, axis).copy()

    def backward(g, needs):
        gf = xp.flip(g, axis) if reverse else g
        outf = xp.flip(out, axis) if reverse else out
        grad = _cumprod_grad_array(a, outf, gf, axis, exclusive, xp)
        return (xp.flip(grad, axis) if reverse else grad,)

    return record("cumprod", (x,), out, backward)


@register_gradient("cumprod")
def _cumprod_rule(op, g):
    from featherflow.ops.compare import equal
    from featherflow.ops.reduce import cumsum, reduce_any
    from featherflow.ops.shape import reverse as flip
    from featherflow.ops.shape import stack, unstack

    x = op.inputs[0]
    c = op.captured
    axis, exclusive, rev = c["axis"], c["exclusive"], c["reverse"]
    if not exclusive and not bool(reduce_any(equal(x, 0))):
        return (cumsum(g * op.output, axis=axis, reverse=not rev) / x,)
    # zeros (or exclusive): the recurrence, written with ops
    a = flip(x, [axis]) if rev else x
    gf = flip(g, [axis]) if rev else g
    before = cumprod(a, axis=axis, exclusive=True)
    xs, gs = unstack(a, axis=axis), unstack(gf, axis=axis)
    n = len(xs)
    sums = [None] * n
    running = gs[0] * 0
    for i in range(n - 1, -1, -1):
        if exclusive:
            sums[i] = running
            running = gs[i] + xs[i] * running
        else:
            running = gs[i] + (xs[i + 1] * running if i + 1 < n else 0)
            sums[i] = running
    grad = before * stack(sums, axis=axis)
    return (flip(grad, [axis]) if rev else grad,)


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Cumulative ``log(sum(exp(x)))`` along ``axis``, computed stably (``logaddexp`` accumulation).

    Args:
        x: float tensor.
        axis: the axis to scan.
        exclusive: exclude the current element (the first output is ``-inf``).
        reverse: scan from the end.

    >>> cumulative_logsumexp([0.0, 0.0]).numpy()
    array([0.       , 0.6931472], dtype=float32)
    """
    x = as_float_tensor(x, "cumulative_logsumexp")
    axis = _axis(x, axis, "cumulative_logsumexp")
    xv = x.value
    xp = array_module(xv)
    a = xp.flip(xv, axis) if reverse else xv
    out = xp.logaddexp.accumulate(a, axis=axis)
    if exclusive:
        shifted = xp.full_like(out, -np.inf)
        shifted[_take(a, axis, slice(1, None))] = out[_take(a, axis, slice(None, -1))]
        out = shifted
    if reverse:
        out = xp.flip(out, axis).copy()

    def backward(g, needs):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_logsumexp_grad(xv, out, g, axis, exclusive, reverse, xp),)

    return record("cumulative_logsumexp", (x,), out, backward)


def _logsumexp_grad(x, out, g, axis, exclusive, reverse, xp):
    """TensorFlow's rule: ``exp(cumlse(log(g+) - out, reversed) + x) - exp(cumlse(log(g-) - out, reversed) + x)``."""
    dead = xp.isneginf(out)  # an output of -inf: its window is all -inf and contributes nothing

    def part(log_g):
        scan = xp.where(dead, -np.inf, log_g - out)
        if not reverse:
            scan = xp.flip(scan, axis)
        acc = xp.logaddexp.accumulate(scan, axis=axis)
        if exclusive:
            shifted = xp.full_like(acc, -np.inf)
            shifted[_take(acc, axis, slice(1, None))] = acc[_take(acc, axis, slice(None, -1))]
            acc = shifted
        if not reverse:
            acc = xp.flip(acc, axis)
        return xp.exp(acc + x)

    positive = xp.where(g > 0, xp.log(xp.where(g > 0, g, 1)), -np.inf)
    negative = xp.where(g < 0, xp.log(xp.where(g < 0, -g, 1)), -np.inf)
    return part(positive) - part(negative)


@register_gradient("cumulative_logsumexp")
def _cumulative_logsumexp_rule(op, g):
    from featherflow.ops.compare import where
    from featherflow.ops.creation import ones_like, zeros_like
    from featherflow.ops.math import exp, log, negative

    x, out = op.inputs[0], op.output
    c = op.captured
    axis, exclusive, rev = c["axis"], c["exclusive"], c["reverse"]
    minus_inf = zeros_like(g) - np.inf
    dead = Tensor(np.isneginf(out.value))
    live_out = where(dead, zeros_like(out), out)

    def part(mask, magnitude):
        if not mask.value.any():
            return None
        log_g = where(mask, log(where(mask, magnitude, ones_like(g))), minus_inf)
        acc = cumulative_logsumexp(where(dead, minus_inf, log_g - live_out), axis=axis, exclusive=exclusive,
                                   reverse=not rev)
        return exp(acc + x)

    positive, negative_part = part(g > 0, g), part(g < 0, negative(g))
    if positive is None and negative_part is None:
        return (zeros_like(x),)
    if negative_part is None:
        return (positive,)
    return (negative(negative_part) if positive is None else positive - negative_part,)
