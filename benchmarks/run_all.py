"""``make bench``: run every script in ``benchmarks/`` and collect ``benchmarks/results.md``.

The peer benchmarks (featherflow next to tf.keras, Keras 3 on JAX and PyTorch; each writes its own section
of results.md) run first, then featherflow's own micro-benchmarks and the other scripts, whose printed
output is copied into results.md too. Scripts run with ``.venv-bench/bin/python`` (the peers' environment,
featherflow installed editable with its ``fast`` extra); the ones that need featherflow's dev extras
(gymnasium, Optuna, ...) use ``.venv/bin/python`` when it exists.

Run: ``python benchmarks/run_all.py [SCRIPT ...] [--quick]`` (``make bench`` / ``make bench BENCH="seed_mlp"``)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import _harness as h

# (script, arguments, arguments with --quick); peer benchmarks first
PEER_SCRIPTS = [
    ("import_size", [], ["--rounds", "3"]),
    ("seed_mlp", ["--no-fast"], ["--rounds", "1", "--epochs", "1"]),
    ("dcgan_step", ["--no-fast"], ["--quick"]),
    ("control_flow", [], ["--quick"]),
    ("cnn_epoch", ["--no-fast"], ["--rounds", "1"]),
    ("augment_epoch", [], ["--rounds", "1"]),
    ("lstm_epoch", ["--no-fast"], ["--rounds", "1"]),
    ("transformer_epoch", [], ["--rounds", "1", "--samples", "640"]),
    ("seed_accuracy", [], ["--seeds", "2"]),
]
OWN_SCRIPTS = [
    ("blas_threads", [], ["--repeats", "50"]),
    ("optimizer_step", [], ["--repeats", "10"]),
    ("op_overhead", [], ["--runs", "300"]),
    ("cnn_quick", [], ["--repeats", "3"]),
    ("lstm_quick", [], ["--repeats", "2"]),
    ("saving_io", [], ["--repeats", "3"]),
    ("search_quality", [], []),
    ("pbt_schedule", [], ["--seeds", "2"]),
    ("pbt_mnist", [], ["--seeds", "1"]),
    ("neuroevolution", ["mnist"], ["mnist", "--budget", "30"]),
]
DEV_SCRIPTS = {"search_quality", "pbt_schedule", "pbt_mnist", "neuroevolution"}  # need featherflow's dev extras


def _python(name: str) -> str:
    dev = os.path.join(h.ROOT, ".venv", "bin", "python")
    if name in DEV_SCRIPTS and os.path.exists(dev):
        return dev
    return h.BENCH_PYTHON if os.path.exists(h.BENCH_PYTHON) else sys.executable


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scripts", nargs="*", help="script names (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds/repeats (a smoke run)")
    args = parser.parse_args(argv)
    known = {name for name, _, _ in PEER_SCRIPTS + OWN_SCRIPTS}
    present = {f[:-3] for f in os.listdir(h.HERE) if f.endswith(".py") and not f.startswith("_")} - {"run_all"}
    extra = sorted(present - known)  # scripts added later still run, with their defaults
    plan = [(n, a, q) for n, a, q in PEER_SCRIPTS + OWN_SCRIPTS if n in present] + [(n, [], []) for n in extra]
    if args.scripts:
        unknown = set(args.scripts) - present
        if unknown:
            parser.error(f"unknown scripts {sorted(unknown)}; choose from {sorted(present)}")
        plan = [p for p in plan if p[0] in args.scripts]
    peer_names = {n for n, _, _ in PEER_SCRIPTS}
    failures = []
    info = h.machine_info()
    print(f"make bench on {h.machine_line(info)}")
    for name, full, quick in plan:
        cmd = [_python(name), os.path.join(h.HERE, name + ".py"), *(quick if args.quick else full)]
        print(f"\n=== {name}: {' '.join(os.path.relpath(c, h.ROOT) if os.sep in c else c for c in cmd)}", flush=True)
        start = time.perf_counter()
        env = dict(os.environ, PYTHONPATH=h.ROOT + os.pathsep + h.HERE)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        print(proc.stdout, end="", flush=True)
        seconds = time.perf_counter() - start
        if proc.returncode:
            failures.append(name)
            print(f"--- {name} failed (exit {proc.returncode})")
        if name not in peer_names:  # featherflow-only scripts: keep their printed table
            lines = [line for line in proc.stdout.splitlines() if not line.startswith("  round ")][-40:]
            body = "```\n" + "\n".join(lines) + "\n```" + (f"\n\nExit status {proc.returncode}." if proc.returncode
                                                          else "")
            h.write_section(name, f"{name}.py (featherflow's own benchmark, {seconds:.0f} s)", body,
                            "python benchmarks/" + name + ".py " + " ".join(quick if args.quick else full), info)
    print(f"\nresults: {os.path.relpath(h.RESULTS, h.ROOT)}" + (f"; failed: {failures}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
