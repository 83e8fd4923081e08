"""Shared machinery of the model-based ("zooming") oracles: unit-cube encoding, start-up trials and batches.

Trials ``0 .. num_initial_points - 1`` are random. After them, trials are proposed in batches of ``batch_size``:
every trial of a batch is conditioned on the finished trials *before* the batch, and not on its batch mates'
results, so the sequence of trials is the same whatever the number of workers (a batch waits for the previous one
to finish). ``batch_size=1`` is fully sequential Bayesian optimisation; set it to the number of workers to keep
them busy. Within a batch, the points already proposed are passed to the model as pending (the GP fantasises
their outcome, "kriging believer").
"""

from __future__ import annotations

import numpy as np

from featherflow.tuner.hyperparameters import HyperParameter
from featherflow.tuner.oracles.base import DONE, WAIT, Oracle, values_key
from featherflow.tuner.trial import Trial


class ModelBasedOracle(Oracle):
    """Base of ``BayesianOptimizationOracle`` (GP) and ``TPEOracle``.

    Args:
        num_initial_points: random trials before the model is used (default: see ``default_initial_points``).
        batch_size: trials proposed from one model state (see the module docstring).
    """

    def __init__(self, objective=None, max_trials=10, num_initial_points: int | None = None, batch_size: int = 1,
                 hyperparameters=None, seed=None, **kwargs):
        super().__init__(objective, max_trials, hyperparameters, seed=seed, **kwargs)
        if num_initial_points is not None and int(num_initial_points) < 1:
            raise ValueError(f"num_initial_points must be >= 1. Received: num_initial_points={num_initial_points}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
        self.num_initial_points = None if num_initial_points is None else int(num_initial_points)
        self.batch_size = int(batch_size)

    # -- encoding -----------------------------------------------------------------------------------------------
    def dimensions(self) -> list[HyperParameter]:
        """The tunable parameters, in registration order (the columns of the encoding)."""
        return [hp for hp in self.hyperparameters.space if self.tunable(hp)]

    def encode(self, values: dict) -> np.ndarray:
        """Values -> a point of ``[0, 1]^d``; inactive or missing parameters sit at their default's position."""
        return np.array([hp.value_to_prob(values.get(hp.name, hp.default)) for hp in self.dimensions()], float)

    def decode(self, x: np.ndarray) -> dict:
        """A point of ``[0, 1]^d`` -> values of the active parameters."""
        column = {hp.name: j for j, hp in enumerate(self.dimensions())}
        return self.fill({}, lambda hp: hp.prob_to_value(float(x[column[hp.name]])))

    def default_initial_points(self, dimensions: int) -> int:
        return max(2, 3 * dimensions)

    def initial_points(self) -> int:
        if self.num_initial_points is not None:
            return self.num_initial_points
        return self.default_initial_points(len(self.dimensions()))

    # -- proposals ----------------------------------------------------------------------------------------------
    def _random(self, index: int, seen: set) -> dict | str:
        rng = self.rng(index)
        for _ in range(101):
            values = self.fill({}, lambda hp: hp.random_sample(rng))
            if values_key(values) not in seen:
                return values
        return DONE

    def propose_values(self, index: int, trials: dict[int, Trial]) -> dict | str:
        seen = {values_key(t.values) for t in trials.values()}
        start = self.initial_points()
        if index < start or not self.dimensions():
            return self._random(index, seen)
        batch_start = start + ((index - start) // self.batch_size) * self.batch_size
        if not self.finished_before(trials, batch_start):
            return WAIT
        observed = [t for t in self.scored(trials) if t.index < batch_start]
        if len(observed) < 2:
            return self._random(index, seen)
        X = np.stack([self.encode(t.values) for t in observed])
        sign = -1.0 if self.objective.direction == "max" else 1.0
        y = sign * np.array([float(t.score) for t in observed])
        pending = [trials[i] for i in range(batch_start, index) if i in trials]
        X_pending = np.stack([self.encode(t.values) for t in pending]) if pending else np.zeros((0, X.shape[1]))
        for x in self.suggest(index, X, y, X_pending):
            values = self.decode(x)
            if values_key(values) not in seen:
                return values
        return self._random(index, seen)

    def suggest(self, index: int, X: np.ndarray, y: np.ndarray, X_pending: np.ndarray) -> list[np.ndarray]:
        """Candidate points, best first, to *minimise* ``y`` observed at ``X`` (pending points not yet scored)."""
        raise NotImplementedError

    def get_state(self) -> dict:
        state = super().get_state()
        state.update(num_initial_points=self.num_initial_points, batch_size=self.batch_size)
        return state
