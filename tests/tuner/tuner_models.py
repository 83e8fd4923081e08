"""Model builders and data for the Keras tuner tests (module level: worker processes import them)."""

import os
import time

import numpy as np

DATA = "/work/shared/data/mnist_sample.npz"


def mnist_small(n_train=300, n_val=100):
    """A small slice of the real MNIST sample, flattened to 784 floats in [0, 1]."""
    path = DATA
    if not os.path.exists(path):
        from featherflow.keras.datasets import mnist

        (x_train, y_train), (x_test, y_test) = mnist.load_data(sample=True)
    else:
        with np.load(path) as archive:
            x_train, y_train, x_test, y_test = (archive[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    x = x_train[:n_train].reshape(n_train, -1).astype("float32") / 255.0
    xv = x_test[:n_val].reshape(n_val, -1).astype("float32") / 255.0
    return x, y_train[:n_train].astype("int64"), xv, y_test[:n_val].astype("int64")


def build_mlp(hp):
    from featherflow import keras

    model = keras.Sequential([
        keras.layers.Dense(hp.Int("units", 8, 16, step=8), activation=hp.Choice("activation", ["relu", "tanh"]),
                           input_shape=(784,)),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 3e-3, 3e-2, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return _maybe_slow(model)


def _maybe_slow(model):
    if os.environ.get("FEATHERFLOW_TEST_SLOW_FIT"):
        # Slow every fit down so a test can kill the search while a trial runs.
        original_fit = model.fit

        def slow_fit(*args, **kwargs):
            time.sleep(float(os.environ["FEATHERFLOW_TEST_SLOW_FIT"]))
            return original_fit(*args, **kwargs)

        model.fit = slow_fit
    return model


def build_grid(hp):
    """Two-point grid space (units x learning rate) for GridSearch."""
    from featherflow import keras

    model = keras.Sequential([keras.layers.Dense(hp.Choice("units", [8, 16]), activation="relu", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [0.01, 0.003])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return _maybe_slow(model)


def build_conditional(hp):
    """Layers registered in a loop: units_1 exists only when layers == 2."""
    from featherflow import keras

    model = keras.Sequential([keras.Input(shape=(784,))])
    for i in range(hp.Int("layers", 1, 2)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 4, 12, step=4), activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_failing(hp):
    """Raises for units == 16 (a builder bug for part of the space)."""
    if hp.Int("units", 8, 16, step=8) == 16:
        raise ValueError("cannot build 16 units")
    return build_grid(hp)
