"""Evolution strategies (Salimans et al., 2017): ranks, the search gradient, the update, checkpoints."""

import numpy as np
import pytest

from featherflow import keras
from featherflow.evolution import CallableFitness, Callback, EvolutionStrategy, ObservationStatistics, centered_ranks
from featherflow.evolution.es import fold_observation_filter

CENTER = np.linspace(-1.0, 1.0, 12)
CURVATURE = np.linspace(0.5, 2.0, 12)


def quadratic(model):
    theta = model.get_weights()[0].ravel().astype(np.float64)
    return -float(np.sum(CURVATURE * (theta - CENTER) ** 2))


def linear_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(12,)), keras.layers.Dense(1, use_bias=False)])


def test_centered_ranks_against_a_reference(rng):
    values = rng.standard_normal(9)
    reference = np.argsort(np.argsort(values)) / 8 - 0.5
    np.testing.assert_allclose(centered_ranks(values), reference)
    assert centered_ranks([2.0, 2.0, 1.0]).tolist() == [0.0, 0.5, -0.5]  # ties: by position
    assert centered_ranks([5.0]).tolist() == [0.0]


@pytest.mark.parametrize("shaping", ["centered_rank", "none"])
def test_search_gradient_on_a_quadratic_points_along_the_analytic_gradient(shaping):
    model = linear_model()
    es = EvolutionStrategy(model, CallableFitness(quadratic, deterministic=True), population_size=2000, sigma=0.01,
                           fitness_shaping=shaping, seed=4)
    theta = es.theta.astype(np.float64)
    analytic = -2 * CURVATURE * (theta - CENTER)
    estimate = es.estimate_gradient()
    cosine = estimate @ analytic / (np.linalg.norm(estimate) * np.linalg.norm(analytic))
    assert cosine > 0.95
    if shaping == "none":  # mirrored sampling makes the raw estimate unbiased for a quadratic
        assert np.linalg.norm(estimate) == pytest.approx(np.linalg.norm(analytic), rel=0.2)


def test_one_generation_with_sgd_and_weight_decay_matches_numpy():
    model = linear_model()
    sigma, lr, decay, pairs, seed = 0.05, 0.1, 0.3, 4, 9
    es = EvolutionStrategy(model, CallableFitness(quadratic, deterministic=True), population_size=2 * pairs,
                           sigma=sigma, learning_rate=lr, optimizer="sgd", weight_decay=decay, seed=seed)
    theta = es.theta.astype(np.float32)
    n, table = theta.size, es.noise.noise
    offsets = np.random.default_rng(seed).integers(0, es.noise_table_size - n + 1, size=pairs)
    scores = []
    for offset in offsets:
        eps = table[offset:offset + n]
        for sign in (1, -1):
            perturbed = (theta + np.float32(sigma * sign) * eps).astype(np.float64)
            scores.append(-np.sum(CURVATURE * (perturbed - CENTER) ** 2))
    ranks = np.argsort(np.argsort(scores)) / (2 * pairs - 1) - 0.5
    weights = ranks[0::2] - ranks[1::2]
    gradient = sum(w * table[o:o + n].astype(np.float64) for w, o in zip(weights, offsets)) / (2 * pairs * sigma)
    expected = theta - lr * (-gradient + decay * theta)
    es.run(generations=1, verbose=0)
    np.testing.assert_allclose(es.theta, expected, rtol=1e-5, atol=1e-6)
    assert es.history["elite"][0] == pytest.approx(-np.sum(CURVATURE * (theta - CENTER) ** 2), rel=1e-5)
    assert es.history["best"][0] == pytest.approx(max(scores), rel=1e-5)


def test_es_with_adam_improves_a_quadratic_and_keeps_the_best_centre():
    es = EvolutionStrategy(linear_model(), CallableFitness(quadratic, deterministic=True), population_size=40,
                           sigma=0.05, learning_rate=0.05, weight_decay=0.0, seed=1)
    es.run(generations=40, verbose=0)
    assert es.history["elite"][-1] > 0.2 * es.history["elite"][0]  # scores are negative: closer to zero
    best = es.best_model()
    assert quadratic(best) == pytest.approx(max(es.history["elite"]), rel=1e-5)


def test_checkpoint_resume_restores_the_centre_and_adam_state_exactly(tmp_path):
    def make():
        return EvolutionStrategy(linear_model(), quadratic, population_size=10, sigma=0.05, learning_rate=0.05,
                                 reevaluation_episodes=1, seed=2)

    class Crash(Callback):
        def on_generation_end(self, algorithm, generation, logs):
            if generation == 3:
                raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError):
        make().run(generations=7, checkpoint=str(tmp_path), callbacks=[Crash()], verbose=0)
    resumed = make()
    resumed.run(generations=7, checkpoint=str(tmp_path), verbose=0)
    straight = make()
    straight.run(generations=7, verbose=0)
    assert np.array_equal(resumed.theta, straight.theta)
    assert resumed.history["elite"] == straight.history["elite"]
    for a, b in zip(resumed.optimizer.get_state(), straight.optimizer.get_state()):
        assert np.array_equal(a, b)


def test_observation_statistics_and_folding_the_filter_into_the_model(rng):
    stats = ObservationStatistics(3)
    assert [a.tolist() for a in stats.filter()] == [[0, 0, 0], [1, 1, 1]]
    data = rng.standard_normal((50, 3)) * [1.0, 5.0, 0.01] + [2.0, -1.0, 0.0]
    stats.update(np.array([20, 30]), np.stack([data[:20].sum(0), data[20:].sum(0)]),
                 np.stack([(data[:20] ** 2).sum(0), (data[20:] ** 2).sum(0)]))
    mean, std = stats.filter(np.float64)
    np.testing.assert_allclose(mean, data.mean(0))
    np.testing.assert_allclose(std, np.sqrt(np.maximum(data.var(0), 1e-2)))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)])
    expected = model((x - mean.astype(np.float32)) / std.astype(np.float32)).numpy()
    folded = fold_observation_filter(model, mean, std)
    np.testing.assert_allclose(folded(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    keras.utils.set_random_seed(0)
    no_bias = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, use_bias=False, activation="tanh"),
                                keras.layers.Dense(2)])
    expected = no_bias((x - mean.astype(np.float32)) / std.astype(np.float32)).numpy()
    wrapped = fold_observation_filter(no_bias, mean, std)
    assert wrapped is not no_bias
    np.testing.assert_allclose(wrapped(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_argument_errors():
    model = linear_model()
    with pytest.raises(ValueError, match="even"):
        EvolutionStrategy(model, quadratic, population_size=5)
    with pytest.raises(ValueError, match="GymFitness"):
        EvolutionStrategy(model, quadratic, observation_normalization=True)
    with pytest.raises(ValueError, match="fitness_shaping"):
        EvolutionStrategy(model, quadratic, fitness_shaping="softmax")
    with pytest.raises(TypeError, match="optimizer"):
        EvolutionStrategy(model, quadratic, optimizer=3)
