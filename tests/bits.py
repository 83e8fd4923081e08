"""Bit patterns of float arrays, for tests that require two paths to agree bit for bit (NaN payloads and
signed zeros included, which ``assert_array_equal`` would not tell apart)."""

import numpy as np


def bits(a):
    """The unsigned integers with the bits of the float32/float64 array ``a``."""
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)
