"""The Numba kernels behind :mod:`featherflow.ops._kernels` (imported only when Numba is installed: this
module imports it).

2x2 max pooling with stride 2 and no padding (``MaxPooling2D()``'s default), NHWC, on whole batch slices
``[lo, hi)`` so that :func:`featherflow.ops.conv_utils.split_batch` can run slices in threads (``nogil``).

Bit-identical to the NumPy path of :mod:`featherflow.ops.pooling`:

- the maximum is combined in the NumPy path's order with ``np.maximum``'s rule ``maxn(a, b) = a if a > b
  or a is NaN else b`` (so a NaN anywhere in a window gives NaN, and of two equal zeros the second one's
  sign is kept): over the window rows first then the columns (``rows_first``, NumPy's path for a
  C-contiguous input), or in row-major order;
- the gradient goes to the first (row-major) window position whose value equals the maximum, multiplied as
  ``g * 1`` there and ``g * 0`` elsewhere (NumPy multiplies by a boolean mask: ``-0.0`` for a negative
  ``g``, NaN for an infinite one); a NaN window routes nothing;
- rows and columns that no window covers get ``+0.0``.

``fastmath`` stays off; ``error_model="numpy"`` drops Python's error checks so the loops vectorize;
``cache=True`` compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NO_MAXIMUM = 4  # the window-position code of a window whose maximum is NaN (no position equals it)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _maxn(a, b):  # pragma: no cover - compiled
    return a if (a > b) | (a != a) else b


@njit(cache=True, nogil=True, error_model="numpy")
def max_pool_2x2(x, out, rows_first, lo, hi):  # pragma: no cover - compiled
    """``out[b, i, j] = max(x[b, 2i:2i+2, 2j:2j+2])`` for ``b`` in ``[lo, hi)``."""
    c = x.shape[3]
    ho, wo = out.shape[1], out.shape[2]
    for b in range(lo, hi):
        for i in range(ho):
            for j in range(wo):
                if rows_first:
                    for k in range(c):
                        out[b, i, j, k] = _maxn(_maxn(x[b, 2 * i, 2 * j, k], x[b, 2 * i + 1, 2 * j, k]),
                                                _maxn(x[b, 2 * i, 2 * j + 1, k], x[b, 2 * i + 1, 2 * j + 1, k]))
                else:
                    for k in range(c):
                        out[b, i, j, k] = _maxn(_maxn(_maxn(x[b, 2 * i, 2 * j, k], x[b, 2 * i, 2 * j + 1, k]),
                                                      x[b, 2 * i + 1, 2 * j, k]), x[b, 2 * i + 1, 2 * j + 1, k])


@njit(cache=True, nogil=True, error_model="numpy")
def max_pool_2x2_argmax(x, out, index, rows_first, lo, hi):  # pragma: no cover - compiled
    """:func:`max_pool_2x2` plus ``index``: the row-major position (0..3) of the first window entry equal to
    the maximum, ``NO_MAXIMUM`` where the maximum is NaN."""
    c = x.shape[3]
    ho, wo = out.shape[1], out.shape[2]
    for b in range(lo, hi):
        for i in range(ho):
            for j in range(wo):
                for k in range(c):
                    x00 = x[b, 2 * i, 2 * j, k]
                    x01 = x[b, 2 * i, 2 * j + 1, k]
                    x10 = x[b, 2 * i + 1, 2 * j, k]
                    x11 = x[b, 2 * i + 1, 2 * j + 1, k]
                    m = _maxn(_maxn(x00, x10), _maxn(x01, x11)) if rows_first else \
                        _maxn(_maxn(_maxn(x00, x01), x10), x11)
                    out[b, i, j, k] = m
                    position = np.uint8(3) if x11 == m else np.uint8(NO_MAXIMUM)
                    position = np.uint8(2) if x10 == m else position
                    position = np.uint8(1) if x01 == m else position
                    index[b, i, j, k] = np.uint8(0) if x00 == m else position


@njit(cache=True, nogil=True, error_model="numpy")
def max_pool_2x2_grad(g, index, full, one, zero, lo, hi):  # pragma: no cover - compiled
    """``full[b]`` (the input gradient, every element written) from ``g[b]`` and ``index[b]`` for ``b`` in
    ``[lo, hi)``; ``one``/``zero`` are 1 and 0 in ``g``'s dtype."""
    h, w, c = full.shape[1], full.shape[2], full.shape[3]
    ho, wo = g.shape[1], g.shape[2]
    for b in range(lo, hi):
        for i in range(ho):
            # one output row of windows at a time, written in memory order (vectorizes over channels)
            for row in range(2):
                r = 2 * i + row
                for j in range(wo):
                    for col in range(2):
                        position = 2 * row + col
                        for k in range(c):
                            full[b, r, 2 * j + col, k] = g[b, i, j, k] * (one if index[b, i, j, k] == position
                                                                          else zero)
                for col in range(2 * wo, w):
                    for k in range(c):
                        full[b, r, col, k] = 0
        for r in range(2 * ho, h):
            for col in range(w):
                for k in range(c):
                    full[b, r, col, k] = 0
