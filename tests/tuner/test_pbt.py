"""Population Based Training: what exploit copies, how explore changes it, records, schedules, replay, results."""

import math
import os

import numpy as np
import pytest
from pbt_tasks import build_classifier, build_linear_adam, lineage_train, make_data

from featherflow import keras
from featherflow.tuner import HyperParameters, PopulationBasedTraining, plot_population
from featherflow.tuner.pbt.members import apply_targets, resolve_targets, run_keras_segment
from featherflow.tuner.pbt.records import SegmentTask


def lr_space():
    hp = HyperParameters()
    hp.Float("lr", 0.01, 0.5, sampling="log")
    hp.Int("width", 1, 9)  # not mutable: copied on exploit, never explored
    return hp


def run_lineage(tmp_path, **kwargs):
    options = dict(hyperparameters=lr_space(), train_function=lineage_train, population_size=4, objective="loss",
                   perturbation_interval=2, synchronous=True, seed=3, mutable=["lr"], directory=str(tmp_path),
                   verbose=0)
    options.update(kwargs)
    pbt = PopulationBasedTraining(**options)
    pbt.search(steps=8)
    return pbt


def test_synchronous_truncation_copies_the_best_into_the_worst(tmp_path):
    pbt = run_lineage(tmp_path)
    trials = pbt.trials
    assert len(trials) == 16 and all(t.status == "COMPLETED" for t in trials.values())
    for index, trial in sorted(trials.items()):
        generation, member = divmod(index, 4)
        assert (trial.info["member"], trial.info["generation"]) == (member, generation)
        assert (trial.info["start"], trial.info["stop"]) == (2 * generation, 2 * generation + 2)
        if generation == 0:
            assert trial.info["parent"] is None
            continue
        previous = {m: trials[(generation - 1) * 4 + m] for m in range(4)}
        ranked = sorted(previous, key=lambda m: (previous[m].score, m))  # loss: lower is better
        best, worst = ranked[0], ranked[-1]
        own = previous[member]
        if member == worst:  # 4 members, quantile 0.25: exactly one copies, from the best
            donor = previous[best]
            assert trial.info["donor"] == best and trial.info["parent"] == donor.index
            assert trial.values["width"] == donor.values["width"]
            change = trial.info["changes"]["lr"]
            assert change["from"] == donor.values["lr"] and change["to"] == trial.values["lr"]
            if change["how"] != "resample":
                factor = float(change["how"][1:])
                expected = min(max(donor.values["lr"] * factor, 0.01), 0.5)
                assert trial.values["lr"] == pytest.approx(expected, rel=1e-12)
        else:
            assert trial.info["donor"] is None and trial.info["parent"] == own.index
            assert trial.values == own.values
        # The segment trained on from its parent's checkpoint: w shrank by (1 - lr) ** 2 from the parent's w.
        parent = trials[trial.info["parent"]]
        assert trial.score == pytest.approx(parent.score * (1 - trial.values["lr"]) ** 2, rel=1e-12)


def test_checkpoints_follow_the_schedule_and_replay_reproduces_it(tmp_path):
    pbt = run_lineage(tmp_path)
    states = dict(zip([m for m, _ in pbt.ranked_members()], pbt.get_best_states(4)))
    for member, schedule in pbt.schedules.items():
        assert [e["stop"] for e in schedule] == [2, 4, 6, 8]
        # The state carries the seed of every segment it went through: the copies really moved the weights.
        assert states[member][1].tolist() == [float(e["seed"]) for e in schedule]
        expected = math.prod((1 - e["values"]["lr"]) ** 2 for e in schedule)
        assert states[member][0][0] == pytest.approx(expected, rel=1e-12)
        replayed = pbt.replay(schedule)
        np.testing.assert_array_equal(replayed.state[0], states[member][0])
        assert replayed.score == pbt.final_trials()[member].score
        assert replayed.metrics["lr_seen"] == [e["values"]["lr"] for e in schedule]
    copies = [e for s in pbt.schedules.values() for e in s if e["donor"] is not None]
    assert copies, "a 4-member run over 4 generations copies at least once"
    # Only the needed checkpoints stay on disk: the final one of each member, written atomically (no leftovers).
    files = sorted(f for d in os.listdir(pbt.project.path) if d.startswith("trial_")
                   for f in os.listdir(os.path.join(pbt.project.path, d)))
    assert files.count("checkpoint.npz") == 4 and not [f for f in files if f.startswith(".tmp")]
    best_member, best_trial = pbt.best_member()
    assert best_trial.score == min(t.score for t in pbt.final_trials().values()) == pbt.best_score
    assert pbt.get_best_hyperparameters(1)[0].values == best_trial.values
    # Another seed retrains the same schedule from a new start (here the problem has no randomness).
    assert pbt.replay(best_member, seed=123).score == pytest.approx(best_trial.score, rel=1e-12)


