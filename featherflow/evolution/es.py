"""``EvolutionStrategy``: the natural evolution strategy of Salimans et al. (2017).

Per generation, with centre ``theta``, ``m = population_size / 2`` noise vectors ``eps_i`` (slices of a shared
seeded ``NoiseTable``, so workers get integer offsets) and mirrored (antithetic) pairs::

    F_i+ = F(theta + sigma * eps_i),   F_i- = F(theta - sigma * eps_i)      (a pair plays the same episodes)
    s = fitness_shaping(F)              centred ranks in [-0.5, 0.5] by default
    g = 1 / (2 m sigma) * sum_i (s_i+ - s_i-) * eps_i                         (estimate of grad E[F])
    theta <- optimizer step on the loss gradient  -g + weight_decay * theta    (Adam by default)

A NaN fitness value is the worst score: the lowest rank (or, unranked, the lowest finite score), counted by a
``RuntimeWarning`` each generation; a centre scored NaN is never the one ``best_model()`` returns.

The centre itself is scored every generation on ``reevaluation_episodes`` episodes (the "elite" column);
``best_model()`` returns the last scored centre (or, with ``keep_best``, the best-scoring one). With
``observation_normalization=True`` (reinforcement learning) observations are standardised with running
statistics gathered from all rollouts; the statistics are folded into the returned model's first layer.

>>> import numpy as np
>>> from featherflow import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
>>> def closeness(m):  # best when the weight is 0.5
...     return -abs(float(m.get_weights()[0][0, 0]) - 0.5)
>>> es = EvolutionStrategy(model, closeness, population_size=20, sigma=0.05, learning_rate=0.05,
...                        weight_decay=0.0, reevaluation_episodes=1, seed=0)
>>> history = es.run(generations=60, verbose=0)
>>> abs(float(es.best_model().get_weights()[0][0, 0]) - 0.5) < 0.05
True
"""

from __future__ import annotations

import numpy as np

from featherflow.core.variable import Variable
from featherflow.evolution.base import EvolutionaryAlgorithm, _check_positive_int, mean_score
from featherflow.evolution.noise import NoiseTable, derive_seed
from featherflow.evolution.requests import EvaluationRequest

SHAPINGS = ("centered_rank", "normalized", "none")


