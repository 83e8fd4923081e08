"""Evolutionary search: selection, crossover and mutation arithmetic, generations and elites, quality, resumption,
executors, and the Keras tuner."""

import concurrent.futures as cf
import math

import numpy as np
import pytest
from pbt_tasks import build_classifier, make_data

from featherflow.tuner import (
    EvolutionaryOracle,
    EvolutionarySearch,
    FunctionTuner,
    HyperParameters,
    Objective,
    RandomSearchOracle,
    Trial,
    TrialStatus,
)
from featherflow.tuner.evolutionary import crossover, mutate, mutate_value, select
from featherflow.tuner.oracles import DONE, WAIT

LOSS = Objective("loss", "min")


def sphere_space(dims=4):
    hp = HyperParameters()
    for i in range(dims):
        hp.Float(f"x{i}", -5.0, 5.0)
    return hp


def sphere(values, seed=None):
    return sum((v - 1.0) ** 2 for v in values.values())


def drive(oracle, function, space):
    trials = {}
    while (proposal := oracle.propose(trials)) not in (DONE, WAIT):
        trials[proposal.index] = Trial(proposal.index, space.with_values(proposal.values), info=proposal.info,
                                       status=TrialStatus.COMPLETED, score=function(proposal.values))
    return trials


def scored_trials(scores):
    return [Trial(i, HyperParameters(), status=TrialStatus.COMPLETED, score=s) for i, s in enumerate(scores)]


def test_tournament_selection_returns_the_best_drawn_member():
    population = scored_trials([0.5, 0.1, 0.9, 0.3, None])  # ranks: 1, 3, 0, 2, (failed) 4
    ranked = [1, 3, 0, 2, 4]
    for seed in range(40):
        got = select(population, LOSS, np.random.default_rng(seed), "tournament", tournament_size=2)
        drawn = np.random.default_rng(seed).choice(5, size=2, replace=False)
        assert got.index == ranked[int(min(drawn))]
    assert select(population, LOSS, np.random.default_rng(0), "tournament", tournament_size=5).index == 1


def test_truncation_selection_is_uniform_over_the_top_fraction():
    population = scored_trials([0.5, 0.1, 0.9, 0.3, 0.7, 0.2])
    picks = [select(population, LOSS, np.random.default_rng(s), "truncation", truncation_fraction=0.5).index
             for s in range(300)]
    assert set(picks) == {1, 5, 3}  # the best half
    assert all(60 < picks.count(i) < 140 for i in (1, 5, 3))