def test_tournament_copies_only_from_better_members(tmp_path):
    pbt = run_lineage(tmp_path, exploit="tournament", population_size=5, seed=0)
    copies = 0
    for trial in pbt.trials.values():
        if trial.info.get("donor") is not None:
            copies += 1
            own_previous = pbt.trials[trial.index - 5]
            assert pbt.trials[trial.info["parent"]].score < own_previous.score
    assert copies >= 1


def test_asynchronous_single_worker_is_deterministic_and_completes(tmp_path):
    runs = [run_lineage(tmp_path / str(i), synchronous=False, seed=0) for i in range(2)]
    assert runs[0].schedules == runs[1].schedules
    pbt = runs[0]
    for trial in pbt.final_trials().values():
        assert trial.info["stop"] == 8
    for trial in pbt.trials.values():
        if trial.info["parent"] is not None:
            assert trial.info["start"] == pbt.trials[trial.info["parent"]].info["stop"]
    # No zero-length segments ("steps 8-8"): a member never copies one that has finished training (with seed 0
    # a lagging member used to), finished members are not ranked either, as in Ray Tune.
    assert all(t.info["start"] < t.info["stop"] for t in pbt.trials.values())
    for trial in pbt.trials.values():
        if trial.info["donor"] is not None:
            assert pbt.trials[trial.info["parent"]].info["stop"] < 8
    for member, schedule in pbt.schedules.items():
        assert [(e["start"], e["stop"]) for e in schedule] == [(0, 2), (2, 4), (4, 6), (6, 8)], member


def conditional_space():
    hp = HyperParameters()
    hp.Choice("kind", ["a", "b"])
    with hp.conditional_scope("kind", ["a"]):
        hp.Float("rate_a", 0.01, 0.3)
    with hp.conditional_scope("kind", ["b"]):
        hp.Float("rate_b", 0.01, 0.3)
    return hp


@pytest.mark.parametrize("synchronous", [True, False])
def test_explore_switching_a_parent_gives_the_new_children_values(tmp_path, synchronous):
    from pbt_tasks import conditional_train

    space = conditional_space()
    pbt = PopulationBasedTraining(hyperparameters=space, train_function=conditional_train, population_size=4,
                                  objective="loss", perturbation_interval=2, synchronous=synchronous, seed=5,
                                  mutable=["kind", "rate_a", "rate_b"], directory=str(tmp_path), verbose=0)
    pbt.search(steps=8)
    assert all(t.status == "COMPLETED" for t in pbt.trials.values()), [t.message for t in pbt.trials.values()]
    switched = 0
    for trial in pbt.trials.values():
        kind = trial.values["kind"]
        assert sorted(trial.values) == ["kind", f"rate_{kind}"]  # exactly the active parameters
        changes = trial.info["changes"]
        if "kind" in changes and changes["kind"]["from"] != kind:  # a Choice of two always flips
            switched += 1
            old = changes["kind"]["from"]
            assert changes[f"rate_{old}"] == {"from": pbt.trials[trial.info["parent"]].values[f"rate_{old}"],
                                              "to": None, "how": "deactivated"}
            # the new child is drawn from the oracle's stream 4 of this trial
            child = space.hyperparameter(f"rate_{kind}")
            expected = child.cast(child.random_sample(np.random.default_rng([5, trial.index, 4])))
            assert changes[f"rate_{kind}"] == {"from": None, "to": expected, "how": "activated"}
            assert trial.values[f"rate_{kind}"] == expected
    assert switched >= 2


def test_memory_checkpoints_write_no_files_and_cannot_resume(tmp_path):
    pbt = run_lineage(tmp_path, checkpoints="memory")
    assert not [f for d in os.listdir(pbt.project.path) if d.startswith("trial_")
                for f in os.listdir(os.path.join(pbt.project.path, d)) if f.endswith(".npz")]
    again = PopulationBasedTraining(hyperparameters=lr_space(), train_function=lineage_train, population_size=4,
                                    objective="loss", perturbation_interval=2, synchronous=True, seed=3,
                                    mutable=["lr"], directory=str(tmp_path), checkpoints="memory", verbose=0)
    with pytest.raises(ValueError, match="Cannot resume"):
        again.search(steps=10)


