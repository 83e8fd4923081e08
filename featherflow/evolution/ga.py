"""``GeneticAlgorithm``: the deep-neuroevolution GA of Such et al. (2017).

Per generation (Algorithm 1 of the paper)::

    generation 0:  N individuals theta = init(tau_0), each from its own seed
    later:         N - E children; each picks one parent uniformly from the top T of the last generation
                   and adds one Gaussian mutation: theta' = theta + sigma * eps(tau), no crossover
    score every child on the fitness's episodes
    candidates = the top (reevaluate_top - E) children + the E current elites
    re-evaluate the candidates on `reevaluation_episodes` fresh episodes; the best E become the elites and
    go unchanged into the next generation, ranked first: the parents are [elites, top children][:T]

Genomes are seed tuples (``featherflow.evolution.genome``); workers rebuild parameters from them, with
parents cached so a child costs one mutation. With a deterministic fitness re-evaluation is skipped (a
score is exact), the elites keep their scores. A NaN fitness value is the worst score (``-inf``): such an
individual is never a parent, an elite or the champion ``best_model()`` returns while any individual has a
score, and a ``RuntimeWarning`` counts them each generation.

>>> import numpy as np
>>> from featherflow import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
>>> def closeness(m):  # best when the single weight is 0.5
...     return -abs(float(m.get_weights()[0][0, 0]) - 0.5)
>>> ga = GeneticAlgorithm(model, closeness, population_size=20, truncation=5, sigma=0.1, reevaluate_top=0,
...                       seed=1)
>>> history = ga.run(generations=15, verbose=0)
>>> abs(float(ga.best_model().get_weights()[0][0, 0]) - 0.5) < 0.05
True
"""

from __future__ import annotations

import numpy as np

from featherflow.evolution.base import EvolutionaryAlgorithm, _check_positive_int, mean_score
from featherflow.evolution.genome import INIT_MODES
from featherflow.evolution.requests import EvaluationRequest


