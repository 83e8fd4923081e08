"""Tune any Python function of the hyperparameters (no model involved): ``FunctionTuner``.

The function receives the trial's values as a plain dict (and, if it accepts it, ``seed=``) and returns the
score, or a dict of metrics that includes the objective. It runs on the tuner's executor, so it must be
picklable (a module-level function) for process pools and clusters.

>>> from featherflow.tuner import HyperParameters, RandomSearchOracle
>>> hp = HyperParameters(); _ = hp.Float("x", -1.0, 1.0)
>>> def parabola(values):
...     return values["x"] ** 2
>>> import tempfile
>>> tuner = FunctionTuner(RandomSearchOracle("loss", max_trials=5, hyperparameters=hp, seed=1), parabola,
...                       directory=tempfile.mkdtemp(), verbose=0)
>>> tuner.search()
>>> len(tuner.trials), tuner.best_score <= min(t.score for t in tuner.trials.values())
(5, True)
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

from featherflow.tuner.base_tuner import BaseTuner
from featherflow.tuner.oracles.base import Oracle
from featherflow.tuner.trial import Trial, TrialResult


def run_function_trial(function: Callable, values: dict, seed: int, objective: str) -> TrialResult:
    """Worker side of ``FunctionTuner``: call the function, return its score and metrics."""
    try:
        accepts_seed = "seed" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        accepts_seed = False
    result = function(values, seed=seed) if accepts_seed else function(values)
    if isinstance(result, numbers.Real):
        return TrialResult(float(result), {objective: [float(result)]})
    if isinstance(result, dict) and objective in result:
        metrics = {k: [float(v)] for k, v in result.items() if isinstance(v, numbers.Real)}
        return TrialResult(float(result[objective]), metrics)
    raise ValueError(f"The tuned function must return a number or a dict with the objective {objective!r}. "
                     f"Received: {result!r}")


class FunctionTuner(BaseTuner):
    """Search the oracle's space for the best value of ``function(values)``.

    Args:
        oracle: any oracle (its ``hyperparameters`` must hold the space: the function cannot register it).
        function: ``function(values: dict[, seed=int]) -> float | dict``.
        **kwargs: ``BaseTuner`` arguments (directory, project_name, overwrite, executor, max_workers, verbose).
    """

    def __init__(self, oracle: Oracle, function: Callable, **kwargs: Any):
        if not callable(function):
            raise TypeError(f"function must be callable. Received: function={function!r}")
        if oracle.objective is None:
            raise ValueError("FunctionTuner needs an oracle with an objective, e.g. objective='loss'.")
        self.function = function
        super().__init__(oracle, **kwargs)

    def trial_task(self, trial: Trial):
        return run_function_trial, (self.function, dict(trial.values), trial.seed, self.oracle.objective.name)
