"""The sparse softmax cross-entropy's compiled path: ``sparse_softmax_cross_entropy_with_logits`` (``ops.nn``)
runs its forward and backward as one Numba kernel each (``_numba_xent``) instead of 11 and 7 NumPy calls,
when the ops' kernels are in use (see ``featherflow.ops._kernels``: loaded once an input of ``MIN_SIZE``
elements or an optimizer's large flat buffer needed them; ``use_kernels(True)`` for every size;
``FEATHERFLOW_NUMBA=0`` never). In a ``tf.function`` each runs as a host call, so eager and compiled steps
compute the same values bit for bit; the NumPy path agrees with the kernels to float rounding (tested).

Seed MLP (32 x 10 logits): the loss and its gradient take ~7 us a step instead of ~24 us.

>>> import numpy as np
>>> from featherflow.ops import _kernels
>>> _kernels.use_kernels(True)  # every size (the default mode loads them for large inputs only)
>>> rows = compiled_rows(np.zeros((2, 2), np.float32))
>>> rows is None or np.allclose(rows(np.zeros((2, 2), np.float32), np.array([0, 1]))[1], np.log(2))  # None: no Numba
True
>>> _kernels.use_kernels(None)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler
from featherflow.ops import _kernels, array_kernels

_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def compiled_rows(logits):
    """``rows(logits, labels) -> (lse, per_row)`` for these 2-D ``logits`` (NumPy or traced, float32/64,
    at least one row and class), recorded as a host call while tracing; ``None`` for the NumPy path."""
    if logits.ndim != 2 or 0 in logits.shape or logits.dtype not in _DTYPES:
        return None
    if type(logits) is not np.ndarray and not compiler.is_traced(logits):
        return None
    kernel = _kernels.raw("sparse_xent_rows", logits.size)
    if kernel is None or _kernels.raw("sparse_xent_grad", logits.size) is None:
        return None
    if compiler.tracing():
        return lambda z, labels: compiler.host_call(_rows, z, labels)
    return _rows


def _off() -> bool:
    """Kernels switched off since this call was traced: the host call computes the NumPy path's numbers (a traced
    step keeps replaying across ``use_kernels(False)``, as the LSTM's does, and matches eager code bit for bit)."""
    return _kernels._state["enabled"] is False


def _rows(logits, labels):
    if _off():
        return array_kernels.sparse_xent_rows(logits, labels)[1:]
    zero = logits.dtype.type(0)
    labels = labels.astype(np.int64, copy=False)  # one compiled signature (the Keras loss may pass uint8)
    lse = np.empty(logits.shape[0], logits.dtype)
    per_row = np.empty(logits.shape[0], logits.dtype)
    _kernels._state["kernels"]["sparse_xent_rows"](logits, labels, zero, lse, per_row)
    return lse, per_row


def grad(logits, lse, labels, factor):
    """``(softmax(logits) - one_hot(labels)) * factor`` (``factor`` broadcasts against the logits: ``(rows, 1)``
    or a scalar) as a new array: the kernel as a host call while tracing, then NumPy's multiply (in a trace
    the factor of a mean's gradient is a constant the program folds; as a host call argument it would not be)."""
    if compiler.tracing():
        out = compiler.host_call(_grad, logits, lse, labels)
    else:
        out = _grad(logits, lse, labels)
    out *= factor
    return out


def _grad(logits, lse, labels):
    if _off():  # (times 1: exact; the caller applies the factor)
        return array_kernels.sparse_xent_grad(logits, lse, np.arange(logits.shape[0]), labels, 1)
    out = np.empty(logits.shape, logits.dtype)
    _kernels._state["kernels"]["sparse_xent_grad"](logits, lse, labels.astype(np.int64, copy=False), out)
    return out
