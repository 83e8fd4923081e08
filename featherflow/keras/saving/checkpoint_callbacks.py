"""``ModelCheckpoint`` and ``BackupAndRestore``: saving during ``fit``, atomically, and resuming after a crash.

``ModelCheckpoint`` saves the model (or its weights) every epoch or every ``save_freq`` batches to a
path formatted with the epoch and the logs (``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``), optionally
only when ``monitor`` improves. ``BackupAndRestore`` keeps one backup of the training state (weights,
optimizer state, epoch counter, random state) in ``backup_dir``; if the process dies (even by
SIGKILL) and the same script runs again, ``fit`` resumes from the last backup and ends with the
weights an uninterrupted run would have produced. Every file is replaced atomically.

>>> import os, tempfile
>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> directory = tempfile.mkdtemp()
>>> checkpoint = keras.callbacks.ModelCheckpoint(os.path.join(directory, "w-{epoch:02d}.weights.h5"),
...                                              save_weights_only=True)
>>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[checkpoint])
>>> sorted(os.listdir(directory))
['w-01.weights.h5', 'w-02.weights.h5']
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import warnings

import numpy as np

from featherflow.keras.callbacks.base import Callback
from featherflow.keras.saving import archive as archive_lib
from featherflow.keras.saving import atomic, saving_lib, training_state, weights_io
from featherflow.keras.saving.errors import InvalidArchiveError


def _check_save_freq(save_freq, argument="save_freq"):
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer)) or save_freq < 1:
        raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or integer values "
                         f"(>= 1). Received: {argument}={save_freq!r}")
    return int(save_freq)


class _BatchCounter:
    """Keras's count of batches since the last save, across epoch boundaries."""

    def __init__(self, every: int):
        self.every = every
        self.since_save = 0
        self.last_batch = -1

    def step(self, batch: int) -> bool:
        added = batch + 1 if batch <= self.last_batch else batch - self.last_batch
        self.since_save += added
        self.last_batch = batch
        if self.since_save >= self.every:
            self.since_save = 0
            return True
        return False


