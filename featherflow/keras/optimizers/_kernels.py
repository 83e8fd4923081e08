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
``use_kernels(False)``) keeps the NumPy path; ``use_kernels(True)`` uses the kernels for any size. The
kernels (``featherflow/ops/_numba_optim.py``) load with the ops' other kernels, under the same switch
(``featherflow.ops._kernels``).

>>> from featherflow.keras.optimizers import _kernels
>>> _kernels.use_kernels(False)
>>> _kernels.get("adam") is None
True
>>> _kernels.use_kernels(None)  # back to the default: the kernels when Numba is installed
"""

from __future__ import annotations

from featherflow.ops._kernels import _compiled, _state, available, get_for_work, use_kernels  # noqa: F401 - one switch

MIN_SIZE = 65_536  # parameters in a flat buffer from which the default mode uses a kernel


def get(name: str, size: int | None = None):
    """The compiled update ``name`` for a buffer of ``size`` elements, or ``None`` (Numba missing, kernels
    switched off, or a buffer below ``MIN_SIZE`` in the default mode)."""
    return get_for_work(name, size, MIN_SIZE)


def get_raw(name: str, size: int | None = None):
    """``get``'s kernel itself, also inside a ``tf.function`` trace (where ``get`` wraps it as a host call): for
    code that records its own host call around the kernel."""
    enabled = _state["enabled"]
    if enabled is False or (enabled is None and size is not None and size < MIN_SIZE):
        return None
    return _compiled() and _state["kernels"].get(name)
