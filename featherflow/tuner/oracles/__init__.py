"""Search algorithms: which hyperparameters each trial tries."""

from featherflow.tuner.oracles.base import DONE, WAIT, Oracle, Proposal
from featherflow.tuner.oracles.bayesian import BayesianOptimizationOracle
from featherflow.tuner.oracles.grid import GridSearchOracle
from featherflow.tuner.oracles.hyperband import HyperbandOracle
from featherflow.tuner.oracles.model_based import ModelBasedOracle
from featherflow.tuner.oracles.random_search import RandomSearchOracle
from featherflow.tuner.oracles.tpe import TPEOracle

__all__ = ["DONE", "WAIT", "BayesianOptimizationOracle", "GridSearchOracle", "HyperbandOracle", "ModelBasedOracle",
           "Oracle", "Proposal", "RandomSearchOracle", "TPEOracle"]
