"""Pooled work buffers for the ops' large per-call arrays (convolutions, pooling, the fused recurrent ops).

A fresh multi-MB array is mapped from the OS and every page faults on first write: measured on the small
CNN, ~4,800 page faults per training step, several ms, before its per-step arrays came from here; on the
MNIST-rows LSTM, 2,600 faults and ~10 ms of system time per forward + backward. ``workspace`` hands a
buffer's memory out again once no array uses it any more, so memory that a recorded backward rule (or any
view of it) still holds is never overwritten; when the tape drops the rule, the memory is free again.

How the pool knows that memory is free, without counting references: it keeps each buffer's memory
(an owning array) and hands out a new array on it through a small ``ctypes`` object that exports the
memory (the buffer protocol). NumPy keeps the object that exported an array's memory alive for as long as
any array on that memory exists - the array handed out, its views, reshapes, transposes, slices and
``as_strided`` windows - because that object is what keeps the memory valid. The pool holds only a weak
reference to that exporter: while it is alive, the memory is in use; once it is gone, no array uses the
memory. This holds on every Python and NumPy version (it is the buffer protocol's contract), unlike a
``sys.getrefcount`` threshold, whose count of temporary references is an interpreter detail.

Non-NumPy arrays (CuPy) are not pooled: CuPy's own memory pool already reuses device memory.

>>> import numpy as np
>>> a = workspace("doc", (2, 3), np.float32)
>>> b = workspace("doc", (2, 3), np.float32)  # `a` is still used: other memory
>>> np.shares_memory(a, b)
False
>>> row = a[1]  # a view keeps the memory in use even without `a`
>>> address = a.ctypes.data
>>> del a
>>> workspace("doc", (2, 3), np.float32).ctypes.data == address
False
>>> del row
>>> workspace("doc", (2, 3), np.float32).ctypes.data == address  # free again: handed out once more
True
"""

from __future__ import annotations

import ctypes
import threading
import weakref

import numpy as np

POOL_LIMIT = 6  # buffers kept per (role, shape, dtype); beyond it a call gets an unpooled array
_POOL: dict = {}  # (role, shape, dtype.str) -> [_Buffer]
_POOL_LOCK = threading.Lock()


class _Buffer:
    """One pooled buffer: its memory (``storage``) and a weak reference to the exporter of the arrays last
    handed out on it (``None`` before the first)."""

    __slots__ = ("storage", "exporter")

    def __init__(self, storage: np.ndarray):
        self.storage = storage
        self.exporter = None

    def in_use(self) -> bool:
        return self.exporter is not None and self.exporter() is not None

    def hand_out(self) -> np.ndarray:
        storage = self.storage
        exporter = (ctypes.c_char * storage.nbytes).from_buffer(storage)
        self.exporter = weakref.ref(exporter)
        return np.frombuffer(exporter, dtype=storage.dtype).reshape(storage.shape)


def workspace(role: str, shape, dtype, xp=np):
    """An uninitialised array of ``shape``/``dtype`` whose memory is reused once no array uses it.

    Args:
        role: what the buffer is for (``"conv_cols"``, ...): buffers of different roles are never shared,
            so two arrays one op needs at the same time get different memory even with equal shapes.
        shape, dtype: the array's.
        xp: the array module; a non-NumPy one gets a fresh ``xp.empty`` (no pooling).
    """
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    dtype = np.dtype(dtype)
    shape = tuple(int(d) for d in shape)
    if dtype.hasobject or not dtype.itemsize or 0 in shape:
        return np.empty(shape, dtype=dtype)
    key = (role, shape, dtype.str)
    with _POOL_LOCK:  # check-and-take must be atomic when threads run ops concurrently
        buffers = _POOL.setdefault(key, [])
        for buffer in buffers:
            if not buffer.in_use():
                return buffer.hand_out()
        if len(buffers) >= POOL_LIMIT:
            return np.empty(shape, dtype=dtype)
        buffer = _Buffer(np.empty(shape, dtype=dtype))
        buffers.append(buffer)
        return buffer.hand_out()


def pooled_keys() -> list:
    """The ``(role, shape, dtype.str)`` of every pooled buffer kind (for tests and diagnostics)."""
    with _POOL_LOCK:
        return list(_POOL)


def clear_workspace() -> None:
    """Drop every pooled buffer (frees the memory once no array handed out uses it)."""
    with _POOL_LOCK:
        _POOL.clear()
