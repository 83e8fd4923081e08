"""Search quality: median regret of RandomSearch, our Bayesian optimisers and Optuna's TPE at equal budgets.

Runs each method on Branin (2-d, 30 trials) and Hartmann-6 (6-d, 60 trials) over 10 seeds and prints the median
(and quartiles of the) simple regret ``best value found - global minimum``. Our methods: ``random``
(RandomSearchOracle), ``gp`` (BayesianOptimizationOracle: GP + expected improvement, the default of
``BayesianOptimization``), ``tpe`` (TPEOracle). Peers, where installed: Optuna's ``TPESampler`` (default settings,
and ``multivariate=True``) and KerasTuner's ``BayesianOptimizationOracle``.

Optuna is not a dependency of featherflow: install it in another environment and point the script at it, e.g.

    python -m venv /tmp/optuna-venv && /tmp/optuna-venv/bin/pip install optuna
    .venv/bin/python benchmarks/search_quality.py --peer-python /tmp/optuna-venv/bin/python

(the peer part runs in that interpreter as a subprocess; ``.venv-bench/bin/python`` is used when it exists).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

# Small matrices: one BLAS thread is faster and keeps timings comparable on a shared machine (set before NumPy).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
HARTMANN_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
                       [17, 8, 0.05, 10, 0.1, 14]])
HARTMANN_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])


def branin(x: list[float]) -> float:
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(x: list[float]) -> float:
    x = np.asarray(x)
    return float(-(HARTMANN_ALPHA * np.exp(-(HARTMANN_A * (x - HARTMANN_P) ** 2).sum(1))).sum())


PROBLEMS = {
    "branin": {"function": branin, "bounds": [(-5.0, 10.0), (0.0, 15.0)], "minimum": 0.397887357729739,
               "budget": 30},
    "hartmann6": {"function": hartmann6, "bounds": [(0.0, 1.0)] * 6, "minimum": -3.32236801141551, "budget": 60},
}


def run_ours(method: str, problem: dict, seed: int, budget: int) -> float:
    sys.path.insert(0, REPO)
    from featherflow.tuner import (
        BayesianOptimizationOracle,
        HyperParameters,
        RandomSearchOracle,
        TPEOracle,
        Trial,
        TrialStatus,
    )
    from featherflow.tuner.oracles import DONE, WAIT

    hp = HyperParameters()
    names = [f"x{i}" for i in range(len(problem["bounds"]))]
    for name, (low, high) in zip(names, problem["bounds"]):
        hp.Float(name, low, high)
    cls = {"random": RandomSearchOracle, "gp": BayesianOptimizationOracle, "tpe": TPEOracle}[method]
    oracle = cls("loss", max_trials=budget, hyperparameters=hp, seed=seed)
    trials: dict = {}
    best = math.inf
    while (proposal := oracle.propose(trials)) not in (DONE, WAIT):
        value = problem["function"]([proposal.values[n] for n in names])
        trials[proposal.index] = Trial(proposal.index, hp.with_values(proposal.values), TrialStatus.COMPLETED,
                                       score=value)
        best = min(best, value)
    return best - problem["minimum"]


def run_optuna(method: str, problem: dict, seed: int, budget: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=method == "optuna-tpe-mv")
    study = optuna.create_study(sampler=sampler, direction="minimize")

    def objective(trial):
        return problem["function"]([trial.suggest_float(f"x{i}", lo, hi)
                                    for i, (lo, hi) in enumerate(problem["bounds"])])

    study.optimize(objective, n_trials=budget)
    return study.best_value - problem["minimum"]


def run_kerastuner(method: str, problem: dict, seed: int, budget: int) -> float:
    import keras_tuner as kt

    hp = kt.HyperParameters()
    for i, (lo, hi) in enumerate(problem["bounds"]):
        hp.Float(f"x{i}", lo, hi)
    oracle = kt.oracles.BayesianOptimizationOracle(objective=kt.Objective("loss", "min"), max_trials=budget,
                                                   hyperparameters=hp, seed=seed)

    class FunctionTuner(kt.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            values = trial.hyperparameters.values
            return {"loss": problem["function"]([values[f"x{i}"] for i in range(len(problem["bounds"]))])}

    import tempfile

    tuner = FunctionTuner(oracle=oracle, directory=tempfile.mkdtemp(), overwrite=True)
    tuner.search(verbose=0)
    best = tuner.oracle.get_best_trials(1)[0].score
    return best - problem["minimum"]


RUNNERS = {"random": run_ours, "gp": run_ours, "tpe": run_ours, "optuna-tpe": run_optuna,
           "optuna-tpe-mv": run_optuna, "kerastuner-bo": run_kerastuner}


def measure(methods: list[str], problems: list[str], seeds: int) -> dict:
    results: dict = {}
    for problem_name in problems:
        problem = PROBLEMS[problem_name]
        for method in methods:
            start = time.perf_counter()
            try:
                regrets = [RUNNERS[method](method, problem, seed, problem["budget"]) for seed in range(seeds)]
            except ImportError:
                continue
            results.setdefault(problem_name, {})[method] = {"regrets": regrets,
                                                            "seconds": time.perf_counter() - start}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--methods", nargs="*", default=["random", "gp", "tpe"])
    parser.add_argument("--peers", nargs="*", default=["optuna-tpe", "optuna-tpe-mv", "kerastuner-bo"])
    parser.add_argument("--peer-python", default=None, help="interpreter with optuna / keras_tuner installed")
    parser.add_argument("--json", action="store_true", help="print raw results as JSON (used for the peer run)")
    args = parser.parse_args()

    results = measure(args.methods, args.problems, args.seeds)
    peer_python = args.peer_python
    if peer_python is None and os.path.exists(os.path.join(REPO, ".venv-bench", "bin", "python")):
        peer_python = os.path.join(REPO, ".venv-bench", "bin", "python")
    if args.peers and not args.json:
        if peer_python:
            command = [peer_python, os.path.abspath(__file__), "--json", "--seeds", str(args.seeds), "--methods",
                       *args.peers, "--peers", "--problems", *args.problems]
            peer = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        else:
            peer = measure(args.peers, args.problems, args.seeds)
        for problem_name, by_method in peer.items():
            results.setdefault(problem_name, {}).update(by_method)
    if args.json:
        print(json.dumps(results))
        return
    print(f"Median simple regret over {args.seeds} seeds (25th-75th percentile), equal trial budgets")
    for problem_name, by_method in results.items():
        print(f"\n{problem_name} ({PROBLEMS[problem_name]['budget']} trials)")
        print(f"{'method':<16}{'median regret':>15}{'p25':>11}{'p75':>11}{'seconds':>10}")
        for method, result in by_method.items():
            q25, q50, q75 = np.percentile(result["regrets"], [25, 50, 75])
            print(f"{method:<16}{q50:>15.4g}{q25:>11.3g}{q75:>11.3g}{result['seconds']:>10.1f}")
    missing = [p for p in args.peers if not any(p in r for r in results.values())]
    if missing:
        print(f"\nnot installed (skipped): {', '.join(missing)}")


if __name__ == "__main__":
    main()
