"""Optional compiled optimizer updates (Numba): one pass over the flat buffers instead of a dozen.

The NumPy update of Adam is 12 whole-buffer operations, each reading and writing the buffers again:
for the seed MLP's 101,770 parameters it costs about 210 us a step on the benchmark machine, more than
the step's matrix products. The same arithmetic as one compiled loop costs about 40 us (measured with
``benchmarks/optimizer_step.py``); no arrangement of NumPy calls gets there. So when Numba is installed
(``pip install "featherflow[fast]"``) the optimizers call these kernels, and otherwise keep their NumPy
updates. The kernels do the same float32 operations in the same order as the NumPy code, without fused
multiply-adds (``fastmath`` off), so both paths give bit-identical parameters (tested).

``FEATHERFLOW_NUMBA=0`` in the environment (or ``use_kernels(False)``) keeps the NumPy path.

>>> from featherflow.keras.optimizers import _kernels
>>> _kernels.use_kernels(False)
>>> _kernels.get("adam") is None
True
>>> _kernels.use_kernels(None)  # back to the default: the kernels when Numba is installed
"""

from __future__ import annotations

import os

_state: dict = {"enabled": os.environ.get("FEATHERFLOW_NUMBA", "1") != "0", "kernels": None}


def use_kernels(enabled: bool | None) -> None:
    """Force the NumPy updates (``False``), or the default (``None``/``True``: kernels when Numba imports)."""
    _state["enabled"] = enabled is not False


def available() -> bool:
    """True when Numba imports (the kernels can be used)."""
    return _compiled() is not None


def get(name: str):
    """The compiled kernel ``name`` or ``None`` (Numba missing, or kernels switched off)."""
    if not _state["enabled"]:
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
