"""The Keras tuner: each trial builds a model from its hyperparameters, fits it, and scores it by the objective.

A trial crosses to its worker as plain data - the builder (a picklable function or ``HyperModel``), the
hyperparameters' config, a seed, the fit arguments and, for Hyperband's continued trials, the parent's weights as
NumPy arrays - and comes back as plain data: the score, the per-epoch metrics and the weights of the best epoch
(saved in the project as ``trial_XXXX/weights.npz``, which ``get_best_models`` loads). Training data is sent to
the workers once per search (``Executor.share``).

The search space is discovered in the calling process: the builder runs once on default values (and once per
value of every parent of a ``conditional_scope``) before the search, and once for each new trial, so that
parameters registered only for some values of others (``for i in range(hp.Int("layers", 1, 3)):
hp.Int(f"units_{i}", ...)``) get drawn by the oracle too.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from featherflow.tuner.base_tuner import BaseTuner
from featherflow.tuner.hyperparameters import HyperParameters
from featherflow.tuner.objective import Objective
from featherflow.tuner.oracles.base import Oracle, Proposal
from featherflow.tuner.trial import Trial, TrialResult


class HyperModel:
    """KerasTuner's ``HyperModel``: override ``build(hp)`` (returns a compiled model) and optionally
    ``fit(hp, model, *args, **kwargs)`` (returns a ``History`` or a dict of metric lists)."""

    def __init__(self, name: str | None = None, tunable: bool = True):
        self.name, self.tunable = name, tunable

    def build(self, hp: HyperParameters):
        raise NotImplementedError

    def fit(self, hp: HyperParameters, model, *args, **kwargs):
        return model.fit(*args, **kwargs)

    def __call__(self, hp: HyperParameters):
        return self.build(hp)


def _build(hypermodel: Any, hp: HyperParameters):
    build = hypermodel.build if callable(getattr(hypermodel, "build", None)) else hypermodel
    model = build(hp)
    if model is None:
        raise ValueError("The model builder returned None: it must return a compiled model.")
    return model


@contextlib.contextmanager
def preserved_random_state():
    """Building models in the calling process must not shift its global random stream."""
    from featherflow.backend import random as ff_random

    saved = {key: copy.deepcopy(value) for key, value in ff_random._state.items()}
    try:
        yield
    finally:
        ff_random._state.update(saved)


_TRACKER_CLASS: list = []


def _best_epoch_tracker(objective: Objective):
    """A Keras callback keeping the objective's best value, its epoch and the weights at that epoch."""
    if not _TRACKER_CLASS:
        from featherflow.keras.callbacks import Callback

        class BestEpoch(Callback):
            def __init__(self, objective):
                super().__init__()
                self.objective, self.best, self.best_epoch, self.best_weights = objective, None, None, None
                self.seen: set = set()

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                self.seen.update(logs)
                value = logs.get(self.objective.name)
                if value is not None and self.objective.better(float(value), self.best):
                    self.best, self.best_epoch = float(value), int(epoch)
                    self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]

        _TRACKER_CLASS.append(BestEpoch)
    return _TRACKER_CLASS[0](objective)


@dataclasses.dataclass
class KerasTrialTask:
    """What a worker needs to run one trial of the Keras ``Tuner``.

    Attributes:
        hypermodel: ``build_model(hp)`` or a ``HyperModel``.
        hyperparameters: the trial's ``HyperParameters`` config.
        objective: the ``Objective`` config.
        seed: the trial's seed (execution ``e`` trains with ``seed + e``).
        fit_kwargs: ``fit`` arguments (Hyperband's ``epochs``/``initial_epoch`` included).
        executions_per_trial: models trained and averaged.
        initial_weights: weights to start from (Hyperband's continued trials), or None.
    """

    hypermodel: Any
    hyperparameters: dict
    objective: dict
    seed: int
    fit_kwargs: dict
    executions_per_trial: int
    initial_weights: list | None = None


@dataclasses.dataclass
class KerasTrialResult(TrialResult):
    """A ``TrialResult`` with the best execution's weights (``weights``) and every execution's score."""

    weights: list | None = None
    execution_scores: list | None = None


