"""A genetic algorithm (Such et al., 2017, "Deep Neuroevolution") learns to balance CartPole-v1.

No gradients: each generation, the top ``truncation`` policies are parents; every child is one parent
plus one Gaussian mutation (``sigma``); the best is re-evaluated and kept as the elite. Genomes are
lists of random seeds, so a whole population crosses to worker processes as a few integers.
The policy is an ordinary featherflow model (4 observations -> 16 tanh -> 2 action scores, action =
argmax); the result is saved as ``cartpole_ga.keras``. Usually solved (elite >= 475) in under 10
generations, a few seconds. Needs gymnasium: ``pip install "featherflow[rl]"``.

Run: ``python examples/cartpole_ga.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: 2 generations for tests).
"""

import os
import sys
import tempfile

from featherflow import evolution, keras

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"

if __name__ == "__main__":  # the guard matters with max_workers > 1 (worker processes import this file)
    keras.utils.set_random_seed(0)
    policy = keras.Sequential([
        keras.Input(shape=(4,)),
        keras.layers.Dense(16, activation="tanh"),
        keras.layers.Dense(2),
    ])
    fitness = evolution.GymFitness("CartPole-v1", episodes=1, seed=0)  # score = return of one episode
    ga = evolution.GeneticAlgorithm(policy, fitness, population_size=50, truncation=10, elites=1, sigma=0.1,
                                    reevaluate_top=5, reevaluation_episodes=3, seed=0)
    history = ga.run(generations=2 if FAST else 50, target=475)  # stops as soon as the elite scores 475

    best = ga.best_model()
    episodes = 5 if FAST else 100
    result = fitness.evaluate_model(best, episodes=episodes)  # fresh episodes, never seen during evolution
    print(f"elite after {len(history['generation'])} generations, {history['steps'][-1]:,} environment steps: "
          f"mean return {result['mean']:.1f} over {episodes} fresh episodes (500 is the maximum)")
    path = os.path.join(tempfile.mkdtemp() if FAST else ".", "cartpole_ga.keras")
    best.save(path)
    print("saved", path)
