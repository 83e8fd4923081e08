"""The run loop shared by the genetic algorithm and evolution strategies.

``run`` evolves generation after generation until ``generations`` (in total, resumed ones included),
``target`` (the elite's score) or ``time_budget`` (seconds, in total) is reached or a callback stops it. Each
generation appends to ``history`` and prints one line (``verbose=1``)::

    Generation 7/50 - best: 231.4 - elite: 198.2 - mean: -54.12 - evaluations: 1,610 - steps: 412,884 - time: 21.3s

Evaluation goes through a ``featherflow.distribute`` executor: the evaluation spec (model, fitness) is shared
once, then every generation's individuals are split into chunks (``2 x max_workers`` of them) that carry only
integers. A chunk whose worker dies is submitted again; after ``max_retries`` failures, or if the executor
itself is broken, it is evaluated in this process. Results are merged in population order, so the run is the
same for any number of workers.

A fitness that returns NaN (a diverged model, a failed episode) gives that individual the worst score, ``-inf``:
it is never selected as a parent or elite, gets the lowest rank in the evolution strategy's fitness shaping, and
the generation's ``mean`` is taken over the other individuals. A ``RuntimeWarning`` per generation counts them
("Generation 3: 4 of 20 fitness values were NaN ...").

``run(checkpoint=directory)`` writes the whole state after every ``checkpoint_every`` generations
(``featherflow.evolution.checkpoint``) and, if the directory already holds a checkpoint of the same
configuration, resumes from it: a run killed at any point and started again ends exactly as an
uninterrupted one.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import sys
import time
import warnings
from typing import Any

import numpy as np

from featherflow.backend import random as backend_random
from featherflow.distribute import get_executor
from featherflow.evolution.callbacks import CallbackList
from featherflow.evolution.checkpoint import load_checkpoint, save_checkpoint
from featherflow.evolution.fitness import as_fitness
from featherflow.evolution.forward import GROUP
from featherflow.evolution.noise import derive_seed
from featherflow.evolution.parameters import ParameterLayout
from featherflow.evolution.requests import EvaluationRequest, EvaluationResult
from featherflow.evolution.worker import EvaluationSpec, ModelSpec, evaluate_task, get_context, release_context

HISTORY_KEYS = ("generation", "best", "elite", "mean", "evaluations", "steps", "time")

_WORKER_LOSS = {"WorkerDiedError", "BrokenProcessPool", "BrokenExecutor", "WorkerCrashedError", "RayActorError",
                "NodeDiedError", "LocalRayletDiedError", "ObjectLostError", "OwnerDiedError", "KilledWorker",
                "CommClosedError", "CancelledError"}


def _worker_lost(error: BaseException) -> bool:
    """Whether ``error`` means the worker went away (rather than the fitness raising)."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & _WORKER_LOSS) or isinstance(error, (EOFError, ConnectionError))


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def mean_score(scores: np.ndarray) -> float:
    """The mean of the scores that are not the worst score ``-inf`` (NaN fitness values); NaN when none are."""
    scored = scores[scores > -np.inf]
    return float(scored.mean()) if scored.size else float("nan")


def _format(value) -> str:
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return f"{float(value):.5g}"


