"""Import time and installed size: featherflow next to tf.keras, Keras 3 on JAX and PyTorch.

Import time: seconds of ``import featherflow`` / ``import tensorflow`` (+ ``tf_keras``) / ``import keras``
(JAX backend, so JAX loads too) / ``import torch``, measured inside a fresh interpreter (its start-up not
counted), median over ``--rounds`` interleaved fresh interpreters; also the import of NumPy alone, which
featherflow's figure includes.

Installed size: the files of the distribution (its RECORD) and of everything it requires, recursively
(extras not included), as installed in the benchmark environment.

Run: ``python benchmarks/import_size.py [--rounds 7]``
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import _harness as h

IMPORTS = {"featherflow": ["featherflow"], "tf.keras": ["tensorflow", "tf_keras"], "keras-jax": ["keras"],
           "torch": ["torch"]}
DISTRIBUTIONS = {"featherflow": ["featherflow"], "tf.keras": ["tensorflow-cpu", "tf-keras"],
                 "keras-jax": ["keras", "jax", "jaxlib"], "torch": ["torch"]}


def _closure_size(names) -> tuple[float, list]:
    from importlib import metadata

    seen, todo, total = set(), list(names), 0
    while todo:
        name = re.split(r"[ ;<>=!~\[(]", todo.pop().strip(), maxsplit=1)[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if '"editable": true' in (dist.read_text("direct_url.json") or "").replace("'", '"'):
            total += _tree_size(name)  # an editable install's RECORD lists no sources: count the package tree
        for f in dist.files or []:
            try:
                total += os.path.getsize(dist.locate_file(f))
            except OSError:
                pass
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(req)
    return total / 2**20, sorted(seen)


def _tree_size(name: str) -> int:
    """Bytes of an importable package's directory (``__pycache__`` excluded)."""
    import importlib.util

    spec = importlib.util.find_spec(name.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        return 0
    total = 0
    for root in spec.submodule_search_locations:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def _measure(framework):
    start = time.perf_counter()
    for module in IMPORTS[framework]:
        try:
            __import__(module)
        except ImportError:
            if module == IMPORTS[framework][0]:
                raise
    return time.perf_counter() - start


def _runner(framework):
    def run(options):
        if options.get("mode") == "numpy":
            start = time.perf_counter()
            import numpy  # noqa: F401

            return {"import_s": time.perf_counter() - start}
        seconds = _measure(framework)
        size, dists = _closure_size(DISTRIBUTIONS[framework]) if options.get("size") else (None, [])
        return {"import_s": seconds, "size_mb": size, "dists": len(dists)}

    return run


RUNNERS = {fw: _runner(fw) for fw in h.FRAMEWORKS[:4]}


def main(argv=None) -> None:
    args = h.parse_args(__doc__.splitlines()[0], None, argv)
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = args.only or list(h.FRAMEWORKS[:4])
    script = os.path.abspath(__file__)
    sizes, _ = h.interleave(script, frameworks, 1, {"size": True}, args.python, args.timeout)
    res, missing = h.interleave(script, frameworks, args.rounds, {}, args.python, args.timeout)
    numpy_res, _ = h.interleave(script, ["featherflow"], args.rounds, {"mode": "numpy"}, args.python, args.timeout)
    ff = h.median_of(res.get("featherflow", []), "import_s")
    ff_size = h.median_of(sizes.get("featherflow", []), "size_mb")
    rows = []
    for fw in frameworks:
        if not res.get(fw):
            rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", "", ""])
            continue
        seconds, size = h.median_of(res[fw], "import_s"), h.median_of(sizes.get(fw, []), "size_mb")
        rows.append([fw, " + ".join(IMPORTS[fw]), f"{seconds:.3f}", h.ratio(ff, seconds),
                     f"{size:,.1f}" if size else "-", h.ratio(ff_size, size)])
    table = h.format_table(["framework", "import", "seconds", "ff/peer", "installed MB (with deps)", "ff/peer"], rows)
    numpy_s = h.median_of(numpy_res.get("featherflow", []), "import_s")
    notes = (f"Median of {args.rounds} fresh interpreters each; `import numpy` alone: "
             f"{numpy_s:.3f} s (included in featherflow's figure)." if numpy_s else "")
    print(table)
    print(notes)
    if not args.no_results:
        h.write_section("import_size", "Import time and installed size", notes + "\n\n" + table, h.command_line(),
                        h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
