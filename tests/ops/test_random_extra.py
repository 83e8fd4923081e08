"""tf.random beyond the basics: stateless ops, Generator, gamma/poisson, candidate samplers."""

import numpy as np
import pytest
import scipy.stats as st

import featherflow as ff

R = ff.random


def test_stateless_ops_are_deterministic_and_seed_dependent():
    for fn in (lambda s: R.stateless_normal([50], s), lambda s: R.stateless_uniform([50], s),
               lambda s: R.stateless_truncated_normal([50], s), lambda s: R.stateless_gamma([50], s, alpha=2.0),
               lambda s: R.stateless_poisson([50], s, lam=3.0), lambda s: R.stateless_binomial([50], s, 10.0, 0.3),
               lambda s: R.stateless_categorical([[0.0, 1.0, 2.0]], 50, s),
               lambda s: R.stateless_parameterized_truncated_normal([50], s, 1.0, 2.0, 0.0, 3.0)):
        a, b, c = fn([1, 2]).numpy(), fn([1, 2]).numpy(), fn([2, 1]).numpy()
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match=r"shape \[2\]"):
        R.stateless_normal([2], seed=[1, 2, 3])


def test_stateless_distributions():
    normal = R.stateless_normal([20000], [3, 4], mean=2.0, stddev=3.0, dtype="float64").numpy()
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1
    uniform_ints = R.stateless_uniform([2000], [5, 6], minval=3, maxval=7, dtype="int32").numpy()
    assert uniform_ints.min() == 3 and uniform_ints.max() == 6
    assert R.stateless_uniform([4], [5, 6], minval=None, maxval=None, dtype="int64").dtype == ff.int64
    truncated = R.stateless_parameterized_truncated_normal([5000], [7, 8], means=1.0, stddevs=2.0, minvals=0.5,
                                                           maxvals=1.5).numpy()
    assert truncated.min() >= 0.5 and truncated.max() <= 1.5
    expected_mean = st.truncnorm(-0.25, 0.25, loc=1.0, scale=2.0).mean()
    assert abs(truncated.mean() - expected_mean) < 0.02
    gamma = R.stateless_gamma([20000], [9, 9], alpha=3.0, beta=2.0, dtype="float64").numpy()
    assert abs(gamma.mean() - 1.5) < 0.05  # alpha / beta
    draws = R.stateless_categorical([[0.0, np.log(3.0)]], 20000, [1, 1]).numpy()
    assert abs(draws.mean() - 0.75) < 0.02


def test_seed_utilities_and_shuffles():
    assert R.split([1, 2], 3).shape == (3, 2) and R.split([1, 2], 3).dtype == ff.int32
    assert not np.array_equal(R.fold_in([1, 2], 1).numpy(), R.fold_in([1, 2], 2).numpy())
    perm = [int(R.index_shuffle(i, [4, 5, 6], 99)) for i in range(100)]
    assert sorted(perm) == list(range(100)) and perm != list(range(100))
    shuffled = R.experimental.stateless_shuffle(np.arange(10), [1, 2]).numpy()
    assert sorted(shuffled.tolist()) == list(range(10))
    np.testing.assert_array_equal(shuffled, R.experimental.stateless_shuffle(np.arange(10), [1, 2]).numpy())


def test_generator_state_and_streams():
    assert R.create_rng_state(1, "philox").numpy().tolist() == [1, 0, 0]
    assert R.create_rng_state(2**70 + 5, "threefry").numpy().tolist() == [5, 64]
    g = R.Generator.from_seed(7)
    first = g.normal([3]).numpy()
    assert g.state.numpy().tolist() != [7, 0, 0]  # the counter advanced
    g.reset_from_seed(7)
    np.testing.assert_array_equal(g.normal([3]).numpy(), first)
    copy = R.Generator(copy_from=g)
    np.testing.assert_array_equal(copy.uniform([4]).numpy(), g.uniform([4]).numpy())
    children = g.split(2)
    assert not np.array_equal(children[0].normal([3]).numpy(), children[1].normal([3]).numpy())
    assert g.make_seeds(3).shape == (2, 3)
    assert g.uniform([100], minval=2, maxval=5, dtype="int32").numpy().max() < 5
    assert g.binomial([5], counts=4.0, probs=1.0).numpy().tolist() == [4] * 5
    assert g.truncated_normal([200]).numpy().max() <= 2.0
    assert R.Algorithm.PHILOX.value == 1 and R.Generator.from_seed(1).algorithm == 1
    R.set_global_generator(R.Generator.from_seed(3))
    assert R.get_global_generator().state.numpy().tolist() == [3, 0, 0]
    with pytest.raises(TypeError, match="expects a Generator"):
        R.set_global_generator(3)


def test_gamma_poisson_and_candidate_samplers():
    assert R.gamma([4], [1.0, 2.0]).shape == (4, 2)
    assert R.poisson([4, 2], [1.0, 2.0, 3.0]).shape == (4, 2, 3)
    p = (np.log([3.0, 4.0]) - np.log([2.0, 3.0])) / np.log(11.0)  # log-uniform P(1), P(2) with range_max=10
    sample = R.log_uniform_candidate_sampler([[1], [2]], 1, 4, True, 10, seed=1)
    assert sample.sampled_candidates.shape == (4,) and len(set(sample.sampled_candidates.numpy())) == 4
    assert sample.true_expected_count.shape == (2, 1)
    not_unique = R.log_uniform_candidate_sampler([[1], [2]], 1, 4, False, 10, seed=1)
    np.testing.assert_allclose(not_unique.true_expected_count.numpy()[:, 0], 4 * p, rtol=1e-6)
    uniform = R.uniform_candidate_sampler([[0]], 1, 3, False, 6, seed=2)
    np.testing.assert_allclose(uniform.sampled_expected_count.numpy(), [0.5] * 3)
    fixed = R.fixed_unigram_candidate_sampler([[0]], 1, 2, True, 3, unigrams=[0.0, 1.0, 1.0], seed=0)
    assert sorted(fixed.sampled_candidates.numpy().tolist()) == [1, 2]
    assert R.all_candidate_sampler([[0]], 1, 3, True).sampled_candidates.numpy().tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="num_sampled"):
        R.uniform_candidate_sampler([[0]], 1, 7, True, 6)