class EvolutionaryAlgorithm:
    """Base class: population evaluation on executors, the run loop, history, callbacks and checkpoints.

    Subclasses implement ``_generation()`` (one generation; returns ``{"best", "elite", "mean"}``),
    ``elite_parameters()``, ``_config()``, ``_state()``/``_load_state()`` and ``_arrays()``.
    """

    def __init__(self, model, fitness, population_size: int, seed: int | None, executor: Any,
                 max_workers: int | None, model_builder, vectorize: bool, max_retries: int = 2):
        if not getattr(model, "built", False) or not getattr(model, "weights", None):
            raise ValueError("The model must be built (give it a keras.Input or call model.build(input_shape)) "
                             f"before evolving it. Received: model={model!r}")
        self.population_size = _check_positive_int(population_size, "population_size", 2)
        if seed is None:
            seed = int(backend_random.generator().integers(0, 2**31 - 1))
        self.seed = _check_positive_int(seed, "seed", 0)
        self.model = model
        self.fitness = as_fitness(fitness)
        self.model_builder = model_builder
        self.vectorize = bool(vectorize)
        self.max_retries = int(max_retries)
        self._executor_argument = executor
        self.max_workers = max_workers
        self._model_spec = ModelSpec(model, model_builder)
        self._layout = ParameterLayout(model)
        self.num_parameters = self._layout.size
        self._rng = np.random.default_rng(self.seed)
        self.history: dict = {key: [] for key in HISTORY_KEYS}
        self.generation = 0
        self.evaluations = 0
        self.steps = 0
        self.elapsed = 0.0
        self.stop_evolution = False
        self._spec: EvaluationSpec | None = None
        self._executor = None
        self._shared = None
        self._chunks = 1
        self._nan_counts = [0, 0]  # NaN fitness values and all values of the running generation

    # -- evaluation ------------------------------------------------------------------------------------
    def _make_spec(self, sigma: float = 0.0, init: str = "initializers", noise_table: tuple | None = None) -> None:
        self._spec = EvaluationSpec(self._model_spec, self.fitness, self.vectorize, sigma, init, noise_table)
        self.fitness.check_model(self._local())

    def _local(self):
        """This process's worker context (the in-process executor and fallbacks use it too)."""
        return get_context(self._spec)

    def _task_seed(self, phase: int) -> int:
        return derive_seed(self.seed, self.generation, phase)

    def _split(self, request: EvaluationRequest) -> list:
        """Chunks of ``request``; boundaries are multiples of the fitness's alignment (see forward.GROUP)."""
        items = len(request)
        align = GROUP if getattr(self.fitness, "aligned_batches", False) else 1
        chunks = max(1, min(self._chunks, items))
        size = -(-items // chunks)
        size = -(-size // align) * align
        return [request.chunk(start, start + size) for start in range(0, items, size)]

    def _evaluate(self, requests: list) -> list:
        """Evaluate several ``EvaluationRequest``s together; returns one joined ``EvaluationResult`` per request."""
        jobs = []
        for index, request in enumerate(requests):
            jobs.extend((index, chunk) for chunk in self._split(request))
        results = self._run_jobs([chunk for _, chunk in jobs])
        merged = []
        for index, request in enumerate(requests):
            result = EvaluationResult.concatenate([r for (owner, _), r in zip(jobs, results) if owner == index])
            nan = np.isnan(result.scores)
            if nan.any():  # NaN counts as the worst score (see the module docstring)
                result.scores = np.where(nan, -np.inf, result.scores)
            self._nan_counts[0] += int(nan.sum())
            self._nan_counts[1] += len(result.scores)
            self.evaluations += len(result.scores) * int(request.episodes)
            self.steps += int(result.steps.sum())
            merged.append(result)
        return merged

    def _run_jobs(self, jobs: list) -> list:
        results: list = [None] * len(jobs)
        if self._executor is None:
            return [evaluate_task(self._spec, job) for job in jobs]
        attempts = [0] * len(jobs)
        futures: dict = {}

        def submit(j: int) -> None:
            try:
                futures[self._executor.submit(evaluate_task, self._shared, jobs[j])] = j
            except Exception:  # noqa: BLE001 - a broken executor: evaluate here instead
                results[j] = evaluate_task(self._spec, jobs[j])

        for j in range(len(jobs)):
            submit(j)
        try:
            while futures:
                done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
                for future in done:
                    j = futures.pop(future)
                    try:
                        results[j] = future.result()
                    except BaseException as error:
                        if isinstance(error, (KeyboardInterrupt, SystemExit)) or not _worker_lost(error):
                            raise
                        attempts[j] += 1
                        if attempts[j] <= self.max_retries:
                            submit(j)
                        else:
                            results[j] = evaluate_task(self._spec, jobs[j])
        finally:
            for future in futures:
                future.cancel()
        return results

    # -- the run loop -------------------------------------------------------------------------------------
    def run(self, generations: int | None = None, target: float | None = None, time_budget: float | None = None,
            callbacks=None, checkpoint: str | None = None, checkpoint_every: int = 1, verbose: int = 1) -> dict:
        """Evolve until a stopping condition holds; returns ``history``.

        Args:
            generations: stop once this many generations have run in total (earlier ``run`` calls and a
                resumed checkpoint included).
            target: stop once the elite's score reaches this value.
            time_budget: stop once this many seconds have been spent in total (checked between generations).
            callbacks: evolution callbacks, Keras callbacks or callables ``fn(generation, logs)`` (see
                ``featherflow.evolution.callbacks``).
            checkpoint: a directory; the state is saved there and a run found there is resumed.
            checkpoint_every: save every this many generations (and always at the end).
            verbose: 1 prints one line per generation, 0 is silent.

        Returns:
            ``history``: lists ``generation`` (1-based), ``best`` (best score of the generation), ``elite``
            (the elite's score), ``mean`` (mean score), ``evaluations`` and ``steps`` (cumulative) and
            ``time`` (cumulative seconds).
        """
        if generations is None and target is None and time_budget is None:
            raise ValueError("run() needs a stopping condition: generations=..., target=... or time_budget=...")
        if generations is not None:
            generations = _check_positive_int(generations, "generations", 0)
        checkpoint_every = _check_positive_int(checkpoint_every, "checkpoint_every")
        if checkpoint is not None:
            self._restore(checkpoint, verbose)
        executor = get_executor(self._executor_argument, self.max_workers)
        owns = executor is not self._executor_argument
        self._executor = executor
        self._chunks = 1 if executor.max_workers <= 1 else 2 * executor.max_workers
        callback_list = CallbackList(callbacks, self)
        self.stop_evolution = False
        saved_at = self.generation
        try:
            self._shared = executor.share(self._spec)
            callback_list.begin(generations)
            started, before = time.perf_counter(), self.elapsed
            while not self.stop_evolution:
                if generations is not None and self.generation >= generations:
                    break
                if target is not None and self.history["elite"] and self.history["elite"][-1] >= target:
                    break
                if time_budget is not None and self.elapsed >= time_budget:
                    break
                callback_list.generation_begin(self.generation)
                self._nan_counts = [0, 0]
                logs = self._generation()
                self.generation += 1
                if self._nan_counts[0]:
                    warnings.warn(f"Generation {self.generation}: {self._nan_counts[0]} of {self._nan_counts[1]} "
                                  "fitness values were NaN; they count as the worst score (-inf). Check the fitness "
                                  "function (a diverging model or a NaN loss gives NaN).", RuntimeWarning, stacklevel=2)
                self.elapsed = before + time.perf_counter() - started
                logs = {"generation": self.generation, "best": float(logs["best"]), "elite": float(logs["elite"]),
                        "mean": float(logs["mean"]), "evaluations": self.evaluations, "steps": self.steps,
                        "time": round(self.elapsed, 3)}
                for key in HISTORY_KEYS:
                    self.history[key].append(logs[key])
                if verbose:
                    self._print(logs, generations)
                if checkpoint is not None and self.generation % checkpoint_every == 0:
                    self._save(checkpoint)
                    saved_at = self.generation
                if callback_list.generation_end(self.generation - 1, logs):
                    self.stop_evolution = True
            if checkpoint is not None and saved_at != self.generation:
                self._save(checkpoint)
            callback_list.end()
        finally:
            if owns:
                executor.shutdown()
            self._executor = None
            self._shared = None
        return self.history

    def _print(self, logs: dict, generations: int | None) -> None:
        total = f"/{generations}" if generations is not None else ""
        line = (f"Generation {logs['generation']}{total} - best: {_format(logs['best'])} - elite: "
                f"{_format(logs['elite'])} - mean: {_format(logs['mean'])} - evaluations: "
                f"{_format(logs['evaluations'])} - steps: {_format(logs['steps'])} - time: {logs['time']:.1f}s")
        print(line, file=sys.stdout, flush=True)

    # -- results ---------------------------------------------------------------------------------------
    def elite_parameters(self) -> np.ndarray:
        """The elite's flat parameter vector ``(n,)``."""
        raise NotImplementedError

    def _finalize_model(self, model) -> Any:
        return model

    def _write_elite(self, model) -> None:
        ParameterLayout(model).set(self.elite_parameters())

    def _callback_model(self):
        return self._model_spec.build()

    def best_model(self):
        """A new featherflow model holding the elite's parameters.

        It is an ordinary model: ``save``, ``evaluate``, ``predict`` and ``fit`` work; if the evolved model
        was compiled, the copy is compiled the same way (with a fresh optimizer).
        """
        if self.generation == 0:
            raise ValueError("No generation has run yet; call run() first.")
        model = self._model_spec.build()
        self._write_elite(model)
        model = self._finalize_model(model)
        if getattr(self.model, "_is_compiled", False):
            from featherflow.keras.saving import saving_lib

            try:
                config = saving_lib.get_compile_config(self.model)
                if config is not None:
                    saving_lib.compile_from_config(model, json.loads(json.dumps(config)))
            except (TypeError, ValueError):
                pass  # left uncompiled: the caller can compile it
        return model

    # -- checkpoints -----------------------------------------------------------------------------------
    def _config(self) -> dict:
        return {"population_size": self.population_size, "seed": self.seed, "num_parameters": self.num_parameters}

    def _state(self) -> dict:
        return {}

    def _arrays(self) -> dict:
        return {}

    def _load_state(self, state: dict, arrays: dict) -> None:
        pass

    def _save(self, directory: str) -> None:
        state = {"format": "featherflow-evolution", "version": 1, "algorithm": type(self).__name__,
                 "config": self._config(), "generation": self.generation, "evaluations": self.evaluations,
                 "steps": self.steps, "elapsed": self.elapsed, "rng": self._rng.bit_generator.state,
                 "history": self.history, **self._state()}
        save_checkpoint(directory, state, self._arrays())

    def _restore(self, directory: str, verbose: int) -> bool:
        loaded = load_checkpoint(directory)
        if loaded is None:
            return False
        state, arrays = loaded
        config = json.loads(json.dumps(self._config()))
        if state.get("algorithm") != type(self).__name__ or state.get("config") != config:
            raise ValueError(f"The checkpoint in {directory!r} was written by a different run ({state.get('algorithm')} "
                             f"with {state.get('config')}); this run is {type(self).__name__} with {config}. Use "
                             "another directory or delete the old checkpoint.")
        if state["generation"] < self.generation:
            return False  # this object is further along than the checkpoint
        self.generation = int(state["generation"])
        self.evaluations = int(state["evaluations"])
        self.steps = int(state["steps"])
        self.elapsed = float(state["elapsed"])
        self._rng.bit_generator.state = state["rng"]
        self.history = {key: list(state["history"].get(key, [])) for key in HISTORY_KEYS}
        self._load_state(state, arrays)
        if verbose:
            print(f"Resuming from the checkpoint in {directory} at generation {self.generation}.", flush=True)
        return True

    def close(self) -> None:
        """Free this process's cached worker context for this run."""
        if self._spec is not None:
            release_context(self._spec)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(population_size={self.population_size}, parameters={self.num_parameters}, "
                f"generation={self.generation}, seed={self.seed})")
