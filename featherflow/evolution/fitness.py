"""Fitness functions: what a population is selected for. Higher is better.

* ``DatasetFitness(x, y, metric=... | loss=..., batch_size=...)``: accuracy (or another metric) or the
  negative loss of each individual on a data set, or on a random minibatch drawn anew each generation (the
  same minibatch for the whole population, so individuals are compared on equal terms).
* ``GymFitness`` (``featherflow.evolution.gym_fitness``): mean episode return in a gymnasium environment.
* ``CallableFitness(fn)`` / any Python callable ``fn(model) -> float``: the individual's parameters are
  written into a model that is passed to ``fn`` (it may also return ``(score, steps)``; if it takes a
  ``seed`` keyword argument it gets one per evaluation, for reproducible runs).

A fitness runs inside the workers. ``setup(context)`` is called once per worker and returns the worker's
state (environments, a resolved loss); ``evaluate(context, state, params, ...)`` scores a ``(P, n)`` block
of parameter vectors and returns a ``FitnessResult``. ``context.model`` is the worker's own model,
``context.layout`` its ``ParameterLayout`` and ``context.forward`` a ``PopulationForward``.

>>> import numpy as np
>>> from featherflow import keras
>>> from featherflow.evolution.worker import local_context
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(2, activation="softmax")])
>>> fitness = DatasetFitness(np.eye(2, dtype="float32"), np.array([0, 1]), metric="accuracy")
>>> context = local_context(model)
>>> theta = np.array([[5.0, -5.0, -5.0, 5.0, 0.0, 0.0]], np.float32)  # kernel [[5, -5], [-5, 5]]
>>> float(fitness.evaluate(context, fitness.setup(context), theta, np.array([0]), np.array([0]), 0, 1).scores[0])
1.0
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from featherflow.core import pause_all_tapes
from featherflow.evolution.noise import derive_seed
from featherflow.ops import array_kernels as kernels


class FitnessResult(NamedTuple):
    """Scores ``(P,)`` (float64), environment steps or examples ``(P,)`` (int64) and, for RL with observation
    normalisation, per-individual observation sums ``(count (P,), sum (P, d), sum_of_squares (P, d))``."""

    scores: np.ndarray
    steps: np.ndarray
    observation_stats: tuple | None = None


class Fitness:
    """Base class of fitness functions (see the module docstring for the protocol).

    Attributes:
        deterministic: True if the same parameters always get the same score (then re-evaluation is skipped).
    """

    deterministic: bool = False

    def setup(self, context) -> Any:
        """Per-worker state, created once per worker process (default: None)."""
        return None

    def evaluate(self, context, state, params: np.ndarray, positions: np.ndarray, seed_keys: np.ndarray,
                 task_seed: int, episodes: int, observation_filter=None) -> FitnessResult:
        """Score ``params`` ``(P, n)``.

        Args:
            context: the worker's model, layout and forward pass.
            state: what ``setup`` returned.
            params: one parameter vector per row.
            positions: each row's place in the population (fixes batching, not results).
            seed_keys: each row's key for random episodes (rows with equal keys get equal episodes).
            task_seed: the seed of this evaluation (differs per generation and phase).
            episodes: episodes (or minibatches, or calls) to average over.
            observation_filter: ``(mean, std)`` to normalise observations with (reinforcement learning).
        """
        raise NotImplementedError

    def check_model(self, context) -> None:
        """Raise a clear error early (in the caller's process) if the model cannot work with this fitness."""


def _accepts_seed(fn: Callable) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


class CallableFitness(Fitness):
    """Any ``fn(model) -> float`` (or ``-> (score, steps)``) as a fitness.

    Args:
        fn: called with the worker's model holding the individual's parameters. Must be picklable
            (a module-level function) for process, Ray and Dask executors. If it has a ``seed`` parameter it
            is called as ``fn(model, seed=...)`` with a seed that depends only on the run's seed, the
            generation and the individual.
        deterministic: whether ``fn`` always gives the same score for the same parameters.

    >>> import numpy as np
    >>> fitness = CallableFitness(lambda model: -float(np.sum(model.get_weights()[0] ** 2)))
    >>> fitness.deterministic
    False
    """

    def __init__(self, fn: Callable, deterministic: bool = False):
        if not callable(fn):
            raise TypeError(f"A fitness must be callable (fn(model) -> float). Received: {fn!r}")
        self.fn = fn
        self.deterministic = bool(deterministic)
        self._with_seed = _accepts_seed(fn)

    def evaluate(self, context, state, params, positions, seed_keys, task_seed, episodes,
                 observation_filter=None) -> FitnessResult:
        scores = np.zeros(len(params))
        steps = np.zeros(len(params), dtype=np.int64)
        for row in range(len(params)):
            context.layout.set(params[row])
            total = 0.0
            for episode in range(episodes):
                if self._with_seed:
                    value = self.fn(context.model, seed=derive_seed(task_seed, int(seed_keys[row]), episode))
                else:
                    value = self.fn(context.model)
                if isinstance(value, tuple):
                    value, used = value
                    steps[row] += int(used)
                total += float(value)
            scores[row] = total / episodes
        return FitnessResult(scores, steps)

    def __repr__(self) -> str:
        return f"CallableFitness({getattr(self.fn, '__name__', self.fn)!r})"


_LOWER_IS_BETTER = ("error", "mse", "mae", "mape", "msle", "crossentropy", "hinge", "logcosh", "poisson",
                    "divergence", "loss")
_FAST_LOSSES = {"sparse_categorical_crossentropy", "categorical_crossentropy", "mse", "mean_squared_error",
                "binary_crossentropy"}
_EPSILON = 1e-7


def _accuracy(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Keras's "accuracy" for every individual: ``out`` ``(P, B, k)`` against ``y`` -> ``(P,)``."""
    k = out.shape[-1]
    if k == 1:
        return ((out[..., 0] > 0.5) == (y.reshape(-1) > 0.5)).mean(axis=1)
    labels = y.reshape(-1) if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1) else y.argmax(axis=-1)
    return (out.argmax(axis=-1) == labels.astype(np.int64)).mean(axis=1)


def _fast_loss(name: str, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Keras's losses (``from_logits=False``) for every individual -> ``(P,)``, in float64 (the cross-entropies
    are the kernels of ``featherflow.ops.array_kernels``)."""
    out = out.astype(np.float64)
    if name == "sparse_categorical_crossentropy":
        labels = np.broadcast_to(y.reshape(1, -1).astype(np.int64), out.shape[:2])
        return kernels.sparse_xent_from_probabilities(out, labels, _EPSILON).mean(axis=1)
    if name == "categorical_crossentropy":
        return kernels.categorical_xent_from_probabilities(out, y[None], _EPSILON).mean(axis=1)
    if name == "binary_crossentropy":
        p = np.clip(out, _EPSILON, 1 - _EPSILON)
        t = y.reshape(out.shape[1:])[None]
        return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(axis=-1).mean(axis=1)
    diff = out - y.reshape(out.shape[1:])[None]
    return (diff * diff).mean(axis=-1).mean(axis=1)


class DatasetFitness(Fitness):
    """Accuracy (or any metric) or negative loss of each individual on a data set.

    Args:
        x: inputs ``(N, ...)`` as the model takes them.
        y: targets ``(N,)`` integer labels, ``(N, k)`` one-hot or regression targets.
        metric: a metric to maximise: ``"accuracy"`` (Keras's rules: sparse, categorical or binary by the
            shapes), another ``keras.metrics`` name or object, or ``fn(y_true, y_pred)``. Default
            ``"accuracy"`` when no ``loss`` is given.
        loss: a loss to minimise instead (the fitness is ``-loss``): a ``keras.losses`` name, object or function.
        batch_size: evaluate on a random minibatch of this size, drawn anew for each generation (the same for
            the whole population) and, for re-evaluation, one more minibatch per extra episode. ``None`` uses
            the whole data set (then the fitness is deterministic).

    Shapes: outputs ``(P, B, k)`` are compared with ``y``; ``steps`` counts the examples evaluated.
    """

    aligned_batches = True  # chunks start at multiples of forward.GROUP (see PopulationForward.shared)

    def __init__(self, x, y, metric=None, loss=None, batch_size: int | None = None):
        if metric is not None and loss is not None:
            raise ValueError(f"Pass either `metric` or `loss` to DatasetFitness, not both. Received: "
                             f"metric={metric!r}, loss={loss!r}")
        self.x = np.asarray(x)
        self.y = np.asarray(y)
        if len(self.x) != len(self.y) or len(self.x) == 0:
            raise ValueError(f"x and y must have the same, non-zero number of examples. Received: "
                             f"x.shape={self.x.shape}, y.shape={self.y.shape}")
        if metric is None and loss is None:
            metric = "accuracy"
        if isinstance(metric, str) and any(word in metric.lower() for word in _LOWER_IS_BETTER):
            raise ValueError(f"DatasetFitness maximises `metric`; {metric!r} is lower-is-better. Pass it as "
                             f"loss={metric!r} instead.")
        self.metric, self.loss = metric, loss
        if batch_size is not None and (int(batch_size) < 1):
            raise ValueError(f"batch_size must be a positive integer or None. Received: batch_size={batch_size}")
        self.batch_size = None if batch_size is None or int(batch_size) >= len(self.x) else int(batch_size)
        self.deterministic = self.batch_size is None

    def setup(self, context):
        from featherflow.keras import losses, metrics

        if self.loss is not None:
            if isinstance(self.loss, str) and self.loss in _FAST_LOSSES:
                return ("fast_loss", self.loss)
            return ("loss", losses.get(self.loss))
        if isinstance(self.metric, str) and self.metric in ("accuracy", "acc"):
            return ("accuracy", None)
        return ("metric", metrics.get(self.metric) if isinstance(self.metric, str) else self.metric)

    def _batch(self, task_seed: int, episode: int):
        if self.batch_size is None:
            return self.x, self.y
        rng = np.random.default_rng(derive_seed(task_seed, episode))
        rows = np.sort(rng.choice(len(self.x), size=self.batch_size, replace=False))
        return self.x[rows], self.y[rows]

    def evaluate(self, context, state, params, positions, seed_keys, task_seed, episodes,
                 observation_filter=None) -> FitnessResult:
        kind, scorer = state
        episodes = 1 if self.batch_size is None else int(episodes)
        scores = np.zeros(len(params))
        for episode in range(episodes):
            x, y = self._batch(task_seed, episode)
            out = context.forward.shared(params, np.asarray(positions), x.astype(context.layout.dtype, copy=False))
            if kind == "accuracy":
                scores += _accuracy(y, out)
            elif kind == "fast_loss":
                scores -= _fast_loss(scorer, y, out)
            else:
                scores += [self._score_one(kind, scorer, y, out[p]) for p in range(len(params))]
        steps = np.full(len(params), episodes * (len(self.x) if self.batch_size is None else self.batch_size),
                        dtype=np.int64)
        return FitnessResult(scores / episodes, steps)

    @staticmethod
    def _score_one(kind, scorer, y, out) -> float:
        with pause_all_tapes():
            if kind == "loss":
                value = scorer(y, out)
                return -float(np.mean(value.numpy() if hasattr(value, "numpy") else value))
            if hasattr(scorer, "update_state"):
                scorer.reset_state()
                scorer.update_state(y, out)
                return float(scorer.result().numpy())
            value = scorer(y, out)
            return float(np.mean(value.numpy() if hasattr(value, "numpy") else value))

    def __repr__(self) -> str:
        what = f"loss={self.loss!r}" if self.loss is not None else f"metric={self.metric!r}"
        return f"DatasetFitness(examples={len(self.x)}, {what}, batch_size={self.batch_size})"


def as_fitness(fitness) -> Fitness:
    """A ``Fitness`` for ``fitness`` (a ``Fitness`` or a callable ``fn(model) -> float``)."""
    if isinstance(fitness, Fitness):
        return fitness
    if callable(fitness):
        return CallableFitness(fitness)
    raise TypeError("fitness must be a featherflow.evolution Fitness (DatasetFitness, GymFitness, ...) or a "
                    f"callable fn(model) -> float. Received: fitness={fitness!r}")
