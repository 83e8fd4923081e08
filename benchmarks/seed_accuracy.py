"""Accuracy unchanged: the seed example (Flatten-Dense128 relu-Dropout0.2-Dense10 softmax, Adam, 5 epochs,
batch 32) on the bundled MNIST sample (4,000 training / 1,000 test digits, scaled by 1/255) - test accuracy of
featherflow and tf.keras (and Keras 3 on JAX, PyTorch), median over ``--seeds`` seeds each.

Every seed runs in its own fresh interpreter (``keras.utils.set_random_seed(seed)``; PyTorch
``torch.manual_seed``), frameworks interleaved. The target (issue 10): featherflow's median test accuracy
within 1 point of tf.keras's.

Run: ``python benchmarks/seed_accuracy.py [--seeds 5] [--only featherflow tf.keras]``
"""

from __future__ import annotations

import json
import os
import statistics
import sys

import _harness as h

EPOCHS = 5


def load_sample():
    import numpy as np

    with np.load(os.path.join(h.ROOT, "featherflow", "keras", "datasets", "mnist_sample.npz")) as f:
        return ((f["x_train"] / 255.0).astype("float32"), f["y_train"].astype("int64"),
                (f["x_test"] / 255.0).astype("float32"), f["y_test"].astype("int64"))


def _keras(keras, set_seed, options):
    x, y, xt, yt = load_sample()
    set_seed(options["seed"])
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=EPOCHS, verbose=0)
    loss, accuracy = model.evaluate(xt, yt, verbose=0)
    return {"accuracy": float(accuracy), "loss": float(loss)}


def run_torch(options):
    import torch

    x, y, xt, yt = (torch.from_numpy(a) for a in load_sample())
    torch.manual_seed(options["seed"])
    nn = torch.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    # Keras's initializers (Glorot-uniform kernels, zero biases), so only the framework differs
    for layer in (model[1], model[4]):
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(EPOCHS):
        model.train()
        order = torch.randperm(len(x))
        for start in range(0, len(x), 32):
            idx = order[start:start + 32]
            optimizer.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(xt)
        return {"accuracy": float((logits.argmax(1) == yt).float().mean()), "loss": float(loss_fn(logits, yt))}


RUNNERS = {**h.keras_runners(_keras), "torch": run_torch}


def main(argv=None) -> None:
    args = h.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument("--seeds", type=int, default=5), argv)
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = args.only or list(h.FRAMEWORKS[:4])
    script = os.path.abspath(__file__)
    accuracies = {fw: [] for fw in frameworks}
    missing: dict = {}
    for seed in range(args.seeds):
        res, miss = h.interleave(script, [fw for fw in frameworks if fw not in missing], 1, {"seed": seed},
                                 args.python, args.timeout)
        missing.update(miss)
        for fw, outs in res.items():
            accuracies[fw].extend(o["accuracy"] for o in outs)
    ff = statistics.median(accuracies["featherflow"]) if accuracies.get("featherflow") else None
    rows = []
    for fw in frameworks:
        acc = accuracies.get(fw)
        if not acc:
            rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", ""])
            continue
        med = statistics.median(acc)
        rows.append([fw, f"{med * 100:.1f}%", " ".join(f"{a * 100:.1f}" for a in acc),
                     f"{(ff - med) * 100:+.1f}" if ff is not None else "-"])
    table = h.format_table(["framework", "median test accuracy", "per seed (%)", "featherflow - peer (points)"],
                           rows)
    notes = (f"The seed example on the MNIST sample (4,000 train / 1,000 test), {EPOCHS} epochs, seeds 0-"
             f"{args.seeds - 1}, each in a fresh interpreter.")
    print(table)
    if not args.no_results:
        h.write_section("seed_accuracy", "Accuracy: the seed model, featherflow vs the peers", notes + "\n\n" + table,
                        h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
