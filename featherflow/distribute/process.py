"""A local process pool that survives dying workers.

Unlike ``concurrent.futures.ProcessPoolExecutor`` (whose pool breaks for good when one worker dies), a worker
that dies here (killed, crashed, ``os._exit``) is replaced and the task it was running is queued again, up to
``max_task_retries`` times; only then does that task's future fail with ``WorkerDiedError``.

Workers are started with the ``spawn`` context (or ``forkserver``) and with the BLAS/OpenMP thread variables set
to ``threads_per_worker`` *before* NumPy loads in them, so ``workers x threads <= cores``.

>>> from featherflow.distribute import ProcessExecutor
>>> with ProcessExecutor(max_workers=2) as ex:
...     ex.map(pow, [2, 3, 4], [2, 2, 2])
[4, 9, 16]
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import dataclasses
import itertools
import multiprocessing
import os
import pickle
import tempfile
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait as wait_connections
from typing import Any, NamedTuple

from featherflow.distribute.base import (
    Executor,
    Shared,
    WorkerDiedError,
    blas_environment,
    cpu_count,
)
from featherflow.distribute.base import threads_per_worker as default_threads_per_worker

_ENVIRON_LOCK = threading.Lock()


def _dumps(obj: Any) -> bytes:
    # cloudpickle (present with Ray/Dask) also carries lambdas and functions defined in __main__.
    try:
        import cloudpickle

        return cloudpickle.dumps(obj)
    except ImportError:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


@dataclasses.dataclass
class _Task:
    """A submitted task: its pickled ``(fn, args, kwargs)``, its future, and how often its worker died on it."""

    payload: bytes
    future: cf.Future
    deaths: int = 0


class _Reply(NamedTuple):
    """What a worker sends back for a task: the value (``ok``) or the exception and its formatted traceback."""

    task_id: int
    ok: bool
    value: Any
    trace: str | None


class _SharedFile:
    """An object pickled once to a file; each worker loads it once and caches it."""

    __slots__ = ("path",)
    _cache: dict[str, Any] = {}

    def __init__(self, path: str):
        self.path = path

    def load(self) -> Any:
        if self.path not in _SharedFile._cache:
            with open(self.path, "rb") as handle:
                _SharedFile._cache[self.path] = pickle.load(handle)
        return _SharedFile._cache[self.path]


def _worker_main(connection, environment: dict, initializer: Callable | None, initargs: tuple) -> None:
    os.environ.update(environment)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, payload = message
        try:
            fn, args, kwargs = pickle.loads(payload)
            args = tuple(a.load() if isinstance(a, _SharedFile) else a for a in args)
            reply = _Reply(task_id, True, fn(*args, **kwargs), None)
        except BaseException as error:  # noqa: BLE001 - the error travels back to the caller's future
            if isinstance(error, KeyboardInterrupt):
                return
            reply = _Reply(task_id, False, error, traceback.format_exc())
        try:
            data = _dumps(reply)
        except Exception as pickling_error:  # noqa: BLE001 - an unpicklable result or exception
            data = _dumps(_Reply(task_id, False, RuntimeError(f"Task result could not be pickled: {pickling_error}\n"
                                                                f"{reply.trace or ''}"), None))
        connection.send_bytes(data)


class _Worker:
    def __init__(self, context, environment: dict, initializer, initargs):
        parent_end, child_end = context.Pipe(duplex=True)
        self.connection = parent_end
        self.process = context.Process(target=_worker_main, args=(child_end, environment, initializer, initargs),
                                       daemon=True)
        # The child inherits os.environ at spawn time; setting the BLAS variables here is the only way to
        # have them in place before the child imports NumPy (unpickling the target already imports it).
        with _ENVIRON_LOCK:
            saved = {name: os.environ.get(name) for name in environment}
            os.environ.update(environment)
            try:
                self.process.start()
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
        child_end.close()
        self.task_id: int | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid


class ProcessExecutor(Executor):
    """A pool of local worker processes; the default executor when ``max_workers > 1``.

    Args:
        max_workers: number of worker processes (default: the usable cores).
        threads_per_worker: BLAS/OpenMP threads in each worker (default ``cores // max_workers``, at least 1).
        mp_context: ``"spawn"`` (default) or ``"forkserver"``; ``fork`` is refused because a forked child
            inherits locks and thread pools in unknown states.
        max_task_retries: how often a task whose worker died is run again before its future fails.
        initializer, initargs: called in each worker once at start.
    """

    reschedules_dead_workers = True

    def __init__(self, max_workers: int | None = None, threads_per_worker: int | None = None,
                 mp_context: str = "spawn", max_task_retries: int = 3, initializer: Callable | None = None,
                 initargs: tuple = ()):
        if mp_context not in ("spawn", "forkserver"):
            raise ValueError(f"mp_context must be 'spawn' or 'forkserver'. Received: mp_context={mp_context!r}")
        self.max_workers = int(max_workers) if max_workers is not None else cpu_count()
        if self.max_workers < 1:
            raise ValueError(f"max_workers must be >= 1. Received: max_workers={max_workers}")
        self.threads_per_worker = int(threads_per_worker or default_threads_per_worker(self.max_workers))
        self.environment = blas_environment(self.threads_per_worker)
        self.max_task_retries = int(max_task_retries)
        self._context = multiprocessing.get_context(mp_context)
        self._initializer, self._initargs = initializer, initargs
        self._lock = threading.Lock()
        self._tasks: dict[int, _Task] = {}
        self._queue: collections.deque[int] = collections.deque()
        self._ids = itertools.count()
        self._workers: list[_Worker] = []
        self._wake_read, self._wake_write = multiprocessing.Pipe(duplex=False)
        self._closed = False
        self._shared_dir: tempfile.TemporaryDirectory | None = None
        self.deaths = 0  # how many workers died while running a task (for logs and tests)
        self._thread = threading.Thread(target=self._dispatch_loop, name="featherflow-process-pool", daemon=True)
        self._thread.start()

    # -- public -------------------------------------------------------------------------------------------------
    def share(self, obj: Any) -> Shared:
        with self._lock:
            if self._shared_dir is None:
                self._shared_dir = tempfile.TemporaryDirectory(prefix="featherflow-shared-")
            fd, path = tempfile.mkstemp(dir=self._shared_dir.name, suffix=".pkl")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return Shared(_SharedFile(path))

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (the test suite kills one to check rescheduling)."""
        with self._lock:
            return [w.pid for w in self._workers if w.process.is_alive()]

    def busy_worker_pids(self) -> list[int]:
        """Process ids of workers that are running a task right now."""
        with self._lock:
            return [w.pid for w in self._workers if w.task_id is not None and w.process.is_alive()]

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for task_id in list(self._queue):
                self._tasks.pop(task_id).future.cancel()
            self._queue.clear()
        self._wake()
        if wait:
            self._thread.join()
        if self._shared_dir is not None:
            self._shared_dir.cleanup()

    # -- internals ----------------------------------------------------------------------------------------------
    def _submit(self, fn: Callable, args: tuple, kwargs: dict) -> cf.Future:
        if self._closed:
            raise RuntimeError("cannot submit after shutdown()")
        future: cf.Future = cf.Future()
        payload = _dumps((fn, args, kwargs))
        with self._lock:
            task_id = next(self._ids)
            self._tasks[task_id] = _Task(payload, future)
            self._queue.append(task_id)
        self._wake()
        return future

    def _resolve(self, arg: Any) -> Any:
        return arg.ref if isinstance(arg, Shared) else arg

    def _wake(self) -> None:
        try:
            self._wake_write.send_bytes(b"x")
        except OSError:  # pragma: no cover - closing
            pass

    def _assign(self) -> None:
        with self._lock:
            while self._queue:
                idle = next((w for w in self._workers if w.task_id is None and w.process.is_alive()), None)
                if idle is None:
                    if len(self._workers) >= self.max_workers:
                        return
                    idle = _Worker(self._context, self.environment, self._initializer, self._initargs)
                    self._workers.append(idle)
                task_id = self._queue.popleft()
                task = self._tasks[task_id]
                if not task.future.running() and not task.future.set_running_or_notify_cancel():
                    del self._tasks[task_id]
                    continue
                idle.task_id = task_id
                try:
                    idle.connection.send((task_id, task.payload))
                except OSError:  # the worker died just now; its sentinel fires next round
                    pass

    def _dispatch_loop(self) -> None:
        while True:
            self._assign()
            with self._lock:
                if self._closed and not any(w.task_id is not None for w in self._workers):
                    break
                workers = list(self._workers)
            waitables = [self._wake_read] + [w.connection for w in workers] + [w.process.sentinel for w in workers]
            ready = wait_connections(waitables, timeout=1.0)
            if self._wake_read in ready:
                while self._wake_read.poll():
                    self._wake_read.recv_bytes()
            for worker in workers:
                if worker.connection in ready:
                    self._receive(worker)
            for worker in workers:
                if worker.process.sentinel in ready or not worker.process.is_alive():
                    self._bury(worker)
        for worker in self._workers:
            try:
                worker.connection.send(None)
            except OSError:
                pass
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self._workers.clear()

    def _receive(self, worker: _Worker) -> None:
        try:
            data = worker.connection.recv_bytes()
        except (EOFError, OSError):
            return  # died mid-send; handled by _bury
        reply = pickle.loads(data)
        with self._lock:
            worker.task_id = None
            task = self._tasks.pop(reply.task_id, None)
        if task is None:
            return
        if reply.ok:
            task.future.set_result(reply.value)
        else:
            if reply.trace and isinstance(reply.value, BaseException):
                reply.value.__featherflow_traceback__ = reply.trace
            task.future.set_exception(reply.value)

    def _bury(self, worker: _Worker) -> None:
        worker.process.join(timeout=1)
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            task_id = worker.task_id
            worker.task_id = None
            task = self._tasks.get(task_id) if task_id is not None else None
            if task is not None:
                self.deaths += 1
                task.deaths += 1
                if task.deaths > self.max_task_retries or self._closed:
                    del self._tasks[task_id]
                else:
                    self._queue.appendleft(task_id)
                    task = None
        worker.connection.close()
        if task is not None:
            task.future.set_exception(WorkerDiedError(
                f"A worker process died (exit code {worker.process.exitcode}) while running this task "
                f"{self.max_task_retries + 1} times; giving up. Raise max_task_retries to try more often."))
