"""Runs the programs of tests/programs under real TensorFlow 2 / tf_keras 2 instead of featherflow.

The programs are tf.keras programs with one import line changed; this script changes it back
(`import featherflow as tf` -> `import tensorflow as tf`, `from featherflow import keras` -> `from tensorflow
import keras`, with `TF_USE_LEGACY_KERAS=1` so that `tf.keras` is tf_keras 2) and runs every `test_*` function,
so the outcomes the tests assert (accuracy bars, shapes, round trips) are checked against tf.keras itself.
TensorFlow is never needed by `make test`; this is run by hand:

    /work/tfenv/bin/python tests/programs/run_under_tensorflow.py [tests/programs/test_*.py ...]

It needs no pytest: `pytest.mark.*` are no-ops here and `tmp_path` is a fresh temporary directory.
"""

from __future__ import annotations

import glob
import inspect
import os
import pathlib
import re
import sys
import tempfile
import time
import traceback
import types

# `import featherflow as tf`, `from featherflow import keras`, `from featherflow.keras import layers`, ...
IMPORT_LINE = re.compile(r"^(import|from) featherflow\b", re.MULTILINE)


def _fake_pytest() -> types.ModuleType:
    module = types.ModuleType("pytest")

    class _Mark:
        def __getattr__(self, name):
            def decorator(*args, **kwargs):
                if len(args) == 1 and callable(args[0]) and not kwargs:
                    return args[0]
                return lambda function: function
            return decorator

    module.mark = _Mark()
    return module


def run_file(path: str) -> int:
    source = pathlib.Path(path).read_text()
    source = IMPORT_LINE.sub(r"\1 tensorflow", source)
    namespace: dict = {"__name__": "program_" + pathlib.Path(path).stem, "__file__": path}
    exec(compile(source, path, "exec"), namespace)
    failures = 0
    for name, function in list(namespace.items()):
        if not (name.startswith("test_") and callable(function)):
            continue
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as directory:
            kwargs = {}
            if "tmp_path" in inspect.signature(function).parameters:
                kwargs["tmp_path"] = pathlib.Path(directory)
            cwd = os.getcwd()
            try:
                function(**kwargs)
                status = "ok"
            except Exception:  # report every program's outcome, then carry on with the next one
                status = "FAILED\n" + traceback.format_exc()
                failures += 1
            finally:
                os.chdir(cwd)
        print(f"{path}::{name} {time.perf_counter() - started:.1f}s {status}", flush=True)
    return failures


def main(paths: list[str]) -> int:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.modules["pytest"] = _fake_pytest()
    paths = paths or sorted(glob.glob(os.path.join(here, "test_*.py")))
    return int(sum(run_file(path) for path in paths) > 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
