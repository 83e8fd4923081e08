"""Population forward passes against per-individual NumPy float64 references; DatasetFitness and GymFitness."""

import evo_tasks
import numpy as np
import pytest

from featherflow import keras
from featherflow.evolution import CallableFitness, DatasetFitness, GymFitness, ParameterLayout
from featherflow.evolution.forward import GROUP, PopulationForward
from featherflow.evolution.noise import derive_seed
from featherflow.evolution.worker import local_context


def numpy_mlp(theta, x, sizes, activations):
    """Float64 reference forward of a Dense stack from a flat vector (kernel, bias per layer)."""
    h, offset = np.asarray(x, dtype=np.float64), 0
    for (fan_in, units), act in zip(sizes, activations):
        kernel = theta[offset:offset + fan_in * units].reshape(fan_in, units)
        offset += fan_in * units
        bias = theta[offset:offset + units]
        offset += units
        h = h @ kernel + bias
        if act == "relu":
            h = np.maximum(h, 0)
        elif act == "tanh":
            h = np.tanh(h)
        elif act == "softmax":
            h = np.exp(h - h.max(axis=-1, keepdims=True))
            h /= h.sum(axis=-1, keepdims=True)
    return h


def mlp(acts=("relu", "tanh", "softmax")):
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(5, activation=acts[0]),
                             keras.layers.Dropout(0.5), keras.layers.Dense(4, activation=acts[1]),
                             keras.layers.Dense(3, activation=acts[2])])


SIZES = [(6, 5), (5, 4), (4, 3)]


def test_rows_and_shared_forward_match_per_individual_references(rng):
    model = mlp()
    layout = ParameterLayout(model)
    forward = PopulationForward(model, layout)
    assert forward.vectorized
    params = np.stack([layout.initial(s) for s in range(7)])
    x = rng.standard_normal((9, 6)).astype(np.float32)
    owners = rng.integers(0, 7, size=9)
    rows = forward.rows(params, owners, x)
    for r in range(9):
        expected = numpy_mlp(params[owners[r]].astype(np.float64), x[r:r + 1], SIZES, ("relu", "tanh", "softmax"))
        np.testing.assert_allclose(rows[r], expected[0], rtol=1e-5, atol=1e-6)
    shared = forward.shared(params, np.arange(7), x)
    assert shared.shape == (7, 9, 3)
    for p in range(7):
        expected = numpy_mlp(params[p].astype(np.float64), x, SIZES, ("relu", "tanh", "softmax"))
        np.testing.assert_allclose(shared[p], expected, rtol=1e-5, atol=1e-6)


