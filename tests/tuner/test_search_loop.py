"""The search loop (BaseTuner via FunctionTuner): retries, failures, determinism across workers, dead workers."""

import json
import os
import signal
import threading
import time

import pytest
import tuner_tasks

from featherflow.distribute import InProcessExecutor, ProcessExecutor
from featherflow.tuner import (
    BayesianOptimizationOracle,
    FunctionTuner,
    GridSearchOracle,
    HyperbandOracle,
    HyperParameters,
    RandomSearchOracle,
    TPEOracle,
)


def space_x():
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0)
    return hp


@pytest.fixture(scope="module")
def process_pool():
    with ProcessExecutor(max_workers=2) as pool:
        yield pool


def test_failed_trial_is_recorded_with_traceback_and_search_goes_on(tmp_path):
    oracle = RandomSearchOracle("loss", max_trials=8, hyperparameters=space_x(), seed=0,
                                max_consecutive_failed_trials=8)
    tuner = FunctionTuner(oracle, tuner_tasks.fails_for_large_x, directory=str(tmp_path), verbose=0)
    tuner.search()
    assert len(tuner.trials) == 8
    for trial in tuner.trials.values():
        if trial.values["x"] > 0.5:
            assert trial.status == "FAILED" and trial.score is None
            assert "ValueError: x too large" in trial.message and "fails_for_large_x" in trial.message
        else:
            assert trial.status == "COMPLETED" and trial.score == trial.values["x"]
    record = json.loads((tmp_path / "untitled_project" / "trial_0000" / "trial.json").read_text())
    assert record["status"] in ("FAILED", "COMPLETED")


def test_consecutive_failures_stop_the_search(tmp_path):
    oracle = RandomSearchOracle("loss", max_trials=10, hyperparameters=space_x(), seed=0,
                                max_consecutive_failed_trials=3)
    tuner = FunctionTuner(oracle, tuner_tasks.always_fails, directory=str(tmp_path), verbose=0)
    with pytest.raises(RuntimeError, match="3 consecutive trials failed[\\s\\S]*broken objective"):
        tuner.search()
    assert len(tuner.trials) == 3 and all(t.status == "FAILED" for t in tuner.trials.values())


def test_retries_rerun_the_same_configuration(tmp_path):
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Fixed("folder", str(tmp_path))
    oracle = RandomSearchOracle("loss", max_trials=3, hyperparameters=hp, seed=0, max_retries_per_trial=1)
    tuner = FunctionTuner(oracle, tuner_tasks.flaky, directory=str(tmp_path), verbose=0)
    tuner.search()
    assert all(t.status == "COMPLETED" and t.attempts == 2 for t in tuner.trials.values())
    assert len(os.listdir(tmp_path)) == 3 + 1  # one marker per configuration + the project


@pytest.mark.parametrize("make_oracle", [
    lambda hp: RandomSearchOracle("loss", max_trials=6, hyperparameters=hp, seed=4),
    lambda hp: BayesianOptimizationOracle("loss", max_trials=7, num_initial_points=3, batch_size=2,
                                          hyperparameters=hp, seed=4),
    lambda hp: TPEOracle("loss", max_trials=6, num_initial_points=2, batch_size=2, hyperparameters=hp, seed=4),
    lambda hp: HyperbandOracle("loss", max_epochs=4, factor=2, hyperparameters=hp, seed=4),
    lambda hp: GridSearchOracle("loss", hyperparameters=hp),
], ids=["random", "bayesian", "tpe", "hyperband", "grid"])
def test_same_seed_same_trials_on_one_or_two_workers(make_oracle, tmp_path, process_pool):
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0, step=0.125)
    hp.Boolean("flag")
    results = []
    for name, executor in [("one", InProcessExecutor()), ("two", process_pool)]:
        tuner = FunctionTuner(make_oracle(hp), tuner_tasks.quadratic, directory=str(tmp_path), project_name=name,
                              executor=executor, verbose=0)
        tuner.search()
        results.append([(t.values, t.score, t.info.get("parent_index")) for _, t in sorted(tuner.trials.items())])
    assert results[0] == results[1] and len(results[0]) >= 5


def test_trial_of_a_killed_worker_is_rescheduled(tmp_path, process_pool):
    """SIGKILL a worker in the middle of a trial: the executor reruns the trial; the search completes."""
    oracle = RandomSearchOracle("loss", max_trials=4, hyperparameters=space_x(), seed=2)
    tuner = FunctionTuner(oracle, tuner_tasks.slow_quadratic, directory=str(tmp_path), executor=process_pool,
                          verbose=0)
    deaths = process_pool.deaths
    killed = []

    def killer():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = process_pool.busy_worker_pids()
            if busy:
                time.sleep(0.1)
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.02)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        tuner.search()
    finally:
        thread.join()
    assert killed and process_pool.deaths == deaths + 1
    assert len(tuner.trials) == 4 and all(t.status == "COMPLETED" for t in tuner.trials.values())
    assert all(t.score == pytest.approx((t.values["x"] - 0.3) ** 2) for t in tuner.trials.values())


def test_resume_in_process_keeps_finished_trials(tmp_path):
    hp = space_x()
    first = FunctionTuner(BayesianOptimizationOracle("loss", max_trials=4, num_initial_points=2, hyperparameters=hp,
                                                     seed=9), tuner_tasks.quadratic, directory=str(tmp_path),
                          verbose=0)
    first.search()
    # A longer budget on the same project continues from the four finished trials.
    again = FunctionTuner(BayesianOptimizationOracle("loss", max_trials=6, num_initial_points=2, hyperparameters=hp,
                                                     seed=123), tuner_tasks.quadratic, directory=str(tmp_path),
                          verbose=0)
    assert again.oracle.seed == 9  # the project's seed wins
    again.search()
    assert len(again.trials) == 6
    assert [again.trials[i].started for i in range(4)] == [first.trials[i].started for i in range(4)]
    fresh = FunctionTuner(BayesianOptimizationOracle("loss", max_trials=6, num_initial_points=2, hyperparameters=hp,
                                                     seed=9), tuner_tasks.quadratic, directory=str(tmp_path),
                          project_name="fresh", verbose=0)
    fresh.search()
    assert [t.values for t in again.trials.values()] == [t.values for t in fresh.trials.values()]
    overwritten = FunctionTuner(RandomSearchOracle("loss", max_trials=1, hyperparameters=hp, seed=1),
                                tuner_tasks.quadratic, directory=str(tmp_path), project_name="fresh",
                                overwrite=True, verbose=0)
    assert overwritten.trials == {}
    with pytest.raises(ValueError, match="created by BayesianOptimizationOracle"):
        FunctionTuner(RandomSearchOracle("loss", max_trials=1, hyperparameters=hp), tuner_tasks.quadratic,
                      directory=str(tmp_path), verbose=0)
