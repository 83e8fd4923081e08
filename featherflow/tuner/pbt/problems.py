"""A cheap training problem whose best learning rate moves during training, for PBT's tests and benchmark.

``NoisyQuadratic``: stochastic gradient descent on an ill-conditioned quadratic with noisy gradients (the "noisy
quadratic model" used to study learning-rate schedules). With curvatures ``h`` (``dim`` values log-spaced from
``min_curvature`` to ``max_curvature``), weights ``w`` and noise ``eps ~ N(0, I)``::

    loss(w)   = 0.5 * sum(h * w**2)
    gradient  = h * w + noise * sqrt(h) * eps
    w        <- w - lr * gradient

Early in training the distance to the optimum dominates and a large learning rate is best (up to the stability
limit ``2 / max_curvature``); later the gradient noise dominates, the loss settles at a floor proportional to
``lr``, and a small learning rate is best. The best *fixed* rate is a compromise between the two, and a
schedule that moves the rate down as training proceeds is far better - which is what PBT discovers.

A segment's ``n`` steps are computed in closed form (the recursion is linear): with ``a = 1 - lr * h``,
``w_n = a**n * w_0 - lr * noise * sqrt(h) * sum_t a**(n - 1 - t) * eps_t``, all vectorised in NumPy.

>>> problem = NoisyQuadratic(dim=50)
>>> state, metrics = problem.train({"learning_rate": 0.1}, None, 0, 100, seed=0)
>>> metrics["loss"] < problem.loss(problem.initial_weights())
True
"""

from __future__ import annotations

import numpy as np

from featherflow.tuner.hyperparameters import HyperParameters


class NoisyQuadratic:
    """SGD on a noisy quadratic (see the module docstring); picklable, so it runs on any executor.

    Args:
        dim: number of weights (more weights average the noise: scores vary less between runs).
        min_curvature, max_curvature: range of the curvatures ``h``.
        noise: standard deviation of the gradient noise (per unit curvature).
        initial_value: every weight's starting value.
        steps: training steps of ``run`` (the fixed-rate baseline used with ``FunctionTuner``).
    """

    def __init__(self, dim: int = 200, min_curvature: float = 0.01, max_curvature: float = 1.0,
                 noise: float = 1.0, initial_value: float = 10.0, steps: int = 2000):
        self.dim, self.noise, self.initial_value, self.steps = int(dim), float(noise), float(initial_value), int(steps)
        self.curvatures = np.logspace(np.log10(min_curvature), np.log10(max_curvature), self.dim)

    def search_space(self, min_value: float = 1e-3, max_value: float = 1.0) -> HyperParameters:
        """``learning_rate``, log-uniform in ``[min_value, max_value]``."""
        hp = HyperParameters()
        hp.Float("learning_rate", min_value, max_value, sampling="log")
        return hp

    def initial_weights(self) -> np.ndarray:
        return np.full(self.dim, self.initial_value)

    def loss(self, weights: np.ndarray) -> float:
        """``0.5 * sum(h * w**2)`` (infinite once training has diverged)."""
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(0.5 * np.sum(self.curvatures * np.asarray(weights) ** 2))
        return value if np.isfinite(value) else float("inf")

    def sgd(self, weights: np.ndarray, learning_rate: float, steps: int, rng: np.random.Generator) -> np.ndarray:
        """``steps`` SGD steps from ``weights`` at a fixed rate (closed form, see the module docstring)."""
        if steps <= 0:
            return np.array(weights, dtype=np.float64, copy=True)
        h = self.curvatures
        eps = rng.standard_normal((steps, self.dim))
        with np.errstate(over="ignore", invalid="ignore"):
            factor = 1.0 - learning_rate * h
            powers = factor[None, :] ** np.arange(steps - 1, -1, -1)[:, None]  # a**(n-1-t), t = 0..n-1
            noise_sum = np.einsum("td,td->d", powers, eps)
            return factor**steps * np.asarray(weights, dtype=np.float64) - learning_rate * self.noise * np.sqrt(h) * noise_sum

    def train(self, values: dict, state: list | None, start: int, stop: int, seed: int) -> tuple[list, dict]:
        """A PBT ``train_function``: steps ``start`` to ``stop`` at ``values["learning_rate"]``."""
        weights = self.initial_weights() if state is None else state[0]
        weights = self.sgd(weights, float(values["learning_rate"]), int(stop) - int(start),
                           np.random.default_rng(int(seed)))
        return [weights], {"loss": self.loss(weights)}

    def run(self, values: dict, seed: int | None = None) -> float:
        """A ``FunctionTuner`` function: the loss after ``self.steps`` steps at one fixed learning rate."""
        return self.train(values, None, 0, self.steps, 0 if seed is None else seed)[1]["loss"]

    def expected_loss(self, learning_rates: list[float] | np.ndarray) -> float:
        """The loss expected (over the noise) after one step at each of ``learning_rates`` in turn."""
        h = self.curvatures
        second_moment = self.initial_weights() ** 2
        for lr in learning_rates:
            second_moment = (1.0 - lr * h) ** 2 * second_moment + lr**2 * self.noise**2 * h
        return float(0.5 * np.sum(h * second_moment))
