"""Fused normalization ops: batch normalization (training mode) and layer normalization.

Both compute ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` with ``mean``/``var`` (biased)
taken over ``axes`` of ``x``, as one op with the closed-form backward rule

    dx = inv / n * (n * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),   dxhat = dy * gamma

(sums over the normalized axes, ``n`` their size, ``inv = 1 / sqrt(var + epsilon)``), which is
cheaper and more accurate than differentiating the composed ops.

>>> import numpy as np
>>> y = layer_norm(np.array([[1.0, 3.0]], "float32"), None, None, axes=(1,), epsilon=0.0)
>>> y.numpy()
array([[-1.,  1.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops import _kernels
from featherflow.ops._convert import as_float_tensor
from featherflow.ops._host import on_host, on_host_fixed
from featherflow.ops.conv_utils import split_batch, split_parts

# elements from which layer normalization over the last axis runs as compiled row kernels (``_numba_norm``);
# the text classifier's layers normalize 204,800 a step
_KERNEL_MIN_WORK = 65_536


def _param(value, x_dtype, op, name):
    if value is None:
        return None
    t = as_float_tensor(value, op, name)
    if t.value.dtype != x_dtype:
        raise TypeError(f"{op}: `{name}` must have the input's dtype {x_dtype}. Received {t.value.dtype}.")
    return t


def _normalize(x, gamma, beta, axes, epsilon, op):
    """Shared forward/backward; ``axes`` are reduced, ``gamma``/``beta`` broadcast over the others.

    Returns the output tensor and the (keepdims) mean and variance arrays.
    """
    x = as_float_tensor(x, op)
    xv = x.value
    ndim = xv.ndim
    axes = tuple(sorted(a % ndim for a in axes))
    gamma = _param(gamma, xv.dtype, op, "gamma")
    beta = _param(beta, xv.dtype, op, "beta")
    xp = array_module(xv)
    count = 1
    for a in axes:
        count *= xv.shape[a]
    if op == "layer_normalization" and axes == tuple(range(ndim - len(axes), ndim)) and xp is np \
            and xv.dtype in (np.float32, np.float64) and xv.size \
            and _kernels.get_for_work("layer_norm_rows", xv.size, _KERNEL_MIN_WORK) is not None:
        return _layer_norm_rows(x, gamma, beta, axes, count, epsilon, op)
    if op == "batch_normalization" and axes == tuple(range(ndim - 1)) and ndim >= 2 and xp is np \
            and xv.dtype in (np.float32, np.float64) and xv.size \
            and all(p is None or p.value.size == xv.shape[-1] for p in (gamma, beta)) \
            and _kernels.get_for_work("batch_norm_channels", xv.size, _KERNEL_MIN_WORK) is not None:
        return _batch_norm_channels(x, gamma, beta, axes, epsilon)
    mean = xv.mean(axis=axes, keepdims=True)
    centered = xv - mean
    var = xp.mean(centered * centered, axis=axes, keepdims=True)
    inv = 1.0 / xp.sqrt(var + xv.dtype.type(epsilon))
    xhat = centered
    xhat *= inv  # in place: `centered` is not needed afterwards
    out = xhat * gamma.value if gamma is not None else xhat.copy()
    if beta is not None:
        out += beta.value
    inputs = [x] + [t for t in (gamma, beta) if t is not None]

    def backward(g, needs):
        grads = []
        if needs[0]:
            dxhat = g * gamma.value if gamma is not None else g
            sum_d = dxhat.sum(axis=axes, keepdims=True)
            sum_dx = (dxhat * xhat).sum(axis=axes, keepdims=True)
            gx = dxhat - sum_d / count
            gx -= xhat * (sum_dx / count)
            gx *= inv
            grads.append(gx)
        else:
            grads.append(None)
        if gamma is not None:
            grads.append(_reduce_to(g * xhat, gamma.value.shape) if needs[len(grads)] else None)
        if beta is not None:
            grads.append(_reduce_to(g, beta.value.shape) if needs[len(grads)] else None)
        return tuple(grads)

    backward.attrs = {"epsilon": epsilon}  # for the differentiable rule (ops/kernel_gradients.py)
    return record(op, tuple(inputs), out, backward), mean, var


def _layer_norm_rows(x, gamma, beta, axes, count, epsilon, op):
    """Layer normalization over the trailing axes (``count`` values per row) through the compiled row kernels
    (``_numba_norm``; one host call each way in a ``tf.function``). Same formula and backward rule as
    ``_normalize``'s NumPy path; returns ``(output, None, None)`` (no statistics: only ``layer_norm`` asks)."""
    xv = x.value
    rows = xv.size // count
    shape = xv.shape
    g_shape = None if gamma is None else gamma.value.shape
    b_shape = None if beta is None else beta.value.shape
    gv = None if gamma is None else gamma.value.reshape(count)
    bv = None if beta is None else beta.value.reshape(count)
    out, xhat, inv = on_host(_layer_norm_forward, xv.reshape(rows, count), gv, bv, epsilon)
    out = out.reshape(shape)
    inputs = [x] + [t for t in (gamma, beta) if t is not None]

    def backward(g, needs):
        needs = tuple(bool(n) for n in needs)
        gx, g_gamma, g_beta = on_host(_layer_norm_backward, g.reshape(rows, count), xhat, inv, gv, needs[0],
                                      gamma is not None and needs[1],
                                      beta is not None and needs[len(needs) - 1])
        return _input_grads((gx, g_gamma, g_beta), (shape, g_shape, b_shape), (True, gamma is not None,
                                                                              beta is not None))

    # for the differentiable rule (ops/kernel_gradients.py; it reads `gamma` and `beta` from the closure)
    backward.attrs = {"epsilon": epsilon, "axes": axes}
    return record(op, tuple(inputs), out, backward), None, None


