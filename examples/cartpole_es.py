"""An evolution strategy (Salimans et al., 2017) learns to balance CartPole-v1.

Each generation samples ``population_size / 2`` Gaussian perturbations of the policy's weights and
their mirror images, plays an episode with each, ranks the returns (centred ranks) and moves the
weights along the estimated gradient with Adam. The policy is an ordinary featherflow model
(4 -> 16 tanh -> 2, action = argmax). Usually solved (elite >= 475) in about 30 generations, under
10 seconds on 2 cores. Needs gymnasium: ``pip install "featherflow[rl]"``.

Run: ``python examples/cartpole_es.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: 2 generations for tests).
"""

import os
import sys

from featherflow import evolution, keras

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"

if __name__ == "__main__":  # the guard matters with max_workers > 1 (worker processes import this file)
    keras.utils.set_random_seed(0)
    policy = keras.Sequential([
        keras.Input(shape=(4,)),
        keras.layers.Dense(16, activation="tanh"),
        keras.layers.Dense(2),
    ])
    fitness = evolution.GymFitness("CartPole-v1", episodes=1, seed=0)
    es = evolution.EvolutionStrategy(policy, fitness, population_size=50, sigma=0.1, learning_rate=0.1,
                                     optimizer="adam", seed=0)
    history = es.run(generations=2 if FAST else 100, target=475)

    best = es.best_model()
    episodes = 5 if FAST else 100
    result = fitness.evaluate_model(best, episodes=episodes)
    print(f"after {len(history['generation'])} generations, {history['steps'][-1]:,} environment steps: "
          f"mean return {result['mean']:.1f} over {episodes} fresh episodes (500 is the maximum)")
