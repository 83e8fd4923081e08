"""What README.md promises a new user: its first block fails offline with one clear error (not a chain of
socket tracebacks), and its extras table lists every extra the code tells people to install."""

import os
import pathlib
import re
import subprocess
import sys

from test_docs_snippets import fenced_blocks

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_the_first_block_offline_is_one_clear_error(tmp_path):
    language, _, code = next(block for block in fenced_blocks(README) if block[0] == "python")
    assert "mnist.load_data()" in code  # the lecture's download, unchanged
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras_home"), "OPENBLAS_NUM_THREADS": "1",
           "FEATHERFLOW_DATASETS_ORIGIN": "http://127.0.0.1:9/",  # a closed port: offline, quickly
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert sum(line.startswith("Traceback") for line in lines) == 1, result.stderr
    assert "During handling" not in result.stderr and "direct cause" not in result.stderr, result.stderr
    assert len(lines) <= 12, result.stderr  # the user's line, load_data, fetch, the error
    assert lines[-1].startswith("featherflow.keras.utils.file_utils.DownloadError: Could not download 'mnist.npz'")
    assert "mnist.load_data(sample=True)" in lines[-1] and "keras_home" in lines[-1]  # what to do, where to put it


def test_the_extras_table_lists_every_extra_the_code_asks_for():
    asked = set()
    for path in (ROOT / "featherflow").rglob("*.py"):
        asked |= set(re.findall(r"featherflow\[([a-z0-9_-]+)\]", path.read_text()))
    table = set(re.findall(r"^\| `([a-z0-9_-]+)` +\|", README.read_text(), flags=re.MULTILINE))
    assert "fast" in asked and asked - table == set(), f"extras missing from README's table: {asked - table}"
