"""Per-op overhead of featherflow's tape recording over the bare NumPy call.

For each small op (add, multiply, matmul, relu on 32x128 float32 operands) this prints,
in microseconds per call: the bare NumPy expression, the featherflow op recorded on a
``GradientTape`` watching its inputs, the same op with no tape active, and the overhead
(recorded minus NumPy). Each figure is the median over ``--repeats`` timing runs of
``--number`` calls. Target (issue 2): at most 3 us of overhead per recorded op.

Run: ``.venv/bin/python benchmarks/op_overhead.py [--repeats 15] [--number 2000]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import featherflow as ff


def _median_us(fn, number: int, repeats: int, setup=None) -> float:
    samples = []
    for _ in range(repeats):
        context = setup() if setup is not None else None
        if context is not None:
            context.__enter__()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if context is not None:
            context.__exit__(None, None, None)
        samples.append(elapsed / number * 1e6)
    return statistics.median(samples)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    a = rng.standard_normal((32, 128)).astype("float32")
    b = rng.standard_normal((32, 128)).astype("float32")
    w = rng.standard_normal((128, 128)).astype("float32")
    ta, tb, tw = ff.constant(a), ff.constant(b), ff.constant(w)

    cases = [
        ("add 32x128", lambda: a + b, lambda: ff.add(ta, tb)),
        ("multiply 32x128", lambda: a * b, lambda: ff.multiply(ta, tb)),
        ("a + b operator", lambda: a + b, lambda: ta + tb),
        ("matmul 32x128 @ 128x128", lambda: a @ w, lambda: ff.matmul(ta, tw)),
        ("relu 32x128", lambda: np.maximum(a, 0), lambda: ff.nn.relu(ta)),
    ]

    class _Recording:
        """A fresh tape per timing run, watching the operands (so every call is recorded)."""

        def __enter__(self):
            self.tape = ff.GradientTape()
            self.tape.__enter__()
            self.tape.watch([ta, tb, tw])

        def __exit__(self, *exc):
            self.tape.__exit__(*exc)

    print(f"featherflow {ff.__version__}, numpy {np.__version__}; median of {args.repeats} runs x "
          f"{args.number} calls, microseconds per call")
    header = f"{'op':26s} {'numpy':>8s} {'ff (tape)':>10s} {'ff (no tape)':>13s} {'overhead':>9s}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for label, bare, op in cases:
        numpy_us = _median_us(bare, args.number, args.repeats)
        taped_us = _median_us(op, args.number, args.repeats, setup=_Recording)
        plain_us = _median_us(op, args.number, args.repeats)
        overhead = taped_us - numpy_us
        worst = max(worst, overhead)
        print(f"{label:26s} {numpy_us:8.2f} {taped_us:10.2f} {plain_us:13.2f} {overhead:9.2f}")
    print(f"worst overhead: {worst:.2f} us per recorded op (target <= 3 us)")


if __name__ == "__main__":
    main()
