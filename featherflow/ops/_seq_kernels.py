"""Optional compiled kernels for sequence models (Numba): the fused LSTM's per-timestep work and the
embedding gradient.

Why: the LSTM of issue 10's text model runs 200 steps of a (32, 64) state; each step's elementwise work is
ten NumPy calls on 2,048-8,192 numbers (forward) and five plus a pre-pass over the sequence (backward), and
NumPy's ``tanh`` is not vectorized. One compiled call per step does the same work in one pass
(``_numba_lstm``). The embedding's gradient rows are added into the table in one ordered loop
(``_numba_embedding``) instead of NumPy's sort-and-rank rounds. When Numba is installed
(``pip install "featherflow[fast]"``) the ops use these kernels for work of at least ``MIN_WORK`` elements
(the LSTM: float32 only); otherwise, for other dtypes (the float64 gradient checks) and with
``FEATHERFLOW_NUMBA=0`` in the environment (or ``use_kernels(False)``) they keep NumPy.

The first use in a process costs ``import numba`` plus loading the cached kernels (about 0.5 s on the
2-core machine; the first use on a machine also compiles them, a few seconds, cached in ``__pycache__``);
the size threshold keeps small layers (most scripts and tests) from paying it. (Max pooling's kernels have
their own loader, ``featherflow.ops._kernels``, with the same ``FEATHERFLOW_NUMBA`` switch.)

>>> from featherflow.ops import _seq_kernels
>>> _seq_kernels.use_kernels(False)
>>> _seq_kernels.get("lstm_forward_step") is None
True
>>> _seq_kernels.use_kernels(None)  # back to the default
"""

from __future__ import annotations

import os

# elements (LSTM: steps * batch * units; embedding gradient: ids * dim) from which the default mode uses a kernel
MIN_WORK = 262_144

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
            from featherflow.ops import _numba_embedding, _numba_lstm  # import numba (ImportError without it)

            kernels = {"lstm_forward_step": _numba_lstm.lstm_forward_step,
                       "lstm_backward_step": _numba_lstm.lstm_backward_step,
                       "embedding_row_sums": _numba_embedding.embedding_row_sums}
        except ImportError:
            kernels = {}
        _state["kernels"] = kernels
    return kernels or None