def _input_grads(grads, shapes, present) -> tuple:
    """The backward rule's result: the gradients of the inputs that are there (``present``), each reshaped to its
    input's shape (``None`` kept)."""
    return tuple(None if g is None else g.reshape(shape) for g, shape, here in zip(grads, shapes, present) if here)


def _batch_norm_channels(x, gamma, beta, axes, epsilon):
    """Batch normalization over every axis but the last (channels-last: Keras's default ``axis=-1``) through the
    compiled kernels (``_numba_norm``; one host call each way in a ``tf.function``). Same formula and backward
    rule as ``_normalize``'s NumPy path, with float64 sums; returns ``(output, mean, variance)``, the statistics
    with size-1 reduced axes."""
    xv = x.value
    shape, channels = xv.shape, xv.shape[-1]
    stat_shape = (1,) * (xv.ndim - 1) + (channels,)
    g_shape = None if gamma is None else gamma.value.shape
    b_shape = None if beta is None else beta.value.shape
    gv = None if gamma is None else gamma.value.reshape(channels)
    bv = None if beta is None else beta.value.reshape(channels)
    out, mean, var, inv = on_host_fixed(_batch_norm_forward, xv.reshape(-1, channels), gv, bv, epsilon)
    x2 = xv.reshape(-1, channels)
    inputs = [x] + [t for t in (gamma, beta) if t is not None]

    def backward(g, needs):
        needs = tuple(bool(n) for n in needs)
        gx, g_gamma, g_beta = on_host_fixed(_batch_norm_backward, g.reshape(-1, channels), x2, mean, inv, gv,
                                            needs[0], gamma is not None and needs[1],
                                            beta is not None and needs[len(needs) - 1])
        return _input_grads((gx, g_gamma, g_beta), (shape, g_shape, b_shape), (True, gamma is not None,
                                                                              beta is not None))

    # for the differentiable rule (ops/kernel_gradients.py; it reads `gamma` and `beta` from the closure)
    backward.attrs = {"epsilon": epsilon, "axes": axes}
    return record("batch_normalization", tuple(inputs), out.reshape(shape), backward), mean.reshape(stat_shape), \
        var.reshape(stat_shape)


def _batch_norm_forward(x2, gamma, beta, epsilon):
    """``(out, mean, var, inv)`` of the ``(rows, channels)`` ``x2`` normalized over its rows (compiled kernel)."""
    dtype = x2.dtype
    channels = x2.shape[1]
    gamma = np.ones(channels, dtype) if gamma is None else gamma
    beta = np.zeros(channels, dtype) if beta is None else beta
    out = np.empty_like(x2)
    mean, var, inv = (np.empty(channels, dtype) for _ in range(3))
    _kernels.get_for_work("batch_norm_channels")(np.ascontiguousarray(x2), gamma, beta, float(epsilon), out, mean,
                                                 var, inv)
    return out, mean, var, inv


