"""The Numba kernels behind ``featherflow.ops._kernels`` for dot-product attention's softmax (imported only
when Numba is installed: this module imports it).

The attention of issue 19's text classifier has 2.56M scores per step (32 x 2 heads x 200 x 200). NumPy's
row softmax is five passes over them (max, subtract, exp, sum, scale) and its float32 ``exp`` is not
vectorized on AVX2 machines: 6.8-7.4 ms a step on the benchmark machine, more than either product with the
keys or the values. ``softmax_rows`` does a row at a time in cache (the max, then the exponentials and their
sum, then the scale) with an exponential that vectorizes: ``exp(x) = 2**k * 2**f`` with ``k`` the nearest
integer to ``x * log2(e)``, ``2**f`` (``|f| <= 1/2``) from its degree-7 Taylor polynomial (truncation error
below 1e-8 relative) and ``2**k`` built from the float's exponent bits. Exponents below -126 give exactly 0,
as float32 underflow does (a masked logit's -1e9). Measured: 2.4 ms for the 2.56M scores; the
probabilities differ from NumPy's by at most ~2 float32 ulps (NumPy's own float32 ``exp`` is not
correctly rounded either).

``softmax_grad_rows`` is the softmax's backward in place, ``d = scale * p * (d - sum(d * p))`` per row: one pass for
the dot product, one for the update, instead of three NumPy passes and an einsum.

Both take 2-D C-contiguous float32 arrays (rows of the last axis); ``fastmath`` lets the loops vectorize
(the sums are reassociated: they agree with NumPy's pairwise sums to float32 rounding, not bit for bit).
``cache=True`` compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_LOG2E = np.float32(1.0 / math.log(2.0))
# Taylor coefficients of 2**f = exp(f ln 2): (ln 2)**n / n!
_C1, _C2, _C3, _C4, _C5, _C6, _C7 = (np.float32(math.log(2.0) ** n / math.factorial(n)) for n in range(1, 8))


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True, inline="always")
def _row_max(row, n):  # pragma: no cover - compiled
    """``max(row[:n])`` with eight independent running maxima: LLVM does not vectorize a float max reduction
    here (``maxss`` one element at a time, each waiting for the last: ~1 ms of the 2.56M scores a step); eight
    chains let the core overlap them (0.44 ms)."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
    j = 0
    while j + 8 <= n:
        m0 = max(m0, row[j])
        m1 = max(m1, row[j + 1])
        m2 = max(m2, row[j + 2])
        m3 = max(m3, row[j + 3])
        m4 = max(m4, row[j + 4])
        m5 = max(m5, row[j + 5])
        m6 = max(m6, row[j + 6])
        m7 = max(m7, row[j + 7])
        j += 8
    while j < n:
        m0 = max(m0, row[j])
        j += 1
    return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def softmax_rows(s, exponent_bits):  # pragma: no cover - compiled
    """``s[r] = softmax(s[r])`` in place for each row of the 2-D float32 ``s`` (``exponent_bits``: int32
    scratch of at least ``s.shape[1]`` elements)."""
    rows, n = s.shape
    bits = exponent_bits[:n]
    powers = bits.view(np.float32)  # 2**k from its exponent bits
    for r in range(rows):
        row = s[r]
        top = _row_max(row, n)
        for j in range(n):
            t = max((row[j] - top) * _LOG2E, np.float32(-127.0))  # -127: exponent bits 0, i.e. exactly 0
            k = np.floor(t + np.float32(0.5))
            f = t - k
            p = _C7 * f + _C6
            p = p * f + _C5
            p = p * f + _C4
            p = p * f + _C3
            p = p * f + _C2
            p = p * f + _C1
            row[j] = p * f + np.float32(1.0)
            bits[j] = (np.int32(k) + np.int32(127)) << np.int32(23)
        total = np.float32(0.0)
        for j in range(n):
            e = row[j] * powers[j]
            row[j] = e
            total += e
        inverse = np.float32(1.0) / total
        for j in range(n):
            row[j] *= inverse


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def softmax_grad_rows(d, p, scale):  # pragma: no cover - compiled
    """``d[r] = scale * p[r] * (d[r] - dot(d[r], p[r]))`` in place (the softmax's backward times the scores'
    scale; 2-D float32, same shape)."""
    rows, n = d.shape
    for r in range(rows):
        drow = d[r]
        prow = p[r]
        dot = np.float32(0.0)
        for j in range(n):
            dot += drow[j] * prow[j]
        for j in range(n):
            drow[j] = scale * prow[j] * (drow[j] - dot)
