"""``featherflow.tuner``: hyperparameter search (KerasTuner's API) on any ``featherflow.distribute`` executor.

>>> from featherflow.tuner import HyperParameters, Objective
>>> hp = HyperParameters()
>>> hp.Choice("optimizer", ["adam", "sgd"])
'adam'
"""

from featherflow.tuner.base_tuner import BaseTuner
from featherflow.tuner.evolutionary import EvolutionaryOracle, EvolutionarySearch
from featherflow.tuner.function_tuner import FunctionTuner
from featherflow.tuner.hyperparameters import Boolean, Choice, Fixed, Float, HyperParameter, HyperParameters, Int
from featherflow.tuner.keras_tuner import HyperModel, Tuner
from featherflow.tuner.objective import Objective, get_objective, infer_direction
from featherflow.tuner.oracles import (
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    Oracle,
    RandomSearchOracle,
    TPEOracle,
)
from featherflow.tuner.pbt import PopulationBasedTraining, plot_population
from featherflow.tuner.plot import plot_search
from featherflow.tuner.storage import Project
from featherflow.tuner.trial import Trial, TrialStatus
from featherflow.tuner.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch

__all__ = [
    "BaseTuner",
    "BayesianOptimization",
    "BayesianOptimizationOracle",
    "Boolean",
    "Choice",
    "EvolutionaryOracle",
    "EvolutionarySearch",
    "Fixed",
    "Float",
    "FunctionTuner",
    "GridSearch",
    "GridSearchOracle",
    "HyperModel",
    "HyperParameter",
    "HyperParameters",
    "Hyperband",
    "HyperbandOracle",
    "Int",
    "Objective",
    "Oracle",
    "PopulationBasedTraining",
    "Project",
    "RandomSearch",
    "RandomSearchOracle",
    "TPEOracle",
    "Tuner",
    "Trial",
    "TrialStatus",
    "get_objective",
    "infer_direction",
    "plot_population",
    "plot_search",
]
