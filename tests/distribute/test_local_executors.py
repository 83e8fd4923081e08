import concurrent.futures as cf
import os
import signal
import time

import dist_tasks
import numpy as np
import pytest

from featherflow.distribute import (
    DaskExecutor,
    FuturesExecutor,
    InProcessExecutor,
    ProcessExecutor,
    RayExecutor,
    WorkerDiedError,
    blas_environment,
    get_executor,
    threads_per_worker,
)


def test_in_process_runs_at_once_and_resolves_shared():
    ex = InProcessExecutor()
    data = ex.share(np.arange(5.0))
    assert ex.submit(dist_tasks.total, data, offset=1).result() == 11.0
    assert ex.map(dist_tasks.add, [1, 2], [10, 20]) == [11, 22]
    future = ex.submit(dist_tasks.fail, "boom")
    assert isinstance(future.exception(), KeyError)
    with pytest.raises(TypeError, match="callable"):
        ex.submit(42)


def test_futures_executor_wraps_any_concurrent_executor():
    with cf.ThreadPoolExecutor(max_workers=3) as pool:
        ex = get_executor(pool)
        assert isinstance(ex, FuturesExecutor) and ex.max_workers == 3
        assert ex.map(dist_tasks.add, [1, 2, 3], [1, 1, 1]) == [2, 3, 4]
        assert ex.submit(dist_tasks.total, ex.share([1, 2])).result() == 3
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        FuturesExecutor(object())


def test_get_executor_resolution():
    assert isinstance(get_executor(None), InProcessExecutor)
    assert isinstance(get_executor(None, max_workers=1), InProcessExecutor)
    assert isinstance(get_executor("inprocess"), InProcessExecutor)
    ex = InProcessExecutor()
    assert get_executor(ex) is ex
    with pytest.raises(ValueError, match="executor must be"):
        get_executor("carrier-pigeon")
    with get_executor(None, max_workers=2) as pool:
        assert isinstance(pool, ProcessExecutor) and pool.max_workers == 2


def test_thread_budget():
    assert threads_per_worker(2, cores=2) == 1
    assert threads_per_worker(2, cores=8) == 4
    assert threads_per_worker(16, cores=8) == 1
    assert blas_environment(3)["OPENBLAS_NUM_THREADS"] == "3"


@pytest.fixture(scope="module")
def pool():
    with pytest.MonkeyPatch.context() as patch:
        # the parent's own setting: workers start with the pool's thread budget, the parent keeps this value
        patch.setenv("OMP_NUM_THREADS", "sentinel")
        with ProcessExecutor(max_workers=2, max_task_retries=2) as ex:
            yield ex


def test_process_pool_results_shared_data_and_blas_limits(pool):
    assert pool.map(dist_tasks.add, range(6), range(6)) == [0, 2, 4, 6, 8, 10]
    data = pool.share(np.arange(100.0))
    assert pool.submit(dist_tasks.total, data, offset=0.5).result() == 4950.5
    expected = str(threads_per_worker(2))
    assert pool.submit(dist_tasks.blas_threads).result() == (expected, expected, expected)
    assert os.environ["OMP_NUM_THREADS"] == "sentinel"  # set back after the workers started


def test_process_pool_passes_exceptions_back(pool):
    future = pool.submit(dist_tasks.fail, "no such key")
    error = future.exception(timeout=60)
    assert isinstance(error, KeyError) and "no such key" in str(error)
    assert "dist_tasks.py" in error.__featherflow_traceback__


def test_process_pool_reschedules_task_of_a_worker_that_exits(pool, tmp_path):
    marker = str(tmp_path / "died")
    deaths = pool.deaths
    pid = pool.submit(dist_tasks.die_once, marker).result(timeout=120)
    assert pool.deaths == deaths + 1
    with open(marker) as handle:
        assert int(handle.read()) != pid  # a fresh worker ran it the second time
    # The pool still works afterwards.
    assert pool.submit(dist_tasks.add, 1, 2).result(timeout=60) == 3


def test_process_pool_reschedules_task_of_a_sigkilled_worker(pool, tmp_path):
    started = str(tmp_path / "started")
    future = pool.submit(dist_tasks.wait_to_be_killed, started)
    other = pool.submit(dist_tasks.add, 5, 5)
    deadline = time.monotonic() + 60
    while not os.path.exists(started) and time.monotonic() < deadline:
        time.sleep(0.02)
    with open(started) as handle:
        victim = int(handle.read())
    assert victim in pool.busy_worker_pids()
    os.kill(victim, signal.SIGKILL)
    outcome, pid = future.result(timeout=120)
    assert outcome == "rerun" and pid != victim
    assert other.result(timeout=60) == 10


def test_process_pool_gives_up_after_max_task_retries(pool):
    with pytest.raises(WorkerDiedError, match="3 times"):
        pool.submit(dist_tasks.always_die).result(timeout=120)
    assert pool.submit(dist_tasks.add, 2, 2).result(timeout=60) == 4


def test_process_pool_rejects_fork_and_submit_after_shutdown():
    with pytest.raises(ValueError, match="spawn"):
        ProcessExecutor(max_workers=1, mp_context="fork")
    ex = ProcessExecutor(max_workers=1)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        ex.submit(dist_tasks.add, 1, 1)


def test_cluster_executors_name_their_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cluster(name, *args, **kwargs):
        if name in ("ray", "dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cluster)
    with pytest.raises(ImportError, match=r"featherflow\[ray\]"):
        RayExecutor()
    with pytest.raises(ImportError, match=r"featherflow\[dask\]"):
        DaskExecutor()
