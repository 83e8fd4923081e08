"""Per-op overhead of featherflow's tape recording over the bare NumPy call.

For small ops (add, multiply, the ``+`` operator, matmul 32x128 @ 128x128, relu on 32x128
float32 operands) this prints, in microseconds per call:

- ``numpy``: the bare NumPy expression;
- ``ff (tape)``: the featherflow op recorded on a ``GradientTape`` that watches its inputs;
- ``ff (no tape)``: the same op with no tape active;
- ``overhead``: ``ff (tape) - numpy``.

Each timing run makes ``--calls`` calls (a small model's forward pass worth) and keeps every
output alive until the run ends, for NumPy too: a tape must keep what the backward pass
needs, so comparing against NumPy calls whose outputs are freed at once would measure the
allocator, not featherflow. Figures are medians over ``--runs`` runs, the three columns
sampled interleaved. Target (issue 2): at
most 3 us of overhead per recorded op.

Run: ``.venv/bin/python benchmarks/op_overhead.py [--runs 3000] [--calls 20] [--clock cpu]``

``--clock cpu`` times with the thread's CPU clock instead of the wall clock: on a shared,
busy machine it leaves out the time the process spends waiting for a core.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import featherflow as ff


def _sample_us(fn, calls: int, clock, tape_inputs=None) -> float:
    """One timing run: ``calls`` calls, every output kept alive until the run ends."""
    keep = []
    append = keep.append
    tape = None
    if tape_inputs is not None:
        tape = ff.GradientTape()
        tape.__enter__()
        tape.watch(tape_inputs)
    start = clock()
    for _ in range(calls):
        append(fn())
    elapsed = clock() - start
    if tape is not None:
        tape.__exit__(None, None, None)
    return elapsed / calls * 1e6


def _medians(bare, op, tape_inputs, calls: int, runs: int, clock) -> tuple:
    """Medians for NumPy / taped / untaped, sampled interleaved so a changing machine load
    affects the three columns alike."""
    samples: tuple = ([], [], [])
    for _ in range(runs):
        samples[0].append(_sample_us(bare, calls, clock))
        samples[1].append(_sample_us(op, calls, clock, tape_inputs))
        samples[2].append(_sample_us(op, calls, clock))
    return tuple(statistics.median(s) for s in samples)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.clock == "wall" else time.thread_time

    rng = np.random.default_rng(0)
    a = rng.standard_normal((32, 128)).astype("float32")
    b = rng.standard_normal((32, 128)).astype("float32")
    w = rng.standard_normal((128, 128)).astype("float32")
    ta, tb, tw = ff.constant(a), ff.constant(b), ff.constant(w)
    relu = ff.nn.relu

    cases = [
        ("add 32x128", lambda: np.add(a, b), lambda: ff.add(ta, tb)),
        ("multiply 32x128", lambda: np.multiply(a, b), lambda: ff.multiply(ta, tb)),
        ("a + b (operator)", lambda: a + b, lambda: ta + tb),
        ("matmul 32x128 @ 128x128", lambda: np.matmul(a, w), lambda: ff.matmul(ta, tw)),
        ("relu 32x128", lambda: np.maximum(a, 0), lambda: relu(ta)),
    ]

    print(f"featherflow {ff.__version__}, numpy {np.__version__}; {args.clock} clock, median of {args.runs} runs x "
          f"{args.calls} calls (outputs kept alive in every column); microseconds per call")
    header = f"{'op':26s} {'numpy':>8s} {'ff (tape)':>10s} {'ff (no tape)':>13s} {'overhead':>9s}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for label, bare, op in cases:
        numpy_us, taped_us, plain_us = _medians(bare, op, [ta, tb, tw], args.calls, args.runs, clock)
        overhead = taped_us - numpy_us
        worst = max(worst, overhead)
        print(f"{label:26s} {numpy_us:8.2f} {taped_us:10.2f} {plain_us:13.2f} {overhead:9.2f}")
    print(f"worst overhead: {worst:.2f} us per recorded op (target <= 3 us)")


if __name__ == "__main__":
    main()
