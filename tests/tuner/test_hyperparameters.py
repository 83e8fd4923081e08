import json
import math

import numpy as np
import pytest

from featherflow.tuner import Boolean, Choice, Fixed, Float, HyperParameters, Int


def test_int_registration_defaults_and_values():
    hp = HyperParameters()
    assert hp.Int("units", 32, 128, step=32) == 32
    assert hp.Int("layers", 1, 3, default=2) == 2
    hp.values["units"] = 96
    assert hp.Int("units", 32, 128, step=32) == 96  # registered once; returns the current value
    assert hp.get("units") == 96 and hp["layers"] == 2
    assert [p.name for p in hp.space] == ["units", "layers"]
    with pytest.raises(KeyError, match="not a registered"):
        hp.get("nope")


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_value=5, max_value=1), "min_value must be <= max_value"),
    (dict(min_value=0, max_value=10, sampling="log"), "min_value > 0"),
    (dict(min_value=1, max_value=10, sampling="cubic"), "sampling must be one of"),
    (dict(min_value=1, max_value=10, default=11), "default must lie"),
    (dict(min_value=1.5, max_value=10), "must be an integer"),
    (dict(min_value=1, max_value=10, step=0), "step must be > 0"),
])
def test_int_validation(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Int("x", **kwargs)


def test_grids_and_prob_round_trip():
    assert Int("a", 32, 128, step=32).grid_values() == [32, 64, 96, 128]
    assert Int("a", 1, 4).grid_values() == [1, 2, 3, 4]
    assert Int("a", 1, 64, step=4, sampling="log").grid_values() == [1, 4, 16, 64]
    assert Float("f", 0.0, 1.0, step=0.25).grid_values() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert Float("f", 0.1, 0.3, step=0.1).grid_values() == pytest.approx([0.1, 0.2, 0.3])
    log_grid = Float("lr", 1e-4, 1e-1, sampling="log").grid_values()
    assert len(log_grid) == 10 and log_grid[0] == pytest.approx(1e-4) and log_grid[-1] == pytest.approx(1e-1)
    assert np.allclose(np.diff(np.log(log_grid)), math.log(1e3) / 9)
    for hp in [Int("a", 32, 128, step=32), Int("b", 1, 9), Choice("c", ["x", "y", "z"]), Boolean("d"),
               Float("e", 0.0, 1.0, step=0.1), Int("g", 1, 64, step=2, sampling="log")]:
        for value in hp.grid_values():
            assert hp.prob_to_value(hp.value_to_prob(value)) == value
    for sampling in ("linear", "log", "reverse_log"):
        hp = Float("x", 0.01, 10.0, sampling=sampling)
        for p in (0.0, 0.1, 0.5, 0.9, 1.0):
            assert hp.value_to_prob(hp.prob_to_value(p)) == pytest.approx(p, abs=1e-9)


def test_samplings_have_the_documented_distribution():
    rng = np.random.default_rng(0)
    log_values = np.array([Float("lr", 1e-4, 1.0, sampling="log").random_sample(rng) for _ in range(4000)])
    # Uniform in log10: a quarter of the draws per decade.
    counts = np.histogram(np.log10(log_values), bins=[-4, -3, -2, -1, 0])[0] / 4000
    assert np.allclose(counts, 0.25, atol=0.03)
    hp = Float("m", 0.9, 0.999, sampling="reverse_log")
    values = np.array([hp.random_sample(rng) for _ in range(4000)])
    # reverse_log: 0.999 + 0.9 - v is log-uniform on [0.9, 0.999]; dense near the top.
    mirrored = np.log(0.999 + 0.9 - values)
    assert abs(np.mean(mirrored) - (np.log(0.9) + np.log(0.999)) / 2) < 0.003
    assert np.mean(values > 0.95) > 0.5
    ints = [Int("i", 1, 3).random_sample(rng) for _ in range(3000)]
    assert np.allclose(np.bincount(ints, minlength=4)[1:] / 3000, 1 / 3, atol=0.03)


def test_choice_types_and_default():
    assert Choice("c", [1, 2.5]).values == [1.0, 2.5]
    assert Choice("c", [3, 1]).ordered is True and Choice("c", ["a"]).ordered is False
    with pytest.raises(TypeError, match="one type"):
        Choice("c", [1, "a"])
    with pytest.raises(ValueError, match="unique"):
        Choice("c", [1, 1])
    with pytest.raises(ValueError, match="default must be one of"):
        Choice("c", ["a", "b"], default="z")
    hp = HyperParameters()
    assert hp.Choice("act", ["relu", "tanh"], default="tanh") == "tanh"
    assert hp.Boolean("bn") is False
    assert hp.Fixed("classes", 10) == 10


def test_conditional_scope_and_parent_arguments():
    hp = HyperParameters()
    model = hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", "cnn"):
        filters = hp.Int("filters", 8, 32, step=8)
    with hp.conditional_scope("model", ["mlp"]):
        units = hp.Int("units", 16, 64)
    dropout = hp.Float("dropout", 0.0, 0.5, parent_name="units", parent_values=[16])
    assert (model, filters, units, dropout) == ("mlp", None, 16, 0.0)
    assert hp.values == {"model": "mlp", "units": 16, "dropout": 0.0}
    assert not hp.is_active("filters") and hp.is_active("units")
    hp.values["model"] = "cnn"
    assert hp.is_active("filters") and not hp.is_active("units")
    assert not hp.is_active("dropout")  # its parent is inactive, so it is too
    assert hp.active_values() == {"model": "cnn", "filters": 8}
    with pytest.raises(ValueError, match="registered before"):
        with hp.conditional_scope("unknown", [1]):
            pass
    with pytest.raises(ValueError, match="together"):
        hp.Int("x", 1, 2, parent_name="model")


def test_serialisation_round_trip_is_json():
    hp = HyperParameters()
    hp.Int("units", 32, 128, step=32, default=64)
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    hp.Choice("act", ["relu", "tanh"])
    with hp.conditional_scope("act", "tanh"):
        hp.Boolean("bn", default=True)
    hp.Fixed("classes", 10)
    hp.values["act"] = "tanh"
    config = json.loads(json.dumps(hp.get_config()))
    again = HyperParameters.from_config(config)
    assert [type(p) for p in again.space] == [Int, Float, Choice, Boolean, Fixed]
    assert again.get_config() == hp.get_config()
    assert again.space[3].conditions == [{"name": "act", "values": ["tanh"]}]
    assert again.get("bn") is True and again.get("units") == 64
    copy = hp.copy()
    copy.values["units"] = 128
    assert hp.get("units") == 64


def test_with_values_drops_inactive_and_casts():
    hp = HyperParameters()
    hp.Choice("kind", ["a", "b"])
    with hp.conditional_scope("kind", "b"):
        hp.Int("n", 1, 5)
    point = hp.with_values({"kind": "a", "n": 3.0})
    assert point.values == {"kind": "a"}
    point = hp.with_values({"kind": "b", "n": 3.0})
    assert point.values == {"kind": "b", "n": 3} and isinstance(point.values["n"], int)


def test_sampler_draws_values_of_new_parameters():
    hp = HyperParameters()
    rng = np.random.default_rng(3)
    hp.sampler = lambda p: p.random_sample(rng)
    layers = hp.Int("layers", 1, 3)
    units = [hp.Int(f"units_{i}", 1, 1000) for i in range(layers)]
    assert len(hp.space) == 1 + layers and all(1 <= u <= 1000 for u in units)
    assert units[0] != 1 or (len(units) > 1 and units[1] != 1)  # drawn, not the default


def test_merge_and_summary():
    a, b = HyperParameters(), HyperParameters()
    a.Int("x", 1, 5)
    b.Int("x", 1, 9)
    b.Float("y", 0.0, 1.0)
    b.values["y"] = 0.5
    a.merge(b)
    assert a.hyperparameter("x").max_value == 5 and a.get("y") == 0.5
    a.merge(b, overwrite=True)
    assert a.hyperparameter("x").max_value == 9
    assert "x (Int)" in a.summary() and "y (Float)" in a.summary()
