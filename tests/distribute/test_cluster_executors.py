"""Ray and Dask executors on real local clusters (one per backend for the whole module)."""

import dist_tasks
import numpy as np
import pytest

from featherflow.distribute import DaskExecutor, RayExecutor, get_executor

pytest.importorskip("ray")
pytest.importorskip("distributed")


@pytest.fixture(scope="module", params=["ray", "dask"])
def cluster(request):
    if request.param == "ray":
        ex = RayExecutor(num_cpus=2)
    else:
        ex = DaskExecutor(n_workers=2)
    yield ex
    ex.shutdown()


def test_cluster_runs_tasks_with_shared_data(cluster):
    assert cluster.max_workers == 2
    assert cluster.map(dist_tasks.add, [1, 2, 3], [4, 5, 6]) == [5, 7, 9]
    data = cluster.share(np.arange(10.0))
    assert cluster.submit(dist_tasks.total, data, offset=2).result(timeout=120) == 47.0
    assert cluster.submit(dist_tasks.blas_threads).result(timeout=120) == ("1", "1", "1")


def test_cluster_passes_exceptions_back(cluster):
    with pytest.raises(KeyError, match="missing"):
        cluster.submit(dist_tasks.fail, "missing").result(timeout=120)


def test_cluster_reruns_task_of_a_dead_worker(cluster, tmp_path):
    marker = str(tmp_path / "died")
    pid = cluster.submit(dist_tasks.die_once, marker).result(timeout=180)
    with open(marker) as handle:
        assert int(handle.read()) != pid


def test_get_executor_by_name_reuses_running_ray(cluster):
    if isinstance(cluster, RayExecutor):
        joined = get_executor("ray")
        assert isinstance(joined, RayExecutor) and joined.max_workers == 2
        joined.shutdown()  # does not own the cluster: must leave it running
        assert cluster.submit(dist_tasks.add, 1, 1).result(timeout=60) == 2


def test_dask_executor_joins_a_scheduler_by_address(cluster):
    if isinstance(cluster, DaskExecutor):
        joined = DaskExecutor(address=cluster._cluster.scheduler_address)
        try:
            assert joined.max_workers >= 1  # counted at connection: a restarted worker may still be starting
            assert joined.submit(dist_tasks.add, 20, 22).result(timeout=60) == 42
        finally:
            joined.shutdown()  # closes only its own client
        assert cluster.submit(dist_tasks.add, 1, 2).result(timeout=60) == 3
