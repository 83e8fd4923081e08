"""Optional compiled optimizer updates (Numba): one pass over the flat buffers instead of a dozen.

The NumPy update of Adam is 12 whole-buffer operations, each reading and writing the buffers again:
for the seed MLP's 101,770 parameters it costs about 210 us a step on the benchmark machine, more than
the step's matrix products. The same arithmetic as one compiled loop costs about 40 us (measured with
``benchmarks/optimizer_step.py``); no arrangement of NumPy calls gets there. So when Numba is installed
(``pip install "featherflow[fast]"``) the optimizers call these kernels, and otherwise keep their NumPy
updates. The kernels do the same float32 operations in the same order as the NumPy code, without fused
multiply-adds (``fastmath`` off), so both paths give bit-identical parameters (tested).

The first use in a process costs ``import numba`` plus loading the cached kernel: about 1 s on an idle
2-core machine, 2-2.5 s under load. So by default only buffers of at least ``MIN_SIZE`` parameters use the
kernel (the seed MLP's 101,770 save ~170 us a step, repaid within a few thousand steps), and small models -
most scripts and tests - never import Numba. ``FEATHERFLOW_NUMBA=0`` in the environment (or
``use_kernels(False)``) keeps the NumPy path; ``use_kernels(True)`` uses the kernels for any size.

>>> from featherflow.keras.optimizers import _kernels
>>> _kernels.use_kernels(False)
>>> _kernels.get("adam") is None
True
>>> _kernels.use_kernels(None)  # back to the default: the kernels when Numba is installed
"""

from __future__ import annotations

import os

MIN_SIZE = 65_536  # parameters in a flat buffer from which the default mode uses a kernel

_state: dict = {"enabled": False if os.environ.get("FEATHERFLOW_NUMBA", "1") == "0" else None, "kernels": None}


def use_kernels(enabled: bool | None) -> None:
    """``False``: NumPy updates only; ``True``: kernels for every buffer (when Numba imports); ``None``: the
    default (kernels for buffers of at least ``MIN_SIZE`` parameters)."""
    _state["enabled"] = None if enabled is None else bool(enabled)


def available() -> bool:
    """True when Numba imports (the kernels can be used)."""
    return _compiled() is not None


def get(name: str, size: int | None = None):
    """The compiled kernel ``name`` for a buffer of ``size`` elements, or ``None`` (Numba missing, kernels
    switched off, or a buffer below ``MIN_SIZE`` in the default mode)."""
    enabled = _state["enabled"]
    if enabled is False or (enabled is None and size is not None and size < MIN_SIZE):
        return None
    kernels = _compiled()
    return None if kernels is None else kernels.get(name)


def _compiled():
    kernels = _state["kernels"]
    if kernels is None:
        try:
            kernels = _build()
        except ImportError:
            kernels = {}
        _state["kernels"] = kernels
    return kernels or None


def _build() -> dict:
    from featherflow.keras.optimizers import _numba_kernels  # imports numba (ImportError without it)

    return {"adam": _numba_kernels.adam}
