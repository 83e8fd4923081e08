"""Neuroevolution benchmarks: LunarLander-v3 with the GA and ES, and MNIST (sample) with ES, GA and backprop.

``lunar``: for each seed, the GA (Such et al., 2017) and the ES (Salimans et al., 2017) train an 8-32-4 tanh
MLP on LunarLander-v3 with ``--workers`` worker processes and a ``--budget`` (seconds). When the elite's
re-evaluated score passes 200, it is checked on ``VALIDATION_EPISODES`` fresh episodes (their steps count as
training steps); the run stops once their mean minus two standard errors is >= 200. The final elite is then scored on 100 fresh episodes:
solved means a mean return >= 200. Printed per seed: solved, final mean, generations, environment steps,
wall time and CPU time (this process and its workers). ``--reference`` also runs the plain NumPy GA the issue
quotes (population 200, T=20, sigma 0.05, 3 episodes per evaluation, top 10 re-evaluated on 10, one process,
the gymnasium env as ``gymnasium.make`` returns it) on the same machine, and ``--peers`` PyGAD and EvoTorch
where importable.

``mnist``: a 784-32-10 MLP on the bundled MNIST sample (4,000 train / 1,000 test digits); ES and GA each get
``--budget`` seconds (default 180) on ``--workers`` workers, backprop (Adam, batch 32) the same budget; printed:
the elite's test accuracy every 10 generations, then test accuracy, generations/epochs, wall and CPU time.

``--cpu-budget`` budgets CPU seconds (``workers x budget``: this process plus its live workers, read from
/proc) instead of wall seconds. On a shared machine whose load is far above its core count, the wall clock
measures the neighbours; the CPU budget is what the run would have had on dedicated cores.

Run: ``.venv/bin/python benchmarks/neuroevolution.py lunar [--seeds 0 1 2 3 4] [--algorithms ga es]``
     ``.venv/bin/python benchmarks/neuroevolution.py mnist [--budget 180]``

Measured on the shared 2-core machine (load average 3 to 17 from other work; CPU seconds = this process plus
its 2 workers), LunarLander-v3, final elite over 100 fresh episodes, all 5 seeds solved by both (seeds 0 and
1 ran with an earlier stop rule, a plain validation mean >= 210, which once stopped GA seed 2 on a lucky
validation at 166 over 100 episodes; seeds 2-4 with the confidence bound):

* GA: final means 253/204/247/217/208, environment steps 1.32/2.58/2.66/1.06/1.66 M (median 1.66 M),
  CPU 138/303/237/85/150 s, wall 364/1784/723/211/238 s;
* ES: final means 224/206/213/221/207, steps 0.40/0.81/0.61/3.24/0.92 M (median 0.81 M),
  CPU 54/107/56/311/89 s, wall 246/561/269/727/133 s;
* the plain reference GA (``--reference``, one process), seed 0: 5.93 M steps, 534 CPU s for an elite that
  scored >= 230 on 10 episodes but 180 on 100 fresh ones.

MNIST sample, 180 s wall at load ~15 (about 23 CPU s each): ES 0.853, GA 0.633, backprop 0.914; ES with a CPU
budget reaches 0.874 after 180 generations (39 CPU s, 173 s wall) and then hovers at 0.86-0.875.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from featherflow import keras  # noqa: E402
from featherflow.distribute import ProcessExecutor  # noqa: E402
from featherflow.evolution import (  # noqa: E402
    Callback,
    DatasetFitness,
    EvolutionStrategy,
    GeneticAlgorithm,
    GymFitness,
)

ENV_ID = "LunarLander-v3"
SOLVED = 200.0
VALIDATION_EPISODES = 30
FINAL_EPISODES = 100

GA_LUNAR = {"population_size": 100, "truncation": 10, "elites": 1, "sigma": 0.05, "reevaluate_top": 5,
            "reevaluation_episodes": 5}
GA_LUNAR_FITNESS = {"episodes": 1, "common_seeds": True}
ES_LUNAR = {"population_size": 60, "sigma": 0.1, "learning_rate": 0.03, "weight_decay": 0.005,
            "observation_normalization": True, "reevaluation_episodes": 5}
ES_LUNAR_FITNESS = {"episodes": 1}


def lunar_model(seed: int):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(32, activation="tanh"),
                             keras.layers.Dense(4)])


def cpu_seconds(worker_pids=()) -> float:
    """CPU seconds of this process, its finished children and the live worker processes ``worker_pids``."""
    times = os.times()
    total = times.user + times.system + times.children_user + times.children_system
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in worker_pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


class CpuBudget(Callback):
    """Stops once the run has used ``seconds`` of CPU time (this process plus its workers).

    On a shared, overloaded machine wall time says little; ``workers x wall budget`` CPU seconds is what
    the workers would have had on dedicated cores.
    """

    def __init__(self, seconds: float, executor, start: float):
        self.seconds, self.executor, self.start = seconds, executor, start

    def on_generation_end(self, algorithm, generation, logs):
        return cpu_seconds(self.executor.worker_pids) - self.start >= self.seconds


class SolvedCheck(Callback):
    """Stops once the elite is solved with confidence on fresh validation episodes.

    Checked whenever the elite's re-evaluated score passes 200: the elite plays VALIDATION_EPISODES fresh
    episodes (their steps count as training cost) and the run stops when the lower bound
    ``mean - 2 * std / sqrt(episodes)`` is >= 200. A plain mean threshold is checked so often during a run
    that a lucky validation eventually passes (one elite's 30-episode mean read 210 and its 100-episode mean
    166).
    """

    def __init__(self, fitness: GymFitness, seed: int):
        self.fitness, self.seed, self.checks = fitness, seed, 0

    def on_generation_end(self, algorithm, generation, logs):
        if logs["elite"] < SOLVED:
            return False
        self.checks += 1
        result = self.fitness.evaluate_model(algorithm.best_model(), episodes=VALIDATION_EPISODES,
                                             seed=self.seed * 1000 + self.checks)
        algorithm.steps += result["steps"]  # validation episodes are training cost
        algorithm.evaluations += VALIDATION_EPISODES
        bound = result["mean"] - 2 * result["std"] / np.sqrt(VALIDATION_EPISODES)
        print(f"  validation of the elite: {result['mean']:.1f} over {VALIDATION_EPISODES} episodes "
              f"(lower bound {bound:.1f})", flush=True)
        return bound >= SOLVED


def run_lunar(algorithm: str, seed: int, workers: int, budget: float, verbose: int, cpu_budget: bool) -> dict:
    model = lunar_model(seed)
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    with ProcessExecutor(max_workers=workers) as executor:
        if algorithm == "ga":
            fitness = GymFitness(ENV_ID, seed=seed, **GA_LUNAR_FITNESS)
            algo = GeneticAlgorithm(model, fitness, seed=seed, executor=executor, **GA_LUNAR)
        else:
            fitness = GymFitness(ENV_ID, seed=seed, **ES_LUNAR_FITNESS)
            algo = EvolutionStrategy(model, fitness, seed=seed, executor=executor, **ES_LUNAR)
        callbacks = [SolvedCheck(fitness, seed)]
        if cpu_budget:
            callbacks.append(CpuBudget(workers * budget, executor, start_cpu))
        algo.run(time_budget=None if cpu_budget else budget, generations=None if not cpu_budget else 100_000,
                 callbacks=callbacks, verbose=verbose)
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    final = fitness.evaluate_model(algo.best_model(), episodes=FINAL_EPISODES, seed=99_000 + seed)
    return {"algorithm": algorithm, "seed": seed, "solved": final["mean"] >= SOLVED, "final": final["mean"],
            "generations": algo.generation, "steps": algo.steps, "wall": wall, "cpu": cpu}


def reference_ga(seed: int, budget: float, cpu_budget: bool = False) -> dict:
    """The plain NumPy GA the issue quotes as the reference (one process, wrapped env, per-step forward)."""
    import gymnasium as gym

    rng = np.random.default_rng(seed)
    env = gym.make(ENV_ID)
    sizes = [(8, 32), (32,), (32, 4), (4,)]
    n = sum(int(np.prod(s)) for s in sizes)

    def policy(theta, obs):
        w1, b1 = theta[:256].reshape(8, 32), theta[256:288]
        w2, b2 = theta[288:416].reshape(32, 4), theta[416:420]
        return int(np.argmax(np.tanh(obs @ w1 + b1) @ w2 + b2))

    def episode_return(theta):
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        total, steps, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(theta, obs))
            total, steps, done = total + reward, steps + 1, terminated or truncated
        return total, steps

    def score(theta, episodes):
        results = [episode_return(theta) for _ in range(episodes)]
        return np.mean([r for r, _ in results]), sum(s for _, s in results)

    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    population = [rng.standard_normal(n) * 0.5 for _ in range(200)]
    elite, total_steps, generation = None, 0, 0
    def spent() -> float:
        return cpu_seconds() - start_cpu if cpu_budget else time.perf_counter() - start_wall

    while spent() < budget:
        generation += 1
        scored = [score(theta, 3) for theta in population]
        total_steps += sum(s for _, s in scored)
        order = np.argsort([-f for f, _ in scored])
        candidates = [population[i] for i in order[:10 if elite is None else 9]] + ([] if elite is None else [elite])
        rescored = [score(theta, 10) for theta in candidates]
        total_steps += sum(s for _, s in rescored)
        best = int(np.argmax([f for f, _ in rescored]))
        elite, elite_score = candidates[best], rescored[best][0]
        if elite_score >= 230:
            break
        parents = [elite] + [population[i] for i in order[:19]]
        population = [elite] + [parents[rng.integers(20)] + 0.05 * rng.standard_normal(n) for _ in range(199)]
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    rng = np.random.default_rng(99_000 + seed)
    final = np.mean([episode_return(elite)[0] for _ in range(FINAL_EPISODES)])
    return {"algorithm": "reference", "seed": seed, "solved": final >= SOLVED, "final": final,
            "generations": generation, "steps": total_steps, "wall": wall, "cpu": cpu}


def print_row(row: dict) -> None:
    print(f"{row['algorithm']:>10} seed {row['seed']}: {'solved' if row['solved'] else 'NOT solved'} "
          f"(final mean {row['final']:.1f} over {FINAL_EPISODES} episodes) - generations {row['generations']} - "
          f"steps {row['steps'] / 1e6:.2f} M - wall {row['wall']:.0f} s - cpu {row['cpu']:.0f} s", flush=True)


def lunar(args) -> None:
    rows = []
    for seed in args.seeds:
        for algorithm in args.algorithms:
            rows.append(run_lunar(algorithm, seed, args.workers, args.budget, args.verbose, args.cpu_budget))
            print_row(rows[-1])
        if args.reference:
            rows.append(reference_ga(seed, args.budget, args.cpu_budget))
            print_row(rows[-1])
    print("\nsummary")
    for algorithm in sorted({r["algorithm"] for r in rows}):
        mine = [r for r in rows if r["algorithm"] == algorithm]
        solved = [r for r in mine if r["solved"]]
        print(f"{algorithm:>10}: solved {len(solved)}/{len(mine)} seeds; median steps "
              f"{np.median([r['steps'] for r in mine]) / 1e6:.2f} M, median wall {np.median([r['wall'] for r in mine]):.0f}"
              f" s, median cpu {np.median([r['cpu'] for r in mine]):.0f} s")
    if args.peers:
        peers(args)


def peers(args) -> None:
    for name in ("pygad", "evotorch"):
        try:
            __import__(name)
        except ImportError:
            print(f"{name}: not installed (pip install {name}); no figure")
            continue
        if name == "pygad":
            print(pygad_lunar(args.seeds[0], args.budget))
        else:
            print("evotorch: installed, but no runner is written for it here")


def pygad_lunar(seed: int, budget: float) -> str:
    """PyGAD's GA (steady-state selection, its defaults otherwise) on the same MLP and task and budget."""
    import gymnasium as gym
    import pygad

    env = gym.make(ENV_ID)
    rng = np.random.default_rng(seed)
    steps = [0]

    def policy(theta, obs):
        w1, b1 = theta[:256].reshape(8, 32), theta[256:288]
        w2, b2 = theta[288:416].reshape(32, 4), theta[416:420]
        return int(np.argmax(np.tanh(obs @ w1 + b1) @ w2 + b2))

    def fitness(ga, theta, index):
        total = 0.0
        for _ in range(3):
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
            done = False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(policy(theta, obs))
                total, done = total + reward, terminated or truncated
                steps[0] += 1
        return total / 3

    start = time.perf_counter()

    def on_generation(ga):
        return "stop" if time.perf_counter() - start > budget or ga.best_solution()[1] >= 230 else None

    ga = pygad.GA(num_generations=10_000, num_parents_mating=20, sol_per_pop=200, num_genes=420,
                  fitness_func=fitness, init_range_low=-1, init_range_high=1, mutation_percent_genes=10,
                  random_seed=seed, on_generation=on_generation, suppress_warnings=True)
    ga.run()
    wall = time.perf_counter() - start
    theta = ga.best_solution()[0]
    final = []
    for e in range(FINAL_EPISODES):
        obs, _ = env.reset(seed=99_000 + e)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(theta, obs))
            total, done = total + reward, terminated or truncated
        final.append(total)
    return (f"pygad seed {seed}: final mean {np.mean(final):.1f} - generations {ga.generations_completed} - "
            f"steps {steps[0] / 1e6:.2f} M - wall {wall:.0f} s")