def _scalar(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


class ModelCheckpoint(Callback):
    """Save the model or its weights during training.

    Args:
        filepath: where to save; may contain ``{epoch:02d}``, ``{batch}`` and any log key
            (``{val_loss:.2f}``). ``.keras`` -> whole model; ``.weights.h5``/``.h5``/other with
            ``save_weights_only=True`` -> weights.
        monitor: the log value compared by ``save_best_only`` (default ``"val_loss"``).
        verbose: 1 prints a line for every save decision.
        save_best_only: save only when ``monitor`` improves on the best value so far.
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like monitors, else min).
        save_freq: ``"epoch"`` or an integer number of batches between saves.
        initial_value_threshold: the best value to beat before the first save (``save_best_only``).
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch", options=None,
                 initial_value_threshold=None, **kwargs):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = _check_save_freq(save_freq)
        self._options = options
        self.period = 1
        if "load_weights_on_restart" in kwargs:
            kwargs.pop("load_weights_on_restart")
            warnings.warn("`load_weights_on_restart` argument is deprecated. Please use `model.load_weights()` for "
                          "loading weights before the start of `model.fit()`.", stacklevel=2)
        if "period" in kwargs:
            self.period = int(kwargs.pop("period"))
            warnings.warn("`period` argument is deprecated. Please use `save_freq` to specify the frequency in number "
                          "of batches seen.", stacklevel=2)
        if kwargs:
            raise TypeError(f"ModelCheckpoint got unexpected keyword arguments: {sorted(kwargs)}")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode '{mode}' is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        if mode == "min" or mode == "auto" and not ("acc" in monitor or monitor.startswith("fmeasure")):
            self.monitor_op, self.best = np.less, np.inf
        else:
            self.monitor_op, self.best = np.greater, -np.inf
        self.mode = mode
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        self.epochs_since_last_save = 0
        self._current_epoch = 0
        self._counter = _BatchCounter(self.save_freq) if self.save_freq != "epoch" else None

    def on_train_begin(self, logs=None):
        if self._counter is not None:
            self._counter = _BatchCounter(self.save_freq)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.step(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_since_last_save += 1
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _get_file_path(self, epoch, batch, logs) -> str:
        values = {k: _scalar(v) for k, v in (logs or {}).items()}
        try:
            if batch is None or "batch" in values:
                return self.filepath.format(epoch=epoch + 1, **values)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **values)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from e

    def _save_model(self, epoch, batch, logs) -> None:
        if self._counter is None and self.epochs_since_last_save < self.period:
            return
        logs = {k: _scalar(v) for k, v in (logs or {}).items()}
        self.epochs_since_last_save = 0
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise OSError(f"Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing "
                          f"directory: {filepath}")
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", stacklevel=2)
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)


BACKUP_FILE = "latest_backup.zip"
STATE_FILE = "training_state.json"


class BackupAndRestore(Callback):
    """Back up the training state so a killed ``fit`` resumes where it stopped when the script reruns.

    Args:
        backup_dir: directory for the backup (created if needed); use one per training job.
        save_freq: ``"epoch"`` (back up after every epoch) or an integer: every that many batches.
        delete_checkpoint: remove the backup when ``fit`` ends normally (the next run starts fresh).
        save_before_preemption: accepted for compatibility (no preemption signal exists here).

    On ``on_train_begin`` an existing backup restores the weights, the optimizer's state (built
    for the model's trainable variables), its learning rate, the random state, and sets the model's
    ``_initial_epoch`` (and ``_initial_step`` for mid-epoch backups) so ``fit`` skips what was done.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint: bool = True,
                 save_before_preemption: bool = False):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer))
                                     or save_freq < 1):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq!r}. Expected "
                             "either 'epoch' or an integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.save_before_preemption = bool(save_before_preemption)
        self._backup_path = os.path.join(self.backup_dir, BACKUP_FILE)
        self._current_epoch = 0
        self._counter = None
        self._epoch_start_random = None
        self._epoch_start_shuffle = None
        self._pending_random = None

    # -- hooks -------------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._counter = _BatchCounter(self.save_freq) if self.save_freq != "epoch" else None
        self._remove_stale_temporaries()
        if os.path.exists(self._backup_path):
            self._restore()

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        if self._counter is not None:
            self._epoch_start_random = training_state.capture_random_state(self.model)
            self._epoch_start_shuffle = self._shuffle_state()

    def _data_handler(self):
        return getattr(self.model, "_fit_data_handler", None)

    def _shuffle_state(self):
        """The state of ``fit``'s shuffling generator (``None`` until it first shuffled)."""
        rng = getattr(self._data_handler(), "_rng", None)
        return rng.bit_generator.state if isinstance(rng, np.random.Generator) else None

    def _set_shuffle_state(self, state) -> None:
        handler = self._data_handler()
        if handler is None or state is None:
            return
        rng = np.random.Generator(getattr(np.random, state.get("bit_generator", "PCG64"), np.random.PCG64)())
        training_state._set_generator_state(rng, state, "fit's shuffling generator")
        handler._rng = rng

    def on_train_batch_begin(self, batch, logs=None):
        if self._pending_random is not None:  # mid-epoch resume: the epoch's shuffle is redone, now continue
            state, self._pending_random = self._pending_random, None
            training_state.restore_random_state(state, self.model)

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.step(batch):
            steps = (self.params or {}).get("steps")
            if steps and batch + 1 >= steps:  # the epoch's last batch: resume at the next epoch
                self._backup(next_epoch=self._current_epoch + 1, step=0)
            else:
                self._backup(next_epoch=self._current_epoch, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._backup(next_epoch=epoch + 1, step=0)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint:
            if os.path.exists(self._backup_path):
                os.remove(self._backup_path)
            self._remove_stale_temporaries()
            try:
                os.rmdir(self.backup_dir)
            except OSError:
                pass  # not empty (the user keeps other files there) or already gone

    # -- backup / restore -----------------------------------------------------------------------------------
    def _remove_stale_temporaries(self) -> None:
        """Temporary files of a save that was killed midway (never the backup itself)."""
        pattern = os.path.join(glob.escape(self.backup_dir), "." + BACKUP_FILE + ".*" + atomic.TEMP_SUFFIX)
        for path in glob.glob(pattern):
            try:
                os.remove(path)
            except OSError:
                pass

    def _backup(self, next_epoch: int, step: int) -> None:
        model = self.model
        optimizer = getattr(model, "optimizer", None)
        lr = getattr(optimizer, "_learning_rate", None) if optimizer is not None else None
        state = {
            "next_epoch": int(next_epoch),
            "step": int(step),
            "random": training_state.capture_random_state(model),
            "epoch_start_random": self._epoch_start_random if step else None,
            "shuffle": self._epoch_start_shuffle if step else self._shuffle_state(),
            "learning_rate": float(np.asarray(lr.numpy())) if hasattr(lr, "numpy") else None,
        }
        weights = weights_io.collect_weights(model, include_optimizer=True)
        weights_name, weights_data = saving_lib._weights_bytes(weights, None)
        metadata = {"featherflow_version": saving_lib._featherflow_version(), "weights_file": weights_name,
                    "weights_sha256": hashlib.sha256(weights_data).hexdigest()}
        members = {saving_lib.METADATA_FILE: json.dumps(metadata).encode("utf-8"),
                   STATE_FILE: json.dumps(state).encode("utf-8"), weights_name: weights_data}
        os.makedirs(self.backup_dir, exist_ok=True)
        atomic.atomic_write_bytes(self._backup_path, archive_lib.write_zip(members))

    def _restore(self) -> None:
        with archive_lib.SafeArchive(self._backup_path, label=f"backup {self._backup_path!r}") as archive:
            metadata = saving_lib._read_json(archive, saving_lib.METADATA_FILE)
            state = saving_lib._read_json(archive, STATE_FILE)
            weights = saving_lib.read_weights(archive, metadata)
        model = self.model
        weights_io.assign_weights(model, weights, load_optimizer=True)
        optimizer = getattr(model, "optimizer", None)
        lr = state.get("learning_rate")
        if lr is not None and optimizer is not None and hasattr(getattr(optimizer, "_learning_rate", None), "assign"):
            optimizer._learning_rate.assign(np.asarray(lr, dtype=optimizer._learning_rate.dtype))
        shuffle = state.get("shuffle")
        if shuffle is not None and not isinstance(shuffle, dict):
            raise InvalidArchiveError("The backup's shuffle state must be a JSON object.")
        self._set_shuffle_state(shuffle)
        next_epoch, step = int(state.get("next_epoch", 0)), int(state.get("step", 0))
        if step and state.get("epoch_start_random") is not None:
            # Resume inside an epoch: redo the epoch's shuffle from its starting state, then switch to the
            # state after the last backed-up batch when the first remaining batch begins.
            training_state.restore_random_state(state["epoch_start_random"], model)
            self._pending_random = state["random"]
        else:
            training_state.restore_random_state(state.get("random", {}), model)
        model._initial_epoch = next_epoch
        model._initial_step = step
        self._current_epoch = next_epoch