def test_adam_exploit_copies_weights_slots_and_step_and_applies_mutable_values_in_place():
    """One full-batch Adam step from a donor's checkpoint, checked against NumPy (float64)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    w0 = rng.normal(size=(3, 1)).astype("float32")
    m0 = rng.normal(size=(3, 1)).astype("float32") * 0.1
    v0 = rng.random(size=(3, 1)).astype("float32") * 0.1
    checkpoint = {"weights": [w0], "optimizer": [np.array(5, dtype=np.int64), m0, v0]}
    hp = HyperParameters()
    build_linear_adam(hp)
    values = {"learning_rate": 0.05, "beta_1": 0.7}
    segment = SegmentTask(start=3, stop=4, unit="epochs", seed=7)
    targets = resolve_targets(None, ["learning_rate", "beta_1"])
    result = run_keras_segment(build_linear_adam, hp.get_config(), values, targets, segment, checkpoint, "loss",
                               ((x, y), {"batch_size": 8, "shuffle": False}))
    w, m, v = (a.astype(np.float64) for a in (w0, m0, v0))
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    gradient = 2.0 / len(xd) * xd.T @ (xd @ w - yd)
    beta_1, beta_2, lr, step = 0.7, 0.999, 0.05, 6  # the copied step count (5) goes on to 6
    m = m + (gradient - m) * (1 - beta_1)
    v = v + (gradient**2 - v) * (1 - beta_2)
    w = w - lr * math.sqrt(1 - beta_2**step) / (1 - beta_1**step) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(result.checkpoint["weights"][0], w, rtol=1e-5, atol=1e-6)
    iterations, m_new, v_new = result.checkpoint["optimizer"]
    assert int(iterations) == 6
    np.testing.assert_allclose(m_new, m, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(v_new, v, rtol=1e-5, atol=1e-8)
    assert result.score == pytest.approx(float(np.mean((xd @ w0.astype(np.float64) - yd) ** 2)), rel=1e-5)


def dropout_model():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.1, name="inner_drop")], name="inner")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.2, name="outer_drop"), inner,
                              keras.layers.Dense(1, name="head")])
    model.compile(keras.optimizers.SGD(0.1, momentum=0.5), "mse")
    return model


def set_head_trainable(model, value):
    model.get_layer("head").trainable = bool(value)


def test_apply_targets_sets_every_kind_of_target_in_place():
    model = dropout_model()
    targets = {"lr": "optimizer.learning_rate", "momentum": "optimizer.momentum", "dropout": "layers:Dropout.rate",
               "batch_size": "fit.batch_size", "head_on": set_head_trainable}
    fit_arguments = apply_targets(model, {"lr": 0.03, "momentum": 0.8, "dropout": 0.35, "batch_size": 16,
                                          "head_on": False}, targets)
    assert fit_arguments == {"batch_size": 16}
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.03) and model.optimizer.momentum == 0.8
    assert model.get_layer("outer_drop").rate == 0.35 and model.get_layer("inner").get_layer("inner_drop").rate == 0.35
    assert model.get_layer("head").trainable is False
    apply_targets(model, {"inner_rate": 0.05}, {"inner_rate": "layer:inner_drop.rate"})
    assert model.get_layer("inner").get_layer("inner_drop").rate == 0.05
    assert model.get_layer("outer_drop").rate == 0.35
    with pytest.raises(ValueError, match="has no hyperparameter 'beta_1'"):
        apply_targets(model, {"b": 0.9}, {"b": "optimizer.beta_1"})
    with pytest.raises(ValueError, match="no layer matches"):
        apply_targets(model, {"r": 0.1}, {"r": "layers:GaussianNoise.stddev"})


def test_resolve_targets_defaults_and_errors():
    names = ["learning_rate", "momentum", "dropout", "units", "batch_size", "activation"]
    assert resolve_targets(None, names) == {"learning_rate": "optimizer.learning_rate",
                                            "momentum": "optimizer.momentum", "dropout": "layers:Dropout.rate",
                                            "batch_size": "fit.batch_size"}
    assert resolve_targets(["momentum"], names) == {"momentum": "optimizer.momentum"}
    assert resolve_targets({"units": "layer:d.units"}, names) == {"units": "layer:d.units"}
    with pytest.raises(ValueError, match="No default target"):
        resolve_targets(["units"], names)
    with pytest.raises(ValueError, match="not in the search space"):
        resolve_targets(["lr"], names)
    with pytest.raises(ValueError, match="Unknown target"):
        resolve_targets({"units": "model.units"}, names)


def test_keras_population_results_replay_and_plot(tmp_path, capsys):
    x, y = make_data(96)
    xv, yv = make_data(48, seed=1)
    pbt = PopulationBasedTraining(build_classifier, population_size=3, objective="val_loss",
                                  perturbation_interval=1, synchronous=True, seed=5, directory=str(tmp_path),
                                  quantile_fraction=0.34)
    pbt.search(x, y, epochs=3, validation_data=(xv, yv), batch_size=32)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Member ")]
    assert len(lines) == 9 and "val_loss:" in lines[0]
    assert pbt.oracle.mutable == ["dropout", "learning_rate"]  # "units" is fixed per member
    for trial in pbt.trials.values():
        if trial.info["donor"] is not None:
            assert trial.values["units"] == pbt.trials[trial.info["parent"]].values["units"]
            assert "copied member" in lines[trial.index]
    best_member, best_trial = pbt.best_member()
    model = pbt.get_best_models(1)[0]
    assert model.evaluate(xv, yv, verbose=0)[0] == pytest.approx(best_trial.score, rel=1e-6)
    replayed = pbt.replay(pbt.schedule(best_member), x, y, validation_data=(xv, yv), batch_size=32)
    for got, want in zip(replayed.model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert replayed.score == best_trial.score
    pbt.results_summary()
    assert f"1. member {best_member}: val_loss=" in capsys.readouterr().out
    figure = plot_population(pbt)
    assert len(figure.axes) == 3 and figure.axes[2].get_yscale() == "log"
    assert len(figure.axes[0].get_lines()) >= 3
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_a_missing_objective_fails_the_segment_with_a_clear_message(tmp_path):
    x, y = make_data(32)
    pbt = PopulationBasedTraining(build_classifier, population_size=2, objective="val_accuracy", seed=0,
                                  directory=str(tmp_path), verbose=0, max_retries_per_trial=0,
                                  max_consecutive_failed_trials=2)
    with pytest.raises(RuntimeError, match="consecutive trials failed"):
        pbt.search(x, y, epochs=2)
    assert "Pass validation data for 'val_' objectives" in pbt.trials[0].message


def test_argument_errors(tmp_path):
    options = dict(hyperparameters=lr_space(), objective="loss", directory=str(tmp_path), verbose=0)
    with pytest.raises(ValueError, match="exactly one of build_model"):
        PopulationBasedTraining(**options)
    with pytest.raises(ValueError, match="population_size must be >= 2"):
        PopulationBasedTraining(train_function=lineage_train, population_size=1, **options)
    with pytest.raises(ValueError, match="quantile_fraction"):
        PopulationBasedTraining(train_function=lineage_train, quantile_fraction=0.7, **options)
    with pytest.raises(ValueError, match="interval_unit"):
        PopulationBasedTraining(train_function=lineage_train, interval_unit="batches", **options)
    with pytest.raises(ValueError, match="exploit must be one of"):
        PopulationBasedTraining(train_function=lineage_train, exploit="best", **options)
    pbt = PopulationBasedTraining(train_function=lineage_train, **options)
    with pytest.raises(ValueError, match="pass steps="):
        pbt.search(epochs=3)
    pbt = PopulationBasedTraining(train_function=lineage_train, mutable=["depth"], overwrite=True, **options)
    with pytest.raises(ValueError, match="not in the search space"):
        pbt.search(steps=2)
    with pytest.raises(ValueError, match="population_size=8"):  # resuming a project made with another population
        PopulationBasedTraining(train_function=lineage_train, population_size=3, overwrite=False, **options)


def test_step_intervals_train_exactly_the_scheduled_batches(tmp_path):
    x, y = make_data(96)  # 3 batches of 32 per pass: a 5-step segment spans two fit calls
    pbt = PopulationBasedTraining(build_classifier, population_size=2, objective="loss", interval_unit="steps",
                                  perturbation_interval=5, synchronous=True, seed=2, directory=str(tmp_path),
                                  verbose=0)
    pbt.search(x, y, steps=12, batch_size=32)
    assert [(t.info["start"], t.info["stop"]) for t in pbt.trials.values()] == [(0, 5), (0, 5), (5, 10), (5, 10),
                                                                               (10, 12), (10, 12)]
    for trial in pbt.final_trials().values():
        # The copied optimizer state carries the step count: 12 batches along every member's lineage.
        assert int(pbt.checkpoints.load(trial.index)["optimizer"][0]) == 12
        assert len(trial.metrics["loss"]) == 1  # the last chunk's epoch: 2 steps
