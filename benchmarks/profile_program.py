"""Time each line of a model's compiled training step (the program ``pretty_printed_code()`` prints): where a
``fit`` step of issue 19's Transformer classifier spends its time, line by line.

The program that runs (fused or not) is re-executed with a clock read around every statement; the report lists
the lines by total time (wall and this thread's CPU), with the op and layer each came from.

Run: ``python benchmarks/profile_program.py [--steps 60] [--top 40] [--threads 1]``
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np


def instrument(program):
    """Replace ``program``'s running function by one that times each statement; returns the timing table."""
    source = program.fused_source if program.fused else program.source
    lines = source.splitlines()
    stats = []
    out = []
    for line in lines:
        body = line.strip()
        if not line.startswith("    ") or body.startswith("return") or not body:
            out.append(line)
            continue
        index = len(stats)
        stats.append([body, 0.0, 0.0, 0, 0.0])
        out.append("    _w0 = _wall(); _c0 = _cpu(); _p0 = _proc()")
        out.append(line)
        out.append(f"    _acc[{index}][1] += _wall() - _w0; _acc[{index}][2] += _cpu() - _c0; _acc[{index}][3] += 1; _acc[{index}][4] += _proc() - _p0")
    namespace = dict(program.namespace)
    if program.fused:
        for group in program.groups:
            namespace[group.name] = program.namespace.get(group.name) or program._fn.__globals__[group.name]
    namespace.update(_wall=time.perf_counter, _cpu=time.thread_time, _proc=time.process_time, _acc=stats)
    exec(compile("\n".join(out) + "\n", "<profiled program>", "exec"), namespace)  # noqa: S102
    program._fn = namespace["program"]
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: featherflow's default)")
    args = parser.parse_args()
    import transformer_epoch as te

    from featherflow import keras
    from featherflow.keras.utils import set_random_seed

    if args.threads:
        import featherflow as ff

        ff.config.threading.set_intra_op_parallelism_threads(args.threads)
    batch = te.SPEC["batch"]
    x, y = te.load_data(batch * (args.steps + 10))
    set_random_seed(0)
    model = te.build_keras_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:10 * batch], y[:10 * batch], batch_size=batch, epochs=1, verbose=0)
    traces = list(model._train_fn.function._traces.values())
    program = traces[0].program
    program.fuse()
    print(f"fused: {program.fused}; {len(program.steps)} steps")
    stats = instrument(program)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    model.fit(x[10 * batch:], y[10 * batch:], batch_size=batch, epochs=1, verbose=0)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    steps = max(s[3] for s in stats)
    total_wall = sum(s[1] for s in stats)
    total_cpu = sum(s[2] for s in stats)
    total_proc = sum(s[4] for s in stats)
    print(f"{steps} steps: fit {wall / steps * 1e3:.2f} ms/step wall, {cpu / steps * 1e3:.2f} ms process CPU; "
          f"program lines {total_wall / steps * 1e3:.2f} ms wall, {total_cpu / steps * 1e3:.2f} ms main-thread CPU, "
          f"{total_proc / steps * 1e3:.2f} ms process CPU")
    order = np.argsort([-s[1] for s in stats])
    print(f"{'ms wall':>8} {'ms cpu':>7} {'ms proc':>7}  line")
    for i in order[:args.top]:
        body, w, c, n, pc = stats[i]
        body = re.sub(r"\s+", " ", body)
        print(f"{w / steps * 1e3:8.3f} {c / steps * 1e3:7.3f} {pc / steps * 1e3:7.3f}  {body[:110]}")


if __name__ == "__main__":
    main()
