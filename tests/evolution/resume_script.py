"""Run a small GA or ES on CartPole with a checkpoint directory (the SIGKILL test runs this file as a child).

Usage: python resume_script.py {ga,es} CHECKPOINT_DIR OUT_JSON
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import evo_tasks  # noqa: E402

from featherflow.evolution import EvolutionStrategy, GeneticAlgorithm, GymFitness  # noqa: E402

GENERATIONS = 8
KEYS = ("generation", "best", "elite", "mean", "evaluations", "steps")


def build(algorithm):
    model = evo_tasks.cartpole_model()
    if algorithm == "ga":
        return GeneticAlgorithm(model, GymFitness("CartPole-v1", seed=1, max_steps=100), population_size=12, truncation=4,
                                sigma=0.1, reevaluate_top=3, reevaluation_episodes=2, seed=31)
    return EvolutionStrategy(model, GymFitness("CartPole-v1", seed=1, max_steps=100), population_size=12, sigma=0.1,
                             learning_rate=0.05, observation_normalization=True, reevaluation_episodes=2, seed=31)


def summary(algo):
    out = {key: algo.history[key] for key in KEYS}
    out["elite_parameters"] = algo.elite_parameters().tobytes().hex()
    if isinstance(algo, EvolutionStrategy):
        out["theta"] = algo.theta.tobytes().hex()
    else:
        out["elites"] = [list(g) for g in algo.elites]
    return out


def slow_down(generation, logs):
    time.sleep(0.15)  # leaves the test time to kill the process between (and during) checkpoints


if __name__ == "__main__":
    algorithm, directory, out = sys.argv[1:4]
    algo = build(algorithm)
    algo.run(generations=GENERATIONS, checkpoint=directory, callbacks=[slow_down], verbose=0)
    with open(out, "w") as handle:
        json.dump(summary(algo), handle)
