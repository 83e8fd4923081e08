"""Builders and train functions of the PBT tests (module level, so that worker processes can import them)."""

import os
import time

import numpy as np
from once import first_claim

from featherflow import keras


def make_data(rows=96, features=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype("float32")
    y = (x[:, :2].sum(axis=1) > 0).astype("float32")
    return x, y


def build_classifier(hp):
    """A small MLP: ``units`` is fixed per member, ``learning_rate`` and ``dropout`` are mutable.

    With ``FEATHERFLOW_PBT_SLEEP`` each build sleeps (so a test can kill the run part way); with
    ``FEATHERFLOW_PBT_KILL_DIR`` the first build in a worker (a process other than ``FEATHERFLOW_PBT_MAIN_PID``)
    kills its own process: a worker dying mid-segment.
    """
    if os.environ.get("FEATHERFLOW_PBT_SLEEP"):
        time.sleep(float(os.environ["FEATHERFLOW_PBT_SLEEP"]))
    kill_dir = os.environ.get("FEATHERFLOW_PBT_KILL_DIR")
    in_worker = str(os.getpid()) != os.environ.get("FEATHERFLOW_PBT_MAIN_PID")
    if kill_dir and in_worker and first_claim(os.path.join(kill_dir, "killed")):
        os._exit(3)
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(hp.Int("units", 4, 8), activation="relu"),
        keras.layers.Dropout(hp.Float("dropout", 0.0, 0.4)),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 0.1, sampling="log")),
                  "binary_crossentropy", metrics=["accuracy"])
    return model


def build_linear_adam(hp):
    """Linear regression with Adam whose constructor ignores the hyperparameters (applied in place instead)."""
    hp.Float("learning_rate", 1e-3, 0.5, sampling="log")
    hp.Float("beta_1", 0.5, 0.99)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(keras.optimizers.Adam(learning_rate=0.123, beta_1=0.9), "mse")
    return model


def lineage_train(values, state, start, stop, seed):
    """``w`` shrinks by ``(1 - lr)`` per step; the state also carries the seed of every segment it went through."""
    w = 1.0 if state is None else float(state[0][0])
    seeds = np.zeros(0) if state is None else state[1]
    w *= (1.0 - values["lr"]) ** (stop - start)
    return [np.array([w]), np.append(seeds, float(seed))], {"loss": w, "lr_seen": values["lr"]}


def conditional_train(values, state, start, stop, seed):
    """``w`` shrinks by ``rate_a`` per step when ``kind`` is "a", by ``rate_b`` when it is "b": each kind reads its
    own conditional rate (a KeyError when it is missing)."""
    rate = values["rate_a"] if values["kind"] == "a" else values["rate_b"]
    w = (1.0 if state is None else float(state[0][0])) * (1.0 - rate) ** (stop - start)
    return [np.array([w])], {"loss": w}


def crash_once_train(values, state, start, stop, seed, folder=None, crash_start=None):
    """``lineage_train`` that raises on the first attempt of each segment starting at ``crash_start``."""
    if start == crash_start:
        marker = os.path.join(folder, f"{start}-{seed}")
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError(f"member crashed at step {start}")
    return lineage_train(values, state, start, stop, seed)


def always_fails_for_small_lr(values, state, start, stop, seed):
    if values["lr"] < 0.05:
        raise ValueError(f"lr too small: {values['lr']}")
    return lineage_train(values, state, start, stop, seed)

