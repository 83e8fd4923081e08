"""Quick small-CNN timing: featherflow's conv layers (train step) against PyTorch eager, interleaved.

Workload (issue 10): Conv2D(32, 3x3, relu) - MaxPool 2 - Conv2D(64, 3x3, relu) - MaxPool 2 - Flatten -
Dropout(0.5) - Dense(10), batch 128, MNIST shapes; an epoch is 12,000 samples (94 steps).

A step is: forward in training mode, sparse softmax cross-entropy from logits, backward to every weight,
and a plain SGD update (no optimizer state, identical for both frameworks). Frameworks alternate within
every repeat (same machine load); medians over repeats are reported, with the ratio featherflow / torch
and the GFLOP/s each reaches (convolution and dense multiply-adds of forward and backward, counted once).

Run (PyTorch optional, e.g. in a separate venv that can import featherflow from the checkout):
    .venv/bin/python benchmarks/cnn_quick.py
    PYTHONPATH=. /path/to/torch-venv/bin/python benchmarks/cnn_quick.py --repeats 10
    PYTHONPATH=. /path/to/torch-venv/bin/python benchmarks/cnn_quick.py --threads 1   # one core each
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:
    # BLAS reads its thread count when NumPy loads: set it before the imports below.
    _threads = sys.argv[sys.argv.index("--threads") + 1]
    os.environ.update(OPENBLAS_NUM_THREADS=_threads, OMP_NUM_THREADS=_threads, MKL_NUM_THREADS=_threads)

import numpy as np  # noqa: E402

import featherflow as ff  # noqa: E402
from featherflow import keras  # noqa: E402

SAMPLES_PER_EPOCH = 12000


def train_flops(batch: int) -> float:
    """Multiply-adds x 2 of one training step: forward, input gradients (not for the first conv) and
    weight gradients."""
    conv1 = 26 * 26 * 32 * 9 * 1
    conv2 = 11 * 11 * 64 * 9 * 32
    dense = 1600 * 10
    forward = conv1 + conv2 + dense
    backward = (conv1 + conv2 + dense) + (conv2 + dense)  # weight grads + input grads
    return 2.0 * batch * (forward + backward)


def featherflow_step(batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 28, 28, 1), dtype="float32")
    y = rng.integers(0, 10, batch)
    layers = keras.layers
    stack = [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"),
             layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.5), layers.Dense(10)]
    h = x
    for layer in stack:
        h = layer(h)
    weights = [w for layer in stack for w in layer.trainable_weights]

    def step():
        with ff.GradientTape() as tape:
            h = x
            for layer in stack:
                h = layer(h, training=True)
            loss = ff.reduce_mean(ff.nn.sparse_softmax_cross_entropy_with_logits(y, h))
        for w, g in zip(weights, tape.gradient(loss, weights)):
            w.assign_sub(0.01 * g.value)

    return step


def torch_step(batch: int, seed: int = 0):
    import torch

    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.random((batch, 1, 28, 28), dtype="float32"))
    y = torch.from_numpy(rng.integers(0, 10, batch))
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3, help="steps per timed block")
    parser.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads for every framework")
    args = parser.parse_args(argv)
    runners = {"featherflow": featherflow_step(args.batch)}
    try:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        runners["torch"] = torch_step(args.batch)
    except ImportError:
        print("PyTorch not installed: timing featherflow alone")
    for run in runners.values():  # warm-up: buffers, first-call costs
        run()
        run()
    times = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                run()
            times[name].append((time.perf_counter() - start) / args.steps)
    flops = train_flops(args.batch)
    steps_per_epoch = -(-SAMPLES_PER_EPOCH // args.batch)
    print(f"small CNN, batch {args.batch}, {steps_per_epoch} steps/epoch, {flops / 1e9:.2f} GFLOP/step")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"  {name:12s} {seconds * 1e3:8.1f} ms/step  {seconds * steps_per_epoch:6.2f} s/epoch  "
              f"{flops / seconds / 1e9:6.1f} GFLOP/s")
    if "torch" in medians:
        print(f"  ratio featherflow / torch: {medians['featherflow'] / medians['torch']:.2f}")


if __name__ == "__main__":
    main()
