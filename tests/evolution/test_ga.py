"""The GA follows Such et al. (2017): truncation selection, one mutation per child, elitism, re-evaluation."""

import evo_tasks
import numpy as np
import pytest

from featherflow import keras
from featherflow.evolution import CallableFitness, Callback, GeneticAlgorithm
from featherflow.evolution.noise import derive_seed


class Recorder(Callback):
    def __init__(self):
        self.generations = []

    def on_generation_end(self, algorithm, generation, logs):
        self.generations.append({"children": list(algorithm.population), "scores": algorithm.scores.copy(),
                                 "elites": list(algorithm.elites), "elite_scores": list(algorithm.elite_scores),
                                 "parents": list(algorithm.parents), "logs": dict(logs)})


def toy_scores(ga, genomes, generation, phase, episodes):
    task_seed = derive_seed(ga.seed, generation, phase)
    return np.array([np.mean([evo_tasks.toy_episode_score(ga.decode(g), task_seed, key, e) for e in range(episodes)])
                     for key, g in enumerate(genomes)])


def test_selection_elitism_and_reevaluation_follow_the_paper():
    N, T, E, TOP, R = 12, 4, 2, 5, 3
    ga = GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.ToyFitness(), population_size=N, truncation=T, elites=E,
                          sigma=0.3, reevaluate_top=TOP, reevaluation_episodes=R, seed=7)
    recorder = Recorder()
    ga.run(generations=4, callbacks=[recorder], verbose=0)
    previous = None
    evaluations = 0
    for g, record in enumerate(recorder.generations):
        children, scores = record["children"], record["scores"]
        if previous is None:
            assert len(children) == N and all(len(c) == 1 for c in children)
        else:
            assert len(children) == N - E  # the elites fill the rest of the population
            for child in children:  # one parent from the top T, plus exactly one mutation seed
                assert child[:-1] in previous["parents"] and len(child) == len(child[:-1]) + 1
        np.testing.assert_allclose(scores, toy_scores(ga, children, g, 0, 1))
        order = np.argsort(-scores, kind="stable")
        old_elites = [] if previous is None else previous["elites"]
        candidates = [children[i] for i in order[:TOP - len(old_elites)]] + old_elites
        rescored = toy_scores(ga, candidates, g, 1, R)  # fresh episodes, not the selection episode
        ranking = np.argsort(-rescored, kind="stable")
        assert record["elites"] == [candidates[i] for i in ranking[:E]]
        np.testing.assert_allclose(record["elite_scores"], rescored[ranking[:E]])
        expected_parents = record["elites"] + [children[i] for i in order if children[i] not in record["elites"]]
        assert record["parents"] == expected_parents[:T]
        evaluations += len(children) + len(candidates) * R
        assert record["logs"]["evaluations"] == evaluations
        assert record["logs"]["best"] == pytest.approx(scores.max())
        assert record["logs"]["elite"] == pytest.approx(rescored.max())
        assert record["logs"]["mean"] == pytest.approx(scores.mean())
        previous = record
    # elites are carried over unchanged (the same genome, so the same parameters) and compete again
    kept = [e for a, b in zip(recorder.generations, recorder.generations[1:]) for e in a["elites"] if e in b["elites"]]
    assert all(len(e) < len(recorder.generations[-1]["children"][0]) for e in kept)
    np.testing.assert_array_equal(ga.elite_parameters(), ga.decode(recorder.generations[-1]["elites"][0]))


def test_deterministic_fitness_skips_reevaluation_and_the_elite_never_gets_worse():
    fitness = CallableFitness(evo_tasks.negative_sum_of_squares, deterministic=True)
    ga = GeneticAlgorithm(evo_tasks.tiny_model(), fitness, population_size=10, truncation=3, elites=1, sigma=0.05,
                          reevaluate_top=3, reevaluation_episodes=5, seed=3)
    recorder = Recorder()
    ga.run(generations=8, callbacks=[recorder], verbose=0)
    running_best = -np.inf
    for g, record in enumerate(recorder.generations):
        running_best = max(running_best, record["scores"].max())
        assert record["logs"]["elite"] == pytest.approx(running_best)  # the best individual ever seen
        expected_evaluations = 10 + 9 * g
        assert record["logs"]["evaluations"] == expected_evaluations  # no re-evaluation episodes
    elite = ga.best_model()
    assert evo_tasks.negative_sum_of_squares(elite) == pytest.approx(running_best, rel=1e-5)
    assert ga.history["elite"][-1] > ga.history["elite"][0]


