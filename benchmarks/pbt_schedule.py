"""Moving optimum: Population Based Training against RandomSearch and GridSearch at equal total training steps.

The problem (``featherflow.tuner.pbt.problems.NoisyQuadratic``) is SGD on a 200-dimensional ill-conditioned
quadratic with noisy gradients. Its best learning rate moves during training: early on a large rate makes the
fastest progress, later the gradient noise dominates and only a small rate lowers the loss further. The script
first shows this with the exact expected loss (the best fixed rate depends on how long one trains), then runs,
for each seed, with the same budget of ``members x steps`` SGD steps:

- PBT: ``members`` members, ``steps`` steps each, exploit/explore every ``interval`` steps (synchronous,
  truncation, factors 0.8/1.2, resample probability 0.25);
- RandomSearch: ``members`` trials of ``steps`` steps at a fixed log-uniform learning rate;
- GridSearch: ``members`` trials, a log-spaced grid of fixed learning rates over the same range.

All three run on featherflow.tuner's trial machinery (PBT's oracle, ``FunctionTuner`` with the random and grid
oracles). The score is the loss of the best member / trial at the end (lower is better).

Usage: ``python benchmarks/pbt_schedule.py [--seeds 5] [--members 10] [--steps 2000] [--interval 100]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from featherflow.tuner import (
    FunctionTuner,
    GridSearchOracle,
    HyperParameters,
    PopulationBasedTraining,
    RandomSearchOracle,
)
from featherflow.tuner.pbt.problems import NoisyQuadratic

MIN_LR, MAX_LR = 1e-3, 1.0


def best_fixed_rate(problem: NoisyQuadratic, steps: int) -> tuple[float, float]:
    rates = np.logspace(np.log10(MIN_LR), np.log10(MAX_LR), 121)
    losses = [problem.expected_loss(np.full(steps, lr)) for lr in rates]
    best = int(np.argmin(losses))
    return float(rates[best]), float(losses[best])


def run_seed(problem: NoisyQuadratic, seed: int, members: int, steps: int, interval: int, folder: str) -> dict:
    space = problem.search_space(MIN_LR, MAX_LR)
    started = time.perf_counter()
    pbt = PopulationBasedTraining(hyperparameters=space, train_function=problem.train, population_size=members,
                                  objective="loss", perturbation_interval=interval, synchronous=True, seed=seed,
                                  directory=folder, project_name=f"pbt_{seed}", checkpoints="memory", verbose=0)
    pbt.search(steps=steps)
    pbt_seconds = time.perf_counter() - started
    pbt_steps = sum(t.info["stop"] - t.info["start"] for t in pbt.trials.values())
    random_search = FunctionTuner(RandomSearchOracle("loss", max_trials=members, hyperparameters=space, seed=seed),
                                  problem.run, directory=folder, project_name=f"random_{seed}", verbose=0)
    random_search.search()
    grid = HyperParameters()
    grid.Float("learning_rate", MIN_LR, MAX_LR, step=(MAX_LR / MIN_LR) ** (1 / (members - 1)), sampling="log")
    grid_search = FunctionTuner(GridSearchOracle("loss", hyperparameters=grid, seed=seed), problem.run,
                                directory=folder, project_name=f"grid_{seed}", verbose=0)
    grid_search.search()
    schedule = [e["values"]["learning_rate"] for e in pbt.schedule()]
    return {"pbt": pbt.best_score, "random": random_search.best_score, "grid": grid_search.best_score,
            "pbt_steps": pbt_steps, "random_steps": len(random_search.trials) * problem.steps,
            "grid_steps": len(grid_search.trials) * problem.steps, "schedule": schedule,
            "random_lr": random_search.best_trial().values["learning_rate"],
            "grid_lr": grid_search.best_trial().values["learning_rate"], "pbt_seconds": pbt_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--interval", type=int, default=100)
    parser.add_argument("--dim", type=int, default=200)
    args = parser.parse_args()
    problem = NoisyQuadratic(dim=args.dim, steps=args.steps)

    print("The optimum moves: best fixed learning rate by training length (exact expected loss)")
    for steps in (args.steps // 20, args.steps // 4, args.steps):
        lr, loss = best_fixed_rate(problem, steps)
        print(f"  {steps:6d} steps: best fixed lr {lr:.4f} -> expected loss {loss:.4f}")
    print()
    print(f"Budget per method: {args.members} x {args.steps} = {args.members * args.steps} SGD steps; "
          f"PBT interval {args.interval} steps; loss of the best member/trial at the end (lower is better)")
    header = f"{'seed':>4} | {'PBT':>8} | {'Random':>8} | {'Grid':>8} | {'PBT / best other':>16} | PBT lr schedule"
    print(header)
    print("-" * len(header))
    results = []
    with tempfile.TemporaryDirectory(prefix="pbt_schedule_") as folder:
        for seed in range(args.seeds):
            result = run_seed(problem, seed, args.members, args.steps, args.interval, folder)
            assert result["pbt_steps"] == result["random_steps"] == result["grid_steps"]
            results.append(result)
            ratio = result["pbt"] / min(result["random"], result["grid"])
            marks = result["schedule"][:: max(1, len(result["schedule"]) // 5)] + result["schedule"][-1:]
            print(f"{seed:>4} | {result['pbt']:8.4f} | {result['random']:8.4f} | {result['grid']:8.4f} | "
                  f"{ratio:16.3f} | {' -> '.join(f'{lr:.3g}' for lr in marks)}", flush=True)
    ratios = [r["pbt"] / min(r["random"], r["grid"]) for r in results]
    wins = sum(ratio < 1 for ratio in ratios)
    print("-" * len(header))
    print(f"median | {statistics.median(r['pbt'] for r in results):8.4f} | "
          f"{statistics.median(r['random'] for r in results):8.4f} | "
          f"{statistics.median(r['grid'] for r in results):8.4f} | {statistics.median(ratios):16.3f}")
    random_rates = ", ".join(f"{r['random_lr']:.3g}" for r in results)
    grid_rates = ", ".join(f"{r['grid_lr']:.3g}" for r in results)
    print(f"PBT better than both on {wins}/{len(results)} seeds; worst ratio {max(ratios):.3f}. Best fixed rates "
          f"found: random {random_rates}; grid {grid_rates}. PBT time per seed "
          f"{statistics.median(r['pbt_seconds'] for r in results):.1f}s (median)")


if __name__ == "__main__":
    main()
