"""Executors on a Ray or Dask cluster (optional extras ``featherflow[ray]`` / ``featherflow[dask]``).

Both join the cluster this process is already connected to (an initialised Ray, the current
``distributed.Client``) or, with ``address``, an existing one; otherwise they start a local cluster (and shut it
down again in ``shutdown()``). Data shared with ``share`` goes into the cluster's object store once (``ray.put`` /
``client.scatter``). A task whose worker process dies is run again by the cluster itself (Ray's ``max_retries``,
Dask's ``allowed_failures``).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from featherflow.distribute.base import Executor, Shared, blas_environment, cpu_count, threads_per_worker


def _python_path() -> str:
    # Workers of a local cluster must import the same modules as the driver (test modules, scripts' folders).
    return os.pathsep.join(dict.fromkeys(p for p in sys.path if p and os.path.isdir(p)))


def _call(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class RayExecutor(Executor):
    """Runs tasks on Ray: ``address=None`` starts a local cluster, ``address="ray://..."``/``"auto"`` joins one.

    Args:
        address: cluster address, or None for a new local cluster (reuses an already initialised Ray).
        num_cpus: CPUs of a local cluster (default: the usable cores).
        max_workers: tasks kept in flight (default: the cluster's CPUs).
        max_task_retries: reruns of a task whose worker died (Ray's ``max_retries``).
        **init_kwargs: passed to ``ray.init``.
    """

    reschedules_dead_workers = True

    def __init__(self, address: str | None = None, num_cpus: int | None = None, max_workers: int | None = None,
                 max_task_retries: int = 3, **init_kwargs: Any):
        try:
            import ray
        except ImportError as error:
            raise ImportError('RayExecutor requires Ray: pip install "featherflow[ray]"') from error
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            if address is None:
                cores = int(num_cpus or cpu_count())
                threads = threads_per_worker(cores, cpu_count())
                env = {**blas_environment(threads), "PYTHONPATH": _python_path()}
                runtime_env = dict(init_kwargs.pop("runtime_env", None) or {})
                runtime_env["env_vars"] = {**env, **runtime_env.get("env_vars", {})}
                init_kwargs.setdefault("include_dashboard", False)
                init_kwargs.setdefault("log_to_driver", False)
                init_kwargs.setdefault("logging_level", logging.WARNING)
                ray.init(num_cpus=cores, runtime_env=runtime_env, **init_kwargs)
            else:
                ray.init(address=address, **init_kwargs)
            self._owns = True
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        self.max_workers = int(max_workers or cluster_cpus)
        self._remote = ray.remote(num_cpus=1, max_retries=int(max_task_retries))(_call)

    def share(self, obj: Any) -> Shared:
        return Shared(self._ray.put(obj))

    def _submit(self, fn: Callable, args: tuple, kwargs: dict) -> cf.Future:
        # ObjectRefs among the top-level arguments are fetched by Ray before ``_call`` runs.
        return self._remote.remote(fn, *args, **kwargs).future()

    def shutdown(self, wait: bool = True) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False


class DaskExecutor(Executor):
    """Runs tasks on Dask: the current ``distributed.Client`` when there is one (``executor="dask"`` after
    ``Client(...)`` runs on that cluster), else ``address=None`` starts a ``LocalCluster`` of processes; or pass a
    scheduler address (``"tcp://host:8786"``) or a ``distributed.Client`` as ``client``.

    Args:
        address: scheduler address, or None for the current client or else a new local cluster.
        n_workers: worker processes of a local cluster (default: the usable cores), one thread each.
        client: an existing ``distributed.Client`` (not closed by ``shutdown``).
        max_workers: tasks kept in flight (default: the cluster's total threads).
        **cluster_kwargs: passed to ``LocalCluster``.
    """

    reschedules_dead_workers = True

    def __init__(self, address: str | None = None, n_workers: int | None = None, client: Any = None,
                 max_workers: int | None = None, **cluster_kwargs: Any):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as error:
            raise ImportError('DaskExecutor requires Dask: pip install "featherflow[dask]"') from error
        self._cluster = None
        if client is None and address is None:
            try:
                client = Client.current()  # the client made last in this process (or dask's default one)
            except ValueError:  # no client
                client = None
            if client is not None and client.status not in ("running", "connecting", "newly-created"):
                client = None  # closed
        self._owns_client = client is None
        if client is None:
            if address is None:
                n_workers = int(n_workers or cpu_count())
                environ = blas_environment(threads_per_worker(n_workers, cpu_count()))
                cluster_kwargs.setdefault("threads_per_worker", 1)
                cluster_kwargs.setdefault("processes", True)
                cluster_kwargs.setdefault("dashboard_address", ":0")  # a free port: never clash with other clusters
                cluster_kwargs.setdefault("silence_logs", logging.ERROR)
                with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                    self._cluster = LocalCluster(n_workers=n_workers, **cluster_kwargs)
                client = Client(self._cluster)
            else:
                client = Client(address)
        self.client = client
        threads = sum(self.client.nthreads().values()) or 1
        self.max_workers = int(max_workers or threads)

    def share(self, obj: Any) -> Shared:
        return Shared(self.client.scatter(obj, broadcast=True, hash=False))

    def _submit(self, fn: Callable, args: tuple, kwargs: dict) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_running_or_notify_cancel()
        dask_future = self.client.submit(_call, fn, *args, pure=False, **kwargs)

        def relay(done: Any) -> None:
            try:
                if done.status == "finished":
                    future.set_result(done.result())
                elif done.status == "cancelled":
                    future.set_exception(cf.CancelledError("the Dask task was cancelled"))
                else:
                    future.set_exception(done.exception())
            except BaseException as error:  # noqa: BLE001 - passed on to the waiting caller
                if not future.done():
                    future.set_exception(error)

        dask_future.add_done_callback(relay)
        future._featherflow_dask = dask_future  # keep the Dask future alive until ours is done
        return future

    def shutdown(self, wait: bool = True) -> None:
        if self._owns_client and self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = None if self._owns_client else self.client
        self._cluster = None
