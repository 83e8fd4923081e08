"""The search loop shared by every tuner: proposals, executors, retries, records, resumption and progress.

``BaseTuner`` knows nothing of Keras: a subclass says what a trial runs (``trial_task``: a picklable function and
its arguments) and what to do with a result. The Keras ``Tuner``, Population Based Training and evolutionary
search build on it.

The loop keeps up to ``executor.max_workers`` trials in flight. A trial that raises is run again up to
``max_retries_per_trial`` times, then recorded as ``FAILED`` with its traceback and the search goes on; after
``max_consecutive_failed_trials`` failed trials in a row it stops with a ``RuntimeError``, and a search that
ends with every trial failed raises one too, with the first failed trial's error (KerasTuner's rule). Every change
of a trial is written to its JSON record at once (atomically), so a search killed at any point resumes with
``overwrite=False``: finished trials are kept, the trials that were running are run again, and the oracle -
whose proposals depend only on its seed and the trial records - carries on where it was.

Reloading (``overwrite=False``, the default, as in KerasTuner) prints ``Reloading N finished trials from
<project>``. A project whose objective or search space differs from the tuner's is refused with a ``ValueError``
(its trials answer another question: pass ``overwrite=True`` or use another ``directory``/``project_name``); when
the data or ``fit`` arguments given to ``search`` differ from the reloaded trials', a ``UserWarning`` says which.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from featherflow.distribute import Executor, get_executor
from featherflow.tuner.hyperparameters import HyperParameters
from featherflow.tuner.oracles.base import DONE, WAIT, Oracle, Proposal
from featherflow.tuner.search_record import argument_differences, describe_arguments, space_differences
from featherflow.tuner.storage import Project
from featherflow.tuner.trial import Trial, TrialResult, TrialStatus

TUNER_FILE = "tuner.json"


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class BaseTuner:
    """Runs an oracle's trials on an executor and keeps their records.

    Args:
        oracle: the search algorithm.
        directory, project_name: where the records go (``directory/project_name``).
        overwrite: start afresh instead of resuming from an existing project (see the module docstring).
        executor: a ``featherflow.distribute`` executor, a ``concurrent.futures.Executor``, a name
            (``"process"``, ``"ray"``, ``"dask"``) or None (in-process, or a process pool if ``max_workers > 1``).
        max_workers: workers of the process pool made when ``executor`` is None.
        verbose: 0 silent, 1 a line per finished trial (``search(verbose=...)`` sets it too, as in KerasTuner).
    """

    #: Whether ``prepare_search`` discovers the search space by running a model builder; such a tuner compares
    #: the space with a reloaded project's in ``search`` (``check_reloaded_space``), the others at creation.
    discovers_space = False
    #: What ``search``'s positional arguments are called in messages (the Keras tuners: ``("x", "y")``).
    positional_names: tuple = ()

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
        self._user_space = oracle.hyperparameters.copy()  # the space as given, before a reload merges the saved one
        self._initial_space: HyperParameters | None = None  # the space at the start of the search (discovered)
        self._reloaded: dict | None = None
        self._reload()

    # -- persistence --------------------------------------------------------------------------------------------
    def _reload(self) -> None:
        if self.project.exists("oracle.json"):
            state = self.project.read_json("oracle.json")
            self.trials = self.project.load_trials()
            self._check_reloaded_objective(state)
            self.oracle.set_state(state)
            record = self.project.read_json(TUNER_FILE) if self.project.exists(TUNER_FILE) else {}
            self._reloaded = {"space": state.get("hyperparameters") or {}, "record": record}
            if not self.discovers_space:
                self.check_reloaded_space(self._user_space)
            finished = sum(t.finished for t in self.trials.values())
            if self.verbose and self.trials:
                interrupted = len(self.trials) - finished
                print(f"Reloading {finished} finished trials from {self.project.path}"
                      + (f" ({interrupted} interrupted trial(s) will run again)" if interrupted else "")
                      + ". Pass overwrite=True to start afresh.", file=sys.stdout, flush=True)
        self._save_oracle()

    def _refuse(self, what: str) -> None:
        finished = sum(t.finished for t in self.trials.values())
        raise ValueError(f"The project in {self.project.path} holds {finished} finished trial(s) searched with "
                         f"{what}. Reloading them would answer another question: pass overwrite=True to start "
                         "afresh, or use another directory or project_name.")

    def _check_reloaded_objective(self, state: dict) -> None:
        saved = state.get("objective")
        current = None if self.oracle.objective is None else self.oracle.objective.get_config()
        if self.trials and saved is not None and current is not None and saved != current:
            self._refuse(f"another objective ({saved['name']!r}, {saved['direction']}; this tuner's is "
                         f"{current['name']!r}, {current['direction']})")

    def check_reloaded_space(self, space: HyperParameters) -> None:
        """Raise ``ValueError`` when a reloaded project's trials were searched in a space other than ``space``
        (the space the tuner was given, or for a model builder the one found before the first trial)."""
        if self._reloaded is None or not self.trials:
            return
        initial = self._reloaded["record"].get("initial_space")
        if initial is not None:
            differences = space_differences(HyperParameters.from_config(initial), space, exact=True)
        else:  # a project written before the initial space was recorded: compare what both spaces hold
            differences = space_differences(HyperParameters.from_config(self._reloaded["space"]), space,
                                            exact=not self.discovers_space)
        if differences:
            self._refuse("another search space (" + "; ".join(differences) + ")")

    def _record_search(self, args: tuple, kwargs: dict) -> None:
        """Write ``tuner.json`` (the initial space and a description of the search arguments); warn when the
        arguments differ from those of the reloaded trials."""
        described = describe_arguments(args, {k: v for k, v in kwargs.items() if k != "verbose"},
                                       self.positional_names)
        previous = (self._reloaded or {}).get("record", {}).get("arguments")
        if previous is not None and any(t.finished for t in self.trials.values()):
            changed = argument_differences(previous, described)
            if changed:
                warnings.warn(f"The arguments of this search differ from those of the trials reloaded from "
                              f"{self.project.path} ({'; '.join(changed)}): their results were obtained with the old "
                              "ones. Pass overwrite=True to start afresh.", UserWarning, stacklevel=3)
                described = previous  # the record describes the trials it holds
        space = self._initial_space if self._initial_space is not None else self._user_space
        self.project.write_json(TUNER_FILE, {"initial_space": space.get_config(), "arguments": described})

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
        """``(function, args)`` that the executor runs for ``trial``; the function returns a ``TrialResult``."""
        raise NotImplementedError

    def on_trial_result(self, trial: Trial, result: TrialResult) -> None:
        """Store a successful result: at least ``trial.score``; may save weights."""
        trial.score = result.score
        trial.best_step = result.best_step
        trial.metrics = result.metrics

    def finish_search(self) -> None:
        """Called after the loop ends (also after an error)."""

    # -- the loop -----------------------------------------------------------------------------------------------
    def search(self, *args: Any, **kwargs: Any) -> None:
        """Run trials until the oracle is done (arguments go to ``prepare_search``)."""
        if "verbose" in kwargs:  # KerasTuner: search's verbose also sets the trial lines
            verbose = kwargs["verbose"]
            self.verbose = 1 if verbose == "auto" else int(verbose)
        executor = get_executor(self._executor_argument, self.max_workers)
        owns_executor = executor is not self._executor_argument
        self._search_started = time.time()
        consecutive_failures = 0
        in_flight: dict[cf.Future, Trial] = {}
        try:
            self.prepare_search(executor, args, kwargs)
            self._record_search(args, kwargs)
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
            self._raise_if_all_failed()
        finally:
            for future in in_flight:
                future.cancel()
            if owns_executor:
                executor.shutdown()
            self.finish_search()

    def _raise_if_all_failed(self) -> None:
        trials = [self.trials[i] for i in sorted(self.trials)]
        failed = [t for t in trials if t.status == TrialStatus.FAILED]
        if failed and not any(t.has_score() for t in trials):
            first = failed[0]
            raise RuntimeError(f"All {len(failed)} trial(s) failed: the search has no result. The error of the first "
                               f"failed trial ({first.trial_id}):\n{first.message}")

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
                self.on_trial_result(trial, TrialResult.of(future.result()))
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
