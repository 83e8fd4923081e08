"""SIGKILL a real child process in the middle of ``fit`` (with BackupAndRestore) and in the middle of a save.

The child scripts are written to a temporary directory and run with this interpreter. To land a
kill *inside* a save deterministically, a child can be told to pause in its N-th ``os.fsync`` call
(the data is in the temporary file, the rename has not happened): the parent waits for that pause,
kills, and checks the file on disk is still the previous complete one.
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
from featherflow.keras.saving import archive

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

PAUSE_HOOK = """
import os, sys, time
PAUSE_AT = int(os.environ.get("FF_PAUSE_AT_FSYNC", "0"))
_real_fsync, _calls = os.fsync, [0]
def _fsync(fd):
    _calls[0] += 1
    _real_fsync(fd)
    if _calls[0] == PAUSE_AT:
        open(os.environ["FF_PAUSED_FLAG"], "w").close()
        time.sleep(120)  # the parent kills us here, inside a save
os.fsync = _fsync
"""

FIT_SCRIPT = PAUSE_HOOK + """
import numpy as np
from featherflow import keras
backup_dir, out_path, progress_path = sys.argv[1:4]

class Progress(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_end(self, batch, logs=None):
        with open(progress_path, "a") as handle:
            handle.write(f"{self.epoch} {batch}\\n")
        time.sleep(0.01)

keras.utils.set_random_seed(7)
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (48, 5)).astype("float32")
y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dropout(0.3), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
callbacks = [Progress()]
if backup_dir != "-":
    callbacks.insert(0, keras.callbacks.BackupAndRestore(backup_dir))
history = model.fit(x, y, epochs=6, batch_size=8, verbose=0, callbacks=callbacks)
np.savez(out_path, *model.get_weights(), iterations=model.optimizer.iterations.numpy(),
         epochs_run=len(history.history.get("loss", [])))
"""

SAVE_SCRIPT = PAUSE_HOOK + """
import numpy as np
from featherflow import keras
path, progress_path = sys.argv[1:3]
model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(512), keras.layers.Dense(512),
                          keras.layers.Dense(8)])
model.compile(optimizer="adam", loss="mse")
for version in range(1, 10_000):
    for weight in model.weights:
        weight.assign(np.full(weight.shape, version, weight.dtype))
    model.save(path)
    with open(progress_path, "a") as handle:
        handle.write(f"{version}\\n")
"""


def _start(tmp_path, script, args, pause_at=0):
    path = tmp_path / "child.py"
    path.write_text(textwrap.dedent(script))
    env = dict(os.environ, FF_PAUSE_AT_FSYNC=str(pause_at), FF_PAUSED_FLAG=str(tmp_path / "PAUSED"))
    return subprocess.Popen([sys.executable, str(path), *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _wait_for(predicate, process, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            raise AssertionError(f"child exited early ({process.returncode}): {process.stderr.read().decode()}")
        time.sleep(0.01)
    process.kill()
    raise AssertionError("timed out waiting for the child")


def _kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _finish(process):
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()


def _progress(path):
    if not os.path.exists(path):
        return []
    return [tuple(int(v) for v in line.split()) for line in open(path).read().splitlines() if line.strip()]


def test_fit_killed_mid_epoch_and_mid_backup_resumes_to_the_uninterrupted_result(tmp_path):
    backup = tmp_path / "backup"
    progress = tmp_path / "progress.txt"
    # 1. kill in the middle of epoch 2 (two backups exist on disk)
    child = _start(tmp_path, FIT_SCRIPT, [backup, tmp_path / "never.npz", progress])
    _wait_for(lambda: (2, 2) in _progress(progress), child)
    _kill(child)
    assert os.path.exists(backup / "latest_backup.zip")
    # 2. rerun; this time die inside the next backup's save (after its data is written, before the rename)
    (tmp_path / "PAUSED").unlink(missing_ok=True)
    before = (backup / "latest_backup.zip").read_bytes()
    child = _start(tmp_path, FIT_SCRIPT, [backup, tmp_path / "never.npz", progress], pause_at=1)
    _wait_for(lambda: (tmp_path / "PAUSED").exists(), child)
    _kill(child)
    leftovers = [name for name in os.listdir(backup) if name.endswith(".fftmp")]
    assert leftovers, "the kill should have landed inside the save (a temporary file is left)"
    assert (backup / "latest_backup.zip").read_bytes() == before  # the good backup is untouched
    archive.SafeArchive(str(backup / "latest_backup.zip")).close()  # and still a valid archive
    # 3. rerun to completion
    resumed_out = tmp_path / "resumed.npz"
    _finish(_start(tmp_path, FIT_SCRIPT, [backup, resumed_out, progress]))
    assert not backup.exists()  # finished: backup removed (temporary leftovers too)
    # 4. an uninterrupted run with the same seed
    reference_out = tmp_path / "reference.npz"
    _finish(_start(tmp_path, FIT_SCRIPT, ["-", reference_out, tmp_path / "ref_progress.txt"]))
    resumed, reference = np.load(resumed_out), np.load(reference_out)
    weight_keys = [k for k in reference.files if k.startswith("arr_")]
    assert weight_keys and sorted(resumed.files) == sorted(reference.files)
    for key in weight_keys:
        np.testing.assert_array_equal(resumed[key], reference[key])
    assert int(resumed["iterations"]) == int(reference["iterations"]) == 6 * 6
    assert int(resumed["epochs_run"]) < 6  # it really resumed instead of starting over


def _loaded_version(path):
    model = keras.models.load_model(path)
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert len(values) == 1, f"a mix of versions in one file: {sorted(values)[:5]}"
    return int(values.pop())


def test_save_killed_at_random_moments_and_inside_the_write_never_leaves_a_broken_file(tmp_path):
    path = tmp_path / "model.keras"
    progress = tmp_path / "progress.txt"
    rng = np.random.default_rng(0)
    for _ in range(1):  # killed at an arbitrary moment while saving in a loop
        child = _start(tmp_path, SAVE_SCRIPT, [path, progress])
        _wait_for(lambda: len(_progress(progress)) >= 2, child)
        time.sleep(float(rng.uniform(0.0, 0.3)))
        _kill(child)
        version = _loaded_version(path)
        assert version >= 1
        progress.unlink()
    # killed inside the write of version 2 (fsync 1-2 belong to version 1's save)
    child = _start(tmp_path, SAVE_SCRIPT, [path, progress], pause_at=3)
    _wait_for(lambda: (tmp_path / "PAUSED").exists(), child)
    _kill(child)
    assert _progress(progress) == [(1,)]
    assert _loaded_version(path) == 1  # the previous complete file, not a truncated one
    assert any(name.endswith(".fftmp") for name in os.listdir(tmp_path))
