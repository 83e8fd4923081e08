"""PBT runs end to end: resumption after SIGKILL, crashing members, 1 vs 2 process workers, moving optimum."""

import json
import os
import subprocess
import sys

import numpy as np
import pbt_runner
from pbt_tasks import always_fails_for_small_lr, crash_once_train, lineage_train
from trial_files import kill_when

from featherflow.distribute import ProcessExecutor
from featherflow.tuner import (
    FunctionTuner,
    GridSearchOracle,
    HyperParameters,
    PopulationBasedTraining,
    RandomSearchOracle,
)
from featherflow.tuner.pbt import Segment
from featherflow.tuner.pbt.problems import NoisyQuadratic


def lr_space():
    hp = HyperParameters()
    hp.Float("lr", 0.01, 0.5, sampling="log")
    return hp


def lineage_pbt(directory, train_function=lineage_train, **kwargs):
    options = dict(hyperparameters=lr_space(), train_function=train_function, population_size=4, objective="loss",
                   perturbation_interval=2, synchronous=True, seed=3, directory=str(directory), verbose=0)
    options.update(kwargs)
    return PopulationBasedTraining(**options)


def summary(pbt):
    """Everything a run decided and reached: each trial's values, provenance and score, by index."""
    return {i: (t.values, t.info["parent"], t.info["donor"], t.score, t.status) for i, t in sorted(pbt.trials.items())}


def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path):
    reference = pbt_runner.run(str(tmp_path / "reference"))
    script = os.path.join(os.path.dirname(__file__), "pbt_runner.py")
    env = {**os.environ, "FEATHERFLOW_PBT_SLEEP": "0.4",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    folder = tmp_path / "killed" / "pbt"
    process = subprocess.Popen([sys.executable, script, str(tmp_path / "killed")], env=env)
    # killed inside generation 1 or 2, with checkpoints on disk
    kill_when(process, folder, lambda statuses: statuses.count("COMPLETED") >= 4 and "RUNNING" in statuses,
              timeout=180, interval=0.05)
    before = {p.parent.name: json.loads(p.read_text()) for p in folder.glob("trial_*/trial.json")}
    finished_before = {name: r["ended"] for name, r in before.items() if r["status"] == "COMPLETED"}
    assert 4 <= len(finished_before) < 12 and any(r["status"] == "RUNNING" for r in before.values())

    resumed = pbt_runner.run(str(tmp_path / "killed"))  # overwrite=False: resumes
    assert summary(resumed) == summary(reference)
    for trial in resumed.trials.values():  # finished segments were not trained again
        if trial.trial_id in {name[len("trial_"):] for name in finished_before}:
            assert trial.ended == finished_before[f"trial_{trial.trial_id}"]
    for got, want in zip(resumed.get_best_models()[0].get_weights(), reference.get_best_models()[0].get_weights()):
        np.testing.assert_array_equal(got, want)


def test_a_crashing_member_restarts_from_its_checkpoint(tmp_path):
    clean = lineage_pbt(tmp_path / "clean")
    clean.search(steps=8)
    (tmp_path / "markers").mkdir()
    crashing = lineage_pbt(tmp_path / "crash", train_function=crash_once_train)
    crashing.search(steps=8, folder=str(tmp_path / "markers"), crash_start=4)
    assert summary(crashing) == summary(clean)
    crashed = [t for t in crashing.trials.values() if t.info["start"] == 4]
    assert len(crashed) == 4 and all(t.attempts == 2 for t in crashed)  # raised once, then trained again
    assert len(os.listdir(tmp_path / "markers")) == 4
    assert all(t.attempts == 1 for t in crashing.trials.values() if t.info["start"] != 4)


def test_a_failed_member_copies_a_better_one(tmp_path):
    pbt = lineage_pbt(tmp_path, train_function=always_fails_for_small_lr, max_retries_per_trial=0, seed=1,
                      population_size=5)
    pbt.search(steps=6)
    failed = [t for t in pbt.trials.values() if t.status == "FAILED"]
    assert failed, "this seed draws learning rates below 0.05"
    for trial in failed:
        assert "lr too small" in trial.message
        following = pbt.trials.get(trial.index + 5)
        if following is not None:
            assert following.info["donor"] is not None
            assert pbt.trials[following.info["parent"]].status == "COMPLETED"
    assert all(t.status == "COMPLETED" for t in pbt.final_trials().values())


def test_same_seed_same_schedules_on_one_and_two_process_workers_even_when_a_worker_dies(tmp_path, monkeypatch):
    runs = {"in-process": pbt_runner.run(str(tmp_path / "inprocess"), epochs=3)}
    deaths = {}
    for workers in (1, 2):
        if workers == 2:  # the first segment's worker process dies (os._exit): it is replaced, the segment rerun
            monkeypatch.setenv("FEATHERFLOW_PBT_KILL_DIR", str(tmp_path))
            monkeypatch.setenv("FEATHERFLOW_PBT_MAIN_PID", str(os.getpid()))
        with ProcessExecutor(max_workers=workers, threads_per_worker=1) as executor:
            runs[workers] = pbt_runner.run(str(tmp_path / f"w{workers}"), epochs=3, executor=executor)
            deaths[workers] = executor.deaths
    assert deaths == {1: 0, 2: 1}
    assert summary(runs[1]) == summary(runs[2]) == summary(runs["in-process"])
    assert runs[1].schedules == runs[2].schedules
    assert any(t.info["donor"] is not None for t in runs[2].trials.values())


def test_moving_optimum_pbt_beats_random_and_grid_search_at_equal_steps(tmp_path):
    problem = NoisyQuadratic(dim=50, steps=600)
    space = problem.search_space(1e-3, 1.0)
    pbt = PopulationBasedTraining(hyperparameters=space, train_function=problem.train, population_size=6,
                                  objective="loss", perturbation_interval=50, synchronous=True, seed=0,
                                  directory=str(tmp_path), project_name="pbt", checkpoints="memory", verbose=0)
    pbt.search(steps=600)
    assert sum(Segment.of(t).stop - Segment.of(t).start for t in pbt.trials.values()) == 6 * 600
    random_search = FunctionTuner(RandomSearchOracle("loss", max_trials=6, hyperparameters=space, seed=0),
                                  problem.run, directory=str(tmp_path), project_name="random", verbose=0)
    random_search.search()
    grid = HyperParameters()
    grid.Float("learning_rate", 1e-3, 1.0, step=10 ** 0.6, sampling="log")  # 6 points, 1e-3 ... 1
    # seeded like the other two: an unseeded grid draws new noise each run (its best ranged 0.40-1.24)
    grid_search = FunctionTuner(GridSearchOracle("loss", hyperparameters=grid, seed=0), problem.run,
                                directory=str(tmp_path), project_name="grid", verbose=0)
    grid_search.search()
    assert len(random_search.trials) == len(grid_search.trials) == 6
    assert pbt.best_score < 0.6 * min(random_search.best_score, grid_search.best_score)
    # The schedule PBT found ends well below where it starts: the best learning rate moves down.
    schedule = [e["values"]["learning_rate"] for e in pbt.schedule()]
    assert schedule[-1] < schedule[0]
