"""Parallel evaluation: same seed, same run on 1 or 2 workers; dead workers; Ray and Dask."""

import concurrent.futures as cf
import multiprocessing
import os

import evo_tasks
import numpy as np
import pytest

from featherflow.distribute import FuturesExecutor, InProcessExecutor, ProcessExecutor
from featherflow.evolution import DatasetFitness, EvolutionStrategy, GeneticAlgorithm, GenomeDecoder, ParameterLayout

gym = pytest.importorskip("gymnasium")

from featherflow.evolution import GymFitness  # noqa: E402

HISTORY = ("generation", "best", "elite", "mean", "evaluations", "steps")


@pytest.fixture(scope="module")
def pools():
    one, two = ProcessExecutor(max_workers=1), ProcessExecutor(max_workers=2)
    yield one, two
    one.shutdown()
    two.shutdown()


def ga_on_cartpole(executor, generations=3):
    fitness = GymFitness("CartPole-v1", episodes=2, seed=3, max_steps=200)
    ga = GeneticAlgorithm(evo_tasks.cartpole_model(), fitness, population_size=16, truncation=4, sigma=0.1,
                          reevaluate_top=4, reevaluation_episodes=3, seed=21, executor=executor)
    ga.run(generations=generations, verbose=0)
    return ga


def es_on_data(executor):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model = evo_tasks.tiny_model(inputs=2, hidden=3, outputs=2)
    es = EvolutionStrategy(model, DatasetFitness(x, y, loss="sparse_categorical_crossentropy", batch_size=100),
                           population_size=40, sigma=0.1, learning_rate=0.05, reevaluation_episodes=2, seed=8,
                           executor=executor)
    es.run(generations=3, verbose=0)
    return es


def test_same_seed_same_run_on_one_and_two_process_workers(pools):
    one, two = pools
    runs = [ga_on_cartpole(ex) for ex in (InProcessExecutor(), one, two)]
    for other in runs[1:]:
        for key in HISTORY:
            assert other.history[key] == runs[0].history[key]
        assert other.elites == runs[0].elites and other.parents == runs[0].parents
    es_runs = [es_on_data(ex) for ex in (one, two)]
    assert np.array_equal(es_runs[0].theta, es_runs[1].theta)
    assert es_runs[0].history["elite"] == es_runs[1].history["elite"]


def test_genomes_rebuild_bit_exactly_in_another_process(pools):
    genome, sigma = (5, 6, 7, 8), 0.03
    local = GenomeDecoder(ParameterLayout(evo_tasks.tiny_model(inputs=5, hidden=7, outputs=3)), sigma).decode(genome)
    data, pid = pools[1].submit(evo_tasks.decode_in_worker, genome, sigma).result(timeout=120)
    assert pid != os.getpid()
    assert np.frombuffer(data, dtype=np.float32).tobytes() == local.tobytes()


def test_a_fitness_error_reaches_the_caller(pools):
    ga = GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.fitness_error, population_size=4, truncation=2,
                          executor=pools[1])
    with pytest.raises(KeyError, match="broken fitness"):
        ga.run(generations=1, verbose=0)


def die_once_run(executor, marker=None):
    ga = GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.DieOnce(marker), population_size=8, truncation=3,
                          sigma=0.1, reevaluate_top=2, reevaluation_episodes=1, seed=4, executor=executor)
    ga.run(generations=3, verbose=0)
    return ga


def test_individuals_of_a_dead_worker_are_evaluated_elsewhere(pools, tmp_path):
    expected = die_once_run(InProcessExecutor())
    marker = str(tmp_path / "died")
    pool = pools[1]  # this pool reschedules the dead worker's chunk itself
    deaths = pool.deaths
    ga = die_once_run(pool, marker)
    assert pool.deaths == deaths + 1 and os.path.exists(marker)
    assert ga.history["elite"] == expected.history["elite"] and ga.elites == expected.elites
    os.unlink(marker)
    # a standard-library pool breaks for good when a worker dies: the chunks are evaluated in this process
    stdlib = cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    with FuturesExecutor(stdlib, owns=True) as broken:
        ga = die_once_run(broken, marker)
    assert os.path.exists(marker)
    assert ga.history["elite"] == expected.history["elite"] and ga.elites == expected.elites


@pytest.mark.parametrize("backend", ["ray", "dask"])
def test_cluster_executors_give_the_same_run(backend):
    if backend == "ray" and not os.environ.get("FEATHERFLOW_SLOW_TESTS"):
        pytest.skip("starting Ray takes 20-80 s on a shared 2-core machine; set FEATHERFLOW_SLOW_TESTS=1 to run")
    pytest.importorskip(backend if backend == "ray" else "distributed")
    from featherflow.distribute import DaskExecutor, RayExecutor

    executor = RayExecutor(num_cpus=2) if backend == "ray" else DaskExecutor(n_workers=2)
    try:
        ga = ga_on_cartpole(executor, generations=1)  # the cluster's start-up dominates: one generation
    finally:
        executor.shutdown()
    expected = ga_on_cartpole(InProcessExecutor(), generations=1)
    assert ga.history["elite"] == expected.history["elite"] and ga.elites == expected.elites
