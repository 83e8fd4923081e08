"""A fitness that returns NaN: the individual counts as the worst (-inf), a RuntimeWarning per generation counts
them, and ``best_model()`` is an individual that had a score."""

import warnings

import numpy as np
import pytest

from featherflow import keras
from featherflow.evolution import EvolutionStrategy, GeneticAlgorithm
from featherflow.evolution.es import shape_fitness


def one_weight_model(value):
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.array([[value]], dtype="float32")])
    return model


def nan_above(limit):
    """Best at w = 0.5, NaN where w > limit (a model that 'diverges' there)."""

    def fitness(model):
        w = float(model.get_weights()[0][0, 0])
        return float("nan") if w > limit else -abs(w - 0.5)

    return fitness


def run_collecting(algorithm, generations):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = algorithm.run(generations=generations, verbose=0)
    return history, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_ga_counts_nan_as_worst_and_never_returns_one():
    keras.utils.set_random_seed(0)
    ga = GeneticAlgorithm(one_weight_model(0.3), nan_above(0.35), population_size=20, truncation=5, sigma=0.1,
                          reevaluate_top=0, seed=1, init="model")
    _, caught = run_collecting(ga, 1)
    nan_count = int(np.isneginf(ga.scores).sum())
    assert 0 < nan_count < 20
    assert [str(w.message) for w in caught] == [
        f"Generation 1: {nan_count} of 20 fitness values were NaN; they count as the worst score (-inf). Check the "
        "fitness function (a diverging model or a NaN loss gives NaN)."]
    for score, genome in zip(ga.scores, ga.population):
        assert (score == -np.inf) == (float(ga.decode(genome)[0]) > 0.35)
    assert not any(float(ga.decode(parent)[0]) > 0.35 for parent in ga.parents)  # never selected
    history, caught = run_collecting(ga, 6)
    assert caught, "every generation with NaN values says so"
    assert all(np.isfinite(history[key]).all() for key in ("best", "elite", "mean"))  # no "best: nan"
    best = float(ga.best_model().get_weights()[0][0, 0])
    assert best <= 0.35 and ga.champion_score == pytest.approx(-abs(best - 0.5), abs=1e-6)


def test_ga_with_every_individual_nan_reports_all_of_them():
    ga = GeneticAlgorithm(one_weight_model(0.0), lambda model: float("nan"), population_size=6, truncation=2,
                          sigma=0.1, reevaluate_top=0, seed=0)
    history, caught = run_collecting(ga, 2)
    assert [str(w.message).split(";")[0] for w in caught] == [
        "Generation 1: 6 of 6 fitness values were NaN", "Generation 2: 5 of 5 fitness values were NaN"]
    assert history["best"] == [-np.inf, -np.inf] and all(np.isnan(history["mean"]))


def test_es_ranks_nan_lowest_and_keeps_a_scored_centre():
    keras.utils.set_random_seed(0)
    es = EvolutionStrategy(one_weight_model(0.2), nan_above(0.3), population_size=20, sigma=0.1,
                           learning_rate=0.05, weight_decay=0.0, reevaluation_episodes=1, seed=0)
    history, caught = run_collecting(es, 12)
    assert caught and all("fitness values were NaN" in str(w.message) for w in caught)
    assert np.isfinite(history["elite"]).all() and np.isfinite(history["mean"]).all()
    best = float(es.best_model().get_weights()[0][0, 0])
    assert best <= 0.3 and es.elite_score > -np.inf


def test_shaping_puts_nan_below_every_score():
    shaped = shape_fitness([0.2, np.nan, -5.0, 1.0, np.nan, 0.0], "centered_rank")
    assert shaped[1] == shaped[4] < shaped[2] < shaped[5] < shaped[0] < shaped[3]
    assert np.isfinite(shape_fitness([1.0, np.nan, 3.0], "normalized")).all()
    assert shape_fitness([1.0, np.nan, 3.0], "none").tolist() == [1.0, 1.0, 3.0]
