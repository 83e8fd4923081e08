"""The seed MLP (Flatten-Dense128 relu-Dropout0.2-Dense10 softmax, Adam, batch 32) on 60,000 MNIST-shaped
samples: seconds per epoch and one-sample prediction latency, featherflow next to its peers.

Every framework trains the same model on the same float32 data (the bundled 4,000-digit MNIST sample
tiled to 60,000) for ``--epochs`` epochs after a warm-up epoch of 300 steps, in its own subprocess (no
shared thread pools or imports); rounds interleave the frameworks and the table reports medians.
Peers (tf.keras, Keras 3 on JAX, PyTorch eager) are timed where importable by ``--peer-python``
(default: ``.venv-bench/bin/python`` if present, else this interpreter; several may be given, each peer
uses the first that imports it); the others show as missing.

One-sample latency: ``model.predict(x[:1], verbose=0)`` (PyTorch: ``model(x)`` under ``no_grad``, its
predict) and the direct call ``model(x[:1])``, median of 2,000 calls.

Run: ``.venv/bin/python benchmarks/seed_mlp.py [--epochs 3] [--rounds 1] [--only featherflow]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FRAMEWORKS = ("featherflow", "tf.keras", "keras-jax", "torch")
SAMPLES = 60_000
BATCH = 32
WARMUP_STEPS = 300
PREDICT_CALLS = 2000


# -- data ------------------------------------------------------------------------------------------------
def load_data():
    """The MNIST sample tiled to 60,000 float32 images in [0, 1] and uint8 labels."""
    import numpy as np

    path = os.path.join(ROOT, "featherflow", "keras", "datasets", "mnist_sample.npz")
    if not os.path.exists(path):
        path = os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist_sample.npz")
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x_train"], f["y_train"]
    reps = -(-SAMPLES // len(x))
    x = (np.tile(x, (reps, 1, 1))[:SAMPLES] / 255.0).astype("float32")
    y = np.tile(y, reps)[:SAMPLES].astype("int64")
    return x, y


def _median_call(fn, calls=PREDICT_CALLS) -> float:
    for _ in range(50):
        fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# -- one framework per subprocess -----------------------------------------------------------------------
def run_featherflow(epochs):
    import featherflow as tf

    x, y = load_data()
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    model.fit(x[:WARMUP_STEPS * BATCH], y[:WARMUP_STEPS * BATCH], batch_size=BATCH, epochs=1, verbose=0)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    one = x[:1]
    return {"epoch_s": times, "predict_s": _median_call(lambda: model.predict(one, verbose=0)),
            "call_s": _median_call(lambda: model(one))}


def _keras_model(keras):
    return keras.models.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])


def _run_keras(keras, epochs, set_seed):
    x, y = load_data()
    set_seed(0)
    model = _keras_model(keras)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    model.fit(x[:WARMUP_STEPS * BATCH], y[:WARMUP_STEPS * BATCH], batch_size=BATCH, epochs=1, verbose=0)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    one = x[:1]
    calls = 200 if keras.__name__.startswith("tf") or "tensorflow" in keras.__name__ else PREDICT_CALLS
    return {"epoch_s": times, "predict_s": _median_call(lambda: model.predict(one, verbose=0), calls),
            "call_s": _median_call(lambda: model(one), calls)}


def run_tf_keras(epochs):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf

    try:
        import tf_keras as keras  # TF >= 2.16 keeps Keras 2 as tf_keras
    except ImportError:
        keras = tf.keras
    return _run_keras(keras, epochs, tf.random.set_seed)


def run_keras_jax(epochs):
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    if not keras.__version__.startswith("3"):
        raise ImportError(f"Keras 3 is needed for the JAX backend, found {keras.__version__}")
    return _run_keras(keras, epochs, keras.utils.set_random_seed)


def run_torch(epochs):
    import numpy as np
    import torch

    x, y = load_data()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + cross-entropy fused, as Keras does from the softmax's logits
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(limit=None):
        model.train()
        order = torch.randperm(len(xt))
        correct, total_loss, seen = 0, 0.0, 0
        steps = range(0, len(xt), BATCH) if limit is None else range(0, limit * BATCH, BATCH)
        for start in steps:
            idx = order[start:start + BATCH]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            # the running loss and accuracy Keras reports
            total_loss += float(loss) * len(yb)
            correct += int((logits.argmax(dim=1) == yb).sum())
            seen += len(yb)
        return total_loss / seen, correct / seen

    epoch(WARMUP_STEPS)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    model.eval()
    one = xt[:1]

    def predict():
        with torch.no_grad():
            return torch.softmax(model(one), dim=1).numpy()

    del np
    return {"epoch_s": times, "predict_s": _median_call(predict), "call_s": _median_call(predict)}


RUNNERS = {"featherflow": run_featherflow, "tf.keras": run_tf_keras, "keras-jax": run_keras_jax, "torch": run_torch}


def child(framework: str, epochs: int) -> None:
    if framework == "torch":
        _apply_thread_limit()
    try:
        result = RUNNERS[framework](epochs)
    except ImportError as exc:
        result = {"missing": str(exc)}
    print("RESULT " + json.dumps(result))


# -- driver ----------------------------------------------------------------------------------------------
def thread_env(threads) -> dict:
    """Environment variables that cap the compute threads of NumPy/OpenBLAS, MKL, OpenMP, XLA and TF."""
    if not threads:
        return {}
    n = str(threads)
    return {"OPENBLAS_NUM_THREADS": n, "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n,
            "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1", "FF_BENCH_THREADS": n,
            "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
                         f"intra_op_parallelism_threads={n}"}


def _apply_thread_limit() -> None:
    n = os.environ.get("FF_BENCH_THREADS")
    if not n:
        return
    try:
        import torch

        torch.set_num_threads(int(n))
    except ImportError:
        pass


def run_child(python: str, framework: str, epochs: int, timeout: float, threads=None):
    env = dict(os.environ)
    env.update(thread_env(threads))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([python, os.path.abspath(__file__), "--child", framework, "--epochs", str(epochs)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"missing": f"failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:] or ''}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repeats of every framework")
    parser.add_argument("--only", nargs="*", choices=FRAMEWORKS, help="frameworks to run (default: all)")
    parser.add_argument("--peer-python", nargs="*", default=None,
                        help="interpreter(s) with the peers installed; each peer uses the first that imports it")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit every framework to this many compute threads (default: each framework's own)")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs)
        return
    bench = os.path.join(ROOT, ".venv-bench", "bin", "python")
    peer_pythons = args.peer_python or [bench if os.path.exists(bench) else sys.executable]
    chosen: dict = {}
    frameworks = args.only or list(FRAMEWORKS)
    results = {fw: {"epoch_s": [], "predict_s": [], "call_s": []} for fw in frameworks}
    missing = {}
    for _ in range(args.rounds):
        for fw in frameworks:
            if fw in missing:
                continue
            candidates = [sys.executable] if fw == "featherflow" else [chosen[fw]] if fw in chosen else peer_pythons
            for python in candidates:
                out = run_child(python, fw, args.epochs, args.timeout, args.threads)
                if "missing" not in out:
                    chosen[fw] = python
                    break
            if "missing" in out:
                missing[fw] = out["missing"]
                continue
            for key in ("epoch_s", "predict_s", "call_s"):
                value = out[key]
                results[fw][key].extend(value if isinstance(value, list) else [value])
    print(f"seed MLP, {SAMPLES:,} samples, batch {BATCH}, {args.epochs} epoch(s) x {args.rounds} round(s); "
          f"medians; {os.cpu_count()} CPU(s); threads: {args.threads or 'default'}")
    ff = results.get("featherflow", {}).get("epoch_s") or []
    ff_epoch = statistics.median(ff) if ff else None
    ff_predict = statistics.median(results["featherflow"]["predict_s"]) if ff else None
    header = f"{'framework':<12} {'s/epoch':>9} {'ff/peer':>8} {'predict(1) ms':>14} {'ff/peer':>8} {'model(x) ms':>12}"
    print(header)
    print("-" * len(header))
    for fw in frameworks:
        if fw in missing:
            print(f"{fw:<12} {'not installed / failed: ' + missing[fw][:60]}")
            continue
        epoch = statistics.median(results[fw]["epoch_s"])
        predict = statistics.median(results[fw]["predict_s"])
        call = statistics.median(results[fw]["call_s"])
        ratio = f"{ff_epoch / epoch:.2f}x" if ff_epoch else "-"
        pratio = f"{ff_predict / predict:.2f}x" if ff_predict else "-"
        print(f"{fw:<12} {epoch:>9.3f} {ratio:>8} {predict * 1e3:>14.4f} {pratio:>8} {call * 1e3:>12.4f}")
    if ff_epoch:
        print(f"featherflow: {ff_epoch / (SAMPLES / BATCH) * 1e6:.0f} us per training step (Adam included)")


if __name__ == "__main__":
    main()
