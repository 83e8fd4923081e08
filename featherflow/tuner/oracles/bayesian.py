"""Bayesian optimisation with a Gaussian process (Matern 5/2, marginal-likelihood fit) and expected improvement.

After the random start-up trials, each proposal fits a GP to the scores seen so far (in the unit cube of the
search space, see ``ModelBasedOracle``) and tries the point that maximises the acquisition: expected improvement
(default, Jones et al. 1998) or the lower confidence bound ``mu - beta sigma`` (KerasTuner's "UCB", beta 2.6).
The acquisition is maximised by scoring a few thousand random and near-incumbent points, then zooming in around
the best of them with shrinking Gaussian steps.

>>> from featherflow.tuner import HyperParameters
>>> from featherflow.tuner.trial import Trial
>>> hp = HyperParameters(); _ = hp.Float("x", -2.0, 2.0)
>>> oracle = BayesianOptimizationOracle("loss", max_trials=12, num_initial_points=4, hyperparameters=hp, seed=0)
>>> trials = {}
>>> while (p := oracle.propose(trials)) != "DONE":
...     trials[p.index] = t = Trial(p.index, hp.with_values(p.values), status="COMPLETED")
...     t.score = (p.values["x"] - 0.7) ** 2
>>> round(oracle.get_best_trials(trials)[0].values["x"], 2)
0.7
"""

from __future__ import annotations

import numpy as np

from featherflow.tuner.oracles.gp import GaussianProcess, expected_improvement
from featherflow.tuner.oracles.model_based import ModelBasedOracle


class BayesianOptimizationOracle(ModelBasedOracle):
    """GP-based Bayesian optimisation (the default of ``BayesianOptimization``; see ``benchmarks/search_quality``).

    Args:
        num_initial_points: random trials first (default ``max(3, dimensions + 2)``).
        alpha: minimum noise variance of the GP on standardised scores (KerasTuner's ``alpha``).
        beta: exploration weight of the confidence-bound acquisition.
        acquisition: ``"ei"`` (expected improvement) or ``"ucb"`` (``mu - beta sigma`` when minimising).
        xi: EI's improvement margin in standard deviations of the scores; 0.01 keeps EI from re-proposing the
            incumbent's neighbourhood when the model is overconfident (measured: with 0 two of ten Branin runs
            stalled at a boundary point, see ``benchmarks/search_quality.py``).
        batch_size: trials proposed from one GP fit (see ``ModelBasedOracle``).
    """

    def __init__(self, objective=None, max_trials=10, num_initial_points=None, alpha: float = 1e-4,
                 beta: float = 2.6, acquisition: str = "ei", xi: float = 0.01, batch_size: int = 1, hyperparameters=None, seed=None,
                 **kwargs):
        super().__init__(objective, max_trials, num_initial_points, batch_size, hyperparameters, seed=seed, **kwargs)
        if acquisition not in ("ei", "ucb"):
            raise ValueError(f"acquisition must be 'ei' or 'ucb'. Received: acquisition={acquisition!r}")
        self.alpha, self.beta, self.acquisition, self.xi = float(alpha), float(beta), acquisition, float(xi)
        self._gp: GaussianProcess | None = None

    def default_initial_points(self, dimensions: int) -> int:
        return max(3, dimensions + 2)

    def _score(self, gp: GaussianProcess, candidates: np.ndarray, best: float) -> np.ndarray:
        mean, std = gp.predict(candidates, standardized=True)
        if self.acquisition == "ei":
            return expected_improvement(mean, std, best, xi=self.xi)
        return -(mean - self.beta * std)

    def suggest(self, index, X, y, X_pending):
        gp = GaussianProcess(min_noise=self.alpha, seed=self.seed + index)
        if self._gp is not None and self._gp.theta is not None and len(self._gp.theta) == X.shape[1] + 2:
            gp.theta = self._gp.theta  # warm start from the previous fit
        gp.fit(X, y)
        self._gp = gp
        if len(X_pending):
            believed, _ = gp.predict(X_pending, standardized=True)
            gp = gp.condition_on(X_pending, believed)
        best = float(gp.y_n.min())
        rng = self.rng(index, stream=2)
        d = X.shape[1]
        incumbents = gp.X[np.argsort(gp.y_n)[: min(5, len(gp.y_n))]]
        local = np.clip(incumbents[rng.integers(0, len(incumbents), 1000)] + rng.normal(0, 0.05, (1000, d)), 0, 1)
        candidates = np.vstack([rng.random((2000, d)), local])
        scores = self._score(gp, candidates, best)
        for scale in (0.05, 0.015, 0.005):
            top = candidates[np.argsort(-scores)[:10]]
            steps = np.clip(np.repeat(top, 50, axis=0) + rng.normal(0, scale, (500, d)), 0, 1)
            candidates = np.vstack([top, steps])
            scores = np.concatenate([scores[np.argsort(-scores)[:10]], self._score(gp, steps, best)])
        order = np.argsort(-scores)
        # Points within 1e-3 of an evaluated (or pending) one add almost nothing: EI can keep re-proposing the
        # incumbent's neighbourhood when the model is overconfident there, so such points are skipped.
        known = gp.X
        ranked = [candidates[i] for i in order[:200]
                  if np.abs(known - candidates[i]).max(axis=1).min() > 1e-3]
        return ranked[:50]

    def get_state(self) -> dict:
        state = super().get_state()
        state.update(alpha=self.alpha, beta=self.beta, acquisition=self.acquisition, xi=self.xi)
        return state
