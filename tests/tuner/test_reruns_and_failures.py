"""Tuners run again on an existing project (KerasTuner's ``overwrite=False``), searches where every trial fails,
``search(verbose=...)`` on every tuner, and what the summaries print."""

import re

import numpy as np
import pytest

from featherflow import keras
from featherflow.tuner import (
    FunctionTuner,
    GridSearch,
    HyperParameters,
    PopulationBasedTraining,
    RandomSearch,
    RandomSearchOracle,
)

UNITS = {"low": 2, "high": 4}


def build_units(hp):
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(hp.Int("units", UNITS["low"],
                                                                                 UNITS["high"])),
                              keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def build_layers(hp):
    """KerasTuner's pattern: units_1 and units_2 only matter when layers asks for them."""
    model = keras.Sequential([keras.Input(shape=(3,))])
    for i in range(hp.Int("layers", 1, 3)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 2, 4)))
    model.add(keras.layers.Dense(1))
    model.compile(optimizer="sgd", loss="mse")
    return model


def build_uncompiled(hp):
    return keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(hp.Int("units", 2, 4))])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((16, 3)).astype("float32"), rng.random((16, 1)).astype("float32")


@pytest.fixture
def units_range():
    yield UNITS
    UNITS.update(low=2, high=4)


# -- every trial failed ---------------------------------------------------------------------------------------
def test_a_search_whose_every_trial_fails_raises_the_first_error(tmp_path, data):
    x, y = data
    tuner = RandomSearch(build_uncompiled, objective="loss", max_trials=2, seed=0, directory=str(tmp_path),
                         verbose=0)
    with pytest.raises(RuntimeError, match=r"(?s)All 2 trial\(s\) failed.*first failed trial \(0000\).*"
                                           r"You must compile your model"):
        tuner.search(x, y, epochs=1)
    assert [t.status for t in tuner.trials.values()] == ["FAILED", "FAILED"]  # both ran and were recorded


def test_an_unknown_objective_raises_after_its_trials(tmp_path, data):
    x, y = data
    tuner = RandomSearch(build_units, objective="val_f1", max_trials=2, seed=0, directory=str(tmp_path), verbose=0)
    with pytest.raises(RuntimeError, match=r"(?s)All 2 trial\(s\) failed.*'val_f1' is not among the metrics"):
        tuner.search(x, y, epochs=1, validation_data=(x, y))


def raise_for_large_x(values):
    if values["x"] > 0.5:
        raise ValueError(f"x={values['x']:.2f} too large")
    return values["x"]


def test_one_completed_trial_is_a_result(tmp_path):
    hp = HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = RandomSearchOracle("loss", max_trials=6, hyperparameters=hp, seed=0)
    tuner = FunctionTuner(oracle, raise_for_large_x, directory=str(tmp_path), verbose=0)
    tuner.search()
    statuses = {t.status for t in tuner.trials.values()}
    assert statuses == {"COMPLETED", "FAILED"} and tuner.get_best_hyperparameters()[0].values["x"] <= 0.5
    only_failures = HyperParameters()
    only_failures.Float("x", 0.6, 1.0)
    tuner = FunctionTuner(RandomSearchOracle("loss", max_trials=2, hyperparameters=only_failures, seed=0),
                          raise_for_large_x, directory=str(tmp_path), project_name="failing", verbose=0)
    with pytest.raises(RuntimeError, match=r"(?s)All 2 trial\(s\) failed.*ValueError: x=0\.\d\d too large"):
        tuner.search()


# -- reruns on an existing project ----------------------------------------------------------------------------
def test_a_rerun_says_it_reloads_and_runs_nothing_again(tmp_path, data, capsys):
    x, y = data
    first = RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path), verbose=0)
    first.search(x, y, epochs=1)
    capsys.readouterr()
    again = RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path))
    out = capsys.readouterr().out
    assert f"Reloading 2 finished trials from {tmp_path / 'untitled_project'}" in out and "overwrite=True" in out
    again.search(x, y, epochs=1)
    assert capsys.readouterr().out == ""  # nothing left to run
    assert again.best_score == first.best_score


def test_a_rerun_with_another_search_space_is_refused(tmp_path, data, units_range):
    x, y = data
    RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path),
                 verbose=0).search(x, y, epochs=1)
    UNITS.update(low=64, high=128)
    rerun = RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path), verbose=0)
    with pytest.raises(ValueError, match=r"holds 2 finished trial\(s\) searched with another search space \('units' "
                                         r"was Int\(min_value=2, max_value=4\), now Int\(min_value=64, "
                                         r"max_value=128\)\).*overwrite=True.*directory or project_name"):
        rerun.search(x, y, epochs=1)
    fresh = RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path),
                         overwrite=True, verbose=0)
    fresh.search(x, y, epochs=1)
    assert all(64 <= t.values["units"] <= 128 for t in fresh.trials.values())
    assert 64 <= fresh.get_best_hyperparameters()[0].values["units"] <= 128


