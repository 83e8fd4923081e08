"""Two LSTM models trained with ``fit``: seconds per epoch, featherflow next to tf.keras, Keras 3 on JAX and
PyTorch eager.

- ``text``: Embedding(20,000, 128) - LSTM(64) - Dense(1, sigmoid); sequences of 200 token ids, batch 32,
  binary cross-entropy (IMDB's shapes; seeded random ids and labels). An epoch here is ``--text-samples``
  sequences (default 3,200 = 100 steps; IMDB's 25,000 would take minutes per framework on 2 cores): the
  per-step cost is what is compared.
- ``mnist64``: LSTM(64) - Dense(10, softmax) over MNIST rows (28 steps of 28 features), batch 64, sparse
  cross-entropy, 12,000 samples (the bundled MNIST sample tiled): issue 22's LSTM(64) workload;
- ``mnist``: the same with LSTM(128), batch 128.

``--no-fast`` adds featherflow without the ``fast`` extra's Numba kernels (``FEATHERFLOW_NUMBA=0``). Issue 22's
target: featherflow <= 1.0x PyTorch on both MNIST workloads.

Adam (1e-3, epsilon 1e-7) and an accuracy metric everywhere; one warm-up ``fit`` of a few steps, then timed
epochs (PyTorch: the same loop by hand, ``nn.LSTM(batch_first=True)`` + the last output). One fresh
interpreter per framework, workload and round; rounds interleaved; medians (``_harness.py``).

Run: ``python benchmarks/lstm_epoch.py [--rounds 3] [--workload mnist64 mnist text] [--no-fast] [--only ...]``
"""

from __future__ import annotations

import json
import os
import sys

import _harness as h

WORKLOADS = {
    "text": dict(batch=32, steps=200, vocab=20_000, embed=128, units=64, classes=1),
    "mnist64": dict(batch=64, steps=28, features=28, units=64, classes=10, samples=12_000),
    "mnist": dict(batch=128, steps=28, features=28, units=128, classes=10, samples=12_000),
}
TARGETS = {"torch": 1.0}  # issue 22: featherflow's epoch / PyTorch's
WARMUP_STEPS = 5


def load_data(workload: str, samples: int):
    import numpy as np

    spec = WORKLOADS[workload]
    if workload == "text":
        rng = np.random.default_rng(0)
        x = rng.integers(1, spec["vocab"], size=(samples, spec["steps"])).astype("int32")
        y = rng.integers(0, 2, size=(samples, 1)).astype("float32")
        return x, y
    from seed_mlp import load_data as mnist

    return mnist(samples)


def _samples(options) -> int:
    return options["text_samples"] if options["workload"] == "text" else WORKLOADS[options["workload"]]["samples"]


def _keras(keras, set_seed, options):
    workload = options["workload"]
    spec = WORKLOADS[workload]
    x, y = load_data(workload, _samples(options))
    set_seed(0)
    layers = keras.layers
    if workload == "text":
        model = keras.models.Sequential([keras.Input(shape=(spec["steps"],), dtype="int32"),
                                         layers.Embedding(spec["vocab"], spec["embed"]), layers.LSTM(spec["units"]),
                                         layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    else:
        model = keras.models.Sequential([keras.Input(shape=(spec["steps"], spec["features"])),
                                         layers.LSTM(spec["units"]), layers.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7), loss=loss,
                  metrics=["accuracy"])
    batch = spec["batch"]
    model.fit(x[:WARMUP_STEPS * batch], y[:WARMUP_STEPS * batch], batch_size=batch, epochs=1, verbose=0)
    return h.timed_fit_epochs(model, x, y, batch, options.get("epochs", 1))


def run_torch(options):
    import torch

    workload = options["workload"]
    spec = WORKLOADS[workload]
    x, y = load_data(workload, _samples(options))
    torch.manual_seed(0)
    nn = torch.nn
    text = workload == "text"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(spec["vocab"], spec["embed"]) if text else None
            self.lstm = nn.LSTM(spec["embed"] if text else spec["features"], spec["units"], batch_first=True)
            self.head = nn.Linear(spec["units"], spec["classes"])

        def forward(self, inputs):
            seq = self.embed(inputs) if text else inputs
            out, _ = self.lstm(seq)
            return self.head(out[:, -1])

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss() if text else nn.CrossEntropyLoss()
    xt = torch.from_numpy(x.astype("int64") if text else x)
    yt = torch.from_numpy(y)
    batch = spec["batch"]

    def epoch(limit=None):
        model.train()
        order = torch.randperm(len(xt))
        correct, total, seen = 0, 0.0, 0
        stop = len(xt) if limit is None else limit * batch
        for start in range(0, stop, batch):
            idx = order[start:start + batch]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total += float(loss) * len(yb)
            pred = (logits > 0).float() if text else logits.argmax(dim=1)
            correct += int((pred == yb).sum())
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


def main(argv=None) -> None:
    def extra(parser):
        parser.add_argument("--epochs", type=int, default=1)
        parser.add_argument("--workload", nargs="*", choices=sorted(WORKLOADS), default=["mnist64", "mnist"])
        parser.add_argument("--text-samples", type=int, default=3200)

    args = h.parse_args(__doc__.splitlines()[0], extra, argv)
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = h.frameworks_of(args)
    sections = []
    for workload in args.workload:
        options = {"workload": workload, "epochs": args.epochs, "text_samples": args.text_samples}
        spec = WORKLOADS[workload]
        samples = _samples(options)
        title = (f"text: Embedding(20000,128)-LSTM(64)-Dense(1), sequences of 200, batch 32, {samples:,} sequences"
                 if workload == "text" else
                 f"mnist rows: LSTM({spec['units']})-Dense(10), 28 steps x 28, batch {spec['batch']}, "
                 f"{samples:,} samples")
        print(title)
        res, missing = h.interleave(os.path.abspath(__file__), frameworks, args.rounds, options, args.python,
                                    args.timeout)
        ff = h.median_of(res.get("featherflow", []), "epoch_s")
        rows = []
        for fw in frameworks:
            if not res.get(fw):
                rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", "", "", ""])
                continue
            epoch, cpu = h.median_of(res[fw], "epoch_s"), h.median_of(res[fw], "epoch_cpu_s")
            steps = -(-samples // spec["batch"])
            rows.append([fw, f"{epoch:.2f}", f"{cpu:.2f}", f"{epoch / steps * 1e3:.1f}", h.ratio(ff, epoch),
                         f"{h.median_of(res[fw], 'load'):.2f}"])
        table = h.format_table(["framework", "s/epoch", "cpu s/epoch", "ms/step", "ff/peer", "load avg"], rows)
        ratios = h.ratios_table({fw: h.median_of(res.get(fw, []), "epoch_s") for fw in frameworks},
                                None if workload == "text" else TARGETS)
        print(table)
        print(ratios)
        sections.append(f"**{title}**\n\n{table}\n\n{ratios}")
    if not args.no_results:
        notes = f"Adam, accuracy metric; {args.epochs} timed epoch(s) in each of {args.rounds} round(s)."
        h.write_section("lstm_epoch", "LSTM models: epoch time", notes + "\n\n" + "\n\n".join(sections),
                        h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
