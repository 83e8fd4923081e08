"""The small CNN (Conv2D 32 3x3 relu - MaxPool - Conv2D 64 3x3 relu - MaxPool - Flatten - Dropout 0.5 -
Dense 10 softmax, Adam, batch 128) on 12,000 MNIST-shaped samples: seconds per epoch and GFLOP/s,
featherflow next to tf.keras, Keras 3 on JAX and PyTorch eager.

Same data (the bundled MNIST sample tiled to 12,000 28x28x1 float32 images), model, optimizer (Adam 1e-3,
epsilon 1e-7), loss (sparse cross-entropy, fused with the softmax) and accuracy metric everywhere; ``fit``
one epoch per timing after a warm-up of 10 steps (PyTorch: the same loop by hand, NCHW). One fresh
interpreter per framework and round, rounds interleaved, medians (``_harness.py``).

GFLOP/s counts the multiply-adds (x2) of the forward pass, the weight gradients and the input gradients
(none for the first convolution) of the two convolutions and the dense layer; the table compares it with
this machine's float32 matmul peak, measured in the same run (NumPy 1024x1024 GEMM, best of all cores
and one core).

``--no-fast`` adds featherflow without the ``fast`` extra's Numba kernels (``FEATHERFLOW_NUMBA=0``).

Run: ``python benchmarks/cnn_epoch.py [--rounds 3] [--epochs 1] [--no-fast] [--only featherflow torch]``
"""

from __future__ import annotations

import json
import os
import sys

import _harness as h

SAMPLES = 12_000
BATCH = 128
WARMUP_STEPS = 10
TARGETS = {"torch": 1.0, "tf.keras": 1.0}  # issue 22: featherflow's epoch / the peer's


def train_flops_per_sample() -> float:
    conv1 = 26 * 26 * 32 * 9 * 1
    conv2 = 11 * 11 * 64 * 9 * 32
    dense = 1600 * 10
    return 2.0 * ((conv1 + conv2 + dense) * 2 + (conv2 + dense))


def load_data():
    from seed_mlp import load_data as mnist

    x, y = mnist(SAMPLES)
    return x[..., None], y


def _keras(keras, set_seed, options):
    x, y = load_data()
    set_seed(0)
    layers = keras.layers
    model = keras.models.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:WARMUP_STEPS * BATCH], y[:WARMUP_STEPS * BATCH], batch_size=BATCH, epochs=1, verbose=0)
    return h.timed_fit_epochs(model, x, y, BATCH, options.get("epochs", 1))


def run_torch(options):
    import torch

    x, y = load_data()
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    yt = torch.from_numpy(y)
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def epoch(limit=None):
        model.train()
        order = torch.randperm(len(xt))
        correct, total, seen = 0, 0.0, 0
        stop = len(xt) if limit is None else limit * BATCH
        for start in range(0, stop, BATCH):
            idx = order[start:start + BATCH]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total += float(loss) * len(yb)
            correct += int((logits.argmax(dim=1) == yb).sum())
            seen += len(yb)
        return total / seen, correct / seen

    epoch(WARMUP_STEPS)
    walls, cpus = [], []
    for _ in range(options.get("epochs", 1)):
        wall, cpu, _ = h.timed(epoch)
        walls.append(wall)
        cpus.append(cpu)
    return {"epoch_s": walls, "epoch_cpu_s": cpus}


RUNNERS = {**h.keras_runners(_keras), "torch": run_torch}


def matmul_peak_gflops(python=None) -> float:
    """Best float32 1024^3 GEMM rate of NumPy on all cores (GFLOP/s), in the benchmark interpreter."""
    import subprocess

    code = ("import time, numpy as np\n"
            "a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32); b = a.copy(); c = a @ b\n"
            "best = 1e9\n"
            "for _ in range(30):\n"
            "    t = time.perf_counter(); np.matmul(a, b, out=c); best = min(best, time.perf_counter() - t)\n"
            "print(2 * 1024 ** 3 / best / 1e9)")
    python = python or (h.BENCH_PYTHON if os.path.exists(h.BENCH_PYTHON) else sys.executable)
    best = float("nan")
    for threads in (None, "1"):  # all cores, and one (on a loaded machine one thread can be faster)
        env = dict(os.environ)
        if threads:
            env["OPENBLAS_NUM_THREADS"] = threads
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=600, env=env)
        try:
            rate = float(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            continue
        best = rate if best != best else max(best, rate)
    return best


def main(argv=None) -> None:
    args = h.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument("--epochs", type=int, default=1), argv)
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = h.frameworks_of(args)
    print(f"small CNN: {SAMPLES:,} samples, batch {BATCH}, {args.epochs} epoch(s) x {args.rounds} round(s)")
    peak_before = matmul_peak_gflops(args.python)
    res, missing = h.interleave(os.path.abspath(__file__), frameworks, args.rounds, {"epochs": args.epochs},
                                args.python, args.timeout)
    peak = max(peak_before, matmul_peak_gflops(args.python))
    flops = train_flops_per_sample() * SAMPLES
    ff_epoch = h.median_of(res.get("featherflow", []), "epoch_s")
    rows = []
    for fw in frameworks:
        if not res.get(fw):
            rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", "", "", ""])
            continue
        epoch, cpu = h.median_of(res[fw], "epoch_s"), h.median_of(res[fw], "epoch_cpu_s")
        rate = flops / epoch / 1e9
        rows.append([fw, f"{epoch:.2f}", f"{cpu:.2f}", h.ratio(ff_epoch, epoch), f"{rate:.1f}",
                     f"{rate / peak * 100:.0f}%"])
    table = h.format_table(["framework", "s/epoch", "cpu s/epoch", "ff/peer", "GFLOP/s", "of matmul peak"], rows)
    print(table)
    notes = (f"Small CNN, {SAMPLES:,} samples, batch {BATCH}, Adam; {args.epochs} timed epoch(s) in each of "
             f"{args.rounds} round(s); {flops / 1e9:.1f} GFLOP per epoch (forward + backward); the machine's "
             f"float32 matmul peak (NumPy 1024^3 GEMM on all cores or one, best of the runs before and after) {peak:.1f} GFLOP/s.")
    ratios = h.ratios_table({fw: h.median_of(res.get(fw, []), "epoch_s") for fw in frameworks}, TARGETS)
    loads = ", ".join(f"{fw} {h.median_of(res[fw], 'load'):.2f}" for fw in frameworks if res.get(fw))
    notes += f"\n\nEpoch time, featherflow over each peer (issue 22's targets):\n\n{ratios}\n\nLoad average " \
             f"(1 min, median over rounds) when each framework finished: {loads}."
    print(notes)
    if not args.no_results:
        h.write_section("cnn_epoch", "Small CNN: epoch time and GFLOP/s", notes + "\n\n" + table, h.command_line(),
                        h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
