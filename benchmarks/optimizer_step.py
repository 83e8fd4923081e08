"""One Adam step over a 1M-parameter model split into 2 and into 50 variables.

Times (median of interleaved repeats, warm-up excluded):

- featherflow ``apply_flat()``: the gradients are already in the flat gradient buffer (the
  trainer's fast entry);
- featherflow ``apply_gradients(zip(grads, vars))``: the gradients are copied into the buffer first;
- a plain NumPy per-variable Adam (the textbook loop with NumPy expressions, one variable at a time).

The goal (numerics issue): featherflow's 50-variable step costs no more than 1.3x its 2-variable step.

Run: ``.venv/bin/python benchmarks/optimizer_step.py [--params 1000000] [--repeats 30]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import featherflow as ff
from featherflow import keras


def split(total: int, parts: int) -> list:
    """``parts`` sizes summing to ``total`` (uneven, like real layers)."""
    rng = np.random.default_rng(parts)
    weights = rng.uniform(0.5, 1.5, size=parts)
    sizes = np.floor(weights / weights.sum() * total).astype(int)
    sizes[-1] += total - sizes.sum()
    return [int(s) for s in sizes]


class NumpyAdam:
    """Textbook per-variable Adam in plain NumPy expressions (Keras's formula)."""

    def __init__(self, params, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        alpha = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m += (g - m) * (1 - self.b1)
            v += (g * g - v) * (1 - self.b2)
            p -= alpha * m / (np.sqrt(v) + self.eps)


def make_case(total: int, parts: int):
    rng = np.random.default_rng(0)
    sizes = split(total, parts)
    shapes = [(s,) for s in sizes]
    grads = [rng.normal(size=s).astype("float32") for s in shapes]
    variables = [ff.Variable(rng.normal(size=s).astype("float32")) for s in shapes]
    opt_flat = keras.optimizers.Adam()
    views = opt_flat.flat_gradient_views(variables)
    for view, g in zip(views, grads):
        np.copyto(view, g)
    variables2 = [ff.Variable(v.numpy()) for v in variables]
    opt_apply = keras.optimizers.Adam()
    opt_apply.build(variables2)
    pairs = list(zip(grads, variables2))
    plain = NumpyAdam([v.numpy() for v in variables])
    return {
        "featherflow apply_flat": opt_flat.apply_flat,
        "featherflow apply_gradients": lambda: opt_apply.apply_gradients(pairs),
        "numpy per-variable Adam": lambda: plain.step(grads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    cases = {parts: make_case(args.params, parts) for parts in (2, 50)}
    times = {(parts, name): [] for parts in cases for name in cases[parts]}
    for _ in range(3):  # warm-up
        for fns in cases.values():
            for fn in fns.values():
                fn()
    for _ in range(args.repeats):  # interleaved so machine noise hits every variant alike
        for parts, fns in cases.items():
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[(parts, name)].append(time.perf_counter() - start)
    med = {key: statistics.median(v) * 1e3 for key, v in times.items()}
    names = list(cases[2])
    print(f"One Adam step, {args.params:,} float32 parameters, median of {args.repeats} (ms)")
    print(f"{'':32s}{'2 variables':>14s}{'50 variables':>14s}{'50/2':>8s}")
    for name in names:
        a, b = med[(2, name)], med[(50, name)]
        print(f"{name:32s}{a:14.3f}{b:14.3f}{b / a:8.2f}")
    ref = med[(50, "numpy per-variable Adam")]
    for name in names[:2]:
        print(f"{name} / numpy per-variable Adam (50 variables): {med[(50, name)] / ref:.2f}x")
    ratio = med[(50, names[0])] / med[(2, names[0])]
    print(f"goal: featherflow 50-variable step <= 1.3x 2-variable step: {ratio:.2f}x "
          f"({'met' if ratio <= 1.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
