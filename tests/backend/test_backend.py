"""Backend: array module selection, floatx/epsilon, seeded randomness."""

import importlib.util

import numpy as np
import pytest

import featherflow as ff
from featherflow import backend


def test_numpy_is_the_default_backend():
    assert backend.get_backend() == "numpy" and backend.xp() is np
    assert backend.array_module(np.ones(2)) is np
    np.testing.assert_array_equal(backend.to_numpy(ff.ones((2,)).value), [1.0, 1.0])


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_cupy_backend_without_cupy_names_the_gpu_extra():
    with pytest.raises(ImportError, match=r'pip install "featherflow\[gpu\]"'):
        backend.set_backend("cupy")
    assert backend.get_backend() == "numpy"  # a failed switch leaves NumPy active


def test_unknown_backend_refused():
    with pytest.raises(ValueError, match='Expected "numpy" or "cupy". Received: name=\'jax\''):
        backend.set_backend("jax")
    backend.set_backend("numpy")
    assert backend.xp() is np


@pytest.mark.parametrize("value", ["float16", "float32", "float64", np.float64, np.dtype("float16")])
def test_set_floatx_accepts_float_types(value):
    ff.set_floatx(value)
    assert ff.floatx() == np.dtype(value).name
    assert ff.constant(1.0).dtype == np.dtype(value)
    assert ff.zeros((1,)).dtype == np.dtype(value)


@pytest.mark.parametrize("value", ["int32", "float128", "half", "bfloat16", 3])
def test_set_floatx_rejects_others(value):
    with pytest.raises((ValueError, TypeError), match="floatx|dtype"):
        ff.set_floatx(value)
    assert ff.floatx() == "float32"


def test_epsilon():
    assert backend.epsilon() == 1e-7
    backend.set_epsilon(1e-5)
    try:
        assert backend.epsilon() == 1e-5
    finally:
        backend.set_epsilon(1e-7)


def test_set_seed_makes_random_ops_reproducible():
    def draw():
        return [ff.random.normal((3,)).numpy(), ff.random.uniform((2, 2)).numpy(),
                ff.random.truncated_normal((50,)).numpy(), ff.random.uniform((4,), maxval=10, dtype="int32").numpy(),
                ff.random.shuffle(np.arange(10)).numpy(), ff.random.categorical([[0.0, 1.0, 2.0]], 5).numpy(),
                ff.nn.dropout(ff.ones((8,)), 0.5).numpy()]

    ff.random.set_seed(123)
    first = draw()
    ff.random.set_seed(123)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    ff.random.set_seed(124)
    assert not np.array_equal(draw()[0], first[0])


def test_op_seed_is_independent_of_the_global_state():
    a = ff.random.normal((4,), seed=5).numpy()
    ff.random.normal((100,))
    np.testing.assert_array_equal(ff.random.normal((4,), seed=5).numpy(), a)


def test_make_generator_streams_are_reproducible_and_distinct():
    from featherflow.backend import random as fr

    fr.set_seed(9)
    g1, g2 = fr.make_generator(), fr.make_generator()
    a, b = g1.random(3), g2.random(3)
    fr.set_seed(9)
    np.testing.assert_array_equal(fr.make_generator().random(3), a)
    assert not np.array_equal(a, b)
    assert fr.get_seed() == 9


@pytest.mark.parametrize("seed,error", [(-1, ValueError), (1.5, TypeError), ("7", TypeError), (True, TypeError)])
def test_set_seed_validation(seed, error):
    with pytest.raises(error, match="seed"):
        ff.random.set_seed(seed)


def test_random_distributions_and_validation():
    x = ff.random.normal((20000,), mean=2.0, stddev=0.5, seed=1).numpy()
    assert abs(x.mean() - 2.0) < 0.02 and abs(x.std() - 0.5) < 0.02
    u = ff.random.uniform((20000,), minval=-1.0, maxval=3.0, seed=2).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    t = ff.random.truncated_normal((20000,), stddev=2.0, seed=3).numpy()
    assert np.abs(t).max() <= 4.0
    assert ff.random.normal((2,)).dtype == ff.float32
    with pytest.raises(ValueError, match="maxval"):
        ff.random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="normal: dtype must be a float"):
        ff.random.normal((2,), dtype="int32")
    counts = np.bincount(ff.random.categorical([[0.0, np.log(3.0)]], 40000, seed=4).numpy()[0], minlength=2)
    assert abs(counts[1] / 40000 - 0.75) < 0.01
    assert ff.random.categorical([[0.0, -np.inf]], 10).numpy().max() == 0
