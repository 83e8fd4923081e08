"""Population Based Training (Jaderberg et al., 2017) on the bundled MNIST sample.

Eight members train side by side. After every epoch each is scored on the validation data; the worst quarter
copies the weights, optimizer state and hyperparameters of the best quarter (exploit) and perturbs the learning
rate and dropout rate by x0.8 or x1.2, or draws them anew (explore). The result is a schedule: which learning
rate and dropout each epoch of the best model used, and from whom it was copied. ``replay`` trains that
schedule again from scratch; ``plot_population`` draws it (extra ``plot``). Mutable hyperparameters
(learning rate, momentum, betas, weight decay, dropout, batch size) change in place; the others (here the
width) stay fixed per member.

Run: ``python examples/pbt.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny run for tests).
"""

import os
import sys
import tempfile

from featherflow import keras, tuner

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"


def build_model(hp):
    """Module level, so that worker processes can build members too."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(hp.Choice("units", [64, 128]), activation="relu"),
        keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


if __name__ == "__main__":
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(sample=True)
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    population, epochs = (4, 2) if FAST else (8, 6)
    if FAST:
        x_train, y_train, x_test, y_test = x_train[:384], y_train[:384], x_test[:128], y_test[:128]
    # Members are compared on held-out training digits; the test digits are kept for the final check.
    split = len(x_train) * 4 // 5
    (x_train, y_train), validation = (x_train[:split], y_train[:split]), (x_train[split:], y_train[split:])

    pbt = tuner.PopulationBasedTraining(
        build_model,
        population_size=population,
        objective="val_accuracy",
        perturbation_interval=1,          # exploit/explore after every epoch
        quantile_fraction=0.25,
        resample_probability=0.25,
        synchronous=True,                 # generations in lockstep: the run is a function of the seed
        seed=1,
        directory=tempfile.mkdtemp(),
        project_name="pbt_mnist",
        max_workers=1 if FAST else 2,
        verbose=0,
    )
    pbt.search(x_train, y_train, epochs=epochs, validation_data=validation, batch_size=32)
    pbt.results_summary(num_trials=4)

    print("\nschedule of the best member:")
    for entry in pbt.schedule():
        changes = ", ".join(f"{name} {change['how']}" for name, change in entry["changes"].items())
        copied = f" (copied member {entry['donor']}, then {changes})" if entry["donor"] is not None else ""
        print(f"  epochs {entry['start']}-{entry['stop']}: learning_rate={entry['values']['learning_rate']:.4g}, "
              f"dropout={entry['values']['dropout']:.2f}, val_accuracy={entry['score']:.4f}{copied}")

    best_model = pbt.get_best_models(1)[0]
    print(f"best member's test accuracy: {best_model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
    replayed = pbt.replay(pbt.schedule(), x_train, y_train, validation_data=validation, batch_size=32)
    print(f"replayed from scratch: val_accuracy {replayed.score:.4f} (the member had {pbt.best_score:.4f})")
    try:
        figure = tuner.plot_population(pbt)
        path = os.path.join(tempfile.mkdtemp() if FAST else ".", "pbt.png")
        figure.savefig(path)
        print("population plot:", path)
    except ImportError as error:
        print(error)
