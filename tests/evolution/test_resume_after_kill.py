"""A run SIGKILLed mid-way and started again ends exactly as an uninterrupted run (a real child process)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("gymnasium")

import resume_script  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resume_script.py")


def checkpoint_generation(directory):
    try:
        with open(os.path.join(directory, "evolution.json")) as handle:
            return json.load(handle)["generation"]
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("algorithm", ["es"])  # the GA's resume is also tested in process (test_ga.py)
def test_resume_after_sigkill_equals_an_uninterrupted_run(algorithm, tmp_path):
    directory, out = str(tmp_path / "checkpoint"), str(tmp_path / "result.json")
    child = subprocess.Popen([sys.executable, SCRIPT, algorithm, directory, out])
    deadline = time.monotonic() + 120
    while checkpoint_generation(directory) < 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() is None, "the run ended before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    killed_at = checkpoint_generation(directory)
    assert 3 <= killed_at < resume_script.GENERATIONS and not os.path.exists(out)
    subprocess.run([sys.executable, SCRIPT, algorithm, directory, out], check=True, timeout=300)
    with open(out) as handle:
        resumed = json.load(handle)
    straight = resume_script.build(algorithm)
    straight.run(generations=resume_script.GENERATIONS, verbose=0)
    assert resumed == json.loads(json.dumps(resume_script.summary(straight)))
