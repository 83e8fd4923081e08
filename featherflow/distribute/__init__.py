"""``featherflow.distribute``: executors shared by the tuner, Population Based Training and neuroevolution.

>>> from featherflow.distribute import get_executor
>>> get_executor(None, max_workers=1)
InProcessExecutor(max_workers=1)
"""

from featherflow.distribute.base import (
    Executor,
    FuturesExecutor,
    InProcessExecutor,
    Shared,
    WorkerDiedError,
    blas_environment,
    cpu_count,
    threads_per_worker,
)
from featherflow.distribute.cluster import DaskExecutor, RayExecutor
from featherflow.distribute.process import ProcessExecutor
from featherflow.distribute.resolve import get_executor

__all__ = [
    "DaskExecutor",
    "Executor",
    "FuturesExecutor",
    "InProcessExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "Shared",
    "WorkerDiedError",
    "blas_environment",
    "cpu_count",
    "get_executor",
    "threads_per_worker",
]
