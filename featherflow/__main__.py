"""Command line: ``featherflow`` / ``python -m featherflow``."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["demo"]:
        from featherflow.examples_demo import run  # noqa: F401  (filled by the demo issue)
    print("usage: featherflow demo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
