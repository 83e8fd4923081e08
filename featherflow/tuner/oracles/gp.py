"""Gaussian-process regression with a Matern 5/2 ARD kernel, fit by maximising the marginal likelihood.

Kernel (Rasmussen & Williams, 2006, eq. 4.17), with ``r^2 = sum_j (x_j - x'_j)^2 / l_j^2``::

    k(x, x') = s2 * (1 + sqrt(5) r + 5/3 r^2) * exp(-sqrt(5) r)

The hyperparameters ``theta = [log l_1..l_d, log s2, log noise]`` minimise the negative log marginal likelihood
``0.5 y^T K^-1 y + sum(log diag L) + n/2 log(2 pi)`` with ``K = k(X, X) + noise I`` (``L`` its Cholesky factor),
plus weak log-normal priors that keep lengthscales and noise sensible with few points. Gradients are analytic:
``dNLL/dtheta = -0.5 tr((a a^T - K^-1) dK/dtheta)``, ``a = K^-1 y``. SciPy's L-BFGS-B is used when SciPy is
installed, otherwise projected Adam in NumPy.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.random((12, 1)); y = np.sin(6 * X[:, 0])
>>> gp = GaussianProcess().fit(X, y)
>>> mean, std = gp.predict(np.array([[0.5]]))
>>> bool(abs(mean[0] - np.sin(3.0)) < 0.05)
True
"""

from __future__ import annotations

import math

import numpy as np

SQRT5 = math.sqrt(5.0)


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF (SciPy's ``ndtr`` when present; else an erfc series accurate to ~1e-7)."""
    try:
        from scipy.special import ndtr

        return ndtr(z)
    except ImportError:  # pragma: no cover - exercised only without SciPy
        z = np.asarray(z, dtype=float)
        x = np.abs(z) / math.sqrt(2.0)
        t = 1.0 / (1.0 + 0.5 * x)
        # Numerical Recipes' erfc Chebyshev fit, fractional error < 1.2e-7 everywhere.
        poly = (-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
            -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
                -0.82215223 + t * 0.17087277)))))))))
        erfc = t * np.exp(poly)
        return np.where(z >= 0, 1.0 - 0.5 * erfc, 0.5 * erfc)


def normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """EI for minimisation: ``E[max(best - xi - f, 0)] = (best - xi - mu) Phi(z) + sigma phi(z)``."""
    std = np.maximum(std, 1e-12)
    improvement = best - xi - mean
    z = improvement / std
    return improvement * normal_cdf(z) + std * normal_pdf(z)


