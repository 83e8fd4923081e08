"""Quick LSTM timing: featherflow's fused LSTM layer (forward + backward) against PyTorch eager, interleaved.

Workloads (issue 10):
  text  - the LSTM of the text model: Embedding(20000, 128) -> LSTM(64) -> Dense(1); sequences of 200,
          batch 32; the LSTM's input is the (32, 200, 128) embedding output; an epoch is 25,000 samples (IMDB).
  mnist - an LSTM over MNIST rows: 28 steps of 28 features, LSTM(128), batch 128 (other sizes via flags);
          an epoch is 12,000 samples (issue 10's MNIST-shaped set).

Each step is: forward over the batch, loss = sum of the last output times a fixed weight, backward to the
inputs and all weights (no optimizer, identical for both frameworks). Frameworks alternate within every
repeat (same machine load); the median over repeats is reported with the ratio featherflow / torch.

Run (PyTorch optional, e.g. in a separate venv that can import featherflow from the checkout):
    .venv/bin/python benchmarks/lstm_quick.py
    PYTHONPATH=. /path/to/torch-venv/bin/python benchmarks/lstm_quick.py --workload mnist --units 64 --batch 32
    PYTHONPATH=. /path/to/torch-venv/bin/python benchmarks/lstm_quick.py --threads 1   # one core each
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

WORKLOADS = {"text": dict(batch=32, steps=200, features=128, units=64, samples=25000),
             "mnist": dict(batch=128, steps=28, features=28, units=128, samples=12000)}


def featherflow_step(batch, steps, features, units, seed=0):
    rng = np.random.default_rng(seed)
    x = ff.constant(rng.standard_normal((batch, steps, features)).astype("float32"))
    layer = keras.layers.LSTM(units)
    layer(x)
    head = ff.constant(rng.standard_normal((batch, units)).astype("float32"))
    weights = layer.trainable_weights

    def step():
        with ff.GradientTape() as tape:
            tape.watch(x)
            loss = ff.reduce_sum(layer(x, training=True) * head)
        return tape.gradient(loss, [x] + weights)

    return step


def torch_step(batch, steps, features, units, seed=0):
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((batch, steps, features)).astype("float32"), requires_grad=True)
    lstm = torch.nn.LSTM(features, units, batch_first=True)
    head = torch.tensor(rng.standard_normal((batch, units)).astype("float32"))

    def step():
        x.grad = None
        lstm.zero_grad(set_to_none=True)
        out, _ = lstm(x)
        (out[:, -1] * head).sum().backward()

    return step


def timed(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--units", type=int)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--threads", type=int, help="BLAS / torch threads for both frameworks")
    args = parser.parse_args(argv)
    if args.threads:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    for name in args.workload or sorted(WORKLOADS):
        spec = dict(WORKLOADS[name])
        spec["batch"] = args.batch or spec["batch"]
        spec["units"] = args.units or spec["units"]
        samples = spec.pop("samples")
        runners = {"featherflow": featherflow_step(**spec)}
        try:
            runners["torch"] = torch_step(**spec)
        except ImportError:
            pass
        for fn in runners.values():  # warm-up
            fn()
            fn()
        times = {k: [] for k in runners}
        for _ in range(args.repeats):
            for key, fn in runners.items():
                times[key].append(timed(fn, args.calls))
        batches = -(-samples // spec["batch"])
        print(f"{name}: LSTM({spec['units']}) over ({spec['batch']}, {spec['steps']}, {spec['features']}), "
              f"forward+backward, epoch = {samples} samples ({batches} batches)")
        medians = {k: statistics.median(v) for k, v in times.items()}
        for key, value in medians.items():
            print(f"  {key:12s} {value * 1e3:8.2f} ms/batch  {value * batches:7.2f} s/epoch")
        if "torch" in medians:
            print(f"  ratio featherflow / torch: {medians['featherflow'] / medians['torch']:.2f}x")


if __name__ == "__main__":
    main()
