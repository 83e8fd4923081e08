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

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor


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
