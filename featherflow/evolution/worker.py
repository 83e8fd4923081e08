"""The worker side of neuroevolution: each worker builds the model once, then scores blocks of individuals.

The master shares one ``EvaluationSpec`` per run with the executor (``executor.share``): how to build the
model (a builder function, else its JSON config plus weights, else the pickled model), the fitness, the
mutation power and the noise table's seed. Each task (``evaluate_task``) then carries only integers
(genomes, noise offsets, seeds) and, for evolution strategies, the current centre ``theta``. A worker keeps
its context (model, ``ParameterLayout``, ``PopulationForward``, genome cache, noise table, fitness state)
keyed by the spec's id, so building happens once per worker and run.

>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
>>> context = local_context(model)
>>> context.layout.size, context.forward.vectorized
(3, True)
"""

from __future__ import annotations

import collections
import os
import pickle
import uuid
from typing import Any

import numpy as np

from featherflow.evolution.forward import PopulationForward
from featherflow.evolution.genome import GenomeDecoder
from featherflow.evolution.noise import NoiseTable
from featherflow.evolution.parameters import ParameterLayout
from featherflow.evolution.requests import EvaluationRequest, EvaluationResult


def _dumps(obj: Any) -> bytes:
    try:
        import cloudpickle  # carries lambdas and classes defined in __main__ (present with Ray and Dask)

        return cloudpickle.dumps(obj)
    except ImportError:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _builtin_layers_only(model) -> bool:
    from featherflow.evolution.parameters import _walk_layers

    return all(type(layer).__module__.startswith("featherflow.") for layer in _walk_layers(model))


class ModelSpec:
    """How a worker gets its own copy of the model.

    Args:
        model: the built model (its weights, trainable or not, are copied into every worker's model).
        builder: optional zero-argument picklable function returning a new model of the same architecture.

    Without a builder, a model made only of featherflow's own layers travels as its JSON config
    (``model.to_json()``) plus weights; any other model (custom layers, subclassed models) is pickled, so
    its classes are imported by name in the workers.
    """

    def __init__(self, model, builder=None):
        self.weights = [np.array(w, copy=True) for w in model.get_weights()]
        self.builder = builder
        self.model_bytes = None
        self.json = None
        if builder is not None:
            return
        if getattr(model, "_is_graph_network", False) and _builtin_layers_only(model):
            try:
                self.json = model.to_json()
                self._from_json()  # fails here, in the caller's process, rather than in every worker
                return
            except Exception:  # noqa: BLE001 - fall back to pickling the model
                self.json = None
        try:
            self.model_bytes = _dumps(model)
            pickle.loads(self.model_bytes)
        except Exception as error:  # noqa: BLE001 - reported with the fix below
            raise ValueError("The model can be neither rebuilt from its config nor pickled, so workers cannot get "
                             "a copy. Pass model_builder=<a module-level function returning the model>.") from error

    def _from_json(self):
        from featherflow.keras.saving import model_from_json

        model = model_from_json(self.json)
        model.set_weights(self.weights)
        return model

    def build(self):
        """A new model with the master model's architecture and weights."""
        if self.builder is not None:
            model = self.builder()
            model.set_weights(self.weights)
            return model
        if self.json is not None:
            return self._from_json()
        return pickle.loads(self.model_bytes)


class EvaluationSpec:
    """Everything a worker needs once per run (shared with ``executor.share``)."""

    def __init__(self, model_spec: ModelSpec, fitness, vectorize: bool = True, sigma: float = 0.0,
                 init: str = "initializers", noise_table: tuple | None = None):
        self.key = uuid.uuid4().hex
        self.model_spec = model_spec
        self.fitness = fitness
        self.vectorize = bool(vectorize)
        self.sigma = float(sigma)
        self.init = init
        self.noise_table = noise_table  # (size, seed) or None


class WorkerContext:
    """A worker's model, layout, forward pass, genome decoder, noise table and fitness state."""

    def __init__(self, model, fitness=None, vectorize: bool = True, sigma: float = 0.0, init: str = "initializers",
                 noise_table: tuple | None = None):
        self.model = model
        self.layout = ParameterLayout(model)
        self.forward = PopulationForward(model, self.layout, vectorize=vectorize)
        self.base = self.layout.get()
        self.fitness = fitness
        self.fitness_state = None if fitness is None else fitness.setup(self)
        self.decoder = GenomeDecoder(self.layout, sigma=sigma, init=init, base=self.base)
        self._noise_table = noise_table

    @property
    def noise(self) -> NoiseTable:
        if self._noise_table is None:
            raise ValueError("This run has no noise table.")
        return NoiseTable.shared(*self._noise_table)


_CONTEXTS: collections.OrderedDict = collections.OrderedDict()


def get_context(spec: EvaluationSpec) -> WorkerContext:
    """This process's context for ``spec`` (built on first use; the two most recent runs are kept)."""
    context = _CONTEXTS.get(spec.key)
    if context is None:
        context = WorkerContext(spec.model_spec.build(), spec.fitness, spec.vectorize, spec.sigma, spec.init,
                                spec.noise_table)
        _CONTEXTS[spec.key] = context
        while len(_CONTEXTS) > 2:
            _CONTEXTS.popitem(last=False)
    _CONTEXTS.move_to_end(spec.key)
    return context


def release_context(spec: EvaluationSpec) -> None:
    """Forget this process's context for ``spec`` (the master calls it when a run ends)."""
    _CONTEXTS.pop(spec.key, None)


def local_context(model, fitness=None, vectorize: bool = True) -> WorkerContext:
    """A context around ``model`` itself (its weights get overwritten by evaluations)."""
    return WorkerContext(model, fitness, vectorize)


def build_params(context: WorkerContext, request: EvaluationRequest) -> np.ndarray:
    """The ``(P, n)`` parameter block a request describes."""
    if request.kind == "genomes":
        return np.stack([context.decoder.decode(genome) for genome in request.genomes])
    if request.kind == "perturbations":
        theta = np.asarray(request.theta, dtype=context.layout.dtype)
        sigma = context.layout.dtype.type(request.sigma)
        rows = np.empty((len(request.offsets), theta.size), dtype=theta.dtype)
        table = context.noise
        for row, (offset, sign) in enumerate(zip(request.offsets, request.signs)):
            if sign == 0:
                rows[row] = theta
            else:
                np.multiply(table.get(offset, theta.size), sigma * sign, out=rows[row])
                rows[row] += theta
        return rows
    return np.asarray(request.params, dtype=context.layout.dtype)


def evaluate_task(spec: EvaluationSpec, request: EvaluationRequest) -> EvaluationResult:
    """Score the individuals of ``request`` in this process (the function executors run)."""
    context = get_context(spec)
    params = build_params(context, request)
    result = spec.fitness.evaluate(context, context.fitness_state, params, np.asarray(request.positions),
                                   np.asarray(request.seed_keys), int(request.task_seed), int(request.episodes),
                                   request.observation_filter)
    return EvaluationResult(np.asarray(result.scores, dtype=np.float64), np.asarray(result.steps, np.int64),
                            result.observation_stats, os.getpid())
