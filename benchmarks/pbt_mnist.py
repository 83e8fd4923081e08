"""MNIST sample: Population Based Training against RandomSearch at equal total training epochs.

Data: the bundled MNIST sample (``mnist.load_data(sample=True)``: 4,000 training and 1,000 test digits); the
last 1,000 training digits are the validation set the searches select on, the test digits are only used to
report the chosen model. Model: an MLP (784 -> ``units`` relu -> Dropout(``dropout``) -> 10 softmax) trained
with Adam(``learning_rate``). ``units`` is fixed per member; PBT explores ``learning_rate`` and ``dropout``.

Equal budget: PBT trains ``members`` members for ``epochs`` epochs each (exploit/explore after every epoch,
synchronous, truncation); RandomSearch trains ``members`` trials for ``epochs`` epochs each. The objective is
``val_accuracy``: PBT reports its best member's value at the end of training, RandomSearch (KerasTuner's rule)
the best epoch of its best trial, whose weights at that epoch ``get_best_models`` returns. Both chosen models
are then evaluated on the test digits. Each method runs for ``--seeds`` seeds; the table ends with the medians.
With the same seed PBT's first generation is exactly RandomSearch's trials (same values, same initial
weights), so the difference measures what exploit and explore add.

Usage: ``python benchmarks/pbt_mnist.py [--seeds 3] [--members 6] [--epochs 6] [--workers 1]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from featherflow import keras
from featherflow.tuner import PopulationBasedTraining, RandomSearch


def build_model(hp):
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
        keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 3e-2, sampling="log")),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load() -> tuple:
    (x, y), (x_test, y_test) = keras.datasets.mnist.load_data(sample=True)
    x = x.reshape(len(x), -1).astype("float32") / 255.0
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255.0
    return (x[:-1000], y[:-1000]), (x[-1000:], y[-1000:]), (x_test, y_test)


def test_accuracy(model, test) -> float:
    return float(model.evaluate(*test, verbose=0)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--members", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="process workers (1: in-process)")
    args = parser.parse_args()
    train, validation, test = load()
    executor = "process" if args.workers > 1 else None
    print(f"MNIST sample: {len(train[0])} train / {len(validation[0])} validation / {len(test[0])} test digits; "
          f"budget per method: {args.members} x {args.epochs} = {args.members * args.epochs} epochs; "
          f"{args.workers} worker(s)")
    header = (f"{'seed':>4} | {'PBT val':>8} | {'PBT test':>8} | {'RS val':>8} | {'RS test':>8} | "
              f"{'PBT s':>6} | {'RS s':>6} | PBT best member's final values")
    print(header)
    print("-" * len(header))
    rows = []
    with tempfile.TemporaryDirectory(prefix="pbt_mnist_") as folder:
        for seed in range(args.seeds):
            started = time.perf_counter()
            pbt = PopulationBasedTraining(build_model, population_size=args.members, objective="val_accuracy",
                                          perturbation_interval=1, synchronous=True, seed=seed, directory=folder,
                                          project_name=f"pbt_{seed}", executor=executor,
                                          max_workers=args.workers, verbose=0)
            pbt.search(*train, epochs=args.epochs, validation_data=validation, batch_size=64)
            pbt_seconds = time.perf_counter() - started
            epochs_trained = sum(t.info["stop"] - t.info["start"] for t in pbt.trials.values())
            started = time.perf_counter()
            random_search = RandomSearch(build_model, objective="val_accuracy", max_trials=args.members, seed=seed,
                                         directory=folder, project_name=f"random_{seed}", executor=executor,
                                         max_workers=args.workers, verbose=0)
            random_search.search(*train, epochs=args.epochs, validation_data=validation, batch_size=64)
            random_seconds = time.perf_counter() - started
            assert epochs_trained == len(random_search.trials) * args.epochs == args.members * args.epochs
            row = {"pbt_val": pbt.best_score, "pbt_test": test_accuracy(pbt.get_best_models(1)[0], test),
                   "rs_val": random_search.best_score,
                   "rs_test": test_accuracy(random_search.get_best_models(1)[0], test),
                   "pbt_s": pbt_seconds, "rs_s": random_seconds}
            rows.append(row)
            values = pbt.get_best_hyperparameters(1)[0].values
            described = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
            print(f"{seed:>4} | {row['pbt_val']:8.4f} | {row['pbt_test']:8.4f} | {row['rs_val']:8.4f} | "
                  f"{row['rs_test']:8.4f} | {row['pbt_s']:6.1f} | {row['rs_s']:6.1f} | {described}", flush=True)
    print("-" * len(header))
    medians = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    print(f"{'med':>4} | {medians['pbt_val']:8.4f} | {medians['pbt_test']:8.4f} | {medians['rs_val']:8.4f} | "
          f"{medians['rs_test']:8.4f} | {medians['pbt_s']:6.1f} | {medians['rs_s']:6.1f} |")
    print(f"median test accuracy: PBT {medians['pbt_test']:.4f} vs RandomSearch {medians['rs_test']:.4f} "
          f"(difference {medians['pbt_test'] - medians['rs_test']:+.4f}); per-seed PBT - RS: "
          + ", ".join(f"{r['pbt_test'] - r['rs_test']:+.4f}" for r in rows))


if __name__ == "__main__":
    main()
