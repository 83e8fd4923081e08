"""Pooled work buffers for the ops' large per-call arrays (convolutions, pooling, the fused recurrent ops).

A fresh multi-MB array is mapped from the OS and every page faults on first write: measured on the small
CNN, ~4,800 page faults per training step, several ms, before its per-step arrays came from here; on the
MNIST-rows LSTM, 2,600 faults and ~10 ms of system time per forward + backward. ``workspace`` hands a
buffer out again once nothing else refers to it, so a buffer that a recorded backward rule (or any view of
it) still holds is never overwritten; when the tape drops the rule, the buffer is free again.

>>> import numpy as np
>>> a = workspace("doc", (2, 3), np.float32)
>>> first = id(a)
>>> b = workspace("doc", (2, 3), np.float32)  # `a` is still referenced: another buffer
>>> a is b
False
>>> del a
>>> id(workspace("doc", (2, 3), np.float32)) == first  # free again: handed out once more
True
"""

from __future__ import annotations

import sys
import threading

import numpy as np

_POOL: dict = {}
_POOL_LIMIT = 6
_POOL_LOCK = threading.Lock()


def workspace(role: str, shape, dtype, xp=np):
    """An uninitialised array of ``shape``/``dtype`` from a pool, reused once no one else holds it.

    A buffer kept alive by a recorded backward rule (or any view of it) has extra references and is
    skipped, so reuse never overwrites data that is still needed (see the module docstring for why).
    """
    key = (role, tuple(shape), np.dtype(dtype).str, xp.__name__)
    with _POOL_LOCK:  # check-and-take must be atomic when threads run ops concurrently
        buffers = _POOL.setdefault(key, [])
        for buf in buffers:
            # references: the list, the loop variable and getrefcount's argument
            if sys.getrefcount(buf) <= 3:
                return buf
        buf = xp.empty(shape, dtype=dtype)
        if len(buffers) < _POOL_LIMIT:
            buffers.append(buf)
        return buf


def clear_workspace() -> None:
    """Drop every pooled buffer (frees memory after training)."""
    _POOL.clear()