def test_uniform_crossover_takes_each_gene_from_either_parent():
    first, second = {"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 10, "b": 20, "c": 30}
    child = crossover(first, second, ["a", "b", "c", "d"], np.random.default_rng(4))
    rng = np.random.default_rng(4)
    expected = {}
    for name in "abcd":
        take_second = rng.random() < 0.5
        expected[name] = second[name] if take_second and name in second else first[name]
    assert child == expected


def test_mutation_moves_in_the_unit_scale_of_the_space():
    hp = HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Int("units", 8, 128, step=8)
    hp.Choice("act", ["relu", "tanh", "gelu"])
    hp.Boolean("flag")
    hp.Fixed("epochs", 3)
    rng, reference = np.random.default_rng(9), np.random.default_rng(9)
    got = mutate_value(hp.hyperparameter("lr"), 1e-3, rng, 0.1)
    p = (math.log(1e-3) - math.log(1e-4)) / (math.log(1e-1) - math.log(1e-4)) + reference.normal(0.0, 0.1)
    assert got == pytest.approx(math.exp(math.log(1e-4) + p * (math.log(1e-1) - math.log(1e-4))), rel=1e-12)
    units = mutate_value(hp.hyperparameter("units"), 64, np.random.default_rng(2), 0.2)
    assert units % 8 == 0 and 8 <= units <= 128
    assert mutate_value(hp.hyperparameter("flag"), True, rng, 0.1) is False
    assert {mutate_value(hp.hyperparameter("act"), "relu", np.random.default_rng(s), 0.1)
            for s in range(30)} == {"tanh", "gelu"}
    assert mutate_value(hp.hyperparameter("epochs"), 3, rng, 0.1) == 3
    values = {"lr": 1e-3, "units": 64, "act": "relu", "flag": False, "epochs": 3}
    unchanged, mutated = mutate(values, hp, ["lr", "units", "act", "flag"], np.random.default_rng(0), 0.0, 0.1)
    assert unchanged == values and mutated == []
    changed, mutated = mutate(values, hp, ["lr", "units", "act", "flag"], np.random.default_rng(0), 1.0, 0.1)
    assert mutated == ["lr", "units", "act", "flag"] and changed["flag"] is True and changed["act"] != "relu"


def test_generations_parents_and_elites():
    space = sphere_space()
    oracle = EvolutionaryOracle("loss", max_trials=6 + 4 * 3, population_size=6, elitism=2, selection="truncation",
                                truncation_fraction=0.5, hyperparameters=space, seed=1)
    trials = drive(oracle, sphere, space)
    assert len(trials) == 18
    assert [trials[i].info["generation"] for i in range(18)] == [0] * 6 + [1] * 4 + [2] * 4 + [3] * 4
    population = [trials[i] for i in range(6)]
    for generation in (1, 2, 3):
        children = [trials[i] for i in range(6 + 4 * (generation - 1), 6 + 4 * generation)]
        ranked = [t.index for t in sorted(population, key=lambda t: (t.score, t.index))]
        for child in children:
            # Truncation: the first parent from the best half, the second from the best half of the others.
            assert child.info["parents"][0] in ranked[:3] and set(child.info["parents"]) <= set(ranked[:4])
            assert len(child.info["parents"]) == (2 if child.info["crossover"] else 1)
        elites = sorted(population, key=lambda t: (t.score, t.index))[:2]
        assert [t.index for t in oracle.population(trials, generation)] == [t.index for t in elites + children]
        new_population = elites + children
        assert min(t.score for t in new_population) <= min(t.score for t in population)  # elites keep the best
        population = new_population
    assert len({tuple(t.values.values()) for t in trials.values()}) == 18  # no configuration tried twice


def test_a_generation_waits_for_the_previous_one():
    space = sphere_space(2)
    oracle = EvolutionaryOracle("loss", max_trials=10, population_size=3, hyperparameters=space, seed=0)
    trials = {}
    for _ in range(3):
        proposal = oracle.propose(trials)
        trials[proposal.index] = Trial(proposal.index, space.with_values(proposal.values), info=proposal.info)
    assert oracle.propose(trials) == WAIT  # generation 0 still running
    for trial in trials.values():
        trial.status, trial.score = TrialStatus.COMPLETED, sphere(trial.values)
    assert oracle.propose(trials).info["generation"] == 1


def test_evolution_beats_random_search_at_equal_budget():
    space = sphere_space(4)
    evolved, random = [], []
    for seed in range(4):
        ga = EvolutionaryOracle("loss", max_trials=80, population_size=10, hyperparameters=space, seed=seed)
        rs = RandomSearchOracle("loss", max_trials=80, hyperparameters=space, seed=seed)
        evolved.append(min(t.score for t in drive(ga, sphere, space).values()))
        random.append(min(t.score for t in drive(rs, sphere, space).values()))
    assert np.median(evolved) < 0.5 * np.median(random)
    assert all(e < r for e, r in zip(evolved, random))


def interrupt_at_seventh(values, seed=None):
    interrupt_at_seventh.calls += 1
    if interrupt_at_seventh.calls == 7:
        raise KeyboardInterrupt  # the search stops here, the trial left RUNNING on disk
    return sphere(values)


def make_tuner(function, directory, executor=None, overwrite=False):
    oracle = EvolutionaryOracle("loss", max_trials=14, population_size=4, elitism=1, hyperparameters=sphere_space(3),
                                seed=5)
    return FunctionTuner(oracle, function, directory=str(directory), executor=executor, overwrite=overwrite,
                         verbose=0)


def test_resume_after_interruption_and_same_trials_whatever_the_completion_order(tmp_path):
    reference = make_tuner(sphere, tmp_path / "reference")
    reference.search()
    interrupt_at_seventh.calls = 0
    interrupted = make_tuner(interrupt_at_seventh, tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        interrupted.search()
    assert len(interrupted.trials) == 7 and interrupted.trials[6].status == TrialStatus.RUNNING
    resumed = make_tuner(sphere, tmp_path / "resumed")
    resumed.search()
    assert [t.values for t in resumed.trials.values()] == [t.values for t in reference.trials.values()]
    assert [t.score for t in resumed.trials.values()] == [t.score for t in reference.trials.values()]
    # Three threads finishing in any order: each generation is bred from finished records only.
    with cf.ThreadPoolExecutor(3) as pool:
        threaded = make_tuner(sphere, tmp_path / "threads", executor=pool)
        threaded.search()
    assert [t.values for t in threaded.trials.values()] == [t.values for t in reference.trials.values()]


def test_keras_evolutionary_search(tmp_path):
    x, y = make_data(96)
    xv, yv = make_data(48, seed=1)
    tuner = EvolutionarySearch(build_classifier, objective="val_accuracy", max_trials=5, population_size=3,
                               elitism=1, seed=2, directory=str(tmp_path), verbose=0)
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), batch_size=32)
    assert len(tuner.trials) == 5 and all(t.status == TrialStatus.COMPLETED for t in tuner.trials.values())
    assert [t.info["generation"] for _, t in sorted(tuner.trials.items())] == [0, 0, 0, 1, 1]
    assert set(tuner.oracle.hyperparameters) >= {"units", "dropout", "learning_rate"}
    best = tuner.best_trial()
    model = tuner.get_best_models(1)[0]
    assert model.evaluate(xv, yv, verbose=0)[1] == pytest.approx(best.score, rel=1e-6)
    with pytest.raises(ValueError, match="elitism"):
        EvolutionarySearch(build_classifier, objective="val_accuracy", population_size=3, elitism=3,
                           directory=str(tmp_path), project_name="bad")
