"""Evolutionary (genetic) hyperparameter search: ``EvolutionaryOracle`` and the Keras tuner ``EvolutionarySearch``.

A generational genetic algorithm on the trial machinery of the other tuners (records, resumption, executors).
Trial ``i`` belongs to a fixed slot: generation 0 is ``population_size`` random trials; every later generation
has ``population_size - elitism`` children. The population a generation breeds from is the previous one's:
its ``elitism`` best members (the elites, carried over without being trained again) plus its children. A child:

1. **selection** picks a parent from the population: ``"tournament"`` (the best of ``tournament_size`` members
   drawn without replacement) or ``"truncation"`` (uniformly among the best ``truncation_fraction``);
2. **crossover**, with probability ``crossover_probability``: a second parent is selected and each parameter
   comes from either parent with probability 1/2 (uniform crossover);
3. **mutation**: each tunable parameter mutates with probability ``mutation_probability`` (default
   ``1 / number of tunable parameters``). Numbers and ordered choices move in the unit scale the space maps them
   to (``value_to_prob``): ``p' = clip(p + N(0, mutation_scale), 0, 1)``, so log-sampled parameters move by
   factors; unordered choices take another value uniformly; booleans flip. A child equal to an earlier trial is
   mutated again (all parameters at once) to avoid spending a trial twice.

A generation is bred only when the previous one has finished, from the trial records alone, so a seed gives the
same trials on 1 or 20 workers and a killed search resumes where it stopped. Failed trials rank last.

>>> from featherflow.tuner import HyperParameters
>>> hp = HyperParameters(); _ = hp.Float("x", -2.0, 2.0); _ = hp.Float("y", -2.0, 2.0)
>>> oracle = EvolutionaryOracle("loss", max_trials=40, population_size=8, hyperparameters=hp, seed=0)
>>> from featherflow.tuner.trial import Trial
>>> trials = {}
>>> while (p := oracle.propose(trials)) != "DONE":
...     trials[p.index] = Trial(p.index, hp.with_values(p.values), status="COMPLETED", info=p.info,
...                             score=p.values["x"] ** 2 + p.values["y"] ** 2)
>>> best = oracle.get_best_trials(trials, 1)[0]
>>> best.info["generation"] > 0, best.score < min(trials[i].score for i in range(8))
(True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from featherflow.tuner.hyperparameters import Boolean, Choice, Fixed, HyperParameter, HyperParameters
from featherflow.tuner.keras_tuner import Tuner
from featherflow.tuner.oracles.base import DONE, WAIT, Oracle, Proposal, values_key
from featherflow.tuner.trial import Trial, TrialStatus

SELECTIONS = ("tournament", "truncation")


def select(population: list[Trial], objective, rng: np.random.Generator, method: str = "tournament",
           tournament_size: int = 3, truncation_fraction: float = 0.5) -> Trial:
    """One parent from ``population`` (failed trials rank last)."""
    ranked = sorted(population, key=lambda t: (objective.sort_key(t.score if t.has_score() else None), t.index))
    if method == "truncation":
        count = max(1, math.ceil(len(ranked) * truncation_fraction - 1e-12))
        return ranked[int(rng.integers(count))]
    size = min(max(1, int(tournament_size)), len(ranked))
    drawn = sorted(int(i) for i in rng.choice(len(ranked), size=size, replace=False))
    return ranked[drawn[0]]  # ranked best first: the smallest drawn rank wins


def crossover(first: dict, second: dict, names: list[str], rng: np.random.Generator) -> dict:
    """Uniform crossover: each of ``names`` from ``first`` or ``second`` with probability 1/2 (one draw per name);
    a name only one parent has comes from that parent."""
    child = {}
    for name in names:
        from_second = float(rng.random()) < 0.5
        if name in first and (not from_second or name not in second):
            child[name] = first[name]
        elif name in second:
            child[name] = second[name]
    return child


def mutate_value(hp: HyperParameter, value: Any, rng: np.random.Generator, scale: float) -> Any:
    """One mutation of ``value`` (see the module docstring)."""
    if isinstance(hp, Fixed):
        return value
    if isinstance(hp, Boolean):
        return not value
    if isinstance(hp, Choice) and not hp.ordered:
        others = [v for v in hp.values if v != value]
        return others[int(rng.integers(len(others)))] if others else value
    prob = min(max(hp.value_to_prob(value) + float(rng.normal(0.0, scale)), 0.0), 1.0)
    return hp.cast(hp.prob_to_value(prob))


def mutate(values: dict, space: HyperParameters, names: list[str], rng: np.random.Generator, probability: float,
           scale: float) -> tuple[dict, list[str]]:
    """Mutate each of ``names`` with ``probability`` (one uniform draw per name, then the mutation's own draws);
    returns the new values and the names that mutated."""
    new, mutated = dict(values), []
    for name in names:
        if name not in values:
            continue
        if float(rng.random()) < probability:
            new[name] = mutate_value(space.hyperparameter(name), values[name], rng, scale)
            mutated.append(name)
    return new, mutated


class EvolutionaryOracle(Oracle):
    """Genetic search over the hyperparameter space (see the module docstring).

    Args:
        objective, max_trials, hyperparameters, seed: as for every oracle (``max_trials`` is the budget).
        population_size: trials in generation 0, and members of every population (>= 2).
        selection: ``"tournament"`` or ``"truncation"``.
        tournament_size: members drawn per tournament.
        truncation_fraction: truncation selects among this best fraction of the population.
        crossover_probability: chance that a child has two parents.
        mutation_probability: per-parameter mutation chance (default ``1 / tunable parameters``).
        mutation_scale: standard deviation of a mutation in the unit scale of the space.
        elitism: best members kept unchanged into the next population (0 to ``population_size - 1``).
    """

    def __init__(self, objective: Any = None, max_trials: int = 50, population_size: int = 10,
                 selection: str = "tournament", tournament_size: int = 3, truncation_fraction: float = 0.5,
                 crossover_probability: float = 0.5, mutation_probability: float | None = None,
                 mutation_scale: float = 0.15, elitism: int = 1, hyperparameters=None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(objective, max_trials, hyperparameters, seed=seed, **kwargs)
        if int(population_size) < 2:
            raise ValueError(f"population_size must be >= 2. Received: population_size={population_size}")
        if selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}. Received: selection={selection!r}")
        if not 0 <= int(elitism) < int(population_size):
            raise ValueError(f"elitism must be in [0, population_size). Received: elitism={elitism}")
        for name, value in (("crossover_probability", crossover_probability), ("truncation_fraction",
                                                                                 truncation_fraction)):
            if not 0 <= float(value) <= 1:
                raise ValueError(f"{name} must be in [0, 1]. Received: {name}={value}")
        if mutation_probability is not None and not 0 <= float(mutation_probability) <= 1:
            raise ValueError(f"mutation_probability must be in [0, 1] or None. Received: {mutation_probability}")
        if float(mutation_scale) <= 0 or int(tournament_size) < 1:
            raise ValueError(f"mutation_scale must be > 0 and tournament_size >= 1. Received: mutation_scale="
                             f"{mutation_scale}, tournament_size={tournament_size}")
        self.population_size, self.selection = int(population_size), selection
        self.tournament_size, self.truncation_fraction = int(tournament_size), float(truncation_fraction)
        self.crossover_probability = float(crossover_probability)
        self.mutation_probability = None if mutation_probability is None else float(mutation_probability)
        self.mutation_scale, self.elitism = float(mutation_scale), int(elitism)

    # -- layout -------------------------------------------------------------------------------------------------
    @property
    def children_per_generation(self) -> int:
        return self.population_size - self.elitism

    def generation_of(self, index: int) -> int:
        """The generation trial ``index`` belongs to."""
        if index < self.population_size:
            return 0
        return 1 + (index - self.population_size) // self.children_per_generation

    def generation_indices(self, generation: int) -> range:
        if generation == 0:
            return range(self.population_size)
        start = self.population_size + (generation - 1) * self.children_per_generation
        return range(start, start + self.children_per_generation)

    def _rank(self, trials: list[Trial]) -> list[Trial]:
        return sorted(trials, key=lambda t: (self.objective.sort_key(t.score if t.has_score() else None), t.index))

    def population(self, trials: dict[int, Trial], generation: int) -> list[Trial]:
        """The members of ``generation``'s population: the previous one's elites and its own trials."""
        members = [trials[i] for i in self.generation_indices(0)]
        for g in range(1, generation + 1):
            members = self._rank(members)[: self.elitism] + [trials[i] for i in self.generation_indices(g)]
        return members

    # -- proposals ----------------------------------------------------------------------------------------------
    def propose(self, trials: dict[int, Trial]) -> Proposal | str:
        index = len(trials)
        if self.max_trials is not None and index >= self.max_trials:
            return DONE
        generation = self.generation_of(index)
        if generation == 0:
            rng = self.rng(index)
            return Proposal(index, self.fill({}, lambda hp: hp.random_sample(rng)), {"generation": 0})
        previous = list(self.generation_indices(generation - 1))
        if any(i not in trials or trials[i].status not in TrialStatus.FINISHED for i in previous):
            return WAIT
        parents = self.population(trials, generation - 1)
        if not any(t.has_score() for t in parents):
            raise RuntimeError("Every member of the population failed: nothing to breed from.")
        return self._breed(index, generation, parents, trials)

    def _breed(self, index: int, generation: int, parents: list[Trial], trials: dict[int, Trial]) -> Proposal:
        rng = self.rng(index)
        tunable = [hp.name for hp in self.hyperparameters.space if self.tunable(hp)]
        probability = self.mutation_probability if self.mutation_probability is not None else (
            1.0 / max(1, len(tunable)))
        pick = dict(method=self.selection, tournament_size=self.tournament_size,
                    truncation_fraction=self.truncation_fraction)
        first = select(parents, self.objective, rng, **pick)
        info: dict[str, Any] = {"generation": generation, "parents": [first.index], "crossover": False}
        genes = dict(first.values)
        if float(rng.random()) < self.crossover_probability and len(parents) > 1:
            second = select([t for t in parents if t.index != first.index], self.objective, rng, **pick)
            genes = crossover(first.values, second.values, tunable, rng)
            info.update(parents=[first.index, second.index], crossover=True)
        seen = self._seen_keys(trials)
        values, mutated = mutate(genes, self.hyperparameters, tunable, rng, probability, self.mutation_scale)
        values = self.fill(values, lambda hp: hp.random_sample(rng))
        for _ in range(20):  # a repeat of an earlier trial: mutate every parameter instead
            if values_key(values) not in seen:
                break
            values, mutated = mutate(genes, self.hyperparameters, tunable, rng, 1.0, self.mutation_scale)
            values = self.fill(values, lambda hp: hp.random_sample(rng))
        info["mutated"] = mutated
        return Proposal(index, values, info)

    def _seen_keys(self, trials: dict[int, Trial]) -> set[str]:
        # A trial's values never change: their canonical keys are computed once per trial.
        cache = self.__dict__.setdefault("_value_keys", {})
        for index, trial in trials.items():
            if index not in cache:
                cache[index] = values_key(trial.values)
        return {cache[index] for index in trials}

    def total_trials(self) -> int | None:
        return self.max_trials

    def get_state(self) -> dict:
        state = super().get_state()
        state.update(population_size=self.population_size, elitism=self.elitism, selection=self.selection)
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        for key in ("population_size", "elitism"):
            if key in state and state[key] != getattr(self, key):
                raise ValueError(f"The project was created with {key}={state[key]!r}, not {getattr(self, key)!r}. "
                                 "Use overwrite=True or another project_name.")


class EvolutionarySearch(Tuner):
    """Genetic search over the space of ``hypermodel`` (see ``EvolutionaryOracle``), KerasTuner-style.

    >>> # tuner = EvolutionarySearch(build_model, objective="val_accuracy", max_trials=30, population_size=10)
    >>> # tuner.search(x, y, epochs=5, validation_data=(x_val, y_val))

    Args:
        hypermodel: ``build_model(hp)`` or a ``HyperModel``.
        objective, max_trials, seed: as for ``RandomSearch``.
        population_size, selection, tournament_size, truncation_fraction, crossover_probability,
            mutation_probability, mutation_scale, elitism: see ``EvolutionaryOracle``.
        **kwargs: ``hyperparameters``, ``tune_new_entries``, ``allow_new_entries``, ``max_retries_per_trial``,
            ``max_consecutive_failed_trials`` (oracle) and ``Tuner`` arguments (``executions_per_trial``,
            ``directory``, ``project_name``, ``overwrite``, ``executor``, ``max_workers``, ``verbose``).
    """

    _ORACLE_ARGUMENTS = ("hyperparameters", "tune_new_entries", "allow_new_entries", "max_retries_per_trial",
                         "max_consecutive_failed_trials")

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int = 30,
                 population_size: int = 10, selection: str = "tournament", tournament_size: int = 3,
                 truncation_fraction: float = 0.5, crossover_probability: float = 0.5,
                 mutation_probability: float | None = None, mutation_scale: float = 0.15, elitism: int = 1,
                 seed: int | None = None, **kwargs: Any):
        oracle_kwargs = {k: kwargs.pop(k) for k in self._ORACLE_ARGUMENTS if k in kwargs}
        oracle = EvolutionaryOracle(objective, max_trials, population_size, selection, tournament_size,
                                    truncation_fraction, crossover_probability, mutation_probability,
                                    mutation_scale, elitism, seed=seed, **oracle_kwargs)
        super().__init__(oracle, hypermodel, **kwargs)