def _batch_norm_backward(g2, x2, mean, inv, gamma, want_x, want_gamma, want_beta):
    """``(g_x, g_gamma, g_beta)`` (None where not wanted) of ``_batch_norm_forward`` (compiled kernel)."""
    dtype = x2.dtype
    channels = x2.shape[1]
    gamma = np.ones(channels, dtype) if gamma is None else gamma
    gx = np.empty_like(x2)
    g_gamma = np.empty(channels, dtype)
    g_beta = np.empty(channels, dtype)
    _kernels.get_for_work("batch_norm_grad_channels")(np.ascontiguousarray(g2, dtype=dtype),
                                                      np.ascontiguousarray(x2), mean, inv, gamma, gx, g_gamma,
                                                      g_beta)
    return gx if want_x else None, g_gamma if want_gamma else None, g_beta if want_beta else None


def _layer_norm_forward(x2, gamma, beta, epsilon):
    """``(out, xhat, inv)`` of 2-D rows ``x2`` (``gamma``/``beta``: 1-D or None) with the compiled kernel."""
    dtype = x2.dtype
    count = x2.shape[1]
    gamma = np.ones(count, dtype) if gamma is None else gamma
    beta = np.zeros(count, dtype) if beta is None else beta
    out = np.empty_like(x2)
    xhat = np.empty_like(x2)
    inv = np.empty(x2.shape[0], dtype)
    kernel = _kernels.get_for_work("layer_norm_rows")
    epsilon = float(epsilon)
    # rows are independent: slices in threads (the kernel releases the GIL) give the same values
    split_batch(lambda lo, hi: kernel(x2[lo:hi], gamma, beta, epsilon, out[lo:hi], xhat[lo:hi], inv[lo:hi]),
                x2.shape[0], x2.size)
    return out, xhat, inv


def _layer_norm_backward(g2, xhat, inv, gamma, want_x, want_gamma, want_beta):
    """``(g_x, g_gamma, g_beta)`` (None where not wanted) from the forward's ``xhat`` and ``inv``."""
    dtype = xhat.dtype
    count = xhat.shape[1]
    g2 = np.ascontiguousarray(g2, dtype=dtype)
    gamma = np.ones(count, dtype) if gamma is None else gamma
    gx = np.empty_like(xhat)
    rows = xhat.shape[0]
    parts = split_parts(rows, xhat.size)
    # rows in threads, each with its own gamma/beta sums (added in the order of the slices: the same values
    # for the same split)
    g_gamma = np.empty((parts, count), np.float64)
    g_beta = np.empty((parts, count), np.float64)
    kernel = _kernels.get_for_work("layer_norm_grad_rows")

    starts = [rows * i // parts for i in range(parts)]  # split_batch's slices

    def run(lo, hi):
        part = starts.index(lo)
        kernel(g2[lo:hi], xhat[lo:hi], inv[lo:hi], gamma, gx[lo:hi], g_gamma[part], g_beta[part])

    split_batch(run, rows, xhat.size, np, parts)
    return (gx if want_x else None, g_gamma.sum(axis=0).astype(dtype) if want_gamma else None,
            g_beta.sum(axis=0).astype(dtype) if want_beta else None)


def _reduce_to(grad, shape):
    """Sum ``grad`` down to a parameter ``shape`` that broadcasts against it (NumPy rules)."""
    full = (1,) * (grad.ndim - len(shape)) + tuple(shape)
    axes = tuple(i for i, size in enumerate(full) if size == 1 and grad.shape[i] != 1)
    return (grad.sum(axis=axes, keepdims=True) if axes else grad).reshape(shape)


def batch_norm_training(x, gamma, beta, axes, epsilon):
    """Batch normalization with the statistics of this batch.

    Args:
        x: input tensor.
        gamma / beta: ``None`` or tensors shaped to broadcast against ``x`` (size 1 on ``axes``).
        axes: the reduced axes (all but the channel axis).
        epsilon: added to the variance.

    Returns ``(y, batch_mean, batch_variance)``; the statistics are raw arrays with size-1 reduced axes.
    """
    return _normalize(x, gamma, beta, axes, epsilon, "batch_normalization")


def layer_norm(x, gamma, beta, axes, epsilon) -> Tensor:
    """Layer normalization over ``axes`` of each sample; ``gamma``/``beta`` shaped to broadcast
    against ``x`` with the sizes of ``axes`` (size 1 elsewhere), or ``None``."""
    return _normalize(x, gamma, beta, axes, epsilon, "layer_normalization")[0]
