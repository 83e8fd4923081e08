"""Turn the ``executor=`` / ``max_workers=`` arguments of tuners and evolution into an ``Executor``."""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any

from featherflow.distribute.base import Executor, FuturesExecutor, InProcessExecutor
from featherflow.distribute.cluster import DaskExecutor, RayExecutor
from featherflow.distribute.process import ProcessExecutor

_NAMES = {"inprocess": InProcessExecutor, "in_process": InProcessExecutor, "process": ProcessExecutor,
          "processes": ProcessExecutor, "ray": RayExecutor, "dask": DaskExecutor}


def get_executor(executor: Any = None, max_workers: int | None = None) -> Executor:
    """Executor for ``executor`` (an ``Executor``, a ``concurrent.futures.Executor``, a name or None).

    None gives ``InProcessExecutor`` for ``max_workers`` None or 1 and ``ProcessExecutor(max_workers)``
    otherwise; names are ``"inprocess"``, ``"process"``, ``"ray"``, ``"dask"``.

    >>> get_executor("inprocess")
    InProcessExecutor(max_workers=1)
    """
    if isinstance(executor, Executor):
        return executor
    if isinstance(executor, cf.Executor):
        return FuturesExecutor(executor, max_workers=max_workers)
    if executor is None:
        if max_workers is None or int(max_workers) <= 1:
            return InProcessExecutor()
        return ProcessExecutor(max_workers=int(max_workers))
    if isinstance(executor, str) and executor.lower() in _NAMES:
        cls = _NAMES[executor.lower()]
        if cls is InProcessExecutor:
            return cls()
        return cls(max_workers=max_workers)
    raise ValueError("executor must be None, a featherflow.distribute.Executor, a concurrent.futures.Executor "
                     f"or one of {sorted(set(_NAMES))}. Received: executor={executor!r}")
