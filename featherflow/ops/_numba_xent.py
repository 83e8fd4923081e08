"""The Numba kernels behind ``featherflow.ops._kernels`` for the sparse softmax cross-entropy (imported only
when Numba is installed: this module imports it); ``featherflow.ops._xent_compiled`` calls them.

A classifier's loss works on small arrays (the seed MLP's 32 x 10 logits) where NumPy's per-call cost is
the whole cost: the forward's log-sum-exp and label pick are 11 calls (~14 us a step on the benchmark
machine), the backward's softmax minus one-hot 7 more (~10 us). Each kernel here is one pass over the rows
with the same operations in the same order as ``array_kernels.sparse_xent_rows`` / ``sparse_xent_grad``:
the row maximum (0 where it is not finite), the shifted exponentials summed left to right, ``m + log(sum)``,
minus the label's logit; ``exp(z - lse)``, minus 1 at the label (the caller then multiplies by the incoming gradient). ``exp`` and ``log``
are the C library's and the row sums run left to right (NumPy's are its own SIMD functions and pairwise
sums), so the values agree with the NumPy path to float rounding, not bit for bit. ``cache=True`` compiles
once per machine into ``__pycache__``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def sparse_xent_rows(logits, labels, zero, lse, loss):  # pragma: no cover - compiled
    """Per row ``i`` of the 2-D ``logits``: ``lse[i] = logsumexp(logits[i])``, ``loss[i] = lse[i] -
    logits[i, labels[i]]`` (NaN for a label outside ``[0, classes)``); ``zero``: 0 in the logits' dtype."""
    rows, classes = logits.shape
    for i in range(rows):
        row = logits[i]
        m = row[0]
        for j in range(1, classes):
            if row[j] > m or row[j] != row[j]:  # NumPy's maximum: a NaN wins and stays
                m = row[j]
        if not np.isfinite(m):
            m = zero
        total = zero
        for j in range(classes):
            total += np.exp(row[j] - m)
        value = m + np.log(total)
        lse[i] = value
        label = labels[i]
        loss[i] = value - row[label] if 0 <= label < classes else np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def sparse_xent_grad(logits, lse, labels, out):  # pragma: no cover - compiled
    """``out = softmax(logits) - one_hot(labels)`` with the softmax as ``exp(logits - lse[:, None])`` (``lse``
    from ``sparse_xent_rows``); a label outside ``[0, classes)`` subtracts nothing. (The caller scales by the
    incoming gradient with NumPy: in a trace that factor is usually a folded constant.)"""
    rows, classes = logits.shape
    for i in range(rows):
        shift = lse[i]
        row = logits[i]
        target = out[i]
        for j in range(classes):
            target[j] = np.exp(row[j] - shift)
        label = labels[i]
        if 0 <= label < classes:
            target[label] -= 1
