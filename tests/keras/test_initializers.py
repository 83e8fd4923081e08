"""keras.initializers: distributions (moments and bounds), seeding, shapes, config round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

import featherflow as ff
from featherflow.keras import initializers as I

SHAPE = (200, 300)  # fan_in 200, fan_out 300
FAN_IN, FAN_OUT = 200, 300


def _sample(init, shape=SHAPE, dtype=None):
    out = init(shape, dtype=dtype)
    assert isinstance(out, ff.Tensor) and out.shape == tuple(shape)
    return out.numpy().astype("float64")


@pytest.mark.parametrize("cls,scale_denominator,kind", [
    (I.GlorotUniform, (FAN_IN + FAN_OUT) / 2, "uniform"), (I.GlorotNormal, (FAN_IN + FAN_OUT) / 2, "normal"),
    (I.HeUniform, FAN_IN / 2, "uniform"), (I.HeNormal, FAN_IN / 2, "normal"),
    (I.LecunUniform, FAN_IN, "uniform"), (I.LecunNormal, FAN_IN, "normal"),
])
def test_variance_scaling_presets(cls, scale_denominator, kind):
    values = _sample(cls(seed=3))
    target_std = math.sqrt(1.0 / scale_denominator)  # all presets have variance scale / n
    assert abs(values.mean()) < 0.02 * target_std  # 5 standard errors of the mean
    assert values.std() == pytest.approx(target_std, rel=0.03)
    if kind == "uniform":
        limit = math.sqrt(3.0) * target_std
        assert values.max() <= limit and values.min() >= -limit
        assert values.max() > 0.99 * limit
    else:  # truncated at two standard deviations of the untruncated normal
        bound = 2 * target_std / 0.87962566103423978
        assert np.abs(values).max() <= bound + 1e-6


@pytest.mark.parametrize("mode,n", [("fan_in", FAN_IN), ("fan_out", FAN_OUT), ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform", "normal"])
def test_variance_scaling(mode, n, distribution):
    values = _sample(I.VarianceScaling(scale=3.0, mode=mode, distribution=distribution, seed=1))
    assert values.std() == pytest.approx(math.sqrt(3.0 / n), rel=0.03)


def test_conv_kernel_fans():
    assert I.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert I.compute_fans((5,)) == (5, 5)
    assert I.compute_fans(()) == (1, 1)


def test_random_normal_uniform_truncated():
    v = _sample(I.RandomNormal(mean=1.0, stddev=2.0, seed=0))
    assert v.mean() == pytest.approx(1.0, abs=0.03) and v.std() == pytest.approx(2.0, rel=0.02)
    v = _sample(I.RandomUniform(minval=-3.0, maxval=5.0, seed=0))
    assert v.min() >= -3.0 and v.max() < 5.0 and v.mean() == pytest.approx(1.0, abs=0.05)
    v = _sample(I.TruncatedNormal(mean=0.5, stddev=0.1, seed=0))
    assert v.min() >= 0.3 - 1e-6 and v.max() <= 0.7 + 1e-6
    assert v.std() == pytest.approx(0.1 * 0.87962566103423978, rel=0.03)
    ints = I.RandomUniform(0, 10, seed=0)((1000,), dtype="int32").numpy()
    assert ints.dtype == np.int32 and ints.min() >= 0 and ints.max() <= 9
    assert _sample(I.RandomNormal(seed=0), (2, 2), dtype="float64").dtype == np.float64


def test_defaults_match_keras():
    assert I.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert I.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert I.TruncatedNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert I.VarianceScaling().get_config() == {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                                                "seed": None}


def test_orthogonal():
    for shape in ((6, 4), (4, 6), (2, 3, 5)):
        q = _sample(I.Orthogonal(gain=2.0, seed=1), shape).reshape(-1, shape[-1])
        if q.shape[0] >= q.shape[1]:
            np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(q.shape[1]), atol=1e-5)
        else:
            np.testing.assert_allclose(q @ q.T, 4.0 * np.eye(q.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="two-dimensional"):
        I.Orthogonal()((3,))


def test_identity_zeros_ones_constant():
    np.testing.assert_array_equal(_sample(I.Identity(gain=3.0), (2, 3)), 3.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        I.Identity()((2, 2, 2))
    np.testing.assert_array_equal(_sample(I.Zeros(), (2,)), [0, 0])
    np.testing.assert_array_equal(_sample(I.Ones(), (2,)), [1, 1])
    np.testing.assert_array_equal(_sample(I.Constant(2.5), (2, 2)), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(_sample(I.Constant([1.0, 2.0]), (2, 2)), [[1, 2], [1, 2]])
    assert I.Zeros()((3,), dtype="int64").numpy().dtype == np.int64


def test_seeding_and_global_reproducibility():
    a, b = _sample(I.HeNormal(seed=7), (3, 3)), _sample(I.HeNormal(seed=7), (3, 3))
    np.testing.assert_array_equal(a, b)
    init = I.GlorotUniform()
    ff.random.set_seed(11)
    first = _sample(init, (4, 4))
    second = _sample(init, (4, 4))
    assert not np.array_equal(first, second)  # unseeded: a new draw each call
    ff.random.set_seed(11)
    np.testing.assert_array_equal(first, _sample(init, (4, 4)))


@pytest.mark.parametrize("name,cls", [
    ("zeros", I.Zeros), ("ones", I.Ones), ("constant", I.Constant), ("random_normal", I.RandomNormal),
    ("random_uniform", I.RandomUniform), ("truncated_normal", I.TruncatedNormal), ("glorot_uniform", I.GlorotUniform),
    ("glorot_normal", I.GlorotNormal), ("he_uniform", I.HeUniform), ("he_normal", I.HeNormal),
    ("lecun_uniform", I.LecunUniform), ("lecun_normal", I.LecunNormal), ("orthogonal", I.Orthogonal),
    ("identity", I.Identity), ("variance_scaling", I.VarianceScaling), ("GlorotUniform", I.GlorotUniform),
])
def test_names_and_config_round_trip(name, cls):
    init = I.get(name)
    assert type(init) is cls
    clone = I.deserialize(I.serialize(init))
    assert type(clone) is cls and clone.get_config() == init.get_config()
    if name.islower():
        assert getattr(I, name) is cls  # tf.keras's lower-case aliases


def test_get_errors_and_passthrough():
    init = I.HeNormal(seed=1)
    assert I.get(init) is init and I.get(None) is None
    assert isinstance(I.get(I.Ones), I.Ones)
    fn = lambda shape, dtype=None: np.zeros(shape)  # noqa: E731
    assert I.get(fn) is fn
    assert I.get({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out",
                                                              "distribution": "uniform", "seed": 3}}).scale == 2.0
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'.*'glorot_uniform'"):
        I.get("glorot")
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="poisson")
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0.0)
