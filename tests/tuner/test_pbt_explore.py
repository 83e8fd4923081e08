"""PBT's exploit and explore arithmetic: perturbation of each kind of parameter, quantiles, truncation, tournament."""

import math

import numpy as np
import pytest

from featherflow.tuner import HyperParameters, Objective
from featherflow.tuner.pbt.exploit import choose_donor, quantile_size
from featherflow.tuner.pbt.explore import explore, perturb

LOSS, ACCURACY = Objective("loss", "min"), Objective("accuracy", "max")


def space():
    hp = HyperParameters()
    hp.Float("lr", 1e-4, 0.5, sampling="log")
    hp.Float("dropout", 0.0, 0.5)
    hp.Int("batch_size", 16, 128, step=16)
    hp.Int("layers", 1, 5)
    hp.Choice("optimizer", ["sgd", "adam", "rmsprop"])
    hp.Boolean("nesterov")
    hp.Fixed("epochs", 3)
    return hp


@pytest.mark.parametrize("value,factor,expected", [(0.01, 1.2, 0.012), (0.01, 0.8, 0.008), (0.45, 1.2, 0.5),
                                                   (1.2e-4, 0.8, 1e-4), (0.1, 1.0, 0.1)])
def test_float_perturbation_multiplies_and_clips(value, factor, expected):
    assert perturb(space().hyperparameter("lr"), value, factor) == pytest.approx(expected, rel=1e-12)


def test_float_with_step_lands_on_the_grid_and_moves():
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0, step=0.1)
    x = hp.hyperparameter("x")
    assert perturb(x, 0.5, 1.2) == pytest.approx(0.6)
    assert perturb(x, 0.5, 0.8) == pytest.approx(0.4)
    # 0.1 * 1.2 = 0.12 rounds back to 0.1 on the grid: it moves one grid step in the factor's direction.
    assert perturb(x, 0.1, 1.2) == pytest.approx(0.2)
    assert perturb(x, 1.0, 1.2) == pytest.approx(1.0)


@pytest.mark.parametrize("value,factor,expected", [(3, 1.2, 4), (4, 0.8, 3), (2, 1.2, 3), (2, 0.8, 1), (1, 0.8, 1),
                                                   (5, 1.2, 5), (5, 1.5, 5), (4, 1.5, 5)])
def test_int_perturbation_rounds_and_never_freezes_small_values(value, factor, expected):
    # round(2 * 1.2) = 2 and round(2 * 0.8) = 2: the value moves one unit in the factor's direction instead.
    assert perturb(space().hyperparameter("layers"), value, factor) == expected


@pytest.mark.parametrize("value,factor,expected", [(64, 1.2, 80), (64, 0.8, 48), (32, 1.2, 48), (16, 0.8, 16),
                                                   (128, 1.2, 128), (112, 1.2, 128)])
def test_int_with_step_stays_on_the_grid(value, factor, expected):
    # 64 * 1.2 = 76.8 -> nearest grid value 80; 32 * 1.2 = 38.4 -> 32 (unchanged) -> next grid value 48.
    assert perturb(space().hyperparameter("batch_size"), value, factor) == expected


def test_choices_move_to_a_neighbour_and_booleans_flip():
    optimizer = space().hyperparameter("optimizer")
    assert perturb(optimizer, "adam", 1.2) == "rmsprop"
    assert perturb(optimizer, "adam", 0.8) == "sgd"
    assert perturb(optimizer, "sgd", 0.8) == "adam"  # at the end of the list: the only neighbour
    assert perturb(optimizer, "rmsprop", 1.2) == "adam"
    nesterov = space().hyperparameter("nesterov")
    assert perturb(nesterov, False, 1.2) is True and perturb(nesterov, True, 1.2) is False
    assert perturb(space().hyperparameter("epochs"), 3, 1.2) == 3


def test_explore_perturbs_only_the_mutable_names_with_the_drawn_factors():
    hp = space()
    values = {"lr": 0.01, "dropout": 0.25, "batch_size": 64, "layers": 3, "optimizer": "adam", "nesterov": False,
              "epochs": 3}
    names = ["lr", "dropout", "batch_size"]
    new, changes = explore(values, hp, names, np.random.default_rng(11), resample_probability=0.0)
    # Independent replay of the documented draws: one uniform per name, then the factor index.
    rng = np.random.default_rng(11)
    factors = []
    for _ in names:
        rng.random()
        factors.append((0.8, 1.2)[int(rng.integers(2))])
    assert new["lr"] == pytest.approx(0.01 * factors[0], rel=1e-12)
    assert new["dropout"] == pytest.approx(0.25 * factors[1], rel=1e-12)
    assert new["batch_size"] == {0.8: 48, 1.2: 80}[factors[2]]
    assert {k: new[k] for k in ("layers", "optimizer", "nesterov", "epochs")} == {
        "layers": 3, "optimizer": "adam", "nesterov": False, "epochs": 3}
    assert list(changes) == names
    assert [changes[n]["how"] for n in names] == [f"x{f:g}" for f in factors]
    assert changes["lr"]["from"] == 0.01 and changes["lr"]["to"] == new["lr"]


