"""Temporary files of interrupted atomic saves: a save killed before its rename leaves a hidden temporary as big as
the model; the next save of the same target removes it, and never the temporary of a save still running.

A real child process saves a model and is held inside the save (in its first ``os.fsync``: the data is in the
temporary, the rename has not happened) until the parent kills it.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras.saving import atomic
from featherflow.tuner.storage import Project

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

SAVE_SCRIPT = textwrap.dedent("""
    import os, sys, time
    _real_fsync = os.fsync
    def _fsync(fd):
        _real_fsync(fd)
        open(sys.argv[2], "w").close()
        time.sleep(120)  # held inside the save until the parent kills us
    os.fsync = _fsync
    from featherflow import keras
    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(256), keras.layers.Dense(10)])
    model.save(sys.argv[1])
""")


def temporaries(folder, name):
    return sorted(entry for entry in os.listdir(folder)
                  if entry.startswith(f".{name}.") and entry.endswith(atomic.TEMP_SUFFIX))


def start_held_save(tmp_path, target):
    script = tmp_path / "save.py"
    script.write_text(SAVE_SCRIPT)
    flag = tmp_path / f"held-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OPENBLAS_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, str(script), str(target), str(flag)], env=env)
    deadline = time.monotonic() + 120
    while not flag.exists():
        assert child.poll() is None, "the saving child exited early"
        assert time.monotonic() < deadline, "the child never reached its save"
        time.sleep(0.05)
    return child


def small_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    return model


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "model.keras"
    child = start_held_save(tmp_path, target)
    try:
        left = temporaries(tmp_path, "model.keras")
        assert len(left) == 1 and str(child.pid) in left[0]  # the child's temporary, named after its process
        size = os.path.getsize(tmp_path / left[0])
        assert size > 64 * 256 * 4  # the whole weights: as big as the model
        # While the child still runs, its temporary is not ours to remove.
        small_model().save(target)
        assert temporaries(tmp_path, "model.keras") == left
    finally:
        child.kill()
        child.wait()
    other = tmp_path / "other.keras"
    small_model().save(other)  # another target's save leaves it alone
    assert temporaries(tmp_path, "model.keras") == left
    model = small_model()
    model.save(target)  # the child is gone: its temporary is stale
    assert temporaries(tmp_path, "model.keras") == []
    np.testing.assert_array_equal(keras.models.load_model(target).get_weights()[0], model.get_weights()[0])


def test_weights_files_and_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    host = atomic._HOST
    stale_file = tmp_path / f".m.weights.h5.{host}-{dead_pid}-abcd1234{atomic.TEMP_SUFFIX}"
    stale_file.write_bytes(b"x" * 1000)
    legacy = tmp_path / f".m.weights.h5.k2j4_9xq{atomic.TEMP_SUFFIX}"  # named by an older featherflow
    legacy.write_bytes(b"x")
    mine = tmp_path / f".m.weights.h5.{host}-{os.getpid()}-zzzz9999{atomic.TEMP_SUFFIX}"  # another thread of ours
    mine.write_bytes(b"x")
    unrelated = tmp_path / f".m.weights.h5.bak.{host}-{dead_pid}-abcd1234{atomic.TEMP_SUFFIX}"  # another target
    unrelated.write_bytes(b"x")
    small_model().save_weights(tmp_path / "m.weights.h5")
    assert not stale_file.exists() and not legacy.exists()
    assert mine.exists() and unrelated.exists()
    stale_folder = tmp_path / f".folder_model.{host}-{dead_pid}-qwer5678{atomic.TEMP_SUFFIX}"
    (stale_folder / "assets").mkdir(parents=True)
    (stale_folder / "model.weights.npz").write_bytes(b"x" * 100)
    atomic.atomic_write_directory(tmp_path / "folder_model", {"config.json": b"{}"})
    assert not stale_folder.exists() and (tmp_path / "folder_model" / "config.json").read_bytes() == b"{}"


def test_old_temporaries_of_other_hosts_are_removed_after_a_day(tmp_path):
    fresh = tmp_path / f".t.json.0123abcd-4242-aaaa1111{atomic.TEMP_SUFFIX}"
    old = tmp_path / f".t.json.0123abcd-4343-bbbb2222{atomic.TEMP_SUFFIX}"
    for path in (fresh, old):
        path.write_bytes(b"x")
    long_ago = time.time() - atomic.STALE_AFTER - 60
    os.utime(old, (long_ago, long_ago))
    removed = atomic.remove_stale_temporaries(tmp_path / "t.json")
    assert removed == [str(old)] and fresh.exists()


def test_tuner_records_clean_up_after_a_killed_run(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    project = Project(str(tmp_path), "search")
    stale = tmp_path / "search" / f".oracle.json.{atomic._HOST}-{int(dead.stdout)}-abcd1234{atomic.TEMP_SUFFIX}"
    stale.write_bytes(b"{")
    project.write_json("oracle.json", {"seed": 1})
    assert not stale.exists() and project.read_json("oracle.json") == {"seed": 1}
