"""The four Keras tuners, KerasTuner's signatures: ``RandomSearch``, ``GridSearch``, ``BayesianOptimization``,
``Hyperband``. Each is a ``Tuner`` with its oracle; keyword arguments not listed go to ``Tuner`` / ``BaseTuner``
(``executions_per_trial``, ``directory``, ``project_name``, ``overwrite``, ``executor``, ``max_workers``,
``verbose``).
"""

from __future__ import annotations

from typing import Any

from featherflow.tuner.keras_tuner import Tuner
from featherflow.tuner.oracles import (
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    RandomSearchOracle,
    TPEOracle,
)

_ORACLE_ARGS = ("hyperparameters", "tune_new_entries", "allow_new_entries", "max_retries_per_trial",
                "max_consecutive_failed_trials")


def _split(kwargs: dict) -> tuple[dict, dict]:
    oracle_kwargs = {k: kwargs.pop(k) for k in _ORACLE_ARGS if k in kwargs}
    return oracle_kwargs, kwargs


class RandomSearch(Tuner):
    """Random search over the space of ``hypermodel`` (see ``RandomSearchOracle``).

    >>> # tuner = RandomSearch(build_model, objective="val_accuracy", max_trials=10, seed=1)
    >>> # tuner.search(x, y, epochs=5, validation_data=(x_val, y_val))
    """

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int = 10, seed: int | None = None,
                 **kwargs: Any):
        oracle_kwargs, kwargs = _split(kwargs)
        super().__init__(RandomSearchOracle(objective, max_trials, seed=seed, **oracle_kwargs), hypermodel, **kwargs)


class GridSearch(Tuner):
    """Every combination of the space's grid values, in a stable order (see ``GridSearchOracle``)."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int | None = None,
                 seed: int | None = None, **kwargs: Any):
        oracle_kwargs, kwargs = _split(kwargs)
        super().__init__(GridSearchOracle(objective, max_trials, seed=seed, **oracle_kwargs), hypermodel, **kwargs)


class BayesianOptimization(Tuner):
    """Model-based ("zooming") search.

    Args:
        method: ``"gp"`` (default: Gaussian process, Matern 5/2, expected improvement) or ``"tpe"`` (tree-structured
            Parzen estimator). The GP is the default by measurement (``benchmarks/search_quality.py``, 10 seeds):
            median regret on Branin at 30 trials 0.0086 (our TPE 0.32, Optuna's TPE 1.03, random 1.28) and on
            Hartmann-6 at 60 trials 0.0046 (our TPE 0.57, Optuna's TPE 0.52, random 1.87). TPE proposes in
            microseconds where the GP takes a fraction of a second: prefer it for very cheap trials or very long
            searches (hundreds of trials), where the GP's cubic cost grows.
        num_initial_points, alpha, beta, acquisition: see ``BayesianOptimizationOracle`` / ``TPEOracle``.
        batch_size: trials proposed from one model state. The default 1 is sequential after the random start-up
            trials (the same trials whatever the number of workers); set it to the number of workers to keep a
            process pool or cluster busy.
    """

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int = 10,
                 num_initial_points: int | None = None, alpha: float = 1e-4, beta: float = 2.6,
                 seed: int | None = None, method: str = "gp", acquisition: str = "ei", batch_size: int = 1,
                 **kwargs: Any):
        oracle_kwargs, kwargs = _split(kwargs)
        if method == "gp":
            oracle = BayesianOptimizationOracle(objective, max_trials, num_initial_points, alpha=alpha, beta=beta,
                                                acquisition=acquisition, batch_size=batch_size, seed=seed,
                                                **oracle_kwargs)
        elif method == "tpe":
            oracle = TPEOracle(objective, max_trials, num_initial_points, batch_size=batch_size, seed=seed,
                               **oracle_kwargs)
        else:
            raise ValueError(f"method must be 'gp' or 'tpe'. Received: method={method!r}")
        super().__init__(oracle, hypermodel, **kwargs)


class Hyperband(Tuner):
    """Successive halving over epochs (see ``HyperbandOracle``); ``search``'s ``epochs`` is set per trial."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_epochs: int = 100, factor: int = 3,
                 hyperband_iterations: int = 1, seed: int | None = None, max_trials: int | None = None,
                 **kwargs: Any):
        oracle_kwargs, kwargs = _split(kwargs)
        oracle = HyperbandOracle(objective, max_epochs, factor, hyperband_iterations, seed=seed,
                                 max_trials=max_trials, **oracle_kwargs)
        super().__init__(oracle, hypermodel, **kwargs)
