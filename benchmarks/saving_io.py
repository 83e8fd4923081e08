"""Save/load cost of a trained model: ``model.save`` + ``load_model`` (.keras, HDF5 and .npz weights) and
``save_weights``/``load_weights``, next to the floor of writing the same arrays with plain ``np.savez``.

The floor is what any format pays for the bytes; the rest is featherflow's overhead: the config, the
closed-loader checks (member validation, shape-bomb checks, config vetting, weight budget), the
integrity hash, ``fsync`` and the atomic rename. Times are medians of interleaved repeats.

Run: ``.venv/bin/python benchmarks/saving_io.py [--units 1024] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

from featherflow import keras
from featherflow.keras.saving import weights_formats


def build(units: int):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(units, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    model.fit(x, np.arange(64) % 10, epochs=1, verbose=0)  # optimizer slots exist and are saved too
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    model = build(args.units)
    arrays = [w.numpy() for w in model.weights] + model.optimizer.get_state()
    megabytes = sum(a.nbytes for a in arrays) / 2**20
    print(f"model: {model.count_params():,} parameters; {megabytes:.1f} MiB with the Adam state")
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "m")

    formats = ["npz"] + (["h5"] if weights_formats.h5py_available() else [])
    cases = {"np.savez + np.load (floor)": lambda: _savez_load(path + "_floor.npz", arrays)}
    for fmt in formats:
        cases[f"model.save + load_model ({fmt} weights)"] = lambda fmt=fmt: _save_load(model, path + ".keras", fmt)
    cases["save_weights + load_weights (.npz)"] = lambda: _weights(model, path + ".npz")
    if "h5" in formats:
        cases["save_weights + load_weights (.weights.h5)"] = lambda: _weights(model, path + ".weights.h5")
    times = {name: [] for name in cases}
    for fn in cases.values():  # warm-up
        fn()
    for _ in range(args.repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    floor = statistics.median(times["np.savez + np.load (floor)"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:45s} {median * 1000:8.1f} ms   {median / floor:5.2f}x floor")


def _savez_load(path, arrays):
    np.savez(path, *arrays)
    with np.load(path) as loaded:
        return [loaded[key] for key in loaded.files]  # NpzFile is lazy: read every array


def _save_load(model, path, fmt):
    from featherflow.keras.saving import saving_lib

    saving_lib.save_model(model, path, weights_format=fmt)
    return keras.models.load_model(path)


def _weights(model, path):
    model.save_weights(path)
    model.load_weights(path)


if __name__ == "__main__":
    main()
