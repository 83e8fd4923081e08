"""CartPole-v1 solved by the GA within the suite; plot_evolution draws the history."""

import evo_tasks
import numpy as np
import pytest

from featherflow.evolution import EvolutionStrategy, GeneticAlgorithm, plot_evolution


def test_ga_solves_cartpole():
    pytest.importorskip("gymnasium")
    from featherflow.evolution import GymFitness

    fitness = GymFitness("CartPole-v1", episodes=1, seed=0)
    ga = GeneticAlgorithm(evo_tasks.cartpole_model(), fitness, population_size=50, truncation=10, sigma=0.1,
                          reevaluate_top=3, reevaluation_episodes=5, seed=1)
    ga.run(generations=30, target=500, verbose=0)
    assert ga.history["elite"][-1] >= 500
    result = fitness.evaluate_model(ga.best_model(), episodes=20, seed=2024)  # fresh episodes
    assert result["mean"] >= 475, result["returns"]
    assert result["steps"] == pytest.approx(20 * result["mean"])  # CartPole pays 1 per step


def test_plot_evolution_draws_each_run_and_key(tmp_path):
    pytest.importorskip("matplotlib")
    ga = GeneticAlgorithm(evo_tasks.tiny_model(), evo_tasks.negative_sum_of_squares, population_size=6,
                          truncation=2, sigma=0.1, reevaluate_top=0, seed=0)
    ga.run(generations=3, verbose=0)
    es = EvolutionStrategy(evo_tasks.tiny_model(), evo_tasks.negative_sum_of_squares, population_size=6,
                           reevaluation_episodes=1, seed=0)
    es.run(generations=2, verbose=0)
    figure = plot_evolution(ga, x="evaluations", filename=tmp_path / "ga.png")
    lines = figure.axes[0].lines
    assert [line.get_label() for line in lines] == ["best", "elite", "mean"]
    np.testing.assert_array_equal(lines[1].get_xdata(), ga.history["evaluations"])
    np.testing.assert_array_equal(lines[1].get_ydata(), ga.history["elite"])
    assert (tmp_path / "ga.png").stat().st_size > 1000
    both = plot_evolution({"GA": ga, "ES": es.history}, keys="elite", x="time")
    assert [line.get_label() for line in both.axes[0].lines] == ["GA elite", "ES elite"]
    with pytest.raises(ValueError, match="x must be"):
        plot_evolution(ga, x="epochs")
    with pytest.raises(TypeError, match="plot_evolution expects"):
        plot_evolution(3)