def test_same_seed_same_run_and_stopping_rules(capsys):
    def run(**kwargs):
        ga = GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.ToyFitness(), population_size=8, truncation=3,
                              sigma=0.2, reevaluate_top=3, reevaluation_episodes=2, seed=11)
        ga.run(**kwargs)
        return ga

    a, b = run(generations=3, verbose=0), run(generations=3, verbose=1)
    assert a.history["elite"] == b.history["elite"] and a.elites == b.elites and a.parents == b.parents
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Generation 1/3 - best: ")
    for word in ("elite: ", "mean: ", "evaluations: ", "steps: ", "time: "):
        assert word in lines[2]
    # target: stops at the first generation whose elite reaches it
    target = a.history["elite"][1]
    stopped = run(target=target, generations=10, verbose=0)
    assert stopped.generation == 1 + int(a.history["elite"][0] < target)
    assert run(time_budget=0.0, verbose=0).generation == 0
    stopper = run(generations=10, callbacks=[lambda generation, logs: generation == 1], verbose=0)
    assert stopper.generation == 2
    # a later run() continues to the total number of generations
    a.run(generations=5, verbose=0)
    assert a.generation == 5 and a.history["generation"] == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="stopping condition"):
        a.run()


def test_checkpoint_resume_in_process_equals_an_uninterrupted_run(tmp_path):
    def make():
        return GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.ToyFitness(), population_size=8, truncation=3,
                                sigma=0.2, reevaluate_top=3, reevaluation_episodes=2, seed=5)

    class Crash(Callback):
        def on_generation_end(self, algorithm, generation, logs):
            if generation == 2:
                raise RuntimeError("simulated crash")

    crashed = make()
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.run(generations=6, checkpoint=str(tmp_path), callbacks=[Crash()], verbose=0)
    resumed = make()
    resumed.run(generations=6, checkpoint=str(tmp_path), verbose=0)
    straight = make()
    straight.run(generations=6, verbose=0)
    for key in ("generation", "best", "elite", "mean", "evaluations", "steps"):
        assert resumed.history[key] == straight.history[key]
    assert resumed.elites == straight.elites and resumed.parents == straight.parents
    other = GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.ToyFitness(), population_size=9, truncation=3, seed=5)
    with pytest.raises(ValueError, match="different run"):
        other.run(generations=1, checkpoint=str(tmp_path), verbose=0)


def test_best_model_is_an_ordinary_model_that_fits_and_saves(tmp_path):
    model = evo_tasks.tiny_model()
    model.compile(optimizer="sgd", loss="mse")
    ga = GeneticAlgorithm(model, evo_tasks.negative_sum_of_squares, population_size=6, truncation=2, sigma=0.1,
                          reevaluate_top=0, seed=0)
    with pytest.raises(ValueError, match="run"):
        ga.best_model()
    ga.run(generations=2, verbose=0)
    best = ga.best_model()
    assert best is not model
    np.testing.assert_array_equal(np.concatenate([w.ravel() for w in best.get_weights()]), ga.elite_parameters())
    x = np.ones((8, 2), np.float32)
    history = best.fit(x, np.zeros((8, 1)), epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    best.save(tmp_path / "elite.keras")
    restored = keras.models.load_model(tmp_path / "elite.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), best.predict(x, verbose=0))


def test_keras_callbacks_see_the_elite_and_can_stop(tmp_path):
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, np.concatenate([w.ravel() for w in self.model.get_weights()]), logs["elite"]))
            if epoch == 1:
                self.model.stop_training = True

    ga = GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.negative_sum_of_squares, population_size=6,
                          truncation=2, sigma=0.1, reevaluate_top=2, reevaluation_episodes=1, seed=0)
    ga.run(generations=5, callbacks=[Watch(), keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))], verbose=0)
    assert ga.generation == 2 and [s[0] for s in seen] == [0, 1]
    np.testing.assert_array_equal(seen[-1][1], ga.elite_parameters())
    assert "elite" in (tmp_path / "log.csv").read_text().splitlines()[0]


def test_argument_errors():
    model = evo_tasks.tiny_model()
    with pytest.raises(ValueError, match="truncation"):
        GeneticAlgorithm(model, evo_tasks.negative_sum_of_squares, population_size=4, truncation=5)
    with pytest.raises(ValueError, match="elites"):
        GeneticAlgorithm(model, evo_tasks.negative_sum_of_squares, population_size=4, truncation=2, elites=4)
    with pytest.raises(ValueError, match="sigma"):
        GeneticAlgorithm(model, evo_tasks.negative_sum_of_squares, sigma=0)
    with pytest.raises(TypeError, match="fitness must be"):
        GeneticAlgorithm(model, "accuracy")
    with pytest.raises(ValueError, match="must be built"):
        GeneticAlgorithm(keras.Sequential([keras.layers.Dense(2)]), evo_tasks.negative_sum_of_squares)
