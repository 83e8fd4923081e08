"""Raw-array kernels: the arithmetic of the fused computations, written once.

Every path that computes one of these - an op and its backward rule (``ops/nn.py``, the convolutions), a
layer (``Dense``, ``Dropout``, the recurrent cells' dropout), the population forward of
``evolution/forward.py`` and any compiled step - calls the function here, so they agree bit for bit by construction: the same NumPy
operations in the same order. Functions take and return arrays (NumPy, or CuPy through ``xp``), never
``Tensor``s, and record nothing: a caller that differentiates records one op whose backward rule is the
matching ``*_backward`` / ``*_grad`` kernel.

* ``apply_activation`` / ``activation_grad``: the activations fused into dense and convolution ops
  (``FUSED_ACTIVATIONS``), forward in place and their gradient from the output.
* ``dense_forward`` / ``dense_backward``: ``activation(x @ kernel + bias)`` and its three gradients.
* ``softmax`` and ``logsumexp``: along an axis, shifted by the maximum.
* ``sparse_xent_rows`` / ``sparse_xent_grad``: softmax cross-entropy of integer labels from logits, per
  row, and its gradient ``(softmax(logits) - one_hot(labels)) * factor``;
  ``categorical_xent_from_probabilities`` / ``sparse_xent_from_probabilities``: Keras's cross-entropies of
  probabilities (renormalised and clipped), for array paths that score probabilities.
* ``dropout_uniform`` / ``dropout_mask``: the uniform draws and the scaled keep mask of inverted dropout.

>>> import numpy as np
>>> x, kernel, bias = np.ones((2, 3), "float32"), np.full((3, 2), 0.5, "float32"), np.array([-2.0, 1.0], "float32")
>>> out = dense_forward(x, kernel, bias, "relu")  # relu(1.5 - 2, 1.5 + 1)
>>> out
array([[0. , 2.5],
       [0. , 2.5]], dtype=float32)
>>> grad_x, grad_kernel, grad_bias = dense_backward(np.ones_like(out), x, kernel, out, "relu", need_bias=True)
>>> grad_bias
array([0., 2.], dtype=float32)
>>> softmax(np.array([[0.0, np.log(3.0)]])).round(2)
array([[0.25, 0.75]])
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler as _compiler
from featherflow.backend.arrays import array_module
from featherflow.backend.blas import THREADS, use_threads_for

__all__ = [
    "FUSED_ACTIVATIONS",
    "activation_grad",
    "apply_activation",
    "categorical_xent_from_probabilities",
    "dense_backward",
    "dense_forward",
    "dropout_mask",
    "dropout_uniform",
    "logsumexp",
    "relu_inplace",
    "sigmoid",
    "softmax",
    "sparse_xent_from_probabilities",
    "sparse_xent_grad",
    "sparse_xent_rows",
]

FUSED_ACTIVATIONS = (None, "linear", "relu", "sigmoid", "tanh")

_ndarray = np.ndarray
# ndarray.max/.sum call these reductions through a Python wrapper; calling them directly saves that frame
_max_reduce, _sum_reduce, _exp, _matmul = np.maximum.reduce, np.add.reduce, np.exp, np.matmul


# -- activations ------------------------------------------------------------------------------------------------
def sigmoid(z):
    """``1 / (1 + exp(-z))`` as a new array, computed without overflow (``exp`` of ``-|z|`` only)."""
    xp = array_module(z)
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


_ZERO_BLOCK = 1 << 16  # elements per block of an in-place ReLU against a zeros array
_ZEROS: dict = {}  # dtype -> (0-d zero, read-only zeros block)


def _zeros_for(dtype) -> tuple:
    zeros = _ZEROS.get(dtype)
    if zeros is None:
        block = np.zeros(_ZERO_BLOCK, dtype=dtype)
        block.flags.writeable = False
        zeros = _ZEROS[dtype] = (np.zeros((), dtype=dtype), block)
    return zeros


def relu_inplace(z, xp=None) -> None:
    """``z = max(z, 0)`` in place, with the values of ``xp.maximum(z, 0)``.

    NumPy 2.4's ``maximum`` against a Python scalar converts it on every call and, for large arrays, takes
    an unvectorised loop (measured 4x slower than against an array of zeros). So a NumPy array is compared
    with a cached 0-d zero of its dtype, and a large contiguous one in blocks against a read-only zeros block.
    """
    if type(z) is not _ndarray:
        (xp or array_module(z)).maximum(z, 0, out=z)
    elif z.size < _ZERO_BLOCK // 4 or not z.flags.c_contiguous:
        np.maximum(z, _zeros_for(z.dtype)[0], out=z)
    else:
        block = _zeros_for(z.dtype)[1]
        flat = z.reshape(-1)
        for start in range(0, flat.size, _ZERO_BLOCK):
            part = flat[start:start + _ZERO_BLOCK]
            np.maximum(part, block[:part.size], out=part)


def apply_activation(z, activation):
    """A fused activation applied to the pre-activation ``z``, returned: ``None``/``"linear"`` (``z``),
    ``"relu"`` and ``"tanh"`` in place, ``"sigmoid"`` as a new array."""
    if activation == "relu":
        if type(z) is _ndarray and z.size < _ZERO_BLOCK // 4:  # relu_inplace's small case, inlined: per layer call
            zeros = _ZEROS.get(z.dtype) or _zeros_for(z.dtype)
            np.maximum(z, zeros[0], out=z)
        else:
            relu_inplace(z)
    elif activation == "sigmoid":
        z = sigmoid(z)
    elif activation == "tanh":
        array_module(z).tanh(z, out=z)
    return z


def activation_grad(g, out, activation):
    """The gradient through a fused activation from its output ``out`` (``apply_activation``'s result): a new
    array, or ``g`` itself for ``None``/``"linear"``."""
    if activation == "relu":
        return g * (out > 0)
    if activation == "sigmoid":
        return g * out * (1 - out)
    if activation == "tanh":
        return g * (1 - out * out)
    return g


# -- dense ------------------------------------------------------------------------------------------------------
def dense_forward(x, kernel, bias=None, activation=None):
    """``activation(x @ kernel + bias)`` as a new array.

    Args:
        x: ``(rows, in)`` (or a stack ``(..., rows, in)`` with a stack of kernels: ``matmul``'s broadcasting).
        kernel: ``(in, units)`` (or ``(..., in, units)``).
        bias: ``None`` or an array that broadcasts against the product (``(units,)``, or ``(1, units)``, which
            NumPy adds faster to a small product, with the same sums).
        activation: one of ``FUSED_ACTIVATIONS`` (checked by the caller).
    """
    if THREADS["on"] and x.ndim == 2:
        _threads_for(x.shape[0] * kernel.shape[0] * kernel.shape[1])
    z = x @ kernel
    if bias is not None:
        z += bias
    return apply_activation(z, activation)


def _threads_for(macs: int) -> None:
    """``use_threads_for(macs)`` before a product; inside a ``tf.function`` trace a product large enough to thread
    records it as a host call, so every call of the compiled program picks BLAS's count by the policy (the free
    cores now) as eager code does. (Otherwise a compiled ``fit`` ran every product with the count left over when
    the trace ended, one thread in practice: the seed MLP's 32x784x128 products never used a second core.)"""
    if macs >= THREADS["threshold"] and _compiler.tracing():
        _compiler.host_call(use_threads_for, macs)
    else:
        use_threads_for(macs)


def dense_backward(g, x, kernel, out, activation, need_input=True, need_kernel=True, need_bias=False,
                   kernel_out=None, bias_out=None) -> tuple:
    """The gradients of ``dense_forward(x, kernel, bias, activation)`` for the output gradient ``g``.

    Args:
        g: ``(rows, units)``, the gradient of the output ``out`` (``dense_forward``'s result).
        x, kernel: 2-D, as given to ``dense_forward``.
        need_input, need_kernel, need_bias: which gradients to compute (the others are ``None``).
        kernel_out, bias_out: optional NumPy arrays to write the kernel's and the bias's gradient into (a flat
            gradient buffer's views); they are returned in place of new arrays.

    Returns ``(grad_x, grad_kernel, grad_bias)``:
    ``dz = g * activation'(out)``; ``grad_x = dz @ kernel^T``, ``grad_kernel = x^T @ dz``, ``grad_bias = sum(dz, 0)``.
    """
    dz = activation_grad(g, out, activation)
    if THREADS["on"]:
        _threads_for(x.shape[0] * kernel.shape[0] * kernel.shape[1])
    grad_x = dz @ kernel.T if need_input else None
    if kernel_out is not None:
        grad_kernel = _matmul(x.T, dz, out=kernel_out)
    else:
        grad_kernel = x.T @ dz if need_kernel else None
    if bias_out is not None:
        grad_bias = _column_sums(dz, bias_out)
    else:
        grad_bias = _column_sums(dz) if need_bias else None
    return grad_x, grad_kernel, grad_bias


# rows from which a bias gradient is a product with a vector of ones (BLAS's gemv) rather than NumPy's column sum
_GEMV_ROWS = 256


def _column_sums(dz, out=None):
    """``dz.sum(axis=0)`` (into ``out`` when given). For a tall float matrix, ``ones @ dz``: BLAS's gemv reads the
    rows once in blocks (measured 0.08 vs 0.21 ms for 6,400 x 192 float32, 0.015 vs 0.13 ms for 6,400 x 32) and
    its blocked sums are closer to the exact ones than NumPy's row-by-row accumulation down a column."""
    if dz.ndim == 2 and dz.shape[0] >= _GEMV_ROWS and dz.dtype in (np.float32, np.float64):
        xp = array_module(dz)
        ones = xp.ones(dz.shape[0], dtype=dz.dtype)
        return _matmul(ones, dz, out=out) if out is not None else ones @ dz
    return _sum_reduce(dz, axis=0, out=out) if out is not None else dz.sum(axis=0)


# -- softmax and cross-entropy -------------------------------------------------------------------------------------
def softmax(z, axis: int = -1):
    """``exp(z - max(z)) / sum(exp(z - max(z)))`` along ``axis``, as a new array.

    A single row (one sample) reduces over the whole array: the same elements through the same reduction
    loop, without the axis bookkeeping and broadcasting of a ``(1, 1)`` result (same numbers, ~1.5 us less).
    """
    if type(z) is not _ndarray:
        xp = array_module(z)
        e = xp.exp(z - z.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        return e
    if z.ndim == 2 and z.shape[0] == 1 and axis in (-1, 1):
        e = z - _max_reduce(z, axis=None)
        _exp(e, out=e)
        e /= _sum_reduce(e, axis=None)
        return e
    e = z - _max_reduce(z, axis=axis, keepdims=True)
    _exp(e, out=e)
    e /= _sum_reduce(e, axis=axis, keepdims=True)
    return e


def logsumexp(z, axis: int):
    """``log(sum(exp(z), axis))`` with the axis kept, shifted by the (finite) maximum for stability."""
    xp = array_module(z)
    m = z.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    return m + xp.log(xp.exp(z - m).sum(axis=axis, keepdims=True))


def sparse_xent_rows(logits, labels) -> tuple:
    """``(rows, lse, per_row)`` of the softmax cross-entropy of ``(n, classes)`` ``logits`` and ``(n,)`` integer
    ``labels``: ``per_row = logsumexp(logits) - logits[rows, labels]`` (``rows = arange(n)``)."""
    rows = array_module(logits).arange(logits.shape[0])
    lse = logsumexp(logits, -1)[:, 0]
    return rows, lse, lse - logits[rows, labels]


def sparse_xent_grad(logits, lse, rows, labels, factor):
    """The gradient of ``sparse_xent_rows``'s ``per_row`` times ``factor`` (a scalar or ``(n, 1)``):
    ``(softmax(logits) - one_hot(labels)) * factor``."""
    grad = array_module(logits).exp(logits - lse[:, None])
    grad[rows, labels] -= 1
    grad *= factor
    return grad


def categorical_xent_from_probabilities(probabilities, targets, epsilon: float, axis: int = -1):
    """Keras's categorical cross-entropy of probabilities along ``axis``:
    ``-sum(targets * log(clip(p / sum(p), epsilon, 1 - epsilon)))`` (the probabilities renormalised first)."""
    xp = array_module(probabilities)
    p = probabilities / probabilities.sum(axis=axis, keepdims=True)
    return -(targets * xp.log(xp.clip(p, epsilon, 1 - epsilon))).sum(axis=axis)


def sparse_xent_from_probabilities(probabilities, labels, epsilon: float):
    """Keras's sparse categorical cross-entropy of probabilities (class axis last) and integer ``labels`` (the
    leading shape): the softmax cross-entropy of ``log(clip(p, epsilon, 1 - epsilon))``, that is
    ``log(sum(c)) - log(c[label])`` with ``c`` the clipped probabilities."""
    xp = array_module(probabilities)
    log_clipped = xp.log(xp.clip(probabilities, epsilon, 1 - epsilon))
    picked = xp.take_along_axis(log_clipped, labels[..., None], axis=-1)[..., 0]
    return logsumexp(log_clipped, -1)[..., 0] - picked


# -- dropout -----------------------------------------------------------------------------------------------------
def dropout_uniform(rng, shape, dtype):
    """The uniform draws in ``[0, 1)`` of a dropout mask for data of ``dtype``: float32 draws for dtypes of up to
    4 bytes (half the random bits of float64 draws), float64 draws otherwise. ``rng``: a NumPy Generator."""
    return rng.random(shape, dtype="float64" if np.dtype(dtype).itemsize > 4 else "float32")


def dropout_mask(uniform, rate: float, dtype):
    """The inverted-dropout mask of ``dtype`` from ``uniform`` draws: ``1 / (1 - rate)`` where the draw is at least
    ``rate`` (kept), ``0`` elsewhere. ``0 <= rate < 1``. NumPy in, NumPy out."""
    dtype = np.dtype(dtype)
    return np.multiply(uniform >= rate, dtype.type(1.0 / (1.0 - rate)), dtype=dtype)
