"""tf.data feeding: the tensorflow.org MNIST pipeline against NumPy arrays, and against tf.data feeding tf.keras.

Workload (issue 17): the lecture model of ``seed_mlp.py`` (Flatten - Dense(128, relu) - Dropout(0.2) -
Dense(10, softmax), Adam, sparse categorical cross-entropy, accuracy) on 60,000 MNIST images (the bundled
sample tiled), one epoch per ``fit`` call, fed two ways in each framework's process:

- ``tf.data``: ``Dataset.from_tensor_slices((x_uint8, y)).shuffle(1000).batch(32)``
  ``.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y)).prefetch(tf.data.AUTOTUNE)``;
- ``numpy``: ``fit(x_float32, y, batch_size=32, shuffle=True)`` (images normalised once, beforehand);
- featherflow only, for the record: the same pipeline with ``prefetch(2)``, which always runs the pipeline in
  a background thread (``AUTOTUNE`` produces on request here: a batch takes under a tenth of a training step to
  produce, less than a thread could win, so it does not even probe the thread).

The two feedings alternate epoch by epoch within each process (same load on the shared machine for both);
the driver alternates the frameworks' processes. Reported: median seconds per epoch of each feeding, the
ratio tf.data / NumPy within each framework (target: featherflow <= 1.1x), and featherflow's tf.data epoch
against tf.keras's (target: below 1).

Run: ``python benchmarks/data_pipeline.py [--rounds 3] [--epochs 2]`` (``.venv-bench`` has tf.keras)
"""

from __future__ import annotations

import os
import sys

import _harness as h

SAMPLES = 60_000
BATCH = 32
SHUFFLE_BUFFER = 1000
WARMUP_SAMPLES = 300 * BATCH
FRAMEWORKS = ("featherflow", "tf.keras")


def load_uint8(samples=SAMPLES):
    """The MNIST sample tiled to ``samples`` uint8 images and int64 labels."""
    import numpy as np

    path = os.path.join(h.ROOT, "featherflow", "keras", "datasets", "mnist_sample.npz")
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x_train"], f["y_train"]
    reps = -(-samples // len(x))
    return np.tile(x, (reps, 1, 1))[:samples], np.tile(y, reps)[:samples].astype("int64")


def _run(tf, keras, options) -> dict:
    """Epochs of the same model fed by tf.data and by NumPy arrays, alternating."""
    x8, y = load_uint8()
    x = x8.astype("float32") / 255.0
    keras.utils.set_random_seed(0)
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])

    def pipeline(images, labels, prefetch=tf.data.AUTOTUNE):
        return (tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(SHUFFLE_BUFFER).batch(BATCH)
                .map(lambda a, b: (tf.cast(a, tf.float32) / 255.0, b)).prefetch(prefetch))

    dataset = pipeline(x8, y)
    threaded = pipeline(x8, y, prefetch=2) if options.get("threaded") else None
    # warm-up: both paths once (tf.keras traces its train function, featherflow builds its training program)
    model.fit(pipeline(x8[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES]), epochs=1, verbose=0)
    model.fit(x[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES], batch_size=BATCH, epochs=1, verbose=0)
    result = {"data_s": [], "data_cpu_s": [], "numpy_s": [], "numpy_cpu_s": [], "thread_s": []}
    for _ in range(options.get("epochs", 2)):
        if threaded is not None:
            result["thread_s"].append(h.timed(model.fit, threaded, epochs=1, verbose=0)[0])
        wall, cpu, history = h.timed(model.fit, dataset, epochs=1, verbose=0)
        result["data_s"].append(wall)
        result["data_cpu_s"].append(cpu)
        wall, cpu, _ = h.timed(model.fit, x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
        result["numpy_s"].append(wall)
        result["numpy_cpu_s"].append(cpu)
    result["data_accuracy"] = float(history.history["accuracy"][-1])
    return result


def run_featherflow(options):
    import featherflow as tf

    return _run(tf, tf.keras, dict(options, threaded=True))


def run_tf_keras(options):
    tf, keras = h.import_tf_keras()
    return _run(tf, keras, options)


RUNNERS = {"featherflow": run_featherflow, "tf.keras": run_tf_keras}


def main(argv=None) -> None:
    args = h.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument("--epochs", type=int, default=2), argv)
    if args.child:
        import json

        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = [fw for fw in (args.only or FRAMEWORKS) if fw in RUNNERS]
    script = os.path.abspath(__file__)
    print(f"MNIST pipeline: {SAMPLES:,} samples, batch {BATCH}, shuffle({SHUFFLE_BUFFER}), "
          f"{args.epochs} epoch(s) per feeding x {args.rounds} round(s)")
    res, missing = h.interleave(script, frameworks, args.rounds, {"epochs": args.epochs}, args.python, args.timeout)
    ff_data = h.median_of(res.get("featherflow", []), "data_s")
    rows = []
    for fw in frameworks:
        if fw in missing and not res.get(fw):
            rows.append([fw, f"not measured: {missing[fw][:90]}"] + [""] * 8)
            continue
        r = res[fw]
        data, numpy_ = h.median_of(r, "data_s"), h.median_of(r, "numpy_s")
        data_cpu, numpy_cpu = h.median_of(r, "data_cpu_s"), h.median_of(r, "numpy_cpu_s")
        thread = h.median_of(r, "thread_s")
        rows.append([fw, f"{data:.3f}", f"{numpy_:.3f}", h.ratio(data, numpy_), f"{data_cpu:.3f}", f"{numpy_cpu:.3f}",
                     h.ratio(data_cpu, numpy_cpu), h.ratio(ff_data, data),
                     f"{thread:.3f} ({h.ratio(thread, numpy_)})" if thread else "-",
                     f"{h.median_of(r, 'data_accuracy'):.3f}"])
    headers = ["framework", "tf.data s/epoch", "NumPy s/epoch", "tf.data/NumPy", "tf.data cpu s", "NumPy cpu s",
               "cpu tf.data/NumPy", "ff tf.data/peer", "prefetch(2) s/epoch (/NumPy)", "accuracy (tf.data)"]
    table = h.format_table(headers, rows)
    print(table)
    notes = (f"The tensorflow.org MNIST pipeline (shuffle {SHUFFLE_BUFFER}, batch {BATCH}, map normalising uint8 "
             f"images, prefetch AUTOTUNE) feeding the lecture model, against the same model fed NumPy arrays "
             f"normalised beforehand; {args.epochs} epoch(s) of each feeding per round, alternating within each "
             f"process, {args.rounds} round(s). Targets: featherflow tf.data/NumPy <= 1.1x; featherflow's tf.data "
             f"epoch below tf.keras's (`ff tf.data/peer` < 1). `prefetch(2)`: featherflow's pipeline always in a "
             f"background thread, for comparison with the choice `AUTOTUNE` makes.")
    print(notes)
    if not args.no_results:
        h.write_section("data_pipeline", "tf.data: the MNIST pipeline against NumPy feeding and tf.keras",
                        notes + "\n\n" + table, h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
