"""Files written by real Keras 3.15 and tf_keras 2.21 (fixtures/real_keras, made by make_real_keras_fixtures.py): featherflow
loads every model in every format, predicts what Keras predicted, and continues training where Keras stopped."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import real_keras_models as models

from featherflow import keras

FIXTURES = Path(__file__).parent / "fixtures" / "real_keras"
# format -> (writer, how featherflow reads it, whether the file holds the optimizer's state)
FORMATS = {
    "k3.keras": ("k3", "load_model", True),
    "k3.weights.h5": ("k3", "load_weights", True),
    "k3-model.h5": ("k3", "load_model", True),
    "tfk.keras": ("tfk", "load_model", True),
    "tfk.weights.h5": ("tfk", "load_weights", True),
    "tfk-model.h5": ("tfk", "load_model", True),
    "tfk-weights.h5": ("tfk", "load_weights", False),
}
TOLERANCE = 1e-5


def max_abs_diff(actual, expected) -> float:
    if isinstance(expected, dict):
        return max(max_abs_diff(actual[key], value) for key, value in expected.items())
    if isinstance(expected, list):
        return max(max_abs_diff(a, e) for a, e in zip(actual, expected))
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return float(np.max(np.abs(actual - expected)))


def reference(name: str, writer: str) -> dict:
    with np.load(FIXTURES / f"{name}-{writer}.npz") as arrays:
        return {key: models.unflatten(arrays, key) for key in ("x", "pred", "x_step", "y_step", "after")} | {
            "iterations": int(arrays["iterations"])}


def load(name: str, fmt: str):
    path = FIXTURES / f"{name}-{fmt}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a real file must load without complaints
        if FORMATS[fmt][1] == "load_model":
            return keras.models.load_model(path)
        model = models.BUILDERS[name](keras)
        model.load_weights(path)
        return model


WRITTEN = [(name, fmt) for name in models.MODEL_NAMES for fmt in FORMATS if (name, fmt) not in models.NOT_WRITTEN]


def test_every_fixture_file_is_there():
    for name, fmt in WRITTEN:
        assert (FIXTURES / f"{name}-{fmt}").is_file(), f"{name}-{fmt}"
    for name, fmt in models.NOT_WRITTEN:
        assert not (FIXTURES / f"{name}-{fmt}").exists(), f"{name}-{fmt}"


@pytest.mark.parametrize(("name", "fmt"), WRITTEN)
def test_featherflow_predicts_what_keras_predicted(name, fmt):
    ref = reference(name, FORMATS[fmt][0])
    model = load(name, fmt)
    assert max_abs_diff(model.predict(ref["x"], verbose=0), ref["pred"]) <= TOLERANCE


# tf_keras 2.21's Nadam multiplies its u_product once per variable per step inside tf.function (and does not
# save it), so its own continuation is not Nadam's; featherflow continues as Keras 3 does (multi_io-k3.*).
# zoo_3d's augmentation layers draw random transforms in every training step, in each framework its own.
CONTINUATION = [(name, fmt) for name, fmt in WRITTEN if FORMATS[fmt][2] and (name, FORMATS[fmt][0]) != ("multi_io", "tfk")
                and name != "zoo_3d"]


@pytest.mark.parametrize(("name", "fmt"), CONTINUATION)
def test_training_continues_where_keras_stopped(name, fmt):
    """The optimizer's slots, iterations and learning rate come back: one more step matches Keras's step."""
    ref = reference(name, FORMATS[fmt][0])
    model = load(name, fmt)
    assert int(model.optimizer.iterations.numpy()) == ref["iterations"]
    models.stateless_copy_rates(model)
    model.train_on_batch(ref["x_step"], ref["y_step"])
    assert int(model.optimizer.iterations.numpy()) == ref["iterations"] + 1
    assert max_abs_diff(model.predict(ref["x"], verbose=0), ref["after"]) <= TOLERANCE
