"""Population Based Training (Jaderberg et al., 2017, "Population Based Training of Neural Networks").

A population of ``population_size`` models trains side by side. Every ``perturbation_interval`` epochs (or
steps) each member is scored; a member that does badly *exploits* a better one - it copies its weights, its
optimizer's state (slots and step count) and its hyperparameters - and *explores* - it perturbs the copied
mutable hyperparameters by one of ``perturbation_factors`` or resamples them from the search space (see
``featherflow.tuner.pbt.exploit`` and ``featherflow.tuner.pbt.explore``). Instead of one fixed setting the search finds a *schedule*: the learning rate
that suits the start of training need not suit its end.

Hyperparameters that can change during training without rebuilding the model (learning rate, momentum and
betas, weight decay, dropout rates, batch size: the *mutable* ones, see ``featherflow.tuner.pbt.members``) are
explored and applied in place; the others (layer sizes, activations, the optimizer's kind) stay as each member
was first drawn and change only when a member copies another one wholesale.

Each segment (one member, one interval) is a trial of the tuner machinery: it runs on any executor of
``featherflow.distribute`` (with fewer workers than members, members take turns), configurations and checkpoints
travel as plain data, every record is written atomically to the project directory, a segment that raises is
run again from the same checkpoint (``max_retries_per_trial``), and a killed run resumes with
``overwrite=False``. In ``synchronous=True`` mode the whole run is a function of ``seed``, whatever the number
of workers.

Each segment builds its member's model afresh in the worker (``build_model(hp)``), restores the checkpoint and
calls ``model.fit`` for the interval (a ``HyperModel``'s ``fit`` is not used); the cost is one model build per
segment. The search space is what ``build_model`` registers on default values (plus ``hyperparameters``):
parameters registered only under non-default values of a conditional parent keep their defaults.

Instead of ``build_model`` a ``train_function(values, state, start, stop, seed, *args, **kwargs) -> (state,
metrics)`` may train anything whose state is a list of NumPy arrays (``state`` is None at the first segment).

>>> import tempfile
>>> import numpy as np
>>> from featherflow.tuner import HyperParameters
>>> def descend(values, state, start, stop, seed):
...     w = np.array([5.0]) if state is None else state[0]
...     for _ in range(start, stop):
...         w = w - values["lr"] * 2 * w          # gradient descent on w ** 2
...     return [w], {"loss": float(w[0] ** 2)}
>>> hp = HyperParameters(); _ = hp.Float("lr", 0.01, 0.45, sampling="log")
>>> pbt = PopulationBasedTraining(hyperparameters=hp, train_function=descend, population_size=4,
...                               objective="loss", perturbation_interval=5, synchronous=True, seed=1,
...                               directory=tempfile.mkdtemp(), verbose=0)
>>> pbt.search(steps=20)
>>> len(pbt.trials), len(pbt.schedule())     # 4 members x 4 segments; the best member's 4 segments
(16, 4)
>>> pbt.replay(pbt.schedule()).score == pbt.best_score   # its schedule retrained from scratch
True
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from featherflow.distribute import Executor
from featherflow.tuner.base_tuner import BaseTuner, format_value
from featherflow.tuner.hyperparameters import Fixed, HyperParameters
from featherflow.tuner.keras_tuner import _build as build_hypermodel
from featherflow.tuner.keras_tuner import preserved_random_state
from featherflow.tuner.pbt.checkpoints import CheckpointStore
from featherflow.tuner.pbt.members import (
    apply_targets,
    build_member,
    call_train_function,
    resolve_targets,
    run_function_segment,
    run_keras_segment,
    train_keras_segment,
)
from featherflow.tuner.pbt.oracle import PBTOracle
from featherflow.tuner.pbt.records import Segment, SegmentResult, SegmentTask
from featherflow.tuner.trial import Trial, TrialStatus, to_json_value

UNITS = ("epochs", "steps")


class ReplayResult:
    """What ``PopulationBasedTraining.replay`` trained: the ``model`` (Keras) or ``state`` (train_function), the
    ``score`` at the end and the ``metrics`` of every segment (``metrics[name]`` concatenated over segments)."""

    def __init__(self, model: Any, state: list | None, score: float, metrics: dict[str, list[float]]):
        self.model, self.state, self.score, self.metrics = model, state, score, metrics

    def __repr__(self) -> str:
        return f"ReplayResult(score={self.score!r})"


class PopulationBasedTraining(BaseTuner):
    """Population Based Training (see the module docstring).

    Args:
        build_model: ``build_model(hp)`` returning a compiled Keras model, or a ``HyperModel`` (or pass
            ``train_function``). A module-level function, so that process, Ray and Dask workers can load it.
        hyperparameters: the search space (what ``build_model`` registers is added to it).
        population_size: members trained side by side (>= 2).
        objective: metric compared between members after each interval (its last value): a name from
            ``History.history`` or ``Objective(name, direction)``.
        perturbation_interval: epochs (or steps, see ``interval_unit``) between two exploit/explore steps.
        quantile_fraction: truncation: the bottom fraction copies from the top fraction (in ``(0, 0.5]``).
        resample_probability: chance that explore draws a fresh value instead of perturbing.
        perturbation_factors: the factors a perturbation multiplies by.
        exploit: ``"truncation"`` or ``"tournament"``.
        synchronous: generations in lockstep (reproducible for a seed on any number of workers) or each member
            continuing as soon as its segment ends (no waiting; the paper's default).
        seed: seeds the initial values, every decision and every segment's training.
        executor: a ``featherflow.distribute`` executor, a ``concurrent.futures.Executor``, a name or None.
        directory, project_name, overwrite: the project folder (records, and checkpoints unless in memory);
            ``overwrite=False`` resumes an existing one.
        interval_unit: ``"epochs"`` or ``"steps"`` (training batches); default epochs with ``build_model``,
            steps with ``train_function``.
        mutable: which parameters explore changes and how they are applied: None (the defaults of
            ``featherflow.tuner.pbt.members``), a list of names, or ``{name: target}``. With
            ``train_function`` every tunable parameter is mutable unless a list is given.
        tournament_size: members drawn in a tournament (the deciding member included).
        train_function: train any array state instead of a Keras model (see the module docstring).
        checkpoints: ``"directory"`` (default; needed to resume a killed run) or ``"memory"``.
        max_workers: process-pool size when ``executor`` is None.
        max_retries_per_trial: times a segment that raised (or whose worker died) is trained again from its
            checkpoint before the member is marked failed (a failed member copies a better one next).
        max_consecutive_failed_trials: failed segments in a row that stop the run (default: the population).
        verbose: 0 silent, 1 a line per segment.
    """

    def __init__(self, build_model: Callable | None = None, hyperparameters: HyperParameters | None = None,
                 population_size: int = 8, objective: Any = "val_loss", perturbation_interval: int = 1,
                 quantile_fraction: float = 0.25, resample_probability: float = 0.25,
                 perturbation_factors: tuple = (0.8, 1.2), exploit: str = "truncation", synchronous: bool = False,
                 seed: int | None = None, executor: Any = None, directory: str | None = None,
                 project_name: str | None = None, overwrite: bool = False, interval_unit: str | None = None,
                 mutable: Any = None, tournament_size: int = 2, train_function: Callable | None = None,
                 checkpoints: str = "directory", max_workers: int | None = None, max_retries_per_trial: int = 2,
                 max_consecutive_failed_trials: int | None = None, verbose: int = 1):
        if (build_model is None) == (train_function is None):
            raise ValueError("Pass exactly one of build_model (a function hp -> compiled Keras model) and "
                             "train_function. Received: "
                             f"build_model={build_model!r}, train_function={train_function!r}")
        if build_model is not None and not callable(build_model) and not hasattr(build_model, "build"):
            raise TypeError(f"build_model must be a function hp -> compiled model or a HyperModel. Received: "
                            f"build_model={build_model!r}")
        if train_function is not None and not callable(train_function):
            raise TypeError(f"train_function must be callable. Received: train_function={train_function!r}")
        if interval_unit is None:
            interval_unit = "epochs" if build_model is not None else "steps"
        if interval_unit not in UNITS:
            raise ValueError(f"interval_unit must be one of {UNITS}. Received: interval_unit={interval_unit!r}")
        if checkpoints not in ("directory", "memory"):
            raise ValueError(f"checkpoints must be 'directory' or 'memory'. Received: checkpoints={checkpoints!r}")
        self.build_model, self.train_function = build_model, train_function
        self.interval_unit = interval_unit
        self._mutable_argument = mutable
        self.targets: dict[str, Any] = {}
        oracle = PBTOracle(objective, population_size, perturbation_interval, quantile_fraction,
                           resample_probability, perturbation_factors, exploit, tournament_size, synchronous,
                           hyperparameters=hyperparameters, seed=seed, max_retries_per_trial=max_retries_per_trial,
                           max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle, directory=directory, project_name=project_name, overwrite=overwrite,
                         executor=executor, max_workers=max_workers, verbose=verbose)
        self.checkpoints = CheckpointStore(None if checkpoints == "memory" else self.project)
        self._data = None
        self._space_ready = False

    @property
    def discovers_space(self) -> bool:
        return self.build_model is not None

    @property
    def population_size(self) -> int:
        return self.oracle.population_size

    # -- search ---------------------------------------------------------------------------------------------
    def search(self, *args: Any, epochs: int | None = None, steps: int | None = None, verbose: Any = None,
               **kwargs: Any) -> None:
        """Train the population; ``args``/``kwargs`` go to ``model.fit`` (or to ``train_function``).

        Args:
            epochs: training per member with ``interval_unit="epochs"``.
            steps: training per member with ``interval_unit="steps"``.
            verbose: as for the other tuners' ``search``: 0 silent, 1 (or ``"auto"``) a line per segment; None
                keeps the tuner's ``verbose``. The segments' own ``fit`` calls are always silent.
            *args, **kwargs: the data (``x``, ``y``, ``validation_data=...``) and other ``fit`` arguments.
        """
        if verbose is not None:
            self.verbose = 1 if verbose == "auto" else int(verbose)
        total = epochs if self.interval_unit == "epochs" else steps
        other = steps if self.interval_unit == "epochs" else epochs
        if total is None or other is not None or int(total) < 1:
            raise ValueError(f"With interval_unit={self.interval_unit!r}, pass {self.interval_unit}=<training per "
                             f"member, >= 1> (and not the other unit). Received: epochs={epochs}, steps={steps}")
        for reserved in ("initial_epoch", "steps_per_epoch"):
            if reserved in kwargs and self.build_model is not None:
                raise ValueError(f"{reserved!r} is set by PopulationBasedTraining for each segment; do not pass it.")
        self.oracle.total = int(total)
        self._save_oracle()
        super().search(*args, **kwargs)

    def _register_space(self) -> None:
        if self._space_ready:
            return
        if self.build_model is not None:
            # Like KerasTuner: building once with the defaults registers the parameters the builder uses (from
            # the space given, so that a reloaded project searched in another space is refused).
            probe = self._user_space.copy()
            with preserved_random_state():
                build_hypermodel(self.build_model, probe)
            self.check_reloaded_space(probe)
            self._initial_space = probe.copy()
            self.oracle.update_space(probe)
        tunable = [hp.name for hp in self.oracle.hyperparameters.space if not isinstance(hp, Fixed)]
        if self.train_function is not None:
            mutable = self._mutable_argument
            names = tunable if mutable is None else list(mutable)
            unknown = [n for n in names if n not in tunable]
            if unknown:
                raise ValueError(f"Mutable hyperparameter(s) {unknown} are not in the search space {tunable}.")
            self.targets = {name: None for name in names}
        else:
            self.targets = resolve_targets(self._mutable_argument, tunable)
        self.oracle.mutable = list(self.targets)
        self._space_ready = True

    def prepare_search(self, executor: Executor, args: tuple, kwargs: dict) -> None:
        self._register_space()
        self._save_oracle()
        self._data = executor.share((tuple(args), dict(kwargs)))
        missing = [i for i in sorted(CheckpointStore.needed(self.trials, self._sync_population()))
                   if i in self.trials and self.trials[i].status == TrialStatus.COMPLETED and not self.checkpoints.has(i)]
        if missing:
            raise ValueError(f"Cannot resume: the checkpoints of trial(s) {missing} are missing (checkpoints="
                             f"{'memory' if self.checkpoints.in_memory else 'directory'!r}). Checkpoints in memory "
                             "do not survive the process: use checkpoints='directory' to resume, or overwrite=True.")

    def _save_oracle(self) -> None:
        # The oracle's state is its configuration (its position lives in the trial records): write it only when
        # it changed, not at every proposal.
        state = json.dumps(to_json_value(self.oracle.get_state()), sort_keys=True)
        if state != getattr(self, "_saved_oracle_state", None):
            super()._save_oracle()
            self._saved_oracle_state = state

    def _sync_population(self) -> int | None:
        return self.population_size if self.oracle.synchronous else None

    def trial_task(self, trial: Trial) -> tuple[Callable, tuple]:
        record = Segment.of(trial)
        parent = record.parent
        segment = SegmentTask(record.start, record.stop, self.interval_unit, int(trial.seed),
                              None if parent is None else self.trials[parent].score)
        checkpoint = None if parent is None else self.checkpoints.load(parent)
        objective = self.oracle.objective.name
        if self.train_function is not None:
            return run_function_segment, (self.train_function, dict(trial.values), segment, checkpoint, objective,
                                          self._data)
        return run_keras_segment, (self.build_model, self.oracle.hyperparameters.get_config(), dict(trial.values),
                                   self.targets, segment, checkpoint, objective, self._data)

    def on_trial_result(self, trial: Trial, result: SegmentResult) -> None:
        # Decided on the records as saved: this trial still reads RUNNING, so its parent is kept.
        self.checkpoints.collect_garbage(self.trials, self._sync_population())
        trial.score = None if result.score is None else float(result.score)
        trial.best_step = Segment.of(trial).stop
        trial.metrics = result.metrics
        checkpoint = getattr(result, "checkpoint", None)
        if checkpoint is not None:
            self.checkpoints.save(trial.index, checkpoint)

    def finish_search(self) -> None:
        self.checkpoints.collect_garbage(self.trials, self._sync_population())

    # -- progress -------------------------------------------------------------------------------------------
    def _report(self, trial: Trial) -> None:
        if not self.verbose:
            return
        segment = Segment.of(trial)
        best = self.best_member()
        best_text = "-" if best is None else f"{format_value(best[1].score)} (member {best[0]})"
        score = "failed" if trial.status == TrialStatus.FAILED else format_value(trial.score)
        finished = sum(t.finished for t in self.trials.values())
        values = ", ".join(f"{k}={format_value(v)}" for k, v in trial.values.items())
        line = (f"Member {segment.member} segment {segment.generation} "
                f"[{finished}/{self.oracle.total_trials() or '?'}] {self.interval_unit} {segment.start}-{segment.stop} "
                f"in {trial.duration or 0:.1f}s - {self.oracle.objective.name}: {score} - best: {best_text} - "
                f"{values}")
        if segment.donor is not None:
            changes = ", ".join(f"{k} {format_value(c['from'])}->{format_value(c['to'])} ({c['how']})"
                                for k, c in segment.changes.items())
            line += f" - copied member {segment.donor}" + (f", explored {changes}" if changes else "")
        if trial.status == TrialStatus.FAILED and trial.message:
            line += f"\n  error: {trial.message.rstrip().splitlines()[-1]}"
        print(line, file=sys.stdout, flush=True)

    # -- results --------------------------------------------------------------------------------------------
    def final_trials(self) -> dict[int, Trial]:
        """Each member's latest completed segment (its current checkpoint and score)."""
        latest: dict[int, Trial] = {}
        for index in sorted(self.trials):
            trial = self.trials[index]
            if trial.status == TrialStatus.COMPLETED:
                latest[Segment.of(trial).member] = trial
        return latest

    def ranked_members(self) -> list[tuple[int, Trial]]:
        """``(member, final segment)`` best first: furthest trained first, then by score."""
        latest = self.final_trials()
        return sorted(latest.items(), key=lambda item: (-Segment.of(item[1]).stop,
                                                        self.oracle.objective.sort_key(item[1].score), item[0]))

    def best_member(self) -> tuple[int, Trial] | None:
        """``(member, final segment)`` of the best member, or None before any segment completed."""
        ranked = [item for item in self.ranked_members() if item[1].has_score()]
        return ranked[0] if ranked else None

    def best_trial(self) -> Trial | None:
        best = self.best_member()
        return None if best is None else best[1]

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The current hyperparameters of the best ``num_trials`` members, best first."""
        ranked = [t for _, t in self.ranked_members() if t.has_score()]
        return [t.hyperparameters for t in ranked[:num_trials]]

    def get_best_models(self, num_models: int = 1) -> list:
        """The best members' models with their final weights and optimizer state (Keras members only)."""
        if self.build_model is None:
            raise ValueError("get_best_models needs build_model; with train_function use get_best_states().")
        self._register_space()
        models = []
        for _, trial in [item for item in self.ranked_members() if item[1].has_score()][:num_models]:
            checkpoint = self.checkpoints.load(trial.index)
            model = build_member(self.build_model, self.oracle.hyperparameters.get_config(), trial.values,
                                 int(trial.seed))
            apply_targets(model, trial.values, self.targets)
            model.set_weights(checkpoint["weights"])
            model.optimizer.set_state(checkpoint["optimizer"])
            models.append(model)
        return models

    def get_best_states(self, num_members: int = 1) -> list[list[np.ndarray]]:
        """The final states of the best ``train_function`` members, best first."""
        ranked = [t for _, t in self.ranked_members() if t.has_score()][:num_members]
        return [self.checkpoints.load(t.index)["state"] for t in ranked]

    def member_history(self, member: int) -> list[dict]:
        """Every segment trained in member slot ``member``, in order: ``generation``, ``start``, ``stop``,
        ``values``, ``score``, ``status``, ``donor`` (the member copied at its start, or None), ``changes``."""
        history = []
        for _, trial in sorted(self.trials.items()):
            segment = Segment.of(trial)
            if segment.member == member:
                history.append({"generation": segment.generation, "start": segment.start, "stop": segment.stop,
                                "values": dict(trial.values), "score": trial.score, "status": trial.status,
                                "donor": segment.donor, "changes": segment.changes, "trial": trial.index})
        return history

    def schedule(self, member: int | None = None) -> list[dict]:
        """The hyperparameter schedule behind member ``member``'s current weights (default: the best member).

        Follows the copies back to a freshly built model: one entry per segment with ``start``, ``stop``,
        ``values``, ``seed``, ``member`` (whose slot trained it), ``donor`` (set where the weights were copied
        from that member and explored: ``changes``), ``score`` and ``trial``. Plain JSON-ready data that
        ``replay`` trains again.
        """
        if member is None:
            best = self.best_member()
            if best is None:
                raise ValueError("No member has completed a segment yet.")
            member = best[0]
        latest = self.final_trials()
        if member not in latest:
            raise ValueError(f"Member {member} has no completed segment. Members: {sorted(latest)}")
        chain, trial = [], latest[member]
        while True:
            segment = Segment.of(trial)
            chain.append((trial, segment))
            if segment.parent is None:
                break
            trial = self.trials[segment.parent]
        return [{"start": s.start, "stop": s.stop, "values": dict(t.values), "seed": int(t.seed), "member": s.member,
                 "donor": s.donor, "changes": s.changes, "score": t.score, "trial": t.index}
                for t, s in reversed(chain)]

    @property
    def schedules(self) -> dict[int, list[dict]]:
        """``schedule(member)`` of every member with a completed segment."""
        return {member: self.schedule(member) for member in sorted(self.final_trials())}

    def replay(self, schedule: list[dict] | int, *args: Any, seed: int | None = None, **kwargs: Any
               ) -> ReplayResult:
        """Train one model from scratch through ``schedule`` (from ``schedule(member)``, or a member id).

        The model is built once and trained straight through; at each entry's ``start`` its mutable values are
        applied in place. With ``seed=None`` each segment reuses its recorded seed, which reproduces the member's
        weights exactly; another seed retrains the same schedule from a different initialisation.

        Args:
            schedule: the entries to follow, in order (only ``start``, ``stop``, ``values`` and ``seed`` are read).
            *args, **kwargs: the data and ``fit`` arguments (or ``train_function`` arguments), as for ``search``.
            seed: None for the recorded seeds, or a seed for new ones.
        """
        if isinstance(schedule, (int, np.integer)):
            schedule = self.schedule(int(schedule))
        schedule = [entry for entry in schedule if int(entry["start"]) < int(entry["stop"])]
        if not schedule:
            raise ValueError("replay needs a non-empty schedule (a list of entries from pbt.schedule(member)).")
        self._register_space()
        fixed = [name for name in self.oracle.hyperparameters if name not in self.targets]
        for entry in schedule[1:]:
            changed = [n for n in fixed if entry["values"].get(n) != schedule[0]["values"].get(n)]
            if changed:
                raise ValueError(f"The schedule changes non-mutable hyperparameter(s) {changed} at step "
                                 f"{entry['start']}: a model cannot be trained through it without a rebuild.")
        seeds = [int(e["seed"]) for e in schedule] if seed is None else [
            int(s) for s in np.random.default_rng(int(seed)).integers(0, 2**31 - 1, size=len(schedule))]
        objective = self.oracle.objective.name
        data = (tuple(args), dict(kwargs))
        metrics: dict[str, list[float]] = {}
        model, state = None, None
        for entry, segment_seed in zip(schedule, seeds):
            segment = SegmentTask(int(entry["start"]), int(entry["stop"]), self.interval_unit, segment_seed)
            if self.train_function is not None:
                state, new_metrics = call_train_function(self.train_function, entry["values"], state, segment,
                                                         objective, data)
            else:
                if model is None:
                    model = build_member(self.build_model, self.oracle.hyperparameters.get_config(),
                                         entry["values"], segment_seed)
                new_metrics = train_keras_segment(model, entry["values"], self.targets, segment, None, data)
            for name, values in new_metrics.items():
                metrics.setdefault(name, []).extend(values)
        score = metrics[objective][-1] if metrics.get(objective) else float("nan")
        return ReplayResult(model, state, float(score), metrics)

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the members, best first, with their final values and how often they copied another member."""
        print("Results summary")
        print(f"Results in {self.project.path}")
        print(f"Population Based Training: {self.population_size} members, {self.oracle.objective}")
        for rank, (member, trial) in enumerate(self.ranked_members()[:num_trials]):
            copies = sum(1 for e in self.member_history(member) if e["donor"] is not None)
            values = ", ".join(f"{k}={format_value(v)}" for k, v in trial.values.items())
            print(f"{rank + 1}. member {member}: {self.oracle.objective.name}={format_value(trial.score)} after "
                  f"{Segment.of(trial).stop} {self.interval_unit}, {copies} cop{'y' if copies == 1 else 'ies'} - {values}")
        failed = [t for t in self.trials.values() if t.status == TrialStatus.FAILED]
        if failed:
            print(f"{len(failed)} failed segment(s): {', '.join(t.trial_id for t in failed)}")
