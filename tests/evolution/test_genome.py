"""Seed-encoded genomes rebuild bit for bit; parameters come from the model's own initializers."""

import evo_tasks
import numpy as np
import pytest

from featherflow import keras
from featherflow.evolution import GenomeDecoder, NoiseTable, ParameterLayout
from featherflow.evolution.noise import derive_seed


def reference_parameters(model, genome, sigma):
    """Independent rebuild: Glorot-uniform kernels seeded per weight, zero biases, then float32 mutations."""
    parts = []
    for index, variable in enumerate(model.trainable_weights):
        if variable.name.endswith("kernel"):
            fan_in, fan_out = variable.shape
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            init = keras.initializers.GlorotUniform(seed=derive_seed(genome[0], index))
            value = np.asarray(init(tuple(variable.shape)).numpy())
            assert np.all(np.abs(value) <= limit)
            parts.append(value.ravel())
        else:
            parts.append(np.zeros(int(np.prod(variable.shape)), dtype=np.float32))
    theta = np.concatenate(parts).astype(np.float32)
    for seed in genome[1:]:
        eps = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed))).standard_normal(
            theta.size, dtype=np.float32)
        theta = theta + np.float32(sigma) * eps
    return theta


def test_layout_reads_and_writes_the_flat_vector():
    model = evo_tasks.tiny_model()
    layout = ParameterLayout(model)
    expected = np.concatenate([w.numpy().ravel() for w in model.trainable_weights])
    assert layout.size == 2 * 3 + 3 + 3 * 1 + 1 == expected.size
    np.testing.assert_array_equal(layout.get(), expected)
    theta = np.arange(layout.size, dtype=np.float32)
    layout.set(theta)
    weights = model.get_weights()
    np.testing.assert_array_equal(weights[0], theta[:6].reshape(2, 3))
    np.testing.assert_array_equal(weights[3], theta[12:])
    with pytest.raises(ValueError, match=r"shape \(13,\)"):
        layout.set(np.zeros(5))


def test_initial_parameters_use_the_models_initializers():
    model = keras.Sequential([keras.Input(shape=(4,)),
                              keras.layers.Dense(5, kernel_initializer="he_normal", bias_initializer="ones"),
                              keras.layers.Dense(2, kernel_initializer=keras.initializers.RandomUniform(-3, -2))])
    layout = ParameterLayout(model)
    theta = layout.initial(42)
    kernel1, bias1, kernel2, bias2 = layout.split(theta)
    expected = keras.initializers.HeNormal(seed=derive_seed(42, 0))((4, 5)).numpy()
    np.testing.assert_array_equal(kernel1, expected)
    np.testing.assert_array_equal(bias1, np.ones(5))
    assert np.all((kernel2 >= -3) & (kernel2 <= -2))
    np.testing.assert_array_equal(bias2, np.zeros(2))
    assert not np.array_equal(layout.initial(43)[:20], theta[:20])


def test_genome_rebuild_is_bit_exact_against_an_independent_reference():
    model = evo_tasks.tiny_model(inputs=5, hidden=7, outputs=3)
    sigma = 0.05
    genome = (123, 9, 77777, 2**31 - 2)
    expected = reference_parameters(model, genome, sigma)
    fresh = GenomeDecoder(ParameterLayout(model), sigma=sigma).decode(genome)
    assert fresh.dtype == np.float32
    assert np.array_equal(fresh, expected)
    # through the cache: ancestors first, then the child; and a cache that holds only the grandparent
    cached = GenomeDecoder(ParameterLayout(model), sigma=sigma)
    for cut in range(1, len(genome) + 1):
        decoded = cached.decode(genome[:cut])
    assert np.array_equal(decoded, expected)
    partial = GenomeDecoder(ParameterLayout(model), sigma=sigma)
    partial.decode(genome[:2])
    assert np.array_equal(partial.decode(genome), expected)


def test_a_child_of_a_cached_parent_costs_one_mutation():
    model = evo_tasks.tiny_model()
    decoder = GenomeDecoder(ParameterLayout(model), sigma=0.1)
    parent = (1, 2, 3, 4, 5, 6)
    decoder.decode(parent)
    assert decoder.mutations == 5
    for child_seed in range(10, 20):
        decoder.decode(parent + (child_seed,))
    assert decoder.mutations == 5 + 10
    # rebuilding a grandchild whose parent was evicted goes back to the longest cached prefix
    decoder.decode(parent + (10, 99))
    assert decoder.mutations == 15 + 1


def test_init_from_model_weights_and_errors():
    model = evo_tasks.tiny_model()
    layout = ParameterLayout(model)
    base = layout.get()
    decoder = GenomeDecoder(layout, sigma=0.01, init="model", base=base)
    eps = np.random.default_rng(8).standard_normal(base.size, dtype=np.float32)
    assert np.array_equal(decoder.decode((8,)), base + np.float32(0.01) * eps)
    with pytest.raises(ValueError, match="init must be one of"):
        GenomeDecoder(layout, sigma=0.1, init="zeros")
    with pytest.raises(ValueError, match="at least its initial seed"):
        decoder.decode(())


def test_noise_table_slices_and_offsets():
    table = NoiseTable(size=1000, seed=5)
    np.testing.assert_array_equal(table.noise, np.random.default_rng(5).standard_normal(1000, dtype=np.float32))
    np.testing.assert_array_equal(table.get(990, 10), table.noise[990:])
    with pytest.raises(ValueError, match="outside the table"):
        table.get(995, 10)
    offsets = table.sample_offsets(np.random.default_rng(0), n=100, count=500)
    assert offsets.min() >= 0 and offsets.max() <= 900
    assert NoiseTable.shared(1000, 5) is NoiseTable.shared(1000, 5)
    with pytest.raises(ValueError, match="noise_table_size"):
        table.sample_offsets(np.random.default_rng(0), n=2000, count=1)
