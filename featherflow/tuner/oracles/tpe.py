"""Tree-structured Parzen Estimator (Bergstra et al., 2011), multivariate form.

The finished trials are split into the best ``gamma(n) = min(ceil(0.1 n), 25)`` ("good") and the rest. Each group
gets a Parzen density over the unit cube: a mixture with one product kernel per trial - a Gaussian truncated to
``[0, 1]`` for numeric dimensions (bandwidth ``0.2 n^(-1/(d+4))``, Scott's rule, at least ``1/min(100, n+1)``),
a smoothed categorical for unordered choices - plus a flat prior component. ``n_candidates`` points are drawn
from the good density and the one with the largest ``log l(x) - log g(x)`` is proposed.

>>> from featherflow.tuner import HyperParameters
>>> from featherflow.tuner.trial import Trial
>>> hp = HyperParameters(); _ = hp.Float("x", -2.0, 2.0)
>>> oracle = TPEOracle("loss", max_trials=40, hyperparameters=hp, seed=0)
>>> trials = {}
>>> while (p := oracle.propose(trials)) != "DONE":
...     trials[p.index] = t = Trial(p.index, hp.with_values(p.values), status="COMPLETED")
...     t.score = (p.values["x"] - 0.7) ** 2
>>> abs(oracle.get_best_trials(trials)[0].values["x"] - 0.7) < 0.1
True
"""

from __future__ import annotations

import math

import numpy as np

from featherflow.tuner.hyperparameters import Boolean, Choice
from featherflow.tuner.oracles.gp import normal_cdf
from featherflow.tuner.oracles.model_based import ModelBasedOracle

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class _Parzen:
    """A mixture of per-observation product kernels plus a flat prior, on ``[0, 1]^d``."""

    def __init__(self, X: np.ndarray, categorical: np.ndarray, n_categories: np.ndarray, prior_weight: float = 1.0):
        n, d = X.shape
        self.X, self.categorical, self.n_categories = X, categorical, n_categories
        self.weights = np.full(n + 1, 1.0 / (n + prior_weight))
        self.weights[-1] = prior_weight / (n + prior_weight)
        bandwidth = 0.2 * max(n, 1) ** (-1.0 / (d + 4))
        self.sigma = max(bandwidth, 1.0 / min(100, n + 1))
        # Probability mass a categorical kernel keeps on its own category.
        self.keep = np.where(n_categories > 1, 1.0 - 1.0 / (n + 1), 1.0)

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        n, d = self.X.shape
        components = rng.choice(n + 1, size=count, p=self.weights)
        out = rng.random((count, d))  # the prior component: uniform
        for row, component in enumerate(components):
            if component == n:
                continue
            centre = self.X[component]
            for j in range(d):
                if self.categorical[j]:
                    if rng.random() < self.keep[j]:
                        out[row, j] = centre[j]
                    else:
                        k = self.n_categories[j]
                        out[row, j] = (rng.integers(0, k) + 0.5) / k
                else:
                    # Truncated normal by inversion of the CDF restricted to [0, 1].
                    lo = normal_cdf((0.0 - centre[j]) / self.sigma)
                    hi = normal_cdf((1.0 - centre[j]) / self.sigma)
                    u = lo + rng.random() * max(hi - lo, 1e-12)
                    out[row, j] = np.clip(centre[j] + self.sigma * _normal_ppf(u), 0.0, 1.0)
        return out

    def log_pdf(self, points: np.ndarray) -> np.ndarray:
        n, d = self.X.shape
        log_kernels = np.zeros((len(points), n))
        for j in range(d):
            if self.categorical[j]:
                k = self.n_categories[j]
                cell = lambda v, k=k: np.minimum(np.floor(v * k), k - 1)  # noqa: E731
                same = cell(points[:, j])[:, None] == cell(self.X[:, j])[None, :]
                p_other = (1.0 - self.keep[j]) / k
                # x k: a probability per cell of width 1/k becomes a density on [0, 1].
                log_kernels += np.log(np.where(same, self.keep[j] + p_other, p_other) * k)
            else:
                z = (points[:, j][:, None] - self.X[:, j][None, :]) / self.sigma
                mass = normal_cdf((1.0 - self.X[:, j]) / self.sigma) - normal_cdf(-self.X[:, j] / self.sigma)
                log_kernels += -0.5 * z * z - _LOG_SQRT_2PI - math.log(self.sigma) - np.log(np.maximum(mass, 1e-12))
        # The prior is the uniform density 1 on the cube (log 0); categorical kernels above are scaled by k to
        # be densities on the same footing.
        log_terms = np.concatenate([log_kernels + np.log(self.weights[:n]), np.full((len(points), 1),
                                                                                    math.log(self.weights[n]))], 1)
        top = log_terms.max(1, keepdims=True)
        return (top + np.log(np.exp(log_terms - top).sum(1, keepdims=True)))[:, 0]


def _normal_ppf(u: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9)."""
    u = min(max(u, 1e-12), 1 - 1e-12)
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    e = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if u < 0.02425:
        q = math.sqrt(-2 * math.log(u))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1)
    if u > 1 - 0.02425:
        return -_normal_ppf(1 - u)
    q = u - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
        ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


class TPEOracle(ModelBasedOracle):
    """Multivariate TPE (Optuna's default sampler family).

    Args:
        num_initial_points: random trials first (default 10, like Optuna's ``n_startup_trials``).
        n_candidates: draws from the good density per proposal (Optuna's ``n_ei_candidates``, 24).
        batch_size: trials proposed from one split (see ``ModelBasedOracle``).
    """

    def __init__(self, objective=None, max_trials=10, num_initial_points=None, n_candidates: int = 24,
                 batch_size: int = 1, hyperparameters=None, seed=None, **kwargs):
        super().__init__(objective, max_trials, num_initial_points, batch_size, hyperparameters, seed=seed, **kwargs)
        self.n_candidates = int(n_candidates)

    def default_initial_points(self, dimensions: int) -> int:
        return 10

    def suggest(self, index, X, y, X_pending):
        dims = self.dimensions()
        categorical = np.array([isinstance(hp, (Choice, Boolean)) and not getattr(hp, "ordered", False)
                                for hp in dims])
        n_categories = np.array([len(hp.values) if isinstance(hp, Choice) else 1 for hp in dims])
        order = np.argsort(y, kind="stable")
        n_good = min(int(math.ceil(0.1 * len(y))), 25)
        n_good = max(n_good, 1)
        good = _Parzen(X[order[:n_good]], categorical, n_categories)
        bad = _Parzen(X[order[n_good:]] if len(order) > n_good else X[order[-1:]], categorical, n_categories)
        rng = self.rng(index, stream=3)
        candidates = good.sample(rng, self.n_candidates)
        scores = good.log_pdf(candidates) - bad.log_pdf(candidates)
        return [candidates[i] for i in np.argsort(-scores)]

    def get_state(self) -> dict:
        state = super().get_state()
        state["n_candidates"] = self.n_candidates
        return state