class GeneticAlgorithm(EvolutionaryAlgorithm):
    """Truncation-selection GA with Gaussian mutation, elitism and re-evaluation (Such et al., 2017).

    Args:
        model: a built featherflow model; its architecture (and, with ``init="model"``, its weights) is evolved.
        fitness: a ``Fitness`` (``DatasetFitness``, ``GymFitness``) or a callable ``fn(model) -> float`` (higher
            is better; NaN counts as the worst score, with a warning).
        population_size: N, individuals per generation (elites included).
        truncation: T, how many of the best individuals are parents of the next generation.
        elites: E, how many of the best (re-evaluated) individuals are kept unchanged (0: none).
        sigma: mutation power (standard deviation of the Gaussian mutation).
        reevaluate_top: how many candidates (elites included) are re-evaluated to choose the elites.
        reevaluation_episodes: episodes of each re-evaluation.
        seed: the run's seed (default: drawn from featherflow's global generator).
        executor: a ``featherflow.distribute`` executor, a ``concurrent.futures.Executor``, a name (``"process"``,
            ``"ray"``, ``"dask"``) or None (in-process, or a process pool when ``max_workers > 1``).
        max_workers: worker count when the executor is made here.
        init: ``"initializers"`` (generation 0 from the model's initializers, one seed per individual) or
            ``"model"`` (the model's weights plus one mutation).
        model_builder: a picklable zero-argument function that builds the model in workers (default: the
            model is pickled, or rebuilt from its config).
        vectorize: batch the population's forward passes in NumPy when the model is a Dense stack.
    """

    def __init__(self, model, fitness, population_size: int = 100, truncation: int = 10, elites: int = 1,
                 sigma: float = 0.02, reevaluate_top: int = 10, reevaluation_episodes: int = 10,
                 seed: int | None = None, executor=None, *, max_workers: int | None = None,
                 init: str = "initializers", model_builder=None, vectorize: bool = True):
        super().__init__(model, fitness, population_size, seed, executor, max_workers, model_builder, vectorize)
        self.truncation = _check_positive_int(truncation, "truncation")
        if self.truncation > self.population_size:
            raise ValueError(f"`truncation` cannot exceed population_size ({self.population_size}). "
                             f"Received: truncation={truncation}")
        self.num_elites = _check_positive_int(elites, "elites", 0)
        if self.num_elites >= self.population_size:
            raise ValueError(f"`elites` must be smaller than population_size ({self.population_size}). "
                             f"Received: elites={elites}")
        self.sigma = float(sigma)
        if not self.sigma > 0:
            raise ValueError(f"`sigma` must be positive. Received: sigma={sigma!r}")
        self.reevaluate_top = _check_positive_int(reevaluate_top, "reevaluate_top", 0)
        self.reevaluation_episodes = _check_positive_int(reevaluation_episodes, "reevaluation_episodes")
        if init not in INIT_MODES:
            raise ValueError(f"init must be one of {INIT_MODES}. Received: init={init!r}")
        self.init = init
        self.elites: list = []  # genomes kept unchanged, best first
        self.elite_scores: list = []
        self.parents: list = []  # the top T of the last generation, elites first
        self.champion: tuple | None = None  # the best re-evaluated individual (elites[0] when elites > 0)
        self.champion_score = float("-inf")
        self.population: list = []  # the last generation's children
        self.scores = np.zeros(0)
        self._make_spec(sigma=self.sigma, init=init)

    def decode(self, genome) -> np.ndarray:
        """The parameter vector of ``genome`` (a copy), rebuilt from its seeds."""
        return np.array(self._local().decoder.decode(genome), copy=True)

    def elite_parameters(self) -> np.ndarray:
        if self.champion is None:
            raise ValueError("No generation has run yet; call run() first.")
        return self.decode(self.champion)

    def _request(self, genomes: list, phase: int, episodes: int) -> EvaluationRequest:
        keys = list(range(len(genomes)))
        return EvaluationRequest("genomes", positions=keys, seed_keys=keys, task_seed=self._task_seed(phase),
                                 episodes=episodes, genomes=genomes)

    def _generation(self) -> dict:
        rng = self._rng
        if self.generation == 0:
            genomes = [(int(s),) for s in rng.integers(0, 2**31 - 1, size=self.population_size)]
        else:
            count = self.population_size - len(self.elites)
            picks = rng.integers(0, len(self.parents), size=count)
            seeds = rng.integers(0, 2**31 - 1, size=count)
            genomes = [self.parents[k] + (int(s),) for k, s in zip(picks, seeds)]
        episodes = int(getattr(self.fitness, "episodes", 1))
        scores = self._evaluate([self._request(genomes, 0, episodes)])[0].scores
        order = np.argsort(-scores, kind="stable")
        previous, previous_scores = list(self.elites), list(self.elite_scores)
        wanted = max(self.reevaluate_top - len(previous), self.num_elites - len(previous), 1)
        candidates = [genomes[i] for i in order[:wanted]] + previous
        if self.reevaluate_top > 0 and not self.fitness.deterministic:
            candidate_scores = self._evaluate([self._request(candidates, 1, self.reevaluation_episodes)])[0].scores
        else:
            candidate_scores = np.array([scores[i] for i in order[:wanted]] + previous_scores, dtype=np.float64)
        ranking = np.argsort(-candidate_scores, kind="stable")
        if candidate_scores[ranking[0]] > -np.inf or self.champion is None:  # an all-NaN generation keeps the last
            self.champion = candidates[ranking[0]]
            self.champion_score = float(candidate_scores[ranking[0]])
        self.elites = [candidates[i] for i in ranking[:self.num_elites]]
        self.elite_scores = [float(candidate_scores[i]) for i in ranking[:self.num_elites]]
        kept = set(self.elites)
        ranked = list(self.elites) + [genomes[i] for i in order if genomes[i] not in kept]
        self.parents = ranked[:self.truncation]
        self.population, self.scores = genomes, scores
        return {"best": float(scores[order[0]]), "elite": self.champion_score, "mean": mean_score(scores)}

    # -- checkpoints -----------------------------------------------------------------------------------
    def _config(self) -> dict:
        return {**super()._config(), "truncation": self.truncation, "elites": self.num_elites, "sigma": self.sigma,
                "reevaluate_top": self.reevaluate_top, "reevaluation_episodes": self.reevaluation_episodes,
                "init": self.init}

    def _state(self) -> dict:
        return {"elites": [list(g) for g in self.elites], "elite_scores": self.elite_scores,
                "parents": [list(g) for g in self.parents],
                "champion": None if self.champion is None else list(self.champion),
                "champion_score": self.champion_score,
                "population": [list(g) for g in self.population], "scores": self.scores.tolist()}

    def _load_state(self, state: dict, arrays: dict) -> None:
        self.elites = [tuple(g) for g in state["elites"]]
        self.elite_scores = [float(s) for s in state["elite_scores"]]
        self.parents = [tuple(g) for g in state["parents"]]
        self.champion = None if state["champion"] is None else tuple(state["champion"])
        self.champion_score = float(state["champion_score"])
        self.population = [tuple(g) for g in state["population"]]
        self.scores = np.asarray(state["scores"], dtype=np.float64)
