import math

import numpy as np
import pytest
from tuner_tasks import branin

from featherflow.tuner import (
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    HyperParameters,
    Objective,
    RandomSearchOracle,
    TPEOracle,
    Trial,
    TrialStatus,
    get_objective,
)
from featherflow.tuner.oracles import DONE, WAIT
from featherflow.tuner.oracles.gp import GaussianProcess, expected_improvement, normal_cdf


def drive(oracle, function, space):
    """Run an oracle sequentially, scoring each proposal with ``function(values)``."""
    trials = {}
    while (proposal := oracle.propose(trials)) not in (DONE, WAIT):
        trial = Trial(proposal.index, space.with_values(proposal.values), info=proposal.info)
        trial.score, trial.status = function(proposal.values), TrialStatus.COMPLETED
        trials[proposal.index] = trial
    return trials


def branin_space():
    hp = HyperParameters()
    hp.Float("x1", -5.0, 10.0)
    hp.Float("x2", 0.0, 15.0)
    return hp


def test_objective_directions():
    assert get_objective("val_accuracy").direction == "max"
    assert get_objective("val_loss").direction == "min"
    assert get_objective("mean_absolute_error").direction == "min"
    assert get_objective("auc").direction == "max"
    assert get_objective(("custom", "max")) == Objective("custom", "max")
    with pytest.raises(ValueError, match="direction"):
        get_objective("zebra")
    with pytest.raises(ValueError, match="'min' or 'max'"):
        Objective("x", "up")
    objective = Objective("val_accuracy", "max")
    assert objective.better(0.9, 0.8) and not objective.better(float("nan"), 0.1) and objective.better(0.1, None)


def test_grid_full_product_in_stable_order_with_conditions():
    hp = HyperParameters()
    hp.Choice("kind", ["a", "b"])
    with hp.conditional_scope("kind", "b"):
        hp.Int("n", 1, 3)
    hp.Boolean("flag")
    oracle = GridSearchOracle("loss", hyperparameters=hp)
    trials = drive(oracle, lambda v: 0.0, hp)
    got = [t.values for _, t in sorted(trials.items())]
    expected = [{"kind": "a", "flag": False}, {"kind": "a", "flag": True}]
    expected += [{"kind": "b", "n": n, "flag": f} for n in (1, 2, 3) for f in (False, True)]
    assert got == expected
    assert oracle.propose(trials) == DONE
    # A fresh oracle (as after a resume) proposes the same next point from the records alone.
    partial = {i: trials[i] for i in range(3)}
    assert GridSearchOracle("loss", hyperparameters=hp).propose(partial).values == expected[3]


def test_random_search_is_reproducible_and_per_index():
    hp = branin_space()
    a = drive(RandomSearchOracle("loss", max_trials=6, hyperparameters=hp, seed=5), branin, hp)
    b = drive(RandomSearchOracle("loss", max_trials=6, hyperparameters=hp, seed=5), branin, hp)
    c = drive(RandomSearchOracle("loss", max_trials=6, hyperparameters=hp, seed=6), branin, hp)
    assert [t.values for t in a.values()] == [t.values for t in b.values()]
    assert [t.values for t in a.values()] != [t.values for t in c.values()]
    # Trial 3's values do not depend on how many trials exist before it is proposed.
    oracle = RandomSearchOracle("loss", max_trials=6, hyperparameters=hp, seed=5)
    assert oracle.propose({i: a[i] for i in range(3)}).values == a[3].values
    assert len(a) == 6


def test_random_search_stops_when_discrete_space_is_exhausted():
    hp = HyperParameters()
    hp.Choice("c", [1, 2, 3])
    trials = drive(RandomSearchOracle("loss", max_trials=20, hyperparameters=hp, seed=0), lambda v: v["c"], hp)
    assert sorted(t.values["c"] for t in trials.values()) == [1, 2, 3]


def numeric_grad(f, theta, eps=1e-6):
    grad = np.zeros_like(theta)
    for i in range(len(theta)):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return grad


def test_gp_likelihood_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    X, y = rng.random((9, 3)), rng.normal(size=9)
    gp = GaussianProcess()
    for theta in [np.array([-0.5, 0.2, -1.0, 0.3, -4.0]), np.array([0.1, -1.5, 0.5, -0.2, -2.0])]:
        value, grad = gp._neg_log_likelihood(theta, X, y)
        expected = numeric_grad(lambda t: gp._neg_log_likelihood(t, X, y)[0], theta)
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


