"""Public-name coverage of featherflow against TensorFlow's and tf.keras 2's namespaces.

The committed lists in ``tools/api_names/<namespace>.txt`` (one public name per line, written once
by ``tools/api_names/generate.py`` in an environment with TensorFlow) are compared with what
featherflow exposes; no TensorFlow is needed here. ``tools/api_names/omitted.txt`` holds the names
left out on purpose, one per line as ``<namespace>.<name>  <reason>``; they count as documented,
not as present.

Usage::

    python tools/api_coverage.py                 # the per-namespace table
    python tools/api_coverage.py --missing tf.nn # also list what tf.nn still lacks
    python tools/api_coverage.py --prefix tf.keras

A name counts as present when the featherflow module reached by replacing the leading ``tf`` with
``featherflow`` has an attribute of that name.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

NAMES_DIR = Path(__file__).resolve().parent / "api_names"


def read_names(path: Path) -> list[str]:
    """The names in one list file, comments (``#``) and blank lines skipped."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def read_omitted(path: Path) -> dict[str, str]:
    """``{"tf.nn.ctc_loss": "reason", ...}`` from ``omitted.txt``."""
    omitted: dict[str, str] = {}
    if not path.exists():
        return omitted
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        dotted, _, reason = line.partition(" ")
        omitted[dotted] = reason.strip()
    return omitted


def resolve(namespace: str):
    """The featherflow object standing for a TensorFlow namespace (``tf.keras.layers`` -> module)."""
    parts = namespace.split(".")
    if parts[0] != "tf":
        raise ValueError(f"Namespace must start with 'tf'. Received: namespace={namespace!r}")
    obj = importlib.import_module("featherflow")
    for part in parts[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def coverage(namespace: str, names: list[str], omitted: dict[str, str]) -> dict:
    """Counts of present, omitted-with-reason and missing names for one namespace."""
    module = resolve(namespace)
    present, documented, missing = [], [], []
    for name in names:
        if module is not None and hasattr(module, name):
            present.append(name)
        elif f"{namespace}.{name}" in omitted:
            documented.append(name)
        else:
            missing.append(name)
    return {"namespace": namespace, "total": len(names), "present": present, "omitted": documented,
            "missing": missing}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", nargs="*", default=None,
                        help="list the missing names of these namespaces (all when none given)")
    parser.add_argument("--prefix", default="tf", help="only namespaces starting with this prefix")
    args = parser.parse_args(argv)
    omitted = read_omitted(NAMES_DIR / "omitted.txt")
    rows = []
    for path in sorted(NAMES_DIR.glob("tf*.txt")):
        namespace = path.stem
        if namespace == args.prefix or namespace.startswith(args.prefix + ".") or args.prefix == "tf":
            rows.append(coverage(namespace, read_names(path), omitted))
    print(f"{'namespace':32} {'names':>6} {'present':>8} {'omitted':>8} {'missing':>8} {'coverage':>9}")
    for row in rows:
        share = len(row["present"]) / row["total"] if row["total"] else 1.0
        print(f"{row['namespace']:32} {row['total']:6d} {len(row['present']):8d} {len(row['omitted']):8d} "
              f"{len(row['missing']):8d} {share:9.1%}")
    if args.missing is not None:
        wanted = set(args.missing)
        for row in rows:
            if row["missing"] and (not wanted or row["namespace"] in wanted):
                print(f"\n{row['namespace']} missing: {' '.join(row['missing'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
