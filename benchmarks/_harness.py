"""Shared machinery of the peer benchmarks: one interpreter per framework, interleaved rounds, tables and
``benchmarks/results.md``.

A benchmark script defines ``RUNNERS = {framework: fn(args) -> dict}`` and calls ``main(...)``. The driver
starts one fresh subprocess per framework and round (``python script.py --child FRAMEWORK ...``), so no two
frameworks share an interpreter, thread pools or allocator state, and rounds alternate the frameworks so a
load change on the (shared) machine hits all of them alike. A child prints one ``RESULT {json}`` line; a
framework that cannot be imported reports ``missing`` and the table says so (featherflow still runs).

Interpreters: featherflow and the peers run in ``.venv-bench/bin/python`` when it exists (``make bench``
creates it, featherflow installed editable beside tensorflow-cpu + tf-keras, keras + jax and torch CPU),
else in this interpreter. ``--python`` overrides it for all frameworks.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results.md")
FRAMEWORKS = ("featherflow", "tf.keras", "keras-jax", "torch", "torch-1t")
# torch-1t: PyTorch eager limited to one thread (torch.set_num_threads(1)), a second PyTorch figure that
# shows how much of the comparison is thread scheduling on a small, shared machine
# featherflow's variants, run when asked (--no-fast, or by name with --only):
# featherflow-nofast: without the `fast` extra's Numba kernels (FEATHERFLOW_NUMBA=0), NumPy paths only;
# featherflow-eager: a script's featherflow runner with tf.function run eagerly (scripts that time tf.function)
VARIANTS = ("featherflow-nofast", "featherflow-eager")
OURS = ("featherflow",) + VARIANTS
BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")


# -- in the child --------------------------------------------------------------------------------------------
def framework_env(framework: str) -> dict:
    """Environment variables a framework's child needs (set before its imports)."""
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    if framework == "tf.keras":
        env["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2 (the tf_keras package) from TF 2.16 on
    elif framework == "torch-1t":
        env["OMP_NUM_THREADS"] = "1"
    elif framework == "keras-jax":
        env["KERAS_BACKEND"] = "jax"
        env["JAX_PLATFORMS"] = "cpu"
    elif framework == "featherflow-nofast":
        env["FEATHERFLOW_NUMBA"] = "0"
    return env


def import_tf_keras():
    """``(tensorflow, keras)`` with Keras 2 (``tf_keras``, tf.keras's implementation since TF 2.16)."""
    import tensorflow as tf

    try:
        import tf_keras as keras
    except ImportError:
        keras = tf.keras
    return tf, keras


def import_keras_jax():
    """Keras 3 on the JAX backend."""
    import keras

    if not keras.__version__.startswith("3") or keras.backend.backend() != "jax":
        raise ImportError(f"Keras 3 on JAX is needed; found keras {keras.__version__} on "
                          f"{keras.backend.backend()}")
    return keras


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (``ru_maxrss``)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, *args, **kwargs):
    """``(seconds, cpu_seconds, result)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def timed_fit_epochs(model, x, y, batch_size: int, epochs: int) -> dict:
    """``{"epoch_s": [...], "epoch_cpu_s": [...]}``: wall and CPU seconds of ``epochs`` one-epoch ``fit`` calls."""
    walls, cpus = [], []
    for _ in range(epochs):
        wall, cpu, _ = timed(model.fit, x, y, batch_size=batch_size, epochs=1, verbose=0)
        walls.append(wall)
        cpus.append(cpu)
    return {"epoch_s": walls, "epoch_cpu_s": cpus}


def keras_runners(run_keras) -> dict:
    """The runners of featherflow, tf.keras and Keras on JAX for one workload written once as
    ``run_keras(keras, set_random_seed, options)``."""

    def featherflow(options):
        import featherflow as tf

        return run_keras(tf.keras, tf.keras.utils.set_random_seed, options)

    def tf_keras(options):
        keras = import_tf_keras()[1]
        return run_keras(keras, keras.utils.set_random_seed, options)

    def keras_jax(options):
        keras = import_keras_jax()
        return run_keras(keras, keras.utils.set_random_seed, options)

    return {"featherflow": featherflow, "tf.keras": tf_keras, "keras-jax": keras_jax}


def median_call(fn, calls: int, warmup: int = 20) -> float:
    """Median seconds of ``calls`` calls of ``fn()`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    clock = time.perf_counter
    for _ in range(calls):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def child_main(runners: dict, framework: str, options: dict) -> None:
    for key, value in framework_env(framework).items():
        os.environ.setdefault(key, value)
    try:
        if framework == "torch-1t":
            import torch

            torch.set_num_threads(1)
        if framework in runners:
            runner = runners[framework]
        elif framework == "torch-1t":
            runner = runners["torch"]
        elif framework == "featherflow-nofast":
            runner = runners["featherflow"]  # the same code; FEATHERFLOW_NUMBA=0 is set in its environment
        else:
            raise ImportError(f"this script has no {framework} runner")
        result = runner(options)
    except ImportError as exc:
        result = {"missing": f"{type(exc).__name__}: {exc}"}
    print("RESULT " + json.dumps(result), flush=True)


# -- in the driver -------------------------------------------------------------------------------------------
def run_child(script: str, python: str, framework: str, options: dict, timeout: float) -> dict:
    env = dict(os.environ)
    env.update(framework_env(framework))
    env["PYTHONPATH"] = ROOT + os.pathsep + HERE + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [python, script, "--child", framework, "--options", json.dumps(options)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"missing": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:]
    return {"missing": f"failed (exit {proc.returncode}): {tail[0][:160] if tail else ''}"}


def parse_args(description: str, extra=None, argv=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (one fresh process each)")
    parser.add_argument("--only", nargs="*", choices=FRAMEWORKS + VARIANTS, help="frameworks to run (default: all)")
    parser.add_argument("--no-fast", action="store_true",
                        help="also run featherflow without the fast extra's Numba kernels (FEATHERFLOW_NUMBA=0)")
    parser.add_argument("--python", default=None, help="interpreter for every framework (default: .venv-bench)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per child")
    parser.add_argument("--no-results", action="store_true", help="do not update benchmarks/results.md")
    parser.add_argument("--child", choices=FRAMEWORKS + VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    if extra is not None:
        extra(parser)
    return parser.parse_args(argv)


def frameworks_of(args, default=FRAMEWORKS) -> list:
    """The frameworks a run times: ``--only``'s, else ``default``; ``--no-fast`` adds featherflow-nofast."""
    frameworks = list(args.only or default)
    if getattr(args, "no_fast", False) and "featherflow-nofast" not in frameworks:
        at = frameworks.index("featherflow") + 1 if "featherflow" in frameworks else 0
        frameworks.insert(at, "featherflow-nofast")
    return frameworks


def ratios_table(medians: dict, targets: dict | None = None) -> str:
    """featherflow's figures (and its variants') over each peer's, one row per variant: ``{fw: seconds}``
    (lower is better); ``targets`` ``{peer: max ratio}`` marks each ratio met or not."""
    ours = [fw for fw in OURS if medians.get(fw)]
    peers = [fw for fw in medians if fw not in OURS and medians.get(fw)]
    if not ours or not peers:
        return ""
    rows = []
    for fw in ours:
        row = [fw]
        for peer in peers:
            value = medians[fw] / medians[peer]
            cell = f"{value:.2f}x"
            if targets and peer in targets:
                cell += f" ({'met' if value <= targets[peer] else 'NOT met'}: <= {targets[peer]}x)"
            row.append(cell)
        rows.append(row)
    return format_table(["ours / peer"] + peers, rows)


def load_line() -> str:
    """The load averages now (1, 5, 15 minutes), to print beside every figure on a shared machine."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def interleave(script: str, frameworks, rounds: int, options: dict, python=None, timeout=1800.0,
               log=print) -> tuple[dict, dict]:
    """Run every framework ``rounds`` times, alternating; ``({fw: [result, ...]}, {fw: why_missing})``."""
    python = python or (BENCH_PYTHON if os.path.exists(BENCH_PYTHON) else sys.executable)
    results = {fw: [] for fw in frameworks}
    missing: dict = {}
    for r in range(rounds):
        order = list(frameworks) if r % 2 == 0 else list(reversed(frameworks))  # no framework always first
        for fw in order:
            if fw in missing:
                continue
            out = run_child(script, python, fw, options, timeout)
            if "missing" in out:
                missing[fw] = out["missing"]
                log(f"  {fw}: not measured - {out['missing']}")
                continue
            out.setdefault("load", os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
            results[fw].append(out)
            log(f"  round {r + 1}/{rounds} {fw}: " + ", ".join(
                f"{k}={_short(v)}" for k, v in out.items() if not isinstance(v, (list, dict))))
    return results, missing


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def median_of(results: list, key: str):
    """Median over rounds of ``key`` (a number or a list of numbers per round); None when absent."""
    values = []
    for out in results:
        v = out.get(key)
        if v is None:
            continue
        values.extend(v if isinstance(v, list) else [v])
    return statistics.median(values) if values else None


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def format_table(headers, rows) -> str:
    """A Markdown table (also readable as plain text)."""
    # a short row (a framework that was not measured) is padded with empty cells
    cells = [[str(c) for c in row] + [""] * (len(headers) - len(row)) for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    return "\n".join([line, sep, *body])


# -- the machine ---------------------------------------------------------------------------------------------
def machine_info(python=None) -> dict:
    """CPU model, cores, load, Python, NumPy and its BLAS (as the benchmark interpreter sees them)."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            match = re.search(r"model name\s*:\s*(.+)", f.read())
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    python = python or (BENCH_PYTHON if os.path.exists(BENCH_PYTHON) else sys.executable)
    probe = ("import json, platform, numpy as np\n"
             "cfg = np.show_config(mode='dicts') if hasattr(np, 'show_config') else {}\n"
             "blas = cfg.get('Build Dependencies', {}).get('blas', {}) if isinstance(cfg, dict) else {}\n"
             "print(json.dumps({'python': platform.python_version(), 'numpy': np.__version__,\n"
             "  'blas': (blas.get('name', '?') + ' ' + str(blas.get('version', ''))).strip()}))")
    try:
        info = json.loads(subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
                          .stdout.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        info = {"python": platform.python_version(), "numpy": "?", "blas": "?"}
    info.update(cpu=cpu, cores=os.cpu_count(), load=os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
    return info


def machine_line(info: dict) -> str:
    load = f", 1-min load average {info['load']:.1f} when written" if info.get("load") is not None else ""
    return (f"{info['cpu']}, {info['cores']} cores{load}; Python {info['python']}, NumPy {info['numpy']} "
            f"({info['blas']})")


def write_section(name: str, title: str, body: str, command: str, info: dict) -> None:
    """Replace (or append) the section ``name`` of benchmarks/results.md."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    block = (f"<!-- {name} -->\n## {title}\n\n{body.rstrip()}\n\n"
             f"Measured {stamp} on {machine_line(info)}.\nCommand: `{command}`\n<!-- /{name} -->\n")
    text = ""
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            text = f.read()
    if not text.startswith("# "):
        text = ("# featherflow benchmark results\n\nWritten by the scripts in `benchmarks/` (`make bench` runs them "
                "all). Every table times featherflow and its peers on the same workload in the same run: one "
                "fresh interpreter per framework and round, rounds interleaved, warm-up excluded, medians. "
                "Ratios are featherflow / peer (below 1 = featherflow faster).\n\n") + text
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->\n", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    with open(RESULTS, "w") as f:
        f.write(text)


def command_line() -> str:
    return "python benchmarks/" + os.path.basename(sys.argv[0]) + "".join(f" {a}" for a in sys.argv[1:])