def test_a_rerun_with_another_objective_is_refused(tmp_path, data):
    x, y = data
    RandomSearch(build_units, objective="loss", max_trials=1, seed=1, directory=str(tmp_path),
                 verbose=0).search(x, y, epochs=1)
    with pytest.raises(ValueError, match=r"another objective \('loss', min; this tuner's is 'val_loss', min\)"):
        RandomSearch(build_units, objective="val_loss", max_trials=1, seed=1, directory=str(tmp_path), verbose=0)


def test_a_function_tuner_with_another_space_is_refused_at_creation(tmp_path):
    def space(high):
        hp = HyperParameters()
        hp.Float("x", 0.0, high)
        return hp

    FunctionTuner(RandomSearchOracle("loss", max_trials=2, hyperparameters=space(0.5), seed=0), raise_for_large_x,
                  directory=str(tmp_path), verbose=0).search()
    with pytest.raises(ValueError, match=r"'x' was Float\(max_value=0\.5\), now Float\(max_value=2\.0\)"):
        FunctionTuner(RandomSearchOracle("loss", max_trials=2, hyperparameters=space(2.0), seed=0),
                      raise_for_large_x, directory=str(tmp_path), verbose=0)


def test_a_rerun_on_other_data_or_epochs_warns(tmp_path, data):
    x, y = data
    RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path),
                 verbose=0).search(x, y, epochs=1)
    rerun = RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path), verbose=0)
    with pytest.warns(UserWarning, match=r"differ from those of the trials reloaded .*\(x: other contents; epochs: "
                                         r"1 -> 3\).*overwrite=True"):
        rerun.search(x * 2, y, epochs=3)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same arguments as the reloaded trials: no warning
        RandomSearch(build_units, objective="loss", max_trials=2, seed=1, directory=str(tmp_path),
                     verbose=0).search(x, y, epochs=1)


# -- verbose ----------------------------------------------------------------------------------------------------
def grow(values, state, start, stop, seed):
    w = np.zeros(1) if state is None else state[0]
    for _ in range(start, stop):
        w = w + values["lr"]
    return [w], {"loss": float(-w[0])}


def test_population_based_training_search_takes_verbose(tmp_path, capsys):
    hp = HyperParameters()
    hp.Float("lr", 0.1, 1.0)
    pbt = PopulationBasedTraining(train_function=grow, hyperparameters=hp, population_size=2, objective="loss",
                                  seed=0, directory=str(tmp_path))
    pbt.search(steps=2, verbose=0)
    assert capsys.readouterr().out == "" and len(pbt.trials) == 4
    loud = PopulationBasedTraining(train_function=grow, hyperparameters=hp, population_size=2, objective="loss",
                                   seed=0, directory=str(tmp_path), project_name="loud", verbose=0)
    loud.search(steps=2, verbose="auto")
    assert len([line for line in capsys.readouterr().out.splitlines() if line.startswith("Member ")]) == 4


def test_keras_tuner_search_verbose_sets_the_trial_lines(tmp_path, data, capsys):
    x, y = data
    tuner = RandomSearch(build_units, objective="loss", max_trials=1, seed=0, directory=str(tmp_path))
    tuner.search(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


# -- what summaries print ---------------------------------------------------------------------------------------
def test_values_the_builder_never_read_are_not_part_of_the_trial(tmp_path, data, capsys):
    x, y = data
    tuner = RandomSearch(build_layers, objective="loss", max_trials=8, seed=3, directory=str(tmp_path))
    tuner.search(x, y, epochs=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Trial ")]
    assert len(tuner.trials) == 8
    for trial, line in zip((tuner.trials[i] for i in sorted(tuner.trials)), lines):
        layers = trial.values["layers"]
        assert sorted(trial.values) == sorted(["layers", *(f"units_{i}" for i in range(layers))]), trial.values
        assert len(re.findall(r"units_\d=", line)) == layers, line
    assert {t.values["layers"] for t in tuner.trials.values()} >= {1, 3}  # both kinds of trial were drawn
    best = tuner.get_best_hyperparameters()[0]
    model = tuner.get_best_models()[0]
    assert len(model.layers) == best.values["layers"] + 1


def test_grid_floats_and_summaries_print_the_numbers_a_person_wrote(tmp_path, data, capsys):
    x, y = data

    def build(hp):
        model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dropout(hp.Float("drop", 0.0, 0.5,
                                                                                          step=0.1)),
                                  keras.layers.Dense(1, activation=hp.Choice("act", ["linear", "relu"]))])
        model.compile(optimizer="sgd", loss="mse")
        return model

    tuner = GridSearch(build, objective="loss", max_trials=8, seed=0, directory=str(tmp_path), verbose=0)
    tuner.search(x, y, epochs=1)
    drops = [t.values["drop"] for t in tuner.trials.values()]
    assert drops == [0.0, 0.0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3]  # 0.3, not 0.1 + 0.1 + 0.1 = 0.30000000000000004
    tuner.results_summary(8)
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert "drop: 0.3\n" in out and "0000000000" not in out
    assert "act (Choice)\ndefault: 'linear', values: ['linear', 'relu']" in out  # not "default: None"
