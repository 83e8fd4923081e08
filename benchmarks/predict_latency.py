"""Where the time of a one-sample ``predict`` of the seed MLP goes: the NumPy floor and featherflow's overhead.

The seed MLP (Flatten(28x28) - Dense 128 relu - Dropout 0.2 - Dense 10 softmax, compiled with Adam) on one
float32 sample; in microseconds per call, sampled interleaved (``--rounds`` rounds of ``--calls`` calls each;
min, 10th percentile and median of the rounds' means):

- ``numpy floor``: the bare NumPy calls the model needs (reshape, x @ W1, + b1, ReLU, @ W2, + b2, softmax),
  written as cheaply as NumPy allows with the same results;
- ``matmul 1x784 @ 784x128``: the first layer's product alone (the arithmetic that cannot go);
- ``compiled forward``: the model's traced forward program (``steps.CompiledForward``, what ``predict`` on a
  small batch replays), no Keras API;
- ``tensor plan``: the same layers through their ``call`` on Tensors (ops with checks and tape hooks: the path
  of ``model(x)`` under a ``GradientTape``, and of a shape's first call);
- ``predict(x)``: ``model.predict(x, verbose=0)``, input checks included;
- ``model(x)``: the direct call (returns a Tensor).

Issue 10's target: ``predict`` of one sample <= 30 us.

Run: ``.venv/bin/python benchmarks/predict_latency.py [--rounds 300] [--calls 30]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import featherflow as ff


def build_model():
    keras = ff.keras
    keras.utils.set_random_seed(0)
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def candidates(model, one) -> dict:
    from featherflow.keras.models.functional import get_plan
    from featherflow.keras.models.steps import CompiledForward
    from featherflow.ops.array_kernels import softmax

    plan = get_plan(model)
    compiled = CompiledForward(plan, model)
    w1, b1, w2, b2 = (w.value for w in model.weights)
    b1_row, b2_row, zero = b1.reshape(1, -1), b2.reshape(1, -1), np.zeros((), np.float32)
    flat = one.reshape(1, -1)

    def floor():
        z = one.reshape(1, -1) @ w1
        z += b1_row
        np.maximum(z, zero, out=z)
        o = z @ w2
        o += b2_row
        return softmax(o)

    def run_program():
        return compiled(one)

    def tensor_plan():
        return plan.run([ff.Tensor(one)], False).value

    reference = model.predict(one, verbose=0)
    for fn in (floor, run_program, run_program, run_program, tensor_plan):  # (a shape's second call traces)
        assert np.array_equal(fn(), reference), fn.__name__  # every candidate computes the same numbers
    return {
        "numpy floor": floor,
        "matmul 1x784 @ 784x128": lambda: flat @ w1,
        "compiled forward": run_program,
        "tensor plan": tensor_plan,
        "predict(x)": lambda: model.predict(one, verbose=0),
        "model(x)": lambda: model(one),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args(argv)
    model = build_model()
    one = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    cands = candidates(model, one)
    for fn in cands.values():  # warm-up (builds the plan and the program)
        for _ in range(50):
            fn()
    samples = {name: [] for name in cands}
    clock = time.perf_counter
    for _ in range(args.rounds):
        for name, fn in cands.items():
            start = clock()
            for _ in range(args.calls):
                fn()
            samples[name].append((clock() - start) / args.calls * 1e6)
    print(f"seed MLP, one sample, us per call ({args.rounds} interleaved rounds of {args.calls} calls)")
    print(f"| {'':24} | {'min':>7} | {'p10':>7} | {'median':>7} |")
    print(f"|{'-' * 26}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for name, values in samples.items():
        values.sort()
        print(f"| {name:24} | {values[0]:7.2f} | {values[len(values) // 10]:7.2f} | "
              f"{values[len(values) // 2]:7.2f} |")


if __name__ == "__main__":
    main()