def test_gp_posterior_matches_direct_formula():
    rng = np.random.default_rng(2)
    X, y = rng.random((7, 2)), rng.normal(size=7)
    gp = GaussianProcess().fit(X, y)
    ls, signal, noise = np.exp(gp.theta[:2]), math.exp(gp.theta[2]), math.exp(gp.theta[3])

    def matern(a, b):
        r = np.sqrt((((a[:, None, :] - b[None, :, :]) / ls) ** 2).sum(-1))
        return signal * (1 + math.sqrt(5) * r + 5 / 3 * r**2) * np.exp(-math.sqrt(5) * r)

    y_n = (y - y.mean()) / y.std()
    K = matern(X, X) + (noise + 1e-10) * np.eye(7)
    Xs = rng.random((4, 2))
    Ks = matern(Xs, X)
    mean = Ks @ np.linalg.solve(K, y_n)
    var = signal - np.einsum("ij,ji->i", Ks, np.linalg.solve(K, Ks.T))
    got_mean, got_std = gp.predict(Xs, standardized=True)
    np.testing.assert_allclose(got_mean, mean, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got_std, np.sqrt(var), rtol=1e-6, atol=1e-9)


def test_expected_improvement_closed_form():
    # EI of N(mu, s^2) below `best`, checked against a Monte-Carlo estimate.
    rng = np.random.default_rng(0)
    for mu, s, best in [(0.0, 1.0, 0.5), (1.0, 0.5, 0.6), (-1.0, 2.0, -1.5)]:
        samples = rng.normal(mu, s, 400_000)
        mc = np.maximum(best - samples, 0).mean()
        assert expected_improvement(np.array([mu]), np.array([s]), best)[0] == pytest.approx(mc, rel=0.02)
    assert normal_cdf(np.array([0.0]))[0] == pytest.approx(0.5)
    assert normal_cdf(np.array([1.959963984540054]))[0] == pytest.approx(0.975, abs=1e-9)


def test_model_based_oracles_find_branin_minimum():
    hp = branin_space()

    def regrets(cls, budget, seeds=(0, 1)):
        found = []
        for seed in seeds:
            trials = drive(cls("loss", max_trials=budget, hyperparameters=hp, seed=seed), branin, hp)
            assert len(trials) == budget
            found.append(min(t.score for t in trials.values()) - 0.397887)
        return found

    gp, random = regrets(BayesianOptimizationOracle, 25), regrets(RandomSearchOracle, 25)
    assert max(gp) < 0.05 and min(random) > max(gp), (gp, random)
    assert max(regrets(TPEOracle, 40)) < 1.0


def test_bayesian_maximises_when_objective_says_max():
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = BayesianOptimizationOracle(Objective("gain", "max"), max_trials=12, hyperparameters=hp, seed=3)
    trials = drive(oracle, lambda v: -((v["x"] - 0.8) ** 2), hp)
    assert abs(oracle.get_best_trials(trials)[0].values["x"] - 0.8) < 0.03


def test_model_based_batches_wait_and_do_not_depend_on_batch_mates():
    hp = branin_space()
    oracle = BayesianOptimizationOracle("loss", max_trials=10, num_initial_points=3, batch_size=2,
                                        hyperparameters=hp, seed=0)
    trials = {}
    for _ in range(3):  # the random start-up trials never wait
        p = oracle.propose(trials)
        trials[p.index] = Trial(p.index, hp.with_values(p.values))
    assert oracle.propose(trials) == WAIT  # trial 3 needs trials 0-2 finished
    for t in trials.values():
        t.status, t.score = TrialStatus.COMPLETED, branin(t.values)
    p3 = oracle.propose(trials)
    trials[3] = Trial(3, hp.with_values(p3.values))
    p4 = oracle.propose(trials)  # same batch as 3: proposed while 3 is still running
    assert p4.index == 4 and p4.values != p3.values
    trials[4] = Trial(4, hp.with_values(p4.values))
    assert oracle.propose(trials) == WAIT  # trial 5 starts the next batch
    # Finishing trial 3 first must not change trial 4: rebuild from records with 3 completed.
    trials[3].status, trials[3].score = TrialStatus.COMPLETED, 0.0
    fresh = BayesianOptimizationOracle("loss", max_trials=10, num_initial_points=3, batch_size=2,
                                       hyperparameters=hp, seed=0)
    assert fresh.propose({i: trials[i] for i in range(4)}).values == p4.values