class GaussianProcess:
    """Zero-mean GP on standardised targets.

    Args:
        min_noise: lower bound of the noise variance (relative to the standardised targets).
        restarts: random restarts of the likelihood optimisation (besides the default and previous fits).
        seed: seeds the restarts.
    """

    def __init__(self, min_noise: float = 1e-6, restarts: int = 1, seed: int = 0):
        self.min_noise = float(min_noise)
        self.restarts = int(restarts)
        self.seed = int(seed)
        self.theta: np.ndarray | None = None

    # -- kernel -------------------------------------------------------------------------------------------------
    @staticmethod
    def _scaled_sq_dist(A: np.ndarray, B: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
        a, b = A / lengthscales, B / lengthscales
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
        return np.maximum(sq, 0.0)

    def kernel(self, A: np.ndarray, B: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        theta = self.theta if theta is None else theta
        d = A.shape[1]
        lengthscales, signal = np.exp(theta[:d]), math.exp(theta[d])
        r = np.sqrt(self._scaled_sq_dist(A, B, lengthscales))
        return signal * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)

    def _bounds(self, d: int) -> np.ndarray:
        low = [math.log(0.01)] * d + [math.log(0.05), math.log(self.min_noise)]
        high = [math.log(20.0)] * d + [math.log(20.0), math.log(1.0)]
        return np.array([low, high])

    def _neg_log_likelihood(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        n, d = X.shape
        lengthscales, signal, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
        diff_sq = (X[:, None, :] - X[None, :, :]) ** 2 / lengthscales**2  # (n, n, d)
        r = np.sqrt(np.maximum(diff_sq.sum(-1), 0.0))
        decay = np.exp(-SQRT5 * r)
        K_signal = signal * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * decay
        K = K_signal + (noise + 1e-10) * np.eye(n)
        try:
            L = np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
        nll = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * math.log(2 * math.pi)
        K_inv = np.linalg.solve(L.T, np.linalg.solve(L, np.eye(n)))
        W = np.outer(alpha, alpha) - K_inv
        grad = np.empty_like(theta)
        common = (5.0 / 3.0) * signal * (1.0 + SQRT5 * r) * decay
        for j in range(d):
            grad[j] = -0.5 * np.sum(W * common * diff_sq[:, :, j])
        grad[d] = -0.5 * np.sum(W * K_signal)
        grad[d + 1] = -0.5 * noise * np.trace(W)
        # Weak priors: log-lengthscale ~ N(log 0.5, 1.5^2), log-noise ~ N(log 1e-3, 3^2).
        prior_ls = theta[:d] - math.log(0.5)
        prior_noise = theta[d + 1] - math.log(1e-3)
        nll += 0.5 * (prior_ls**2).sum() / 1.5**2 + 0.5 * prior_noise**2 / 3.0**2
        grad[:d] += prior_ls / 1.5**2
        grad[d + 1] += prior_noise / 3.0**2
        return float(nll), grad

    def _optimise(self, start: np.ndarray, X: np.ndarray, y: np.ndarray, bounds: np.ndarray) -> tuple[float,
                                                                                                    np.ndarray]:
        try:
            from scipy.optimize import minimize
        except ImportError:
            return self._adam(start, X, y, bounds)
        result = minimize(self._neg_log_likelihood, start, args=(X, y), jac=True, method="L-BFGS-B",
                          bounds=list(zip(bounds[0], bounds[1])), options={"maxiter": 100})
        return float(result.fun), np.asarray(result.x)

    def _adam(self, theta, X, y, bounds, steps: int = 300, lr: float = 0.05):
        m = np.zeros_like(theta)
        v = np.zeros_like(theta)
        best = (math.inf, theta.copy())
        for t in range(1, steps + 1):
            value, grad = self._neg_log_likelihood(theta, X, y)
            if value < best[0]:
                best = (value, theta.copy())
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            theta = np.clip(theta - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8), *bounds)
        return best

    # -- fitting and prediction ---------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """Fit to inputs ``X (n, d)`` in ``[0, 1]^d`` and targets ``y (n,)`` (standardised internally)."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        self.y_mean = float(y.mean())
        self.y_std = float(y.std()) or 1.0
        y_n = (y - self.y_mean) / self.y_std
        d = X.shape[1]
        bounds = self._bounds(d)
        rng = np.random.default_rng(self.seed)
        starts = [np.array([math.log(0.5)] * d + [0.0, math.log(1e-3)])]
        if self.theta is not None and self.theta.shape == starts[0].shape:
            starts.append(self.theta)  # warm start: the previous fit is usually close
        else:
            starts += [rng.uniform(bounds[0], bounds[1]) for _ in range(self.restarts)]
        best = (math.inf, starts[0])
        for start in starts:
            value, theta = self._optimise(np.clip(start, *bounds), X, y_n, bounds)
            if value < best[0]:
                best = (value, theta)
        self.theta = best[1]
        self.X, self.y_n = X, y_n
        K = self.kernel(X, X) + (math.exp(self.theta[d + 1]) + 1e-10) * np.eye(len(X))
        self.L = np.linalg.cholesky(K)
        self.alpha = np.linalg.solve(self.L.T, np.linalg.solve(self.L, y_n))
        return self

    def predict(self, X: np.ndarray, standardized: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation (of the latent function) at ``X (m, d)``."""
        X = np.asarray(X, dtype=float)
        K_star = self.kernel(X, self.X)
        mean = K_star @ self.alpha
        v = np.linalg.solve(self.L, K_star.T)
        signal = math.exp(self.theta[X.shape[1]])
        var = np.maximum(signal - (v * v).sum(0), 1e-12)
        std = np.sqrt(var)
        if standardized:
            return mean, std
        return mean * self.y_std + self.y_mean, std * self.y_std

    def condition_on(self, X_new: np.ndarray, y_new_standardized: np.ndarray) -> GaussianProcess:
        """A copy with extra (fantasised) observations and the same kernel hyperparameters."""
        other = GaussianProcess(self.min_noise, self.restarts, self.seed)
        other.theta, other.y_mean, other.y_std = self.theta, self.y_mean, self.y_std
        other.X = np.vstack([self.X, X_new])
        other.y_n = np.concatenate([self.y_n, y_new_standardized])
        d = other.X.shape[1]
        K = other.kernel(other.X, other.X) + (math.exp(self.theta[d + 1]) + 1e-10) * np.eye(len(other.X))
        other.L = np.linalg.cholesky(K + 1e-8 * np.eye(len(other.X)))
        other.alpha = np.linalg.solve(other.L.T, np.linalg.solve(other.L, other.y_n))
        return other
