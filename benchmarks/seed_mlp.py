"""The seed MLP (Flatten-Dense128 relu-Dropout0.2-Dense10 softmax, Adam, batch 32) on 60,000 MNIST-shaped
samples: epoch time, peak memory, one-sample predict latency and 10,000-sample predict throughput,
featherflow next to tf.keras, Keras 3 on JAX and PyTorch eager.

Every framework trains the same model on the same float32 data (the bundled 4,000-digit MNIST sample tiled
to 60,000) with Adam(1e-3, epsilon 1e-7), sparse cross-entropy and an accuracy metric, shuffling every epoch;
``fit(..., epochs=1)`` per timed epoch after a warm-up of 300 steps (PyTorch: the same loop by hand, with the
running loss and accuracy Keras reports). Each framework runs in a fresh interpreter per round; rounds
interleave the frameworks; medians are reported (see ``_harness.py``).

- epoch: seconds per 60,000-sample epoch (and the process CPU seconds, a second figure on a loaded machine);
- peak memory: ``ru_maxrss`` of a separate fresh process that imports, loads the data, builds and trains one
  epoch (data included: 188 MB of float32 images for every framework);
- predict(1): ``model.predict(x[:1], verbose=0)`` (PyTorch: ``softmax(model(x))`` under ``no_grad``) and the
  direct call ``model(x[:1])``, median of many calls;
- predict 10k: ``model.predict(x[:10000], verbose=0)`` (Keras's default batch of 32; PyTorch the same batches
  under ``no_grad``), samples per second.

``--no-fast`` adds featherflow without the ``fast`` extra's Numba kernels (``FEATHERFLOW_NUMBA=0``) as
``featherflow-nofast``.

Run: ``python benchmarks/seed_mlp.py [--rounds 3] [--epochs 2] [--no-fast] [--only featherflow torch]``
"""

from __future__ import annotations

import os
import sys

import _harness as h

SAMPLES = 60_000
BATCH = 32
WARMUP_STEPS = 300
PREDICT_SAMPLES = 10_000
TARGETS = {"keras-jax": 0.6, "torch": 0.35, "tf.keras": 0.15}  # issue 22: featherflow's epoch / the peer's


