"""The executor interface shared by the tuner, Population Based Training and neuroevolution.

An executor runs picklable functions on plain data (configs as dicts, results and weights as NumPy arrays) and
hands back ``concurrent.futures.Future`` objects, so callers can use ``concurrent.futures.wait`` on futures from
any backend. Large read-only inputs (training data) are sent once with ``share(obj)``; the returned handle is
passed as a *top-level* argument of ``submit`` and arrives in the worker as the original object.

>>> from featherflow.distribute import InProcessExecutor
>>> with InProcessExecutor() as ex:
...     data = ex.share([1, 2, 3])
...     ex.submit(sum, data).result()
6
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Iterable
from typing import Any

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                         "NUMEXPR_NUM_THREADS")


class WorkerDiedError(RuntimeError):
    """A worker process died (killed, crashed, ``os._exit``) more often than a task may be retried."""


def cpu_count() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def blas_environment(threads: int) -> dict[str, str]:
    """Environment variables that limit NumPy's BLAS / OpenMP pools to ``threads`` threads.

    They must be set before NumPy loads in the worker, so executors set them when the worker starts.
    """
    return {name: str(int(threads)) for name in BLAS_THREAD_VARIABLES}


def threads_per_worker(max_workers: int, cores: int | None = None) -> int:
    """BLAS threads per worker so that ``workers x threads <= cores`` (at least 1)."""
    cores = cpu_count() if cores is None else cores
    return max(1, cores // max(1, int(max_workers)))


class Shared:
    """Handle to an object sent to the workers once (see ``Executor.share``).

    Pass it as a top-level positional argument of ``submit``; the worker receives the object itself.
    """

    __slots__ = ("ref",)

    def __init__(self, ref: Any):
        self.ref = ref

    def __repr__(self) -> str:
        return f"Shared({type(self.ref).__name__})"


class Executor:
    """Base class: ``submit(fn, *args, **kwargs) -> Future``, ``share(obj)``, ``max_workers``, ``shutdown()``.

    Subclasses implement ``_submit`` (arguments already resolved for their backend) and may override
    ``share``/``_resolve`` to send large inputs once.
    """

    #: How many tasks run at the same time; callers keep at most this many in flight.
    max_workers: int = 1
    #: Whether a task whose worker dies is run again by the executor itself.
    reschedules_dead_workers: bool = False

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> cf.Future:
        """Schedule ``fn(*args, **kwargs)``; ``Shared`` handles among ``args`` are resolved in the worker."""
        if not callable(fn):
            raise TypeError(f"Executor.submit expects a callable. Received: fn={fn!r}")
        return self._submit(fn, tuple(self._resolve(a) for a in args), kwargs)

    def map(self, fn: Callable, *iterables: Iterable) -> list:
        """``[fn(*items) ...]`` computed on the workers, in order (re-raises the first error)."""
        futures = [self.submit(fn, *items) for items in zip(*iterables)]
        return [f.result() for f in futures]

    def share(self, obj: Any) -> Shared:
        """Send ``obj`` to the workers once; returns a handle to pass to ``submit``."""
        return Shared(obj)

    def _resolve(self, arg: Any) -> Any:
        return arg.ref if isinstance(arg, Shared) else arg

    def _submit(self, fn: Callable, args: tuple, kwargs: dict) -> cf.Future:
        raise NotImplementedError

    def shutdown(self, wait: bool = True) -> None:
        """Release the workers (and a cluster this executor started)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_workers={self.max_workers})"


class InProcessExecutor(Executor):
    """Runs each task at once in the calling process (no pickling, easiest to debug).

    >>> InProcessExecutor().submit(pow, 2, 10).result()
    1024
    """

    max_workers = 1

    def _submit(self, fn: Callable, args: tuple, kwargs: dict) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            future.set_exception(error)
        return future


class FuturesExecutor(Executor):
    """Adapter for any ``concurrent.futures.Executor`` (thread pool, stdlib process pool, MPI, ...).

    Args:
        executor: the executor to wrap; it is shut down by ``shutdown()`` only if ``owns=True``.
        max_workers: how many tasks to keep in flight (read from ``executor._max_workers`` when omitted).

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with FuturesExecutor(ThreadPoolExecutor(2), owns=True) as ex:
    ...     ex.map(pow, [2, 3], [2, 2])
    [4, 9]
    """

    def __init__(self, executor: cf.Executor, max_workers: int | None = None, owns: bool = False):
        if not isinstance(executor, cf.Executor):
            raise TypeError(f"Expected a concurrent.futures.Executor. Received: executor={executor!r}")
        self.executor = executor
        self.max_workers = int(max_workers or getattr(executor, "_max_workers", None) or 1)
        self.owns = owns

    def _submit(self, fn: Callable, args: tuple, kwargs: dict) -> cf.Future:
        return self.executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        if self.owns:
            self.executor.shutdown(wait=wait)