def run_keras_trial(task: KerasTrialTask, x: Any, y: Any, validation_data: Any) -> KerasTrialResult:
    """Worker side of ``Tuner``: build, fit and score one trial (``executions_per_trial`` times).

    The score is the mean over executions of each execution's best epoch value of the objective; ``best_step``,
    ``metrics`` and ``weights`` are the best execution's.
    """
    from featherflow.backend import random as ff_random

    hp = HyperParameters.from_config(task.hyperparameters)
    objective = Objective(**task.objective)
    hypermodel = task.hypermodel
    fit_kwargs = dict(task.fit_kwargs)
    callbacks = fit_kwargs.pop("callbacks", None) or []
    if validation_data is not None:
        fit_kwargs["validation_data"] = validation_data
    fit_kwargs.setdefault("verbose", 0)
    executions = []
    for execution in range(task.executions_per_trial):
        ff_random.set_seed(int(task.seed) + execution)
        model = _build(hypermodel, hp)
        if task.initial_weights is not None:
            model.set_weights(task.initial_weights)
        tracker = _best_epoch_tracker(objective)
        all_callbacks = [*copy.deepcopy(list(callbacks)), tracker]
        if callable(getattr(hypermodel, "fit", None)):
            history = hypermodel.fit(hp, model, x, y, callbacks=all_callbacks, **fit_kwargs)
        else:
            history = model.fit(x, y, callbacks=all_callbacks, **fit_kwargs)
        metrics = history if isinstance(history, dict) else getattr(history, "history", {})
        metrics = {name: [float(v) for v in values] for name, values in metrics.items()}
        if tracker.best is None:
            available = sorted(tracker.seen | set(metrics))
            raise ValueError(f"The objective {objective.name!r} is not among the metrics the model reports: "
                             f"{available}. Compile the model with that metric (and pass validation data for "
                             "'val_' metrics) or choose another objective.")
        executions.append((tracker.best, tracker.best_epoch, metrics, tracker.best_weights))
    best = sorted(executions, key=lambda e: objective.sort_key(e[0]))[0]
    return KerasTrialResult(float(np.mean([e[0] for e in executions])), best[2], best[1], weights=best[3],
                            execution_scores=[e[0] for e in executions])


