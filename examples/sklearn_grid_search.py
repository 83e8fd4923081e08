"""scikit-learn's ``GridSearchCV`` over a featherflow ``KerasClassifier`` (the lecture's tuning recipe).

The wrapper makes a Keras model builder a scikit-learn estimator: ``model__hidden`` goes to the builder,
``optimizer__learning_rate`` to the optimizer, ``epochs`` and ``batch_size`` to ``fit``. ``GridSearchCV`` then
cross-validates every combination (``n_jobs=2``: two processes) and refits the best on all training data. The
estimator also works in ``Pipeline``, ``cross_val_score`` and ``RandomizedSearchCV``. Needs scikit-learn:
``pip install "featherflow[sklearn]"``.

Run: ``python examples/sklearn_grid_search.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny grid for tests).
"""

import os
import sys

from sklearn.model_selection import GridSearchCV

from featherflow import keras
from featherflow.keras.wrappers import KerasClassifier

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"


def build_mlp(hidden=64, dropout=0.0):
    """The builder must live at module level so that worker processes can import it."""
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(10, activation="softmax"),
    ])


if __name__ == "__main__":
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(sample=True)
    # scikit-learn estimators take 2-D inputs: one row of 784 pixels per digit.
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255.0
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255.0

    classifier = KerasClassifier(model=build_mlp, loss="sparse_categorical_crossentropy", optimizer="adam",
                                 epochs=5, batch_size=32, random_state=0, verbose=0)
    grid = {"model__hidden": [32, 128], "model__dropout": [0.0, 0.2], "optimizer__learning_rate": [1e-3, 3e-3]}
    n_jobs, cv = 2, 3
    if FAST:
        x_train, y_train, x_test, y_test = x_train[:300], y_train[:300], x_test[:100], y_test[:100]
        classifier.set_params(epochs=1)
        grid, n_jobs, cv = {"model__hidden": [16, 32]}, 1, 2

    search = GridSearchCV(classifier, grid, cv=cv, n_jobs=n_jobs, scoring="accuracy")
    search.fit(x_train, y_train)
    for params, mean, std in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"],
                                 search.cv_results_["std_test_score"]):
        print(f"{mean:.4f} +/- {std:.4f}  {params}")
    print("best parameters:", search.best_params_)
    print(f"test accuracy of the refitted best model: {search.score(x_test, y_test):.4f}")
