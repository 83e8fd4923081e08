"""Hyperparameter search with ``featherflow.tuner`` (KerasTuner's vocabulary) on the bundled MNIST sample.

``build_model(hp)`` declares the search space while it builds: the number of hidden layers, their
widths, the dropout rate and the learning rate (log scale). ``BayesianOptimization`` (a Gaussian
process "zooms" in on good regions; ``RandomSearch``, ``GridSearch`` and ``Hyperband`` take the same
arguments) runs the trials, keeps one JSON record per trial in ``directory`` (rerun with
``overwrite=False`` to resume an interrupted search) and returns the best models and values.
``max_workers=2`` runs trials in two processes (``executor=`` also takes a Ray or Dask executor).

Run: ``python examples/tuner_search.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny run for tests).
"""

import os
import sys
import tempfile

from featherflow import keras, tuner

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()])
    for i in range(hp.Int("layers", 1, 2)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
    model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


if __name__ == "__main__":  # the guard matters: with max_workers > 1 trials run in worker processes
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(sample=True)
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    max_trials, epochs = (2, 1) if FAST else (10, 3)
    if FAST:
        x_train, y_train, x_test, y_test = x_train[:256], y_train[:256], x_test[:128], y_test[:128]

    search = tuner.BayesianOptimization(
        build_model,
        objective="val_accuracy",
        max_trials=max_trials,
        seed=1,
        directory=tempfile.mkdtemp(),
        project_name="mnist_mlp",
        max_workers=1 if FAST else 2,
    )
    # The trials' fit calls are silent by default; search(verbose=0) would also silence the line per trial.
    search.search(x_train, y_train, epochs=epochs, validation_split=0.2)
    search.results_summary(num_trials=3)

    best_hp = search.get_best_hyperparameters(1)[0]
    print("best hyperparameters:", best_hp.values)
    best_model = search.get_best_models(1)[0]
    loss, accuracy = best_model.evaluate(x_test, y_test, verbose=0)
    print(f"best model's test accuracy: {accuracy:.4f}")