# -- MNIST -------------------------------------------------------------------------------------------------
ES_MNIST = {"population_size": 100, "sigma": 0.02, "learning_rate": 0.02, "weight_decay": 0.0,
            "reevaluation_episodes": 1}
GA_MNIST = {"population_size": 100, "truncation": 10, "sigma": 0.02, "reevaluate_top": 5, "reevaluation_episodes": 2}


def mnist_data():
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(sample=True)
    prepare = lambda x: (x.reshape(len(x), -1) / 255.0).astype("float32")  # noqa: E731
    return prepare(x_train), y_train.astype("int64"), prepare(x_test), y_test.astype("int64")


def mnist_model(seed: int):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(32, activation="tanh"),
                             keras.layers.Dense(10, activation="softmax")])


def test_accuracy(model, x, y) -> float:
    return float((model.predict(x, verbose=0).argmax(axis=1) == y).mean())


class AccuracyLog(Callback):
    """Prints the elite's test accuracy every ``every`` generations with the CPU and wall time spent so far."""

    def __init__(self, x, y, executor, start_cpu, start_wall, every=10):
        self.x, self.y, self.executor, self.every = x, y, executor, every
        self.start_cpu, self.start_wall = start_cpu, start_wall

    def on_generation_end(self, algorithm, generation, logs):
        if (generation + 1) % self.every == 0:
            accuracy = test_accuracy(algorithm.best_model(), self.x, self.y)
            print(f"    generation {generation + 1}: test accuracy {accuracy:.4f} - cpu "
                  f"{cpu_seconds(self.executor.worker_pids) - self.start_cpu:.0f} s - wall "
                  f"{time.perf_counter() - self.start_wall:.0f} s", flush=True)


