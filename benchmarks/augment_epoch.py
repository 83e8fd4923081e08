"""The small MNIST CNN with RandomRotation + RandomZoom + RandomTranslation inside the model: seconds per
training epoch, featherflow next to tf.keras and Keras 3 on JAX (the same layers in each).

Model: ``RandomRotation(0.1) - RandomZoom(0.1) - RandomTranslation(0.1, 0.1)`` (tf.keras's defaults: bilinear,
``fill_mode="reflect"``) in front of ``cnn_epoch.py``'s CNN (Conv2D 32 3x3 relu - MaxPool - Conv2D 64 3x3 relu -
MaxPool - Flatten - Dropout 0.5 - Dense 10 softmax), Adam, batch 128, 12,000 MNIST-shaped samples; the
augmentation runs on every training batch (each image its own random angle, zoom and shift) and not in
``predict``. ``fit`` one epoch per timing after a warm-up of 10 steps; one fresh interpreter per framework and
round, rounds interleaved, medians (``_harness.py``). The ``aug ms/batch`` column times the three layers alone
(``training=True`` on a batch of 128, median of 30 calls after 5) in the same child.

Run: ``python benchmarks/augment_epoch.py [--rounds 3] [--epochs 1] [--only featherflow tf.keras]``
"""

from __future__ import annotations

import json
import os
import sys
import time

import _harness as h

SAMPLES = 12_000
BATCH = 128
WARMUP_STEPS = 10
FRAMEWORKS = ("featherflow", "tf.keras", "keras-jax")


def load_data():
    from seed_mlp import load_data as mnist

    x, y = mnist(SAMPLES)
    return x[..., None], y


def _keras(keras, set_seed, options):
    import numpy as np

    x, y = load_data()
    set_seed(0)
    layers = keras.layers
    augmentation = [layers.RandomRotation(0.1), layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1)]
    model = keras.models.Sequential([
        keras.Input(shape=(28, 28, 1)), *augmentation,
        layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:WARMUP_STEPS * BATCH], y[:WARMUP_STEPS * BATCH], batch_size=BATCH, epochs=1, verbose=0)
    result = h.timed_fit_epochs(model, x, y, BATCH, options.get("epochs", 1))
    batch = x[:BATCH]
    times = []
    for i in range(35):
        start = time.perf_counter()
        out = batch
        for layer in augmentation:
            out = layer(out, training=True)
        np.asarray(out)
        if i >= 5:
            times.append(time.perf_counter() - start)
    result["augment_ms"] = sorted(times)[len(times) // 2] * 1e3
    result["accuracy"] = float(model.evaluate(x[:2000], y[:2000], verbose=0)[1])
    return result


RUNNERS = h.keras_runners(_keras)


def main(argv=None) -> None:
    args = h.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument("--epochs", type=int, default=1), argv)
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = [fw for fw in (args.only or FRAMEWORKS) if fw in RUNNERS]
    print(f"augmented CNN: {SAMPLES:,} samples, batch {BATCH}, {args.epochs} epoch(s) x {args.rounds} round(s)")
    res, missing = h.interleave(os.path.abspath(__file__), frameworks, args.rounds, {"epochs": args.epochs},
                                args.python, args.timeout)
    ff_epoch = h.median_of(res.get("featherflow", []), "epoch_s")
    ff_aug = h.median_of(res.get("featherflow", []), "augment_ms")
    rows = []
    for fw in frameworks:
        if not res.get(fw):
            rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", "", "", "", ""])
            continue
        epoch, cpu = h.median_of(res[fw], "epoch_s"), h.median_of(res[fw], "epoch_cpu_s")
        aug = h.median_of(res[fw], "augment_ms")
        rows.append([fw, f"{epoch:.2f}", f"{cpu:.2f}", h.ratio(ff_epoch, epoch), f"{aug:.1f}", h.ratio(ff_aug, aug),
                     f"{h.median_of(res[fw], 'accuracy'):.3f}"])
    table = h.format_table(["framework", "s/epoch", "cpu s/epoch", "ff/peer", "aug ms/batch", "aug ff/peer",
                            "train acc"], rows)
    print(table)
    notes = (f"MNIST CNN with RandomRotation(0.1), RandomZoom(0.1), RandomTranslation(0.1, 0.1) in the model, "
             f"{SAMPLES:,} samples, batch {BATCH}, Adam; {args.epochs} timed epoch(s) in each of {args.rounds} "
             f"round(s); `aug ms/batch`: the three layers called eagerly on a batch of {BATCH} (training=True, "
             f"median of 30; tf.keras's eager layer calls cost more than inside its compiled train step); "
             f"`train acc`: accuracy on 2,000 training images after the timed epochs.")
    print(notes)
    if not args.no_results:
        h.write_section("augment_epoch", "Augmented CNN: epoch time with the augmentation layers in the model",
                        notes + "\n\n" + table, h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