def load_data(samples=SAMPLES):
    """The MNIST sample tiled to ``samples`` float32 images in [0, 1] and int64 labels."""
    import numpy as np

    path = os.path.join(h.ROOT, "featherflow", "keras", "datasets", "mnist_sample.npz")
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x_train"], f["y_train"]
    reps = -(-samples // len(x))
    x = np.tile(x, (reps, 1, 1))[:samples].astype("float32")
    x /= 255.0  # in place: no float64 copy to inflate every framework's peak memory
    y = np.tile(y, reps)[:samples].astype("int64")
    return x, y


def _keras_fit_and_predict(keras, set_seed, options):
    x, y = load_data()
    set_seed(0)
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    model.fit(x[:WARMUP_STEPS * BATCH], y[:WARMUP_STEPS * BATCH], batch_size=BATCH, epochs=1, verbose=0)
    if options.get("mode") == "memory":
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        return {"peak_rss_mb": h.peak_rss_mb()}
    result = h.timed_fit_epochs(model, x, y, BATCH, options.get("epochs", 2))
    one, many = x[:1], x[:PREDICT_SAMPLES]
    slow = keras.__name__.startswith("tf_keras") or "tensorflow" in keras.__name__
    calls = 50 if slow else 3000  # tf.keras's predict(1) takes tens of ms: fewer calls keep the run short
    predict_s = h.median_call(lambda: model.predict(one, verbose=0), calls)
    call_s = h.median_call(lambda: model(one), calls)
    bulk = [h.timed(model.predict, many, verbose=0)[0] for _ in range(3)]
    result.update(predict_s=predict_s, call_s=call_s, predict10k_s=min(bulk))
    return result


def physical_floor(steps: int = SAMPLES // BATCH) -> dict:
    """The epoch's floor on this machine, measured now: the step's matrix products at the best rate BLAS
    reaches for them (min of repeats, on one thread or all: forward x@W1 and h@W2, weight gradients x^T@dz1 and h^T@dz2, input
    gradient dz2@W2^T) plus Adam's memory traffic (read params, grads, m, v; write params, m, v: 7 x 4 bytes
    per parameter) at the streaming rate of a whole-buffer NumPy add of the same size."""
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    f32 = np.float32
    x, w1 = rng.random((BATCH, 784), dtype=f32), rng.random((784, 128), dtype=f32)
    h, w2 = rng.random((BATCH, 128), dtype=f32), rng.random((128, 10), dtype=f32)
    dz1, dz2 = rng.random((BATCH, 128), dtype=f32), rng.random((BATCH, 10), dtype=f32)
    products = [lambda: x @ w1, lambda: h @ w2, lambda: x.T @ dz1, lambda: h.T @ dz2, lambda: dz2 @ w2.T]

    def best(fn, repeats=300):
        for _ in range(20):
            fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    from featherflow.backend import blas

    started = blas.get_num_threads()
    gemm = float("inf")
    for threads in sorted({1, started}):  # the best BLAS reaches: one thread or all (a loaded machine favours one)
        blas.set_num_threads(threads)
        gemm = min(gemm, sum(best(p) for p in products))
    blas.set_num_threads(started)
    params = 784 * 128 + 128 + 128 * 10 + 10
    a, b, c = (rng.random(params, dtype=f32) for _ in range(3))
    add = best(lambda: np.add(a, b, out=c))  # reads 2 buffers, writes 1
    bandwidth = 3 * 4 * params / add
    adam = 7 * 4 * params / bandwidth
    flops = 2 * BATCH * (784 * 128 * 2 + 128 * 10 * 3)
    return {"floor_s": steps * (gemm + adam), "floor_gemm_s": steps * gemm, "floor_adam_s": steps * adam,
            "gemm_gflops": flops / gemm / 1e9, "bandwidth_gbs": bandwidth / 1e9}


def run_featherflow(options):
    import featherflow as tf

    result = _keras_fit_and_predict(tf.keras, tf.keras.utils.set_random_seed, options)
    if options.get("mode") != "memory":
        result.update(physical_floor())
    return result


def run_torch(options):
    import torch

    x, y = load_data()
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy fused, as Keras does from the softmax's logits
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(limit=None):
        model.train()
        order = torch.randperm(len(xt))
        correct, total_loss, seen = 0, 0.0, 0
        stop = len(xt) if limit is None else limit * BATCH
        for start in range(0, stop, BATCH):
            idx = order[start:start + BATCH]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total_loss += float(loss) * len(yb)  # the running loss and accuracy Keras reports
            correct += int((logits.argmax(dim=1) == yb).sum())
            seen += len(yb)
        return total_loss / seen, correct / seen

    epoch(WARMUP_STEPS)
    if options.get("mode") == "memory":
        epoch()
        return {"peak_rss_mb": h.peak_rss_mb()}
    epochs, cpus = [], []
    for _ in range(options.get("epochs", 2)):
        wall, cpu, _ = h.timed(epoch)
        epochs.append(wall)
        cpus.append(cpu)
    model.eval()
    one, many = xt[:1], xt[:PREDICT_SAMPLES]

    def predict_one():
        with torch.no_grad():
            return torch.softmax(model(one), dim=1).numpy()

    def predict_many():
        with torch.no_grad():
            return torch.cat([torch.softmax(model(many[i:i + BATCH]), dim=1)
                              for i in range(0, len(many), BATCH)]).numpy()

    predict_s = h.median_call(predict_one, 3000)
    bulk = [h.timed(predict_many)[0] for _ in range(3)]
    return {"epoch_s": epochs, "epoch_cpu_s": cpus, "predict_s": predict_s, "call_s": predict_s,
            "predict10k_s": min(bulk)}


RUNNERS = {**h.keras_runners(_keras_fit_and_predict), "featherflow": run_featherflow, "torch": run_torch}


def main(argv=None) -> None:
    args = h.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument("--epochs", type=int, default=2), argv)
    if args.child:
        import json

        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = h.frameworks_of(args)
    script = os.path.abspath(__file__)
    print(f"seed MLP: {SAMPLES:,} samples, batch {BATCH}, {args.epochs} epoch(s) x {args.rounds} round(s)")
    res, missing = h.interleave(script, frameworks, args.rounds, {"epochs": args.epochs}, args.python, args.timeout)
    print("peak memory (one fresh process per framework, one epoch):")
    mem, mem_missing = h.interleave(script, frameworks, 1, {"mode": "memory"}, args.python, args.timeout)
    missing.update({k: v for k, v in mem_missing.items() if k not in missing})
    ff = res.get("featherflow", [])
    ff_epoch, ff_pred, ff_call = (h.median_of(ff, k) for k in ("epoch_s", "predict_s", "call_s"))
    ff_bulk = h.median_of(ff, "predict10k_s")
    ff_mem = h.median_of(mem.get("featherflow", []), "peak_rss_mb")
    rows = []
    for fw in frameworks:
        if fw in missing and not res.get(fw):
            rows.append([fw, f"not measured: {missing[fw][:90]}"] + [""] * 9)
            continue
        r = res[fw]
        epoch, cpu = h.median_of(r, "epoch_s"), h.median_of(r, "epoch_cpu_s")
        pred, call, bulk = h.median_of(r, "predict_s"), h.median_of(r, "call_s"), h.median_of(r, "predict10k_s")
        rss = h.median_of(mem.get(fw, []), "peak_rss_mb")
        rows.append([fw, f"{epoch:.3f}", f"{cpu:.3f}", h.ratio(ff_epoch, epoch), f"{rss:.0f}" if rss else "-",
                     h.ratio(ff_mem, rss), f"{pred * 1e3:.4f}", h.ratio(ff_pred, pred), f"{call * 1e3:.4f}",
                     f"{PREDICT_SAMPLES / bulk:,.0f}", h.ratio(bulk and PREDICT_SAMPLES / bulk,
                                                              ff_bulk and PREDICT_SAMPLES / ff_bulk)])
    headers = ["framework", "s/epoch", "cpu s/epoch", "ff/peer", "peak MB", "ff/peer", "predict(1) ms", "ff/peer",
               "model(x) ms", "predict 10k samples/s", "peer/ff"]
    table = h.format_table(headers, rows)
    print(table)
    notes = (f"Seed MLP, {SAMPLES:,} samples, batch {BATCH}, Adam; {args.epochs} timed epoch(s) in each of "
             f"{args.rounds} round(s). `peer/ff` for throughput: below 1 = featherflow predicts more samples/s.")
    floor = h.median_of(ff, "floor_s")
    if floor:
        notes += (f"\n\nPhysical floor of the epoch, measured in featherflow's processes: the step's matrix products "
                  f"at the best rate BLAS reaches for them ({h.median_of(ff, 'gemm_gflops'):.0f} GFLOP/s, "
                  f"{h.median_of(ff, 'floor_gemm_s'):.3f} s per epoch) + Adam's memory traffic (7 x 4 bytes per "
                  f"parameter at {h.median_of(ff, 'bandwidth_gbs'):.0f} GB/s, {h.median_of(ff, 'floor_adam_s'):.3f}"
                  f" s) = {floor:.3f} s; featherflow's epoch is {ff_epoch / floor:.2f}x that (CPU time "
                  f"{h.median_of(ff, 'epoch_cpu_s') / floor:.2f}x).")
    ratios = h.ratios_table({fw: h.median_of(res.get(fw, []), "epoch_s") for fw in frameworks}, TARGETS)
    loads = ", ".join(f"{fw} {h.median_of(res[fw], 'load'):.2f}" for fw in frameworks if res.get(fw))
    notes += f"\n\nEpoch time, featherflow over each peer (issue 22's targets):\n\n{ratios}\n\nLoad average " \
             f"(1 min, median over rounds) when each framework finished: {loads}."
    print(notes)
    if ff_epoch:
        print(f"featherflow: {ff_epoch / (SAMPLES / BATCH) * 1e6:.0f} us per training step (Adam included)")
    if not args.no_results:
        h.write_section("seed_mlp", "Seed MLP: epoch, peak memory, predict", notes + "\n\n" + table,
                        h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