class Tuner(BaseTuner):
    """Base of the Keras tuners (``RandomSearch``, ``GridSearch``, ``BayesianOptimization``, ``Hyperband``).

    Args:
        oracle: the search algorithm.
        hypermodel: ``build_model(hp) -> compiled model`` or a ``HyperModel``; must be picklable (defined at
            module level) for process, Ray and Dask executors.
        executions_per_trial: models trained per trial; the score is their mean.
        **kwargs: ``BaseTuner`` arguments (directory, project_name, overwrite, executor, max_workers, verbose).
    """

    def __init__(self, oracle: Oracle, hypermodel: Callable | HyperModel, executions_per_trial: int = 1,
                 **kwargs: Any):
        if not callable(hypermodel) and not hasattr(hypermodel, "build"):
            raise TypeError(f"hypermodel must be a function hp -> model or a HyperModel. Received: {hypermodel!r}")
        if int(executions_per_trial) < 1:
            raise ValueError(f"executions_per_trial must be >= 1. Received: {executions_per_trial}")
        if oracle.objective is None:
            raise ValueError("The tuner needs an objective, e.g. objective='val_accuracy'.")
        self.hypermodel = hypermodel
        self.executions_per_trial = int(executions_per_trial)
        kwargs.setdefault("project_name", "untitled_project")
        super().__init__(oracle, **kwargs)

    discovers_space = True
    positional_names = ("x", "y")

    # -- search space -------------------------------------------------------------------------------------------
    def _build_here(self, hp: HyperParameters):
        with preserved_random_state():
            return _build(self.hypermodel, hp)

    def _populate_space(self) -> None:
        """Run the builder on defaults and on each value of every conditional parent (at most 30 builds).

        The builds start from the space the tuner was given (not one merged from a reloaded project, whose
        definitions would hide the builder's), so a reloaded project searched in another space is refused."""
        probe = copy.copy(self.oracle)  # the oracle's rules (allow_new_entries) on a space of its own
        probe.hyperparameters = self._user_space.copy()
        space = probe.hyperparameters
        queue: list[dict] = [{}]
        tried: set = set()
        builds = 0
        while queue and builds < 30:
            values = queue.pop(0)
            key = repr(sorted(values.items()))
            if key in tried:
                continue
            tried.add(key)
            hp = space.with_values(values)
            try:
                self._build_here(hp)
            except Exception:
                if builds == 0:
                    raise  # the builder fails on its defaults: nothing can be searched
                continue  # some parent values cannot be built; their trials will fail and be recorded
            finally:
                builds += 1
            probe.update_space(hp)
            space = probe.hyperparameters
            parents = {c["name"]: c["values"] for p in space.space for c in p.conditions}
            for name, condition_values in parents.items():
                for value in condition_values:
                    if hp.values.get(name) != value:
                        queue.append({**hp.active_values(), name: value})
        self.check_reloaded_space(space)
        self._initial_space = space.copy()
        self.oracle.update_space(space)

    def create_trial(self, proposal: Proposal) -> Trial:
        hp = self.oracle.hyperparameters.with_values(proposal.values)
        if "parent_index" not in proposal.info:
            hp.sampler = self.oracle.sampler(proposal.index)
            hp._read = set()
            try:
                self._build_here(hp)
            except Exception:  # noqa: BLE001 - the worker raises it again and the trial is recorded as failed
                hp._read = None
            hp.sampler = None
            self.oracle.update_space(hp)
            if hp._read is not None:
                # Values the builder never asked for (units_2 of a trial with 1 layer) did not shape the model:
                # they are not part of the trial (not recorded, not printed).
                for name in [n for n in hp.values if n not in hp._read]:
                    del hp.values[name]
            hp._read = None
        for name in ("epochs", "initial_epoch", "bracket", "round"):
            if name in proposal.info:
                hp.Fixed(f"tuner/{name}", proposal.info[name])
        if "parent_trial_id" in proposal.info:
            hp.Fixed("tuner/trial_id", proposal.info["parent_trial_id"])
        return Trial(proposal.index, hp, info=proposal.info, seed=self.oracle.trial_seed(proposal.index))

    # -- running ------------------------------------------------------------------------------------------------
    def prepare_search(self, executor, args, kwargs) -> None:
        kwargs = dict(kwargs)
        x = args[0] if len(args) > 0 else kwargs.pop("x", None)
        y = args[1] if len(args) > 1 else kwargs.pop("y", None)
        if len(args) > 2:
            raise TypeError("search(x, y, **fit_kwargs): pass the other fit arguments by keyword.")
        validation_data = kwargs.pop("validation_data", None)
        name = self.oracle.objective.name
        if name.startswith("val_") and validation_data is None and not kwargs.get("validation_split"):
            raise ValueError(f"The objective {name!r} needs validation data: pass validation_data=(x_val, y_val) "
                             "or validation_split= to search().")
        self._populate_space()
        self._save_oracle()
        self._shared = (executor.share(x), executor.share(y), executor.share(validation_data))
        self._fit_kwargs = kwargs

    def trial_task(self, trial: Trial):
        fit_kwargs = dict(self._fit_kwargs)
        initial_weights = None
        if "epochs" in trial.info:  # Hyperband decides the epochs
            fit_kwargs["epochs"] = trial.info["epochs"]
            fit_kwargs["initial_epoch"] = trial.info["initial_epoch"]
            if "parent_trial_id" in trial.info:
                initial_weights = self.project.load_weights(trial.info["parent_trial_id"])
                if initial_weights is None:  # the parent failed: train from scratch for the whole budget
                    fit_kwargs["initial_epoch"] = 0
        task = KerasTrialTask(self.hypermodel, trial.hyperparameters.get_config(), self.oracle.objective.get_config(),
                              trial.seed, fit_kwargs, self.executions_per_trial, initial_weights)
        return run_keras_trial, (task, *self._shared)

    def on_trial_result(self, trial: Trial, result: TrialResult) -> None:
        super().on_trial_result(trial, result)
        trial.info["execution_scores"] = getattr(result, "execution_scores", None)
        weights = getattr(result, "weights", None)
        if weights is not None:
            self.project.save_weights(trial.trial_id, weights)

    # -- results ------------------------------------------------------------------------------------------------
    def load_model(self, trial: Trial):
        """The trial's model, built from its hyperparameters, with the weights of its best epoch."""
        model = self._build_here(trial.hyperparameters.copy())
        weights = self.project.load_weights(trial.trial_id)
        if weights is None:
            raise ValueError(f"Trial {trial.trial_id} has no saved weights (status {trial.status}).")
        model.set_weights(weights)
        return model

    def get_best_models(self, num_models: int = 1) -> list:
        """The best ``num_models`` models, best first, with their best epoch's weights."""
        return [self.load_model(t) for t in self.oracle.get_best_trials(self.trials, num_models)]
