"""A training step whose recurrence is a ``tf.while_loop`` with a ``tf.cond`` inside, under ``@tf.function``:
seconds per step, featherflow compiled next to featherflow eager, tf.keras (TF 2 ``@tf.function``) and PyTorch
eager (a Python loop and ``if``).

The step: ``h_t = tanh(h W + x_t U)``, scaled by 0.9 when its mean is positive (the ``tf.cond``), for
``--length`` time steps (the ``tf.while_loop``, its trip count a tensor argument), then a linear read-out, a mean
squared error, the gradients of ``W``, ``U`` and ``V`` through the loop and one SGD update. Batch 32, 16 inputs,
64 hidden units, float32. Every framework runs ``--warmup`` steps (tracing included), then ``--steps`` timed
steps; one fresh interpreter per framework and round, rounds interleaved, medians (``_harness.py``).

No target: the figure shows what compiling the loop and the branch buys over running them eagerly.

Run: ``python benchmarks/control_flow.py [--rounds 3] [--steps 200] [--length 20] [--only featherflow torch]``
"""

from __future__ import annotations

import json
import os
import sys

import _harness as h

BATCH, INPUTS, HIDDEN = 32, 16, 64
FRAMEWORKS = ("featherflow", "featherflow-eager", "tf.keras", "torch", "torch-1t")


def _data(length: int):
    import numpy as np

    rng = np.random.default_rng(0)
    return {"xs": rng.normal(size=(length, BATCH, INPUTS)).astype("float32"),
            "target": rng.normal(size=(BATCH, 1)).astype("float32"),
            "W": (rng.normal(size=(HIDDEN, HIDDEN)) * 0.1).astype("float32"),
            "U": (rng.normal(size=(INPUTS, HIDDEN)) * 0.1).astype("float32"),
            "V": (rng.normal(size=(HIDDEN, 1)) * 0.1).astype("float32")}


def _tf_style(tf, keras, options) -> dict:
    """The step written once for featherflow (``import featherflow as tf``) and TensorFlow."""
    if options.get("eager"):
        tf.config.run_functions_eagerly(True)
    data = _data(options["length"])
    W, U, V = (tf.Variable(data[k]) for k in ("W", "U", "V"))
    xs, target, n = tf.constant(data["xs"]), tf.constant(data["target"]), tf.constant(options["length"])
    opt = keras.optimizers.SGD(0.01)

    @tf.function
    def train_step(xs, target, n):
        with tf.GradientTape() as tape:
            def body(t, h):
                h = tf.tanh(tf.matmul(h, W) + tf.matmul(tf.gather(xs, t), U))
                return t + 1, tf.cond(tf.reduce_mean(h) > 0.0, lambda: h * 0.9, lambda: h)

            _, h = tf.while_loop(lambda t, h: t < n, body, (tf.constant(0), tf.zeros((BATCH, HIDDEN))))
            loss = tf.reduce_mean(tf.square(tf.matmul(h, V) - target))
        grads = tape.gradient(loss, [W, U, V])
        opt.apply_gradients(zip(grads, [W, U, V]))
        return loss

    def run(steps):
        loss = None
        for _ in range(steps):
            loss = train_step(xs, target, n)
        return float(loss)

    run(options["warmup"])
    wall, cpu, loss = h.timed(run, options["steps"])
    return {"step_s": wall / options["steps"], "step_cpu_s": cpu / options["steps"], "loss": loss}


def run_featherflow(options):
    import featherflow as tf

    return _tf_style(tf, tf.keras, options)


def run_featherflow_eager(options):
    import featherflow as tf

    return _tf_style(tf, tf.keras, dict(options, eager=True))


def run_tf_keras(options):
    tf, keras = h.import_tf_keras()
    return _tf_style(tf, keras, options)


def run_torch(options):
    import torch

    data = _data(options["length"])
    W, U, V = (torch.tensor(data[k], requires_grad=True) for k in ("W", "U", "V"))
    xs, target = torch.tensor(data["xs"]), torch.tensor(data["target"])
    opt = torch.optim.SGD([W, U, V], lr=0.01)

    def train_step():
        h = torch.zeros(BATCH, HIDDEN)
        for t in range(options["length"]):
            h = torch.tanh(h @ W + xs[t] @ U)
            if h.mean() > 0.0:
                h = h * 0.9
        loss = ((h @ V - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def run(steps):
        loss = None
        for _ in range(steps):
            loss = train_step()
        return float(loss)

    run(options["warmup"])
    wall, cpu, loss = h.timed(run, options["steps"])
    return {"step_s": wall / options["steps"], "step_cpu_s": cpu / options["steps"], "loss": loss}


RUNNERS = {"featherflow": run_featherflow, "featherflow-eager": run_featherflow_eager, "tf.keras": run_tf_keras,
           "torch": run_torch}


def main(argv=None) -> None:
    def extra(parser):
        parser.add_argument("--steps", type=int, default=200, help="timed steps per run")
        parser.add_argument("--warmup", type=int, default=50,
                            help="untimed steps first (tracing and featherflow's fusion of the loop's programs, "
                                 "which runs them 60 times a step, included)")
        parser.add_argument("--length", type=int, default=20, help="time steps of the loop")
        parser.add_argument("--quick", action="store_true", help="40 timed steps, 20 warm-up, 1 round")

    args = h.parse_args(__doc__.splitlines()[0], extra, argv)
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    if args.quick:
        args.steps, args.warmup, args.rounds = 40, 20, 1
    frameworks = h.frameworks_of(args, FRAMEWORKS)
    print(f"while_loop + cond step: batch {BATCH}, {args.length} time steps, hidden {HIDDEN}; {args.steps} timed "
          f"steps after {args.warmup} x {args.rounds} round(s); {h.load_line()}")
    options = {"steps": args.steps, "warmup": args.warmup, "length": args.length}
    res, missing = h.interleave(os.path.abspath(__file__), frameworks, args.rounds, options, args.python,
                                args.timeout)
    medians = {fw: h.median_of(res.get(fw, []), "step_s") for fw in frameworks}
    rows = []
    for fw in frameworks:
        if not res.get(fw):
            rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", "", ""])
            continue
        rows.append([fw, f"{medians[fw] * 1e3:.2f}", f"{h.median_of(res[fw], 'step_cpu_s') * 1e3:.2f}",
                     f"{h.median_of(res[fw], 'load'):.2f}", f"{h.median_of(res[fw], 'loss'):.4f}"])
    table = h.format_table(["framework", "ms/step", "cpu ms/step", "load avg", "loss at the end"], rows)
    ratios = h.ratios_table(medians)
    print(table)
    print(ratios)
    notes = (f"A step whose recurrence is a tf.while_loop ({args.length} time steps, the count a tensor) with a "
             f"tf.cond inside, gradients through both, one SGD update; batch {BATCH}, hidden {HIDDEN}; "
             f"{args.steps} timed steps after {args.warmup} in each of {args.rounds} round(s). featherflow and "
             f"tf.keras run it under `@tf.function`; featherflow-eager runs it eagerly; PyTorch is eager (a Python "
             f"loop and if). No target.")
    if not args.no_results:
        h.write_section("control_flow", "tf.while_loop and tf.cond under tf.function",
                        notes + "\n\n" + table + "\n\n" + ratios, h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
