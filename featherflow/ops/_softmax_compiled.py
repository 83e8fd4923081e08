"""The row softmax's compiled path: ``tf.nn.softmax`` (and so a ``Dense`` layer's ``softmax`` activation) over
the last axis of a 2-D float32/float64 array runs as two Numba kernels around NumPy's ``exp`` (``_numba_softmax``)
instead of five NumPy calls, when the ops' kernels are in use (see ``featherflow.ops._kernels``: loaded once an
input of ``MIN_SIZE`` elements or an optimizer's large flat buffer needed them; ``use_kernels(True)`` for every
size; ``FEATHERFLOW_NUMBA=0`` never). The values are the NumPy path's bit for bit (the same operations, NumPy's
``exp`` and its pairwise row sums), so predictions never depend on whether the kernels are loaded; in a
``tf.function`` the three calls run as one host call.

The sparse categorical accuracy's traced update (``compiled_accuracy_update``) is one kernel too: the same
integer counts as NumPy's argmax, compare and sums.

Seed MLP: the step ~6 us faster for the softmax and ~9 us for the accuracy count (one-thread A/B in one process).

>>> import numpy as np
>>> from featherflow.ops import _kernels
>>> _kernels.use_kernels(True)  # every size (the default mode loads them for large inputs only)
>>> run = compiled_softmax(np.zeros((2, 2), np.float32), -1)
>>> run is None or bool(np.allclose(run(np.zeros((2, 2), np.float32)), 0.5))  # None: no Numba
True
>>> _kernels.use_kernels(None)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler
from featherflow.ops import _kernels, array_kernels

_DTYPES = (np.dtype("float32"), np.dtype("float64"))
_MAX_CLASSES = 128  # the kernels sum a row as NumPy's pairwise summation does for one block of up to 128 terms


def compiled_softmax(z, axis: int):
    """``run(z) -> softmax(z, axis)`` for this 2-D ``z`` (NumPy or traced, float32/64, at least one row, 1 to 128
    classes) over its last axis, recorded as one host call while tracing; ``None`` for the NumPy path."""
    if z.ndim != 2 or axis not in (-1, 1) or 0 in z.shape or z.dtype not in _DTYPES or z.shape[1] > _MAX_CLASSES:
        return None
    if type(z) is not np.ndarray and not compiler.is_traced(z):
        return None
    if _kernels.raw("softmax_shift", z.size) is None:
        return None
    if compiler.tracing():
        return lambda value: compiler.current().host(softmax_rows, (value,), {}, static=True)
    return softmax_rows


def softmax_rows(z):
    """The softmax of each row of the 2-D ``z`` as a new array (the NumPy path's numbers; its calls when the kernels
    were switched off since a program was traced)."""
    kernels = _kernels._state["kernels"] if _kernels._state["enabled"] is not False else None
    if not kernels or z.shape[1] > _MAX_CLASSES:
        return array_kernels.softmax(z, -1)
    out = np.empty(z.shape, z.dtype)
    kernels["softmax_shift"](z, out)
    np.exp(out, out=out)
    kernels["softmax_normalize"](out)
    return out


def compiled_accuracy_update(labels, scores):
    """``run(labels, scores, total, count)`` that adds ``sum(labels == argmax(scores, -1))`` to ``total`` and the row
    count to ``count`` (0-d float64 arrays, in place) for 1-D integer ``labels`` and 2-D float32/64 ``scores`` of
    as many rows (NumPy or traced), recorded as one host call while tracing; ``None`` for the NumPy path."""
    if scores.ndim != 2 or labels.ndim != 1 or labels.shape[0] != scores.shape[0] or 0 in scores.shape:
        return None
    if scores.dtype not in _DTYPES or labels.dtype.kind not in "iu":
        return None
    if type(scores) is not np.ndarray and not compiler.is_traced(scores):
        return None
    if _kernels.raw("add_argmax_matches", scores.size) is None:
        return None
    if compiler.tracing():
        return lambda *arrays: compiler.current().host(add_argmax_matches, arrays, {}, static=True)
    return add_argmax_matches


def add_argmax_matches(labels, scores, total, count) -> None:
    """The accuracy update on real arrays: the kernel, or NumPy's calls when the kernels were switched off since a
    program was traced (the same sums either way: integer counts)."""
    kernels = _kernels._state["kernels"] if _kernels._state["enabled"] is not False else None
    if not kernels:
        total += (labels == scores.argmax(axis=-1)).sum()
        count += labels.shape[0]
        return
    kernels["add_argmax_matches"](labels, scores, total, count)