def test_shared_forward_does_not_depend_on_the_chunk(rng):
    model = keras.Sequential([keras.Input(shape=(40,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(2)])
    layout = ParameterLayout(model)
    forward = PopulationForward(model, layout)
    params = np.stack([layout.initial(s) for s in range(2 * GROUP + 3)])
    x = rng.standard_normal((50, 40)).astype(np.float32)
    everything = forward.shared(params, np.arange(len(params)), x)
    start = GROUP  # chunks start at multiples of GROUP (as the run loop splits DatasetFitness work)
    part = forward.shared(params[start:start + 5], np.arange(start, start + 5), x)
    assert np.array_equal(part, everything[start:start + 5])


def test_fallback_matches_the_vectorized_path_and_is_used_for_other_models(rng):
    model = mlp(("relu", "tanh", "linear"))
    layout = ParameterLayout(model)
    fast, slow = PopulationForward(model, layout), PopulationForward(model, layout, vectorize=False)
    assert fast.vectorized and not slow.vectorized
    params = np.stack([layout.initial(s) for s in range(4)])
    x = rng.standard_normal((6, 6)).astype(np.float32)
    owners = np.array([3, 0, 0, 2, 1, 3])
    np.testing.assert_allclose(slow.rows(params, owners, x), fast.rows(params, owners, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(slow.shared(params, np.arange(4), x), fast.shared(params, np.arange(4), x),
                               rtol=1e-5, atol=1e-6)
    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(3, activation="tanh")(inputs)
    skip = keras.layers.Add()([inputs, hidden])  # not a chain of Dense layers
    residual = keras.Model(inputs, keras.layers.Dense(2)(skip))
    forward = PopulationForward(residual, ParameterLayout(residual))
    assert not forward.vectorized
    theta = ParameterLayout(residual).get()
    z = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(forward.rows(theta[None], np.zeros(4, np.int64), z), residual(z).numpy(), rtol=1e-6)


def test_dataset_fitness_accuracy_and_losses_against_references(rng):
    model = mlp()
    context = local_context(model)
    x = rng.standard_normal((40, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=40)
    params = np.stack([context.layout.initial(s) for s in range(5)])
    probabilities = [numpy_mlp(p.astype(np.float64), x, SIZES, ("relu", "tanh", "softmax")) for p in params]
    accuracy = DatasetFitness(x, y)
    scores = accuracy.evaluate(context, accuracy.setup(context), params, np.arange(5), np.arange(5), 0, 1).scores
    np.testing.assert_allclose(scores, [np.mean(p.argmax(1) == y) for p in probabilities])
    assert accuracy.deterministic
    for loss in ("sparse_categorical_crossentropy", keras.losses.SparseCategoricalCrossentropy()):
        fitness = DatasetFitness(x, y, loss=loss)
        result = fitness.evaluate(context, fitness.setup(context), params, np.arange(5), np.arange(5), 0, 1)
        expected = [np.mean(np.log(p[np.arange(40), y])) for p in probabilities]
        np.testing.assert_allclose(result.scores, expected, rtol=1e-4)
        assert result.steps.tolist() == [40] * 5
    one_hot = np.eye(3)[y]
    fitness = DatasetFitness(x, one_hot, loss="mse")
    result = fitness.evaluate(context, fitness.setup(context), params, np.arange(5), np.arange(5), 0, 1)
    np.testing.assert_allclose(result.scores, [-np.mean((p - one_hot) ** 2) for p in probabilities], rtol=1e-5)
    with pytest.raises(ValueError, match="lower-is-better"):
        DatasetFitness(x, y, metric="mae")
    with pytest.raises(ValueError, match="either `metric` or `loss`"):
        DatasetFitness(x, y, metric="accuracy", loss="mse")


def test_dataset_fitness_minibatches_are_shared_and_seeded(rng):
    model = mlp()
    context = local_context(model)
    x = rng.standard_normal((100, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=100)
    fitness = DatasetFitness(x, y, batch_size=10)
    assert not fitness.deterministic
    params = np.stack([context.layout.initial(s) for s in range(3)])
    state = fitness.setup(context)
    task_seed = 777
    picked = np.sort(np.random.default_rng(derive_seed(task_seed, 0)).choice(100, 10, replace=False))
    expected = [np.mean(numpy_mlp(p.astype(np.float64), x[picked], SIZES, ("relu", "tanh", "softmax")).argmax(1)
                        == y[picked]) for p in params]
    result = fitness.evaluate(context, state, params, np.arange(3), np.arange(3), task_seed, 1)
    np.testing.assert_allclose(result.scores, expected)
    two = fitness.evaluate(context, state, params, np.arange(3), np.arange(3), task_seed, 2)
    assert two.steps.tolist() == [20, 20, 20]


def test_callable_fitness_gets_the_parameters_and_a_seed():
    model = evo_tasks.tiny_model()
    context = local_context(model)
    params = np.stack([context.layout.initial(s) for s in range(3)])
    fitness = CallableFitness(evo_tasks.negative_sum_of_squares, deterministic=True)
    scores = fitness.evaluate(context, None, params, np.arange(3), np.arange(3), 5, 1).scores
    np.testing.assert_allclose(scores, -(params.astype(np.float64) ** 2).sum(axis=1), rtol=1e-6)
    seen = []
    fitness = CallableFitness(lambda model, seed: seen.append(seed) or 0.0)
    fitness.evaluate(context, None, params[:2], np.arange(2), np.array([4, 4]), 9, 2)
    assert seen == [derive_seed(9, 4, 0), derive_seed(9, 4, 1)] * 2
    with pytest.raises(TypeError, match="callable"):
        CallableFitness(3)


gym = pytest.importorskip("gymnasium")


def play(theta_model, env_id, seed, max_steps, action):
    """Reference episode with the wrapped gymnasium env and the model's own predictions, one step at a time."""
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    total, steps = 0.0, 0
    while True:
        out = theta_model(np.asarray(obs, np.float32)[None]).numpy()[0]
        if action == "argmax":
            act = int(np.argmax(out))
        else:
            act = np.clip(out, env.action_space.low, env.action_space.high).astype(np.float32)
        obs, reward, terminated, truncated, _ = env.step(act)
        total, steps = total + reward, steps + 1
        if terminated or truncated or steps >= max_steps:
            return total, steps


def test_gym_fitness_discrete_matches_a_step_by_step_reference():
    model = evo_tasks.cartpole_model()
    context = local_context(model)
    fitness = GymFitness("CartPole-v1", episodes=2, seed=11, max_steps=60)
    params = np.stack([context.layout.initial(s) for s in range(3)])
    result = fitness.evaluate(context, fitness.setup(context), params, np.arange(3), np.array([0, 1, 2]), 5, 2)
    for p in range(3):
        context.layout.set(params[p])
        episodes = [play(model, "CartPole-v1", fitness.episode_seed(5, p, e), 60, "argmax") for e in range(2)]
        assert result.scores[p] == pytest.approx(np.mean([r for r, _ in episodes]))
        assert result.steps[p] == sum(s for _, s in episodes)
    common = GymFitness("CartPole-v1", episodes=1, seed=11, common_seeds=True)
    assert common.episode_seed(5, 0, 0) == common.episode_seed(5, 9, 0) != fitness.episode_seed(5, 9, 0)


def test_gym_fitness_continuous_actions_and_observation_statistics():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
    context = local_context(model)
    fitness = GymFitness("Pendulum-v1", episodes=1, seed=2, max_steps=30)
    params = np.stack([context.layout.initial(s) for s in range(2)]) * 4  # large outputs: clipping matters
    mean, std = np.zeros(3, np.float32), np.ones(3, np.float32)
    result = fitness.evaluate(context, fitness.setup(context), params, np.arange(2), np.arange(2), 3, 1,
                              observation_filter=(mean, std))
    for p in range(2):
        context.layout.set(params[p])
        total, steps = play(model, "Pendulum-v1", fitness.episode_seed(3, p, 0), 30, "clip")
        assert result.scores[p] == pytest.approx(total, rel=1e-6)
    count, total, squares = result.observation_stats
    assert count.tolist() == [30, 30] and total.shape == (2, 3) and np.all(squares > 0)
    with pytest.raises(ValueError, match="needs 2"):
        GymFitness("CartPole-v1").check_model(local_context(evo_tasks.tiny_model(inputs=4, outputs=3)))
    with pytest.raises(ValueError, match="observations have 4"):
        GymFitness("CartPole-v1").check_model(local_context(evo_tasks.tiny_model(inputs=3, outputs=2)))
