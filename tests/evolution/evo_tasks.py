"""Module-level helpers for the evolution tests (worker processes import them by name)."""

import os

import numpy as np
from once import first_claim

from featherflow import keras
from featherflow.evolution import Fitness, FitnessResult


def tiny_model(seed=0, inputs=2, hidden=3, outputs=1):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(inputs,)), keras.layers.Dense(hidden, activation="tanh"),
                             keras.layers.Dense(outputs)])


def cartpole_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(16, activation="tanh"),
                             keras.layers.Dense(2)])


def toy_episode_score(theta, task_seed, key, episode):
    """A deterministic, episode-dependent score: mean parameter plus a bounded per-episode wobble."""
    theta = np.asarray(theta, dtype=np.float64)
    wobble = np.sin(1000.0 * theta.sum() + 0.37 * episode + (task_seed % 997) + 0.1 * key)
    return float(theta.mean() + 0.5 * wobble)


class ToyFitness(Fitness):
    """Scores with ``toy_episode_score`` averaged over the episodes (stochastic-looking, but reproducible)."""

    episodes = 1

    def evaluate(self, context, state, params, positions, seed_keys, task_seed, episodes, observation_filter=None):
        scores = np.array([np.mean([toy_episode_score(p, task_seed, k, e) for e in range(episodes)])
                           for p, k in zip(params, seed_keys)])
        return FitnessResult(scores, np.full(len(params), episodes, dtype=np.int64))


def negative_sum_of_squares(model):
    return -float(sum(np.sum(w.astype(np.float64) ** 2) for w in model.get_weights()))


class DieOnce:
    """A fitness that kills its worker process the first time it runs (marker file), then scores normally."""

    def __init__(self, marker=None):
        self.marker = marker

    def __call__(self, model):
        if self.marker and first_claim(self.marker):  # of two workers racing here, exactly one dies
            os._exit(7)
        return negative_sum_of_squares(model)


def fitness_error(model):
    raise KeyError("broken fitness")


def decode_in_worker(genome, sigma):
    """Rebuild a genome in a worker process; returns the raw bytes and the process id."""
    from featherflow.evolution import GenomeDecoder, ParameterLayout

    model = tiny_model(inputs=5, hidden=7, outputs=3)
    return GenomeDecoder(ParameterLayout(model), sigma=sigma).decode(genome).tobytes(), os.getpid()
