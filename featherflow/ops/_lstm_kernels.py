"""Optional compiled kernels for the fused LSTM op (Numba): the per-timestep elementwise work.

Why: the LSTM of issue 10's text model runs 200 steps of a (32, 64) state; each step's elementwise work is
ten NumPy calls on 2,048-8,192 numbers (forward) and five plus a pre-pass over the sequence (backward), and
NumPy's ``tanh`` is not vectorized. One compiled call per step does the same work in one pass
(``_numba_lstm``). When Numba is installed (``pip install "featherflow[fast]"``) ops use these kernels
for float32 work of at least ``MIN_WORK`` elements; otherwise, for other dtypes (the float64 gradient
checks) and with ``FEATHERFLOW_NUMBA=0`` in the environment (or ``use_kernels(False)``) they keep NumPy.

The first use in a process costs ``import numba`` plus loading the cached kernels (about 0.5 s on the
2-core machine; the first use on a machine also compiles them, a few seconds, cached in ``__pycache__``);
the size threshold keeps small layers (most scripts and tests) from paying it. (Max pooling's kernels have
their own loader, ``featherflow.ops._kernels``, with the same ``FEATHERFLOW_NUMBA`` switch.)

>>> from featherflow.ops import _lstm_kernels
>>> _lstm_kernels.use_kernels(False)
>>> _lstm_kernels.get("lstm_forward_step") is None
True
>>> _lstm_kernels.use_kernels(None)  # back to the default
"""

from __future__ import annotations

import os

MIN_WORK = 262_144  # elements (LSTM: steps * batch * units) from which the default mode uses a kernel

_state: dict = {"enabled": False if os.environ.get("FEATHERFLOW_NUMBA", "1") == "0" else None, "kernels": None}


def use_kernels(enabled: bool | None) -> None:
    """``False``: NumPy only; ``True``: the kernels for any size (when Numba imports); ``None``: the default
    (the kernels from ``MIN_WORK`` elements of work)."""
    _state["enabled"] = None if enabled is None else bool(enabled)


def available() -> bool:
    """True when Numba imports (the kernels can be used)."""
    return _load() is not None


def get(name: str, work: int | None = None):
    """The compiled kernel ``name`` for ``work`` elements, or ``None`` (Numba missing, kernels switched off,
    or less than ``MIN_WORK`` in the default mode)."""
    enabled = _state["enabled"]
    if enabled is False or (enabled is None and work is not None and work < MIN_WORK):
        return None
    kernels = _load()
    return None if kernels is None else kernels.get(name)


def _load():
    kernels = _state["kernels"]
    if kernels is None:
        try:
            from featherflow.ops import _numba_lstm  # imports numba (ImportError without it)

            kernels = {name: getattr(_numba_lstm, name) for name in ("lstm_forward_step", "lstm_backward_step")}
        except ImportError:
            kernels = {}
        _state["kernels"] = kernels
    return kernels or None