def test_failed_trials_are_ignored_by_the_model():
    hp = branin_space()
    oracle = TPEOracle("loss", max_trials=15, num_initial_points=4, hyperparameters=hp, seed=0)
    trials = {}
    while (p := oracle.propose(trials)) not in (DONE, WAIT):
        trial = Trial(p.index, hp.with_values(p.values))
        if p.index % 3 == 0:
            trial.status = TrialStatus.FAILED
        else:
            trial.status, trial.score = TrialStatus.COMPLETED, branin(p.values)
        trials[p.index] = trial
    assert len(trials) == 15 and all(t.score is None for t in trials.values() if t.status == "FAILED")


def test_hyperband_bracket_arithmetic_matches_kerastuner():
    oracle = HyperbandOracle("val_loss", max_epochs=27, factor=3)
    assert oracle.num_brackets() == 4
    # end size ceil(1 + log3 27) = 4; bracket 3 rounds: 27, 9, 3, 1 models at 1, 3, 9, 27 epochs
    assert [oracle.bracket_size(3, r) for r in range(4)] == [27, 9, 3, 1]
    assert [oracle.round_epochs(3, r) for r in range(4)] == [1, 3, 9, 27]
    assert [oracle.bracket_size(1, r) for r in range(2)] == [6, 2]
    assert [oracle.bracket_size(0, 0)] == [4]
    assert len(HyperbandOracle("loss", max_epochs=27, factor=3, hyperband_iterations=2).schedule()) == \
        2 * len(oracle.schedule())
    with pytest.raises(ValueError, match="factor"):
        HyperbandOracle("loss", max_epochs=10, factor=1)


def test_hyperband_successive_halving_keeps_the_best_and_continues_them():
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = HyperbandOracle("loss", max_epochs=9, factor=3, hyperparameters=hp, seed=0)
    trials = {}
    # Bracket 2 round 0: nine one-epoch trials, no waiting between them.
    for _ in range(9):
        p = oracle.propose(trials)
        assert p.info["bracket"] == 2 and p.info["round"] == 0 and p.info["epochs"] == 1
        trials[p.index] = Trial(p.index, hp.with_values(p.values), info=p.info)
    # Round 1 must wait for round 0, so the next bracket's first round starts meanwhile.
    p = oracle.propose(trials)
    assert p.index == 13 and p.info["bracket"] == 1 and p.info["round"] == 0
    for t in trials.values():
        t.status, t.score = TrialStatus.COMPLETED, abs(t.values["x"] - 0.5)
    p = oracle.propose(trials)
    assert p.index == 9 and p.info["round"] == 1 and p.info["epochs"] == 3 and p.info["initial_epoch"] == 1
    best_three = sorted(range(9), key=lambda i: trials[i].score)[:3]
    promoted = [p]
    trials[9] = Trial(9, hp.with_values(p.values), info=p.info)
    for index in (10, 11):
        q = oracle.propose(trials)
        assert q.index == index
        promoted.append(q)
        trials[index] = Trial(index, hp.with_values(q.values), info=q.info)
    assert [q.info["parent_index"] for q in promoted] == best_three
    assert [q.values for q in promoted] == [trials[i].values for i in best_three]


def test_hyperband_first_rounds_do_not_repeat_configurations():
    hp = HyperParameters()
    hp.Choice("c", [1, 2, 3, 4])
    oracle = HyperbandOracle("loss", max_epochs=9, factor=3, hyperparameters=hp, seed=0)
    trials = {}
    for _ in range(4):  # bracket 2 wants 9 first-round models but only 4 configurations exist
        p = oracle.propose(trials)
        values = dict(p.values)
        point = hp.with_values(values)
        point.Fixed("tuner/epochs", p.info["epochs"])  # as the Keras tuner records it
        trials[p.index] = Trial(p.index, point, info=p.info)
    assert sorted(t.values["c"] for t in trials.values()) == [1, 2, 3, 4]
    # The other first-round slots are skipped; the next round waits for the four, then promotes from them.
    assert oracle.propose(trials) == WAIT
    for t in trials.values():
        t.status, t.score = TrialStatus.COMPLETED, float(t.values["c"])
    while (p := oracle.propose(trials)) not in (DONE, WAIT) and p.info["bracket"] < 2:
        trials[p.index] = Trial(p.index, hp.with_values(p.values), info=p.info, status=TrialStatus.COMPLETED,
                                score=1.0)
    assert p.info["bracket"] == 2 and p.info["round"] == 1 and trials[p.info["parent_index"]].values["c"] == 1