def test_explore_resamples_from_the_space():
    hp = space()
    values = {"lr": 0.01, "dropout": 0.25, "batch_size": 64, "layers": 3, "optimizer": "adam", "nesterov": False,
              "epochs": 3}
    new, changes = explore(values, hp, ["lr", "optimizer"], np.random.default_rng(5), resample_probability=1.0)
    rng = np.random.default_rng(5)
    rng.random()
    lr = math.exp(math.log(1e-4) + rng.random() * (math.log(0.5) - math.log(1e-4)))
    rng.random()
    optimizer = ["sgd", "adam", "rmsprop"][min(int(rng.random() * 3), 2)]
    assert new["lr"] == pytest.approx(lr, rel=1e-12) and new["optimizer"] == optimizer
    assert changes["lr"]["how"] == changes["optimizer"]["how"] == "resample"
    # With resample_probability=0.25 about a quarter of the draws leave {value * 0.8, value * 1.2}.
    draws = [explore(values, hp, ["lr"], np.random.default_rng(s), 0.25)[0]["lr"] for s in range(400)]
    perturbed = [d for d in draws if min(abs(d - 0.008), abs(d - 0.012)) < 1e-15]
    assert 0.65 < len(perturbed) / len(draws) < 0.85


@pytest.mark.parametrize("population,fraction,expected", [(1, 0.25, 0), (2, 0.25, 1), (4, 0.25, 1), (8, 0.25, 2),
                                                          (10, 0.25, 3), (10, 0.2, 2), (3, 0.5, 1), (5, 0.5, 2),
                                                          (20, 0.5, 10)])
def test_quantile_size(population, fraction, expected):
    assert quantile_size(population, fraction) == expected


def test_truncation_bottom_copies_top_uniformly_middle_and_top_keep():
    scores = {0: 0.50, 1: 0.10, 2: 0.90, 3: 0.30, 4: 0.70, 5: 0.20, 6: 0.80, 7: 0.40}  # losses
    top, bottom = {1, 5}, {2, 6}  # 8 members, quantile 0.25 -> 2 each side
    for member in scores:
        donors = {choose_donor(member, scores, LOSS, "truncation", np.random.default_rng(s)) for s in range(60)}
        assert donors == (top if member in bottom else {None}), member
    # With accuracy (max) the order flips.
    donors = {choose_donor(1, scores, ACCURACY, "truncation", np.random.default_rng(s)) for s in range(60)}
    assert donors == {2, 6}


def test_truncation_ties_and_failed_members():
    scores = {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}  # ties: the lower id ranks better, member 3 is the bottom one
    assert choose_donor(3, scores, LOSS, "truncation", np.random.default_rng(0)) == 0
    assert choose_donor(1, scores, LOSS, "truncation", np.random.default_rng(0)) is None
    # Failed (None / NaN) members always copy, even beyond the quantile, and are never donors.
    scores = {0: 0.3, 1: None, 2: float("nan"), 3: None, 4: 0.1, 5: 0.2}
    for member in (1, 2, 3):
        donors = {choose_donor(member, scores, LOSS, "truncation", np.random.default_rng(s)) for s in range(40)}
        assert donors == {4, 5}  # 6 members: quantile of 2
    assert choose_donor(0, scores, LOSS, "truncation", np.random.default_rng(0)) is None


def test_tournament_copies_only_a_strictly_better_opponent():
    scores = {0: 0.5, 1: 0.1, 2: 0.9, 3: 0.3}
    for seed in range(30):
        for member in scores:
            got = choose_donor(member, scores, LOSS, "tournament", np.random.default_rng(seed), tournament_size=2)
            rng = np.random.default_rng(seed)
            others = [m for m in sorted(scores) if m != member]
            opponent = others[int(rng.choice(len(others), size=1, replace=False)[0])]
            assert got == (opponent if scores[opponent] < scores[member] else None)
    # A tournament over the whole population always finds the best member; the best never copies.
    for member in (0, 2, 3):
        assert choose_donor(member, scores, LOSS, "tournament", np.random.default_rng(1), tournament_size=4) == 1
    assert choose_donor(1, scores, LOSS, "tournament", np.random.default_rng(1), tournament_size=4) is None
    # A failed member copies whatever it drew (or any scored member when it drew only failures).
    assert choose_donor(0, {0: None, 1: None, 2: 0.4}, LOSS, "tournament", np.random.default_rng(3)) == 2


def test_bad_exploit_method():
    with pytest.raises(ValueError, match="exploit must be one of"):
        choose_donor(0, {0: 1.0, 1: 2.0}, LOSS, "roulette", np.random.default_rng(0))