def centered_ranks(values) -> np.ndarray:
    """Ranks of ``values`` scaled to ``[-0.5, 0.5]`` (ties broken by position), float64.

    >>> centered_ranks([3.0, -1.0, 10.0]).tolist()
    [0.0, -0.5, 0.5]
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size < 2:
        return np.zeros_like(values)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[np.argsort(values, kind="stable")] = np.arange(values.size)
    return ranks / (values.size - 1) - 0.5


def shape_fitness(scores, method: str) -> np.ndarray:
    """Fitness shaping: ``"centered_rank"``, ``"normalized"`` (zero mean, unit variance) or ``"none"``.

    NaN is the worst score: the lowest rank, or (``"normalized"``, ``"none"``) the lowest finite score; infinite
    scores are clipped to the finite range.

    >>> shape_fitness([1.0, float("nan"), 3.0], "centered_rank").tolist()
    [0.0, -0.5, 0.5]
    >>> shape_fitness([float("nan"), 1.0, float("nan"), 3.0], "centered_rank").round(3).tolist()
    [-0.333, 0.167, -0.333, 0.5]
    >>> shape_fitness([1.0, float("nan"), 3.0], "none").tolist()
    [1.0, 1.0, 3.0]
    """
    scores = np.asarray(scores, dtype=np.float64)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    if method != "centered_rank" and not np.isfinite(scores).all():
        finite = scores[np.isfinite(scores)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
        scores = np.clip(scores, low, high)
    if method == "centered_rank":
        shaped = centered_ranks(scores)
        worst = scores == -np.inf
        if worst.sum() > 1:  # NaN individuals tie for the lowest ranks: a pair of them pulls in no direction
            shaped[worst] = shaped[worst].mean()
        return shaped
    if method == "normalized":
        std = scores.std()
        return (scores - scores.mean()) / (std if std > 0 else 1.0)
    return scores


class ObservationStatistics:
    """Running mean and standard deviation of observations, from summed counts, sums and squares.

    ``std`` is ``sqrt(max(var, min_variance))``; before two observations it is the identity filter.
    """

    def __init__(self, size: int, min_variance: float = 1e-2):
        self.count = 0
        self.sum = np.zeros(size)
        self.sum_of_squares = np.zeros(size)
        self.min_variance = float(min_variance)

    def update(self, count, total, total_of_squares) -> None:
        self.count += int(np.sum(count))
        self.sum += np.sum(total, axis=0)
        self.sum_of_squares += np.sum(total_of_squares, axis=0)

    def filter(self, dtype=np.float32) -> tuple:
        """``(mean, std)`` to normalise with: ``(obs - mean) / std``."""
        if self.count < 2:
            return np.zeros(self.sum.size, dtype=dtype), np.ones(self.sum.size, dtype=dtype)
        mean = self.sum / self.count
        variance = np.maximum(self.sum_of_squares / self.count - mean * mean, self.min_variance)
        return mean.astype(dtype), np.sqrt(variance).astype(dtype)


def _make_optimizer(optimizer, learning_rate: float):
    from featherflow.keras import optimizers

    if isinstance(optimizer, str):
        name = optimizer.lower()
        if name == "adam":
            return optimizers.Adam(learning_rate=learning_rate)
        if name == "sgd":
            return optimizers.SGD(learning_rate=learning_rate)
        return optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
    if isinstance(optimizer, optimizers.Optimizer):
        return optimizer
    raise TypeError(f"optimizer must be 'adam', 'sgd', another Keras optimizer name or a keras Optimizer. "
                    f"Received: optimizer={optimizer!r}")


class EvolutionStrategy(EvolutionaryAlgorithm):
    """OpenAI-style evolution strategy (Salimans et al., 2017).

    Args:
        model: a built featherflow model; its current weights are the initial centre.
        fitness: a ``Fitness`` or a callable ``fn(model) -> float`` (higher is better; NaN counts as the worst
            score, with a warning).
        population_size: perturbations per generation (even: ``population_size / 2`` mirrored pairs).
        sigma: noise standard deviation.
        learning_rate: the optimizer's step size.
        optimizer: ``"adam"`` (default), ``"sgd"``, another Keras optimizer name or instance.
        weight_decay: L2 coefficient added to the loss gradient (``-g + weight_decay * theta``).
        fitness_shaping: ``"centered_rank"`` (default), ``"normalized"`` or ``"none"``.
        observation_normalization: standardise observations with running statistics (``GymFitness`` only).
        reevaluation_episodes: episodes to score the centre on each generation.
        noise_table_size: values in the shared noise table (default ``min(max(2**20, 64 n), 2**26)``).
        keep_best: the elite (``best_model()``) is the best-scoring centre so far (True) or the centre scored last
            (False). Default: True for a deterministic fitness, False otherwise, where the best of many noisy
            scores is more often a lucky centre than a good one.
        seed, executor, max_workers, model_builder, vectorize: as for ``GeneticAlgorithm``.
    """

    def __init__(self, model, fitness, population_size: int = 100, sigma: float = 0.02,
                 learning_rate: float = 0.01, optimizer="adam", weight_decay: float = 0.005,
                 fitness_shaping: str = "centered_rank", observation_normalization: bool = False,
                 reevaluation_episodes: int = 5, noise_table_size: int | None = None, seed: int | None = None,
                 executor=None, *, keep_best: bool | None = None, max_workers: int | None = None,
                 model_builder=None, vectorize: bool = True):
        super().__init__(model, fitness, population_size, seed, executor, max_workers, model_builder, vectorize)
        if self.population_size % 2:
            raise ValueError(f"population_size must be even (mirrored pairs). Received: population_size="
                             f"{population_size}")
        self.sigma = float(sigma)
        if not self.sigma > 0:
            raise ValueError(f"`sigma` must be positive. Received: sigma={sigma!r}")
        if fitness_shaping not in SHAPINGS:
            raise ValueError(f"fitness_shaping must be one of {SHAPINGS}. Received: {fitness_shaping!r}")
        self.fitness_shaping = fitness_shaping
        self.weight_decay = float(weight_decay)
        self.learning_rate = float(learning_rate)
        self.reevaluation_episodes = _check_positive_int(reevaluation_episodes, "reevaluation_episodes")
        self.observation_normalization = bool(observation_normalization)
        self.keep_best = self.fitness.deterministic if keep_best is None else bool(keep_best)
        if self.observation_normalization and not hasattr(self.fitness, "run_episodes"):
            raise ValueError("observation_normalization=True needs a reinforcement-learning fitness (GymFitness). "
                             f"Received: fitness={self.fitness!r}")
        n = self.num_parameters
        size = int(noise_table_size) if noise_table_size is not None else min(max(2**20, 64 * n), 2**26)
        if size < n:
            raise ValueError(f"noise_table_size ({size}) must be at least the number of parameters ({n}).")
        self.noise_table_size = size
        self._noise_seed = derive_seed(self.seed, 0x7AB1E)
        self._theta = Variable(self._layout.get(), trainable=True, name="es_theta")
        self.optimizer = _make_optimizer(optimizer, learning_rate)
        self.optimizer.build([self._theta])
        input_shape = model.input_shape if isinstance(getattr(model, "input_shape", None), tuple) else None
        self._obs_size = int(np.prod(input_shape[1:])) if input_shape and None not in input_shape[1:] else 0
        self.observation_statistics = ObservationStatistics(self._obs_size) \
            if self.observation_normalization else None
        self.elite_theta = self.theta
        self.elite_score = float("-inf")
        self.elite_filter = None
        self._make_spec(noise_table=(size, self._noise_seed))

    @property
    def theta(self) -> np.ndarray:
        """The current centre (a copy)."""
        return np.array(self._theta.value, copy=True)

    @property
    def noise(self) -> NoiseTable:
        return NoiseTable.shared(self.noise_table_size, self._noise_seed)

    def elite_parameters(self) -> np.ndarray:
        return np.array(self.elite_theta, copy=True)

    def _filter(self):
        return None if self.observation_statistics is None else self.observation_statistics.filter()

    def _perturbation_request(self, offsets: np.ndarray, observation_filter) -> EvaluationRequest:
        pairs = len(offsets)
        return EvaluationRequest("perturbations", positions=list(range(2 * pairs)),
                                 seed_keys=np.repeat(np.arange(pairs), 2).tolist(), task_seed=self._task_seed(0),
                                 episodes=int(getattr(self.fitness, "episodes", 1)), theta=self.theta,
                                 sigma=self.sigma, offsets=np.repeat(offsets, 2).tolist(), signs=[1, -1] * pairs,
                                 observation_filter=observation_filter)

    def _center_request(self, observation_filter) -> EvaluationRequest:
        episodes = 1 if self.fitness.deterministic else self.reevaluation_episodes
        return EvaluationRequest("perturbations", positions=[0], seed_keys=[0], task_seed=self._task_seed(1),
                                 episodes=episodes, theta=self.theta, sigma=self.sigma, offsets=[0], signs=[0],
                                 observation_filter=observation_filter)

    def gradient(self, offsets, scores) -> np.ndarray:
        """The search-gradient estimate ``g`` (ascent direction) from pair offsets ``(m,)`` and scores ``(2m,)``
        ordered ``[F_1+, F_1-, F_2+, ...]``."""
        shaped = shape_fitness(scores, self.fitness_shaping).reshape(-1, 2)
        weights = shaped[:, 0] - shaped[:, 1]
        n, table = self.num_parameters, self.noise
        g = np.zeros(n, dtype=np.float64)
        for start in range(0, len(offsets), 256):  # bounded memory for large models
            block = np.stack([table.get(o, n) for o in offsets[start:start + 256]])
            g += weights[start:start + 256] @ block.astype(np.float64)
        return g / (len(scores) * self.sigma)

    def estimate_gradient(self) -> np.ndarray:
        """Evaluate one generation's perturbations of the current centre and return ``g`` (no update)."""
        offsets = self.noise.sample_offsets(self._rng, self.num_parameters, self.population_size // 2)
        result = self._evaluate([self._perturbation_request(offsets, self._filter())])[0]
        return self.gradient(offsets, result.scores)

    def _generation(self) -> dict:
        observation_filter = self._filter()
        offsets = self.noise.sample_offsets(self._rng, self.num_parameters, self.population_size // 2)
        perturbed, center = self._evaluate([self._perturbation_request(offsets, observation_filter),
                                            self._center_request(observation_filter)])
        scores = perturbed.scores
        center_score = float(center.scores[0])
        # A NaN centre score (-inf here) never replaces the returned centre, whatever keep_best says.
        if (not self.keep_best and center_score > -np.inf) or center_score > self.elite_score:
            self.elite_score, self.elite_theta, self.elite_filter = center_score, self.theta, observation_filter
        g = self.gradient(offsets, scores)
        theta = self._theta.value
        loss_gradient = (-g + self.weight_decay * theta).astype(theta.dtype)
        self.optimizer.apply_gradients([(loss_gradient, self._theta)])
        if self.observation_statistics is not None and perturbed.observation_stats is not None:
            self.observation_statistics.update(*perturbed.observation_stats)
        return {"best": float(scores.max()), "elite": center_score, "mean": mean_score(scores)}

    # -- the returned model ------------------------------------------------------------------------------
    def _finalize_model(self, model):
        if self.elite_filter is None:
            return model
        mean, std = (np.asarray(a, dtype=np.float64) for a in self.elite_filter)
        return fold_observation_filter(model, mean, std)

    # -- checkpoints -----------------------------------------------------------------------------------
    def _config(self) -> dict:
        return {**super()._config(), "keep_best": self.keep_best, "sigma": self.sigma,
                "learning_rate": self.learning_rate,
                "optimizer": type(self.optimizer).__name__, "weight_decay": self.weight_decay,
                "fitness_shaping": self.fitness_shaping, "observation_normalization": self.observation_normalization,
                "reevaluation_episodes": self.reevaluation_episodes, "noise_table_size": self.noise_table_size}

    def _state(self) -> dict:
        return {"elite_score": self.elite_score, "has_filter": self.elite_filter is not None,
                "observation_count": 0 if self.observation_statistics is None else self.observation_statistics.count}

    def _arrays(self) -> dict:
        arrays = {"theta": self.theta, "elite_theta": self.elite_theta}
        for index, value in enumerate(self.optimizer.get_state()):
            arrays[f"optimizer_{index}"] = value
        if self.observation_statistics is not None:
            arrays["obs_sum"] = self.observation_statistics.sum
            arrays["obs_sum_of_squares"] = self.observation_statistics.sum_of_squares
        if self.elite_filter is not None:
            arrays["elite_filter_mean"], arrays["elite_filter_std"] = self.elite_filter
        return arrays

    def _load_state(self, state: dict, arrays: dict) -> None:
        self._theta.assign(arrays["theta"])
        self.elite_theta = np.array(arrays["elite_theta"], copy=True)
        self.elite_score = float(state["elite_score"])
        count = len([key for key in arrays if key.startswith("optimizer_")])
        self.optimizer.set_state([arrays[f"optimizer_{i}"] for i in range(count)])
        if self.observation_statistics is not None:
            self.observation_statistics.count = int(state["observation_count"])
            self.observation_statistics.sum = np.array(arrays["obs_sum"], copy=True)
            self.observation_statistics.sum_of_squares = np.array(arrays["obs_sum_of_squares"], copy=True)
        self.elite_filter = (arrays["elite_filter_mean"], arrays["elite_filter_std"]) if state["has_filter"] else None


def fold_observation_filter(model, mean: np.ndarray, std: np.ndarray):
    """A model computing ``model((x - mean) / std)``.

    When the first layer is a ``Dense`` layer with a bias, the filter is folded into it (``W' = W / std``,
    ``b' = b - (mean / std) @ W``) and ``model`` itself is returned; otherwise a ``Normalization`` layer is
    put in front of it in a new functional model.
    """
    from featherflow import keras

    layers = [layer for layer in model.layers if type(layer).__name__ not in ("InputLayer",)]
    first = layers[0] if layers else None
    if isinstance(first, keras.layers.Dense) and first.bias is not None and \
            first.kernel.shape[0] == mean.size:
        kernel = np.asarray(first.kernel.numpy(), dtype=np.float64)
        bias = np.asarray(first.bias.numpy(), dtype=np.float64)
        first.kernel.assign((kernel / std[:, None]).astype(first.kernel.dtype))
        first.bias.assign((bias - (mean / std) @ kernel).astype(first.bias.dtype))
        return model
    inputs = keras.Input(shape=model.input_shape[1:])
    normalized = keras.layers.Normalization(mean=mean, variance=std * std)(inputs)
    return keras.Model(inputs, model(normalized))