def mnist(args) -> None:
    x, y, x_test, y_test = mnist_data()
    seed = args.seeds[0]
    for algorithm in args.algorithms + ["backprop"]:
        model = mnist_model(seed)
        start, start_cpu = time.perf_counter(), cpu_seconds()
        if algorithm == "backprop":
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            epochs = 0
            while (cpu_seconds() - start_cpu < args.workers * args.budget if args.cpu_budget
                   else time.perf_counter() - start < args.budget):
                model.fit(x, y, batch_size=32, epochs=1, verbose=0)
                epochs += 1
            done = f"{epochs} epochs"
        else:
            with ProcessExecutor(max_workers=args.workers) as executor:
                fitness = DatasetFitness(x, y, loss="sparse_categorical_crossentropy", batch_size=500)
                if algorithm == "es":
                    algo = EvolutionStrategy(model, fitness, seed=seed, executor=executor, **ES_MNIST)
                else:
                    algo = GeneticAlgorithm(model, fitness, seed=seed, executor=executor, **GA_MNIST)
                callbacks = [AccuracyLog(x_test, y_test, executor, start_cpu, start)]
                if args.cpu_budget:
                    callbacks.append(CpuBudget(args.workers * args.budget, executor, start_cpu))
                    algo.run(generations=100_000, callbacks=callbacks, verbose=args.verbose)
                else:
                    algo.run(time_budget=args.budget, callbacks=callbacks, verbose=args.verbose)
            model = algo.best_model()
            done = f"{algo.generation} generations"
        wall, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
        print(f"{algorithm:>9}: test accuracy {test_accuracy(model, x_test, y_test):.4f} after {done} "
              f"- wall {wall:.0f} s - cpu {cpu:.0f} s", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("task", choices=["lunar", "mnist"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--algorithms", nargs="+", default=["ga", "es"], choices=["ga", "es"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=float, default=None, help="seconds per run (600 lunar, 180 mnist)")
    parser.add_argument("--cpu-budget", action="store_true",
                        help="budget CPU time (workers x budget CPU seconds) instead of wall time: on a shared, "
                             "overloaded machine this is what dedicated cores would have given")
    parser.add_argument("--reference", action="store_true", help="also run the plain NumPy reference GA")
    parser.add_argument("--peers", action="store_true", help="also run PyGAD / EvoTorch where installed")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 600.0 if args.task == "lunar" else 180.0
    print(f"{args.task}: seeds {args.seeds}, workers {args.workers}, budget {args.budget:.0f} s, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    (lunar if args.task == "lunar" else mnist)(args)


if __name__ == "__main__":
    main()
