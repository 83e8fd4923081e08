"""The Numba kernels behind ``featherflow.ops._kernels`` for a classifier's outputs: the row softmax and the count
of rows whose argmax is the label (imported only when Numba is installed: this module imports it);
``featherflow.ops._softmax_compiled`` calls them.

A classifier's output softmax works on small arrays (the seed MLP's 32 x 10 probabilities) where NumPy's
per-call cost is the whole cost: ``array_kernels.softmax`` is five calls (row maximum, subtract, exp, row sum,
divide; ~15 us a step in the seed MLP's compiled program). The kernel does the same operations in the same
order in one pass over each row: the row maximum (a NaN wins and stays, as NumPy's), ``exp(z - max)`` summed left
to right in the data's dtype, each divided by the sum. ``exp`` is the C library's and the sum runs left to right
(NumPy's are its own SIMD function and pairwise sums), so the values agree with the NumPy path to float rounding,
not bit for bit. The accuracy count replaces five NumPy calls (argmax, equal, sum, two in-place adds: ~12 us a
step) with exact integer arithmetic: the same sums. ``cache=True`` compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_last_axis(z, out):  # pragma: no cover - compiled
    """``out[i] = exp(z[i] - max(z[i])) / sum(exp(z[i] - max(z[i])))`` for each row ``i`` of the 2-D ``z``."""
    rows, classes = z.shape
    for i in range(rows):
        row = z[i]
        target = out[i]
        top = row[0]
        for j in range(1, classes):
            if row[j] > top or row[j] != row[j]:  # NumPy's maximum: a NaN wins and stays
                top = row[j]
        total = np.exp(row[0] - top)  # (the first term: a zero of the dtype from row[0] * 0 is NaN for an inf)
        target[0] = total
        for j in range(1, classes):
            e = np.exp(row[j] - top)
            target[j] = e
            total += e
        for j in range(classes):
            target[j] /= total


@njit(cache=True, nogil=True, error_model="numpy")
def add_argmax_matches(labels, scores, total, count):  # pragma: no cover - compiled
    """``total += sum(labels == argmax(scores, axis=-1))`` and ``count += rows`` in place (0-d float64 arrays):
    sparse categorical accuracy's running sums. The argmax is NumPy's: the first maximum, or the first NaN."""
    rows, classes = scores.shape
    hits = 0
    for i in range(rows):
        row = scores[i]
        best = 0
        top = row[0]
        if top == top:
            for j in range(1, classes):
                value = row[j]
                if value != value:
                    best = j
                    break
                if value > top:
                    top = value
                    best = j
        if labels[i] == best:
            hits += 1
    total[()] += hits
    count[()] += rows
