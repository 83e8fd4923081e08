"""``featherflow.evolution``: train featherflow models by neuroevolution (re-exports only).

* ``GeneticAlgorithm``: Such et al. (2017), seed-encoded genomes, truncation selection, elitism, re-evaluation;
* ``EvolutionStrategy``: Salimans et al. (2017), mirrored sampling, centred ranks, Adam, a shared noise table;
* fitness helpers ``DatasetFitness``, ``GymFitness`` (extra ``rl``), ``CallableFitness`` or any ``fn(model)``;
* ``run(generations=..., target=..., time_budget=..., checkpoint=...)``, ``best_model()``, ``plot_evolution``.

>>> from featherflow import evolution
>>> evolution.GeneticAlgorithm.__name__, evolution.EvolutionStrategy.__name__
('GeneticAlgorithm', 'EvolutionStrategy')
"""

from featherflow.evolution.base import EvolutionaryAlgorithm
from featherflow.evolution.callbacks import Callback
from featherflow.evolution.es import EvolutionStrategy, ObservationStatistics, centered_ranks
from featherflow.evolution.fitness import CallableFitness, DatasetFitness, Fitness, FitnessResult
from featherflow.evolution.ga import GeneticAlgorithm
from featherflow.evolution.genome import GenomeDecoder
from featherflow.evolution.gym_fitness import GymFitness
from featherflow.evolution.noise import NoiseTable
from featherflow.evolution.parameters import ParameterLayout
from featherflow.evolution.plotting import plot_evolution

__all__ = [
    "CallableFitness",
    "Callback",
    "DatasetFitness",
    "EvolutionStrategy",
    "EvolutionaryAlgorithm",
    "Fitness",
    "FitnessResult",
    "GeneticAlgorithm",
    "GenomeDecoder",
    "GymFitness",
    "NoiseTable",
    "ObservationStatistics",
    "ParameterLayout",
    "centered_ranks",
    "plot_evolution",
]
