"""``executor="dask"`` runs on the ``distributed.Client`` the user already made (a real local cluster here), and
leaves it running; without one it starts (and stops) a cluster of its own."""

import dist_tasks
import numpy as np
import pytest

from featherflow.distribute import DaskExecutor, get_executor
from featherflow.tuner import FunctionTuner, HyperParameters, RandomSearchOracle

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def user_client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_executor_uses_the_current_client(user_client):
    executor = get_executor("dask")
    try:
        assert isinstance(executor, DaskExecutor) and executor.client is user_client
        assert executor._cluster is None  # no cluster of its own
        assert executor.max_workers == 2  # the user's cluster: one worker, two threads
        shared = executor.share(np.arange(5.0))
        assert executor.submit(dist_tasks.total, shared, offset=1).result(timeout=60) == 11.0
    finally:
        executor.shutdown()
    assert user_client.status == "running"  # not ours to close
    assert user_client.submit(dist_tasks.add, 2, 3).result(timeout=60) == 5


def square(values):
    return (values["x"] - 0.25) ** 2


def test_a_tuner_with_executor_dask_runs_its_trials_on_that_client(tmp_path, user_client):
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0)
    tuner = FunctionTuner(RandomSearchOracle("loss", max_trials=4, hyperparameters=hp, seed=0), square,
                          executor="dask", directory=str(tmp_path), verbose=0)
    with distributed.get_task_stream(client=user_client) as stream:
        tuner.search()
    assert [t.status for t in tuner.trials.values()] == ["COMPLETED"] * 4
    assert sum(task["key"].startswith("_call") for task in stream.data) == 4  # the four trials ran there
    assert user_client.status == "running"


def test_a_closed_client_is_not_reused():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
    client = distributed.Client(cluster)
    client.close()
    executor = DaskExecutor(n_workers=1, processes=False)
    try:
        assert executor.client is not client and executor.client.status == "running"
        assert executor.submit(dist_tasks.add, 1, 1).result(timeout=60) == 2
    finally:
        executor.shutdown()
        cluster.close()
