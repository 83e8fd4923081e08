"""The search loop shared by every tuner: proposals, executors, retries, records, resumption and progress.

``BaseTuner`` knows nothing of Keras: a subclass says what a trial runs (``trial_task``: a picklable function and
its arguments) and what to do with a result. The Keras ``Tuner``, Population Based Training and evolutionary
search build on it.

The loop keeps up to ``executor.max_workers`` trials in flight. A trial that raises is run again up to
``max_retries_per_trial`` times, then recorded as ``FAILED`` with its traceback and the search goes on; after
``max_consecutive_failed_trials`` failed trials in a row it stops with a ``RuntimeError``. Every change of a
trial is written to its JSON record at once (atomically), so a search killed at any point resumes with
``overwrite=False``: finished trials are kept, the trials that were running are run again, and the oracle -
whose proposals depend only on its seed and the trial records - carries on where it was.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from featherflow.distribute import Executor, get_executor
from featherflow.tuner.hyperparameters import HyperParameters
from featherflow.tuner.oracles.base import DONE, WAIT, Oracle, Proposal
from featherflow.tuner.storage import Project
from featherflow.tuner.trial import Trial, TrialStatus


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class BaseTuner:
    """Runs an oracle's trials on an executor and keeps their records.

    Args:
        oracle: the search algorithm.
        directory, project_name: where the records go (``directory/project_name``).
        overwrite: start afresh instead of resuming from an existing project.
        executor: a ``featherflow.distribute`` executor, a ``concurrent.futures.Executor``, a name
            (``"process"``, ``"ray"``, ``"dask"``) or None (in-process, or a process pool if ``max_workers > 1``).
        max_workers: workers of the process pool made when ``executor`` is None.
        verbose: 0 silent, 1 a line per finished trial.
    """

    def __init__(self, oracle: Oracle, directory: str | None = None, project_name: str | None = None,
                 overwrite: bool = False, executor: Any = None, max_workers: int | None = None, verbose: int = 1):
        if not isinstance(oracle, Oracle):
            raise TypeError(f"oracle must be a featherflow.tuner Oracle. Received: oracle={oracle!r}")
        self.oracle = oracle
        self.project = Project(directory, project_name, overwrite)
        self.directory, self.project_name = self.project.directory, self.project.project_name
        self._executor_argument, self.max_workers = executor, max_workers
        self.verbose = verbose
        self.trials: dict[int, Trial] = {}
        self._reload()

    # -- persistence --------------------------------------------------------------------------------------------
    def _reload(self) -> None:
        if self.project.exists("oracle.json"):
            self.oracle.set_state(self.project.read_json("oracle.json"))
            self.trials = self.project.load_trials()
        self._save_oracle()

    def _save_oracle(self) -> None:
        self.project.write_json("oracle.json", self.oracle.get_state())

    def _save(self, trial: Trial) -> None:
        self.project.save_trial(trial)

    # -- hooks for subclasses -----------------------------------------------------------------------------------
    def prepare_search(self, executor: Executor, args: tuple, kwargs: dict) -> None:
        """Called once per ``search`` before the first trial (share data with the workers here)."""

    def create_trial(self, proposal: Proposal) -> Trial:
        """The ``Trial`` for an oracle proposal (subclasses complete its hyperparameters)."""
        hp = self.oracle.hyperparameters.with_values(proposal.values)
        return Trial(proposal.index, hp, info=proposal.info, seed=self.oracle.trial_seed(proposal.index))

    def trial_task(self, trial: Trial) -> tuple[Callable, tuple]:
        """``(function, args)`` that the executor runs for ``trial``; the function returns a result dict."""
        raise NotImplementedError

    def on_trial_result(self, trial: Trial, result: dict) -> None:
        """Store a successful result: at least ``trial.score``; may save weights."""
        trial.score = result.get("score")
        trial.best_step = result.get("best_step")
        trial.metrics = result.get("metrics", {})

    def finish_search(self) -> None:
        """Called after the loop ends (also after an error)."""

    # -- the loop -----------------------------------------------------------------------------------------------
    def search(self, *args: Any, **kwargs: Any) -> None:
        """Run trials until the oracle is done (arguments go to ``prepare_search``)."""
        executor = get_executor(self._executor_argument, self.max_workers)
        owns_executor = executor is not self._executor_argument
        self._search_started = time.time()
        consecutive_failures = 0
        in_flight: dict[cf.Future, Trial] = {}
        try:
            self.prepare_search(executor, args, kwargs)
            # Trials left RUNNING by an interrupted run are run again first, with the same values and seed.
            pending = [t for _, t in sorted(self.trials.items()) if t.status == TrialStatus.RUNNING]
            exhausted = False
            while True:
                while len(in_flight) < max(1, executor.max_workers) and (pending or not exhausted):
                    if pending:
                        trial = pending.pop(0)
                    else:
                        proposal = self.oracle.propose(self.trials)
                        if proposal == DONE:
                            exhausted = True
                            break
                        if proposal == WAIT:
                            break
                        trial = self.create_trial(proposal)
                        self.trials[trial.index] = trial
                        self._save_oracle()
                    in_flight[self._submit(executor, trial)] = trial
                if not in_flight:
                    break  # nothing runs and nothing can be proposed (DONE, or WAIT on nothing: also done)
                done, _ = cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: in_flight[f].index):
                    trial = in_flight.pop(future)
                    outcome = self._collect(trial, future)
                    if outcome == "retry":
                        in_flight[self._submit(executor, trial)] = trial
                        continue
                    consecutive_failures = consecutive_failures + 1 if outcome == "failed" else 0
                    self._report(trial)
                    if consecutive_failures >= self.oracle.max_consecutive_failed_trials:
                        raise RuntimeError(
                            f"{consecutive_failures} consecutive trials failed (max_consecutive_failed_trials="
                            f"{self.oracle.max_consecutive_failed_trials}); stopping the search. The last error:\n"
                            f"{trial.message}")
        finally:
            for future in in_flight:
                future.cancel()
            if owns_executor:
                executor.shutdown()
            self.finish_search()

    def _submit(self, executor: Executor, trial: Trial) -> cf.Future:
        trial.status = TrialStatus.RUNNING
        trial.attempts += 1
        trial.started = time.time()
        self._save(trial)  # RUNNING on disk before it runs: a killed search reruns it
        function, arguments = self.trial_task(trial)
        return executor.submit(function, *arguments)

    def _collect(self, trial: Trial, future: cf.Future) -> str:
        error = future.exception()
        trial.ended = time.time()
        trial.duration = trial.ended - trial.started
        if error is None:
            try:
                self.on_trial_result(trial, future.result())
                trial.status = TrialStatus.COMPLETED
                trial.message = None
                self._save(trial)
                return "completed"
            except Exception as storage_error:  # noqa: BLE001 - a result we cannot use fails the trial
                error = storage_error
        trace = getattr(error, "__featherflow_traceback__", None) or "".join(
            traceback.format_exception(type(error), error, error.__traceback__))
        trial.message = trace
        if trial.attempts <= self.oracle.max_retries_per_trial:
            self._save(trial)
            return "retry"
        trial.status = TrialStatus.FAILED
        trial.score = None
        self._save(trial)
        return "failed"

    # -- results ------------------------------------------------------------------------------------------------
    def best_trial(self) -> Trial | None:
        best = self.oracle.get_best_trials(self.trials, 1)
        return best[0] if best else None

    def _report(self, trial: Trial) -> None:
        if not self.verbose:
            return
        objective = self.oracle.objective
        best = self.best_trial()
        values = ", ".join(f"{k}={format_value(v)}" for k, v in trial.values.items())
        finished = sum(t.finished for t in self.trials.values())
        total = self.oracle.total_trials() or "?"
        score = "failed" if trial.status == TrialStatus.FAILED else format_value(trial.score)
        best_text = "-" if best is None else f"{format_value(best.score)} (trial {best.trial_id})"
        line = (f"Trial {trial.trial_id} [{finished}/{total}] {trial.status.lower()} in {trial.duration:.1f}s - "
                f"{objective.name}: {score} - best so far: {best_text} - {values}")
        if trial.status == TrialStatus.FAILED and trial.message:
            line += f"\n  error: {trial.message.rstrip().splitlines()[-1]}"
        print(line, file=sys.stdout, flush=True)

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The hyperparameters of the best ``num_trials`` completed trials, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(self.trials, num_trials)]

    def results_table(self) -> list[dict]:
        """One row per trial (index order): id, status, score, best step, seconds, hyperparameter values."""
        return [{"trial_id": t.trial_id, "status": t.status, "score": t.score, "best_step": t.best_step,
                 "seconds": t.duration, **t.values} for _, t in sorted(self.trials.items())]

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best ``num_trials`` trials (KerasTuner's format)."""
        print("Results summary")
        print(f"Results in {self.project.path}")
        print(f"Showing {num_trials} best trials")
        print(self.oracle.objective)
        for trial in self.oracle.get_best_trials(self.trials, num_trials):
            print()
            print(trial.summary())
        failed = [t for t in self.trials.values() if t.status == TrialStatus.FAILED]
        if failed:
            print(f"\n{len(failed)} failed trial(s): {', '.join(t.trial_id for t in failed)}")

    def search_space_summary(self) -> None:
        """Print the search space."""
        print(self.oracle.hyperparameters.summary())

    @property
    def best_score(self) -> float:
        best = self.best_trial()
        return math.nan if best is None else float(best.score)
