"""The Numba kernels behind ``featherflow.ops._kernels`` for inverted dropout (imported only when Numba is
installed: this module imports it); ``featherflow.ops._dropout_compiled`` calls them.

The NumPy path draws one uniform float per element from featherflow's PCG64 generator (the seed MLP's 32 x 128
draws: ~11 us a step on the benchmark machine), then compares, scales and multiplies. These kernels make the
keep mask and the output in one pass from a counter-based hash instead, keyed by one 64-bit ``seed`` drawn from
the generator per call: a run stays reproducible under ``set_seed`` and each call (each replay of a compiled
step) has fresh bits.

* ``dropout_bits24`` (float32 data): element ``i``'s 32 random bits are Chris Wellons' ``lowbias32`` integer
  hash of ``i * 0x9E3779B9 + seed_low`` (a Weyl sequence, as splitmix's), with ``seed_high`` mixed in after the
  first round; the top 24 bits ``u`` give the uniform ``u / 2**24`` (what NumPy's float32 ``random`` builds
  from 24 bits). 32-bit arithmetic vectorizes (AVX2: 8 lanes): ~0.7 ns an element against ~1.2 for a 64-bit
  splitmix hash per two elements;
* ``dropout_bits53`` (float64 data): splitmix64's output function (Steele, Lea and Flood, OOPSLA 2014) of
  ``seed + (i + 1) * golden``; its top 53 bits give NumPy's float64 uniforms.

An element is kept when its uniform is at least the rate, that is ``u >= threshold`` with ``threshold =
ceil(rate * 2**bits)`` (exact: both sides are integers; the caller rounds the rate to the data's precision as
the NumPy path's comparison does). Kept elements get ``mask = scale`` (``1 / (1 - rate)`` rounded to the data's
dtype), dropped ones ``0``, and ``out = x * mask`` (a NaN or inf input stays NaN where dropped, as NumPy's
multiply gives). ``x``, ``out`` and ``mask`` are C-contiguous arrays of one shape; ``seed`` a 64-bit integer
(int64: its bit pattern is used). ``cache=True`` compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN_32 = np.uint32(0x9E3779B9)  # 2**32 / golden ratio, odd: the Weyl sequence's step
_LOWBIAS_1 = np.uint32(0x7FEB352D)
_LOWBIAS_2 = np.uint32(0x846CA68B)
_GOLDEN_64 = np.uint64(0x9E3779B97F4A7C15)  # splitmix64's increment
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_LOW_32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, nogil=True, error_model="numpy")
def dropout_bits24(x, seed, threshold, scale, out, mask):  # pragma: no cover - compiled
    """float32 ``x``: ``mask = scale`` where the element's 24-bit draw is at least ``threshold`` (else 0),
    ``out = x * mask``."""
    flat_x, flat_out, flat_mask = x.reshape(-1), out.reshape(-1), mask.reshape(-1)
    bits = np.uint64(seed)
    low, high = np.uint32(bits & _LOW_32), np.uint32(bits >> np.uint64(32))
    limit = np.uint32(threshold)
    keep, drop = np.float32(scale), np.float32(0)
    for i in range(flat_x.shape[0]):
        z = np.uint32(np.uint32(np.uint32(i) * _GOLDEN_32) + low)
        z = np.uint32(z ^ (z >> np.uint32(16)))
        z = np.uint32(z * _LOWBIAS_1)
        z = np.uint32(z ^ high)
        z = np.uint32(z ^ (z >> np.uint32(15)))
        z = np.uint32(z * _LOWBIAS_2)
        z = np.uint32(z ^ (z >> np.uint32(16)))
        value = keep if (z >> np.uint32(8)) >= limit else drop
        flat_mask[i] = value
        flat_out[i] = flat_x[i] * value


@njit(cache=True, nogil=True, error_model="numpy")
def dropout_bits53(x, seed, threshold, scale, out, mask):  # pragma: no cover - compiled
    """float64 ``x``: as ``dropout_bits24`` with one 53-bit draw (splitmix64's bits 11-63) per element."""
    flat_x, flat_out, flat_mask = x.reshape(-1), out.reshape(-1), mask.reshape(-1)
    start = np.uint64(seed)
    limit = np.uint64(threshold)
    keep, drop = np.float64(scale), np.float64(0)
    for i in range(flat_x.shape[0]):
        z = start + (np.uint64(i) + np.uint64(1)) * _GOLDEN_64
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
        z = z ^ (z >> np.uint64(31))
        value = keep if (z >> np.uint64(11)) >= limit else drop
        flat_mask[i] = value
        flat_out[i] = flat_x[i] * value
