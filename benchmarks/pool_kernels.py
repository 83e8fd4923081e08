"""Max pooling, NumPy path against the compiled (Numba) kernels of ``ops._kernels``, interleaved in one process.

Times the forward (under a tape, as in training) and backward pass of ``MaxPooling2D()`` on the small CNN's
two pool inputs, ``(128, 26, 26, 32)`` and ``(128, 11, 11, 64)``, and, with ``--step``, the whole small-CNN
training step of ``benchmarks/cnn_quick.py`` with every ops kernel (pooling, and the convolution's im2col,
col2im and ReLU mask) off and on. Both paths alternate within every round (same machine load);
CPU time (``process_time``) per call, min and median over rounds. Runs inside ``blas.managed()`` (the
thread policy of ``fit``).

Run:
    .venv/bin/python benchmarks/pool_kernels.py [--rounds 15] [--calls 20] [--step]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import featherflow as ff
from featherflow.backend import blas
from featherflow.ops import _kernels
from featherflow.ops.pooling import pool2d


def _report(label: str, times: dict) -> None:
    parts = [f"{name}: min {min(v):.2f} med {statistics.median(v):.2f}" for name, v in times.items()]
    print(f"{label:22s} " + "   ".join(parts) + " ms")


def time_ops(rounds: int, calls: int) -> None:
    rng = np.random.default_rng(0)
    for shape in [(128, 26, 26, 32), (128, 11, 11, 64)]:
        x = ff.constant(np.maximum(rng.standard_normal(shape), 0).astype("float32"))  # after a ReLU: ties
        g = rng.standard_normal((shape[0], shape[1] // 2, shape[2] // 2, shape[3])).astype("float32")
        forward = {"numpy fwd": [], "numba fwd": []}
        backward = {"numpy bwd": [], "numba bwd": []}
        for _ in range(rounds):
            for compiled, name in ((False, "numpy"), (True, "numba")):
                _kernels.use_kernels(compiled)
                start = time.process_time()
                for _ in range(calls):
                    with ff.GradientTape() as tape:
                        tape.watch(x)
                        pool2d(x, "max", (2, 2), (2, 2), "VALID", "max_pool")
                middle = time.process_time()
                rule = tape._nodes[-1][2]
                for _ in range(calls):
                    rule(g, [True])
                end = time.process_time()
                forward[f"{name} fwd"].append((middle - start) / calls * 1e3)
                backward[f"{name} bwd"].append((end - middle) / calls * 1e3)
        _report(str(shape), {**forward, **backward})


def time_step(rounds: int, calls: int) -> None:
    from cnn_quick import featherflow_step

    step = featherflow_step(128)
    times = {"numpy step": [], "numba step": []}
    for compiled in (False, True):  # warm-up: buffers, kernel loading
        _kernels.use_kernels(compiled)
        step()
        step()
    for _ in range(rounds):
        for compiled, name in ((False, "numpy step"), (True, "numba step")):
            _kernels.use_kernels(compiled)
            start = time.process_time()
            for _ in range(calls):
                step()
            times[name].append((time.process_time() - start) / calls * 1e3)
    _report("small-CNN train step", times)
    ratio = statistics.median(times["numba step"]) / statistics.median(times["numpy step"])
    print(f"{'':22s} ratio numba / numpy (medians): {ratio:.3f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--step", action="store_true", help="also time the whole small-CNN step (5 per round)")
    args = parser.parse_args(argv)
    if not _kernels.available():
        raise SystemExit('Numba is not installed: pip install "featherflow[fast]"')
    with blas.managed():
        time_ops(args.rounds, args.calls)
        if args.step:
            time_step(args.rounds, 5)
    _kernels.use_kernels(None)


if __name__ == "__main__":
    main()
