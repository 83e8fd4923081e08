"""Freed large arrays kept for reuse while fit/evaluate/predict run (glibc's malloc), so a training step's
multi-MB temporaries stop page-faulting.

glibc serves an allocation above its mmap threshold (128 KiB at start, raised on the fly up to 32 MiB as
mapped blocks are freed) with a fresh ``mmap``, and returns the top of the heap to the OS once more than
its trim threshold is free. A training step allocates and frees the same arrays every step (activations,
their gradients, attention matrices), so without help each step maps fresh pages and the kernel zero-fills
every one of them on first touch. Measured on the Transformer classifier of
``benchmarks/transformer_epoch.py`` (batch 32, sequences of 200): ~6,500 page faults and ~20 ms of system
time per training step, 0 faults with the thresholds below.

``retain()`` raises both thresholds (blocks up to 32 MiB come from the heap and freed memory stays there
for the next step) and ``release()`` restores glibc's starting values and hands the free memory back
(``malloc_trim``). ``backend.blas.managed`` - the compute context of fit/evaluate/predict - calls them,
so memory is retained only while Keras's loops run. On other C libraries both are no-ops.

>>> applied = retain()  # True where glibc's mallopt is available
>>> isinstance(applied, bool)
True
>>> release()
"""

from __future__ import annotations

import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_RETAINED_MMAP = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit systems
_RETAINED_TRIM = 1 << 30
_DEFAULT_MMAP = 128 * 1024  # glibc's starting values
_DEFAULT_TRIM = 128 * 1024
_state: dict = {"libc": None, "depth": 0}


def _libc():
    if _state["libc"] is None:
        _state["libc"] = False
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                libc = ctypes.CDLL("libc.so.6")
                mallopt, trim = libc.mallopt, libc.malloc_trim
            except (OSError, AttributeError):  # musl and other C libraries: nothing to tune
                return None
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
            _state["libc"] = (mallopt, trim)
    return _state["libc"] or None


def retain() -> bool:
    """Keep freed blocks (up to 32 MiB each) in the heap for reuse; nested calls count. True when applied."""
    libc = _libc()
    if libc is None:
        return False
    _state["depth"] += 1
    if _state["depth"] == 1:
        mallopt = libc[0]
        mallopt(_M_MMAP_THRESHOLD, _RETAINED_MMAP)
        mallopt(_M_TRIM_THRESHOLD, _RETAINED_TRIM)
    return True


def release() -> None:
    """Undo one ``retain()``; the last one restores glibc's thresholds and returns free memory to the OS."""
    libc = _libc()
    if libc is None or _state["depth"] == 0:
        return
    _state["depth"] -= 1
    if _state["depth"] == 0:
        mallopt, trim = libc
        mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM)
        mallopt(_M_MMAP_THRESHOLD, _DEFAULT_MMAP)
        trim(0)
