"""Where a second (third, ...) BLAS thread pays: float32 matrix products of growing size timed with one thread
and with all of them, in the same process, alternating, with the load average beside every row.

The table sets ``featherflow.backend.blas.DEFAULT_THRESHOLD`` (the multiply-adds from which featherflow's ops
ask for every thread). Shapes are those featherflow's layers produce: Dense ``(batch, in) @ (in, units)``,
convolution GEMMs ``(batch * positions, kh * kw * c) @ (kh * kw * c, filters)`` and LSTM gate products.

Run: ``python benchmarks/blas_threads.py [--repeats 200] [--no-results]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import _harness as h

# (label, m, k, n): m x k times k x n, m * k * n multiply-adds
SHAPES = [
    ("Dense 32x128x10", 32, 128, 10),
    ("LSTM(16) gates 32x16x64", 32, 16, 64),
    ("Dense 64x64x64", 64, 64, 64),
    ("Dense 32x128x128", 32, 128, 128),
    ("Dense 64x100x128", 64, 100, 128),
    ("Dense 32x256x128", 32, 256, 128),
    ("Dense 64x128x128", 64, 128, 128),
    ("Dense 32x784x128 (seed MLP)", 32, 784, 128),
    ("its weight gradient 784x32x128", 784, 32, 128),
    ("LSTM(64) gates 64x64x256", 64, 64, 256),
    ("Dense 64x784x256", 64, 784, 256),
    ("LSTM(128) gates 64x128x512", 64, 128, 512),
    ("Dense 128x784x256", 128, 784, 256),
    ("Dense 256x1024x256", 256, 1024, 256),
    ("conv 3x3x32->64, 128 imgs of 7x7", 128 * 49, 288, 64),
    ("Dense 256x1024x1024", 256, 1024, 1024),
    ("conv 3x3x1->32, 128 imgs of 28x28", 128 * 784, 9, 32),
    ("conv 3x3x32->64, 128 imgs of 13x13", 128 * 169, 288, 64),
    ("Dense 1024x1024x1024", 1024, 1024, 1024),
    ("conv 3x3x32->64, 128 imgs of 26x26", 128 * 676, 288, 64),
]


def best_time(fn, repeats: int, between=None) -> float:
    """Median of ``repeats`` timed calls after a warm-up (median, not min: the machine is shared); ``between()``
    runs untimed before each call (other work between products, as in a training step)."""
    for _ in range(max(3, repeats // 10)):
        fn()
    times = []
    for _ in range(repeats):
        if between is not None:
            between()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(repeats: int, threads: list) -> list:
    import numpy as np

    from featherflow.backend import blas

    rng = np.random.default_rng(0)
    started = blas.get_num_threads()
    other = rng.random(20_000, dtype=np.float32)

    def step_work():  # ~50 us of single-threaded NumPy between two products (activations, optimizer, ...)
        np.tanh(other, out=other)
        np.tanh(other, out=other)

    rows = []
    for label, m, k, n in SHAPES:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.random((k, n), dtype=np.float32)
        out = np.empty((m, n), np.float32)
        macs = m * k * n
        reps = max(5, min(repeats, int(repeats * 2e6 / macs) + 5))
        load = os.getloadavg()[0]
        timings = {t: [] for t in threads}
        stepped = {t: [] for t in threads}
        for _ in range(2):  # alternate twice so a load change hits every count alike
            for t in threads:
                blas.set_num_threads(t)

                def product(a=a, b=b, out=out):
                    np.matmul(a, b, out=out)

                timings[t].append(best_time(product, reps))
                stepped[t].append(best_time(product, reps, step_work))
        blas.set_num_threads(started)
        rows.append((label, macs, {t: min(v) for t, v in timings.items()},
                     {t: min(v) for t, v in stepped.items()}, load))
        print(f"  {label}: {macs / 1e6:.1f}M MACs " + ", ".join(
            f"{t} thr {min(v) * 1e6:.0f} us" for t, v in timings.items()) + "; between other work " + ", ".join(
            f"{t} thr {min(v) * 1e6:.0f} us" for t, v in stepped.items()) + f" (load {load:.2f})", flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args(argv)
    from featherflow.backend import blas

    if not blas.available():
        print("NumPy's BLAS is not OpenBLAS: the thread count cannot be set; nothing to measure")
        return
    cores = os.cpu_count() or 1
    threads = sorted({1, 2, cores})
    rows = measure(args.repeats, threads)
    headers = ["product", "M MACs"] + [f"{t} thread{'s' if t > 1 else ''} us" for t in threads] + \
        [f"1t / {t}t" for t in threads[1:]] + [f"in a step: 1t / {t}t" for t in threads[1:]] + ["load avg"]
    table = h.format_table(headers, [
        [label, f"{macs / 1e6:.2f}"] + [f"{tm[t] * 1e6:.0f}" for t in threads] +
        [f"{tm[1] / tm[t]:.2f}" for t in threads[1:]] + [f"{st[1] / st[t]:.2f}" for t in threads[1:]] +
        [f"{load:.2f}"] for label, macs, tm, st, load in rows])
    print(table)
    notes = ("float32 `np.matmul(a, b, out=c)`, median of repeated calls, the better of two alternating passes "
             "per thread count; `1t / 2t` above 1 means the second thread pays. `in a step`: the same product "
             "timed with ~50 us of single-threaded NumPy work before each call, as between a training step's "
             "products (BLAS's helper threads go idle and must be woken). Load average: 1-minute, when the row "
             "started (other processes on the machine).")
    if not args.no_results:
        h.write_section("blas_threads", "BLAS threads per product size", notes + "\n\n" + table,
                        h.command_line(), h.machine_info())


if __name__ == "__main__":
    sys.exit(main())
