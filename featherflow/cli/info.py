"""``featherflow info``: version, backend, BLAS and threads, compiled kernels, installed extras."""

from __future__ import annotations

import importlib.util
import os
import platform

_EXTRAS = {
    "plot": ["matplotlib"],
    "sklearn": ["sklearn"],
    "h5": ["h5py"],
    "rl": ["gymnasium"],
    "ray": ["ray"],
    "dask": ["dask", "distributed"],
    "gpu": ["cupy"],
    "fast": ["numba"],
}
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def installed_extras() -> dict:
    """``{extra: True/False}``: whether every module an extra needs can be imported (not importing it)."""
    return {extra: all(importlib.util.find_spec(m) is not None for m in modules)
            for extra, modules in _EXTRAS.items()}


def blas_info() -> str:
    """A short description of NumPy's BLAS library."""
    import numpy as np

    config = getattr(np, "show_config", None)
    try:
        build = np.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{build.get('name', '?')} {build.get('version', '')}".strip()
    except (AttributeError, KeyError, TypeError):
        return "unknown" if config is None else "see numpy.show_config()"


def kernels_line() -> str:
    """Whether the compiled (Numba) kernels of the ``fast`` extra are active, off or missing."""
    from featherflow.ops import _kernels

    if os.environ.get("FEATHERFLOW_NUMBA", "1") == "0":
        return "compiled kernels: off (FEATHERFLOW_NUMBA=0); NumPy paths"
    if importlib.util.find_spec("numba") is None:
        return 'compiled kernels: not installed (NumPy paths; pip install "featherflow[fast]" adds Numba)'
    if not _kernels.available():
        return "compiled kernels: Numba is installed but does not import; NumPy paths"
    import numba

    return (f"compiled kernels: active (numba {numba.__version__}; pooling, convolution, LSTM, embedding and "
            "optimizer kernels for large inputs)")


def threads_policy() -> str:
    """How many threads featherflow's matrix products use here (``featherflow/backend/blas.py``)."""
    from featherflow.backend import blas

    if not blas.available():
        return "the BLAS decides (not OpenBLAS: featherflow cannot set its count)"
    full = blas.full_threads()
    if full == 1:
        return "products on 1 thread"
    return (f"products from {blas._state['threshold']:,} multiply-adds on up to {full} threads"
            + (", fewer while other processes keep cores busy" if blas._state["adaptive"] else ""))


def info_lines() -> list:
    """The lines ``featherflow info`` prints.

    >>> any(line.startswith("featherflow ") for line in info_lines())
    True
    """
    import numpy as np

    from featherflow import backend
    from featherflow._version import __version__

    threads = ", ".join(f"{name}={os.environ[name]}" for name in _THREAD_VARIABLES if name in os.environ)
    lines = [
        f"featherflow {__version__}",
        f"python {platform.python_version()} ({platform.machine()}, {os.cpu_count()} CPUs)",
        f"numpy {np.__version__}, BLAS: {blas_info()}",
        f"threads: {threads or 'BLAS default (no OMP/OPENBLAS/MKL_NUM_THREADS set)'}; {threads_policy()}",
        f"backend: {backend.get_backend()}, floatx: {backend.floatx()}",
    ]
    lines.append(kernels_line())
    extras = installed_extras()
    lines.append("extras: " + ", ".join(f"{name} {'yes' if ok else 'no'}" for name, ok in extras.items()))
    return lines


def print_info() -> None:
    for line in info_lines():
        print(line)
