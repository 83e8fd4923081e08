"""``CheckpointManager`` and the ``checkpoint`` state file: numbered checkpoints, the latest one, old ones deleted.

The state file is TensorFlow's text ``CheckpointState`` (``model_checkpoint_path: "ckpt-3"``,
one ``all_model_checkpoint_paths`` line per kept checkpoint, their timestamps), so
``tf.train.latest_checkpoint(directory)`` finds the newest checkpoint the manager wrote.

>>> import os, tempfile
>>> import featherflow as tf
>>> directory = tempfile.mkdtemp()
>>> manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), directory, max_to_keep=2)
>>> [os.path.basename(manager.save()) for _ in range(3)]
['ckpt-1', 'ckpt-2', 'ckpt-3']
>>> [os.path.basename(p) for p in manager.checkpoints]
['ckpt-2', 'ckpt-3']
>>> tf.train.latest_checkpoint(directory) == manager.latest_checkpoint
True
"""

from __future__ import annotations

import json
import os
import re
import time

from featherflow.train.checkpoint import checkpoint_file, write_checkpoint

STATE_FILE = "checkpoint"


class CheckpointState:
    """The contents of a ``checkpoint`` state file."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=(), all_model_checkpoint_timestamps=(),
                 last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = float(last_preserved_timestamp)

    def __repr__(self) -> str:
        return f"CheckpointState(model_checkpoint_path={self.model_checkpoint_path!r}, " \
               f"all_model_checkpoint_paths={self.all_model_checkpoint_paths!r})"


_LINE = re.compile(r'^\s*(\w+)\s*:\s*(.+?)\s*$')


def _parse_state(text: str) -> CheckpointState:
    state = CheckpointState()
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        key, raw = match.groups()
        value = json.loads(raw) if raw.startswith('"') else float(raw)
        if key == "model_checkpoint_path":
            state.model_checkpoint_path = value
        elif key == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(value)
        elif key == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif key == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
    return state


def _relative(directory: str, path: str) -> str:
    return os.path.relpath(path, directory) if os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory) \
        else path


def update_checkpoint_state(directory, model_checkpoint_path, all_model_checkpoint_paths=None,
                            all_model_checkpoint_timestamps=None, last_preserved_timestamp=None,
                            latest_filename=None) -> None:
    """Write the ``checkpoint`` state file of ``directory`` (atomically)."""
    paths = list(all_model_checkpoint_paths or [model_checkpoint_path])
    lines = [f"model_checkpoint_path: {json.dumps(_relative(directory, model_checkpoint_path))}"]
    lines += [f"all_model_checkpoint_paths: {json.dumps(_relative(directory, p))}" for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in (all_model_checkpoint_timestamps or [])]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {float(last_preserved_timestamp)!r}")
    target = os.path.join(directory, latest_filename or STATE_FILE)
    temporary = target + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temporary, target)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The ``CheckpointState`` of ``checkpoint_dir`` (paths made absolute to it), or ``None`` without a state file."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = os.path.join(checkpoint_dir, latest_filename or STATE_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        state = _parse_state(handle.read())
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")

    def full(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    state.model_checkpoint_path = full(state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [full(p) for p in state.all_model_checkpoint_paths]
    return state


def checkpoint_exists(save_path) -> bool:
    """Whether a checkpoint was written at ``save_path`` (by ``Checkpoint.save``, or ``model.save_weights``)."""
    return os.path.isfile(checkpoint_file(save_path)) or os.path.isfile(save_path)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The path of the newest checkpoint recorded in ``checkpoint_dir``'s state file, or ``None``."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is not None and checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    return None


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
    """Yield each new latest checkpoint of ``checkpoint_dir`` as it appears (polling once a second).

    Stops when no new checkpoint comes within ``timeout`` seconds and ``timeout_fn`` (if given) returns true.
    """
    last = None
    while True:
        deadline = None if timeout is None else time.time() + timeout
        path = None
        while True:
            path = latest_checkpoint(checkpoint_dir)
            if path is not None and path != last:
                break
            if deadline is not None and time.time() + 1 > deadline:
                path = None
                break
            time.sleep(1)
        if path is None:
            if timeout_fn is None or timeout_fn():
                return
            continue
        start = time.time()
        last = path
        yield path
        wait = start + min_interval_secs - time.time()
        if wait > 0:
            time.sleep(wait)


class CheckpointManager:
    """Numbered checkpoints of ``checkpoint`` in ``directory``, keeping the ``max_to_keep`` newest.

    Args:
        checkpoint: the ``tf.train.Checkpoint`` to save and restore.
        directory: where checkpoints and the ``checkpoint`` state file go.
        max_to_keep: how many recent checkpoints to keep (``None``: all).
        keep_checkpoint_every_n_hours: also keep one checkpoint per this many hours.
        checkpoint_name: the file prefix (``ckpt`` gives ``ckpt-1``, ``ckpt-2``, ...).
        step_counter, checkpoint_interval: save only when ``step_counter`` moved ``checkpoint_interval``
            steps since the last save.
        init_fn: called by ``restore_or_initialize`` when there is no checkpoint.
    """

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None, checkpoint_name="ckpt",
                 step_counter=None, checkpoint_interval=None, init_fn=None):
        if not directory:
            raise ValueError("A directory is required to create a CheckpointManager.")
        if max_to_keep is not None and (isinstance(max_to_keep, bool) or int(max_to_keep) <= 0):
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_every_seconds = None if keep_checkpoint_every_n_hours is None else \
            keep_checkpoint_every_n_hours * 3600.0
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._init_fn = init_fn
        self._last_checkpoint_step = None
        state = get_checkpoint_state(self._directory) if os.path.isdir(self._directory) else None
        now = time.time()
        if state is None:
            self._maybe_delete: dict = {}
            self._last_preserved_timestamp = now
            self._latest_checkpoint = None
        else:
            stamps = state.all_model_checkpoint_timestamps
            if len(stamps) != len(state.all_model_checkpoint_paths):
                stamps = [now] * len(state.all_model_checkpoint_paths)
            self._maybe_delete = {p: t for p, t in zip(state.all_model_checkpoint_paths, stamps)
                                  if checkpoint_exists(p)}
            self._last_preserved_timestamp = state.last_preserved_timestamp or now
            self._latest_checkpoint = state.model_checkpoint_path if checkpoint_exists(
                state.model_checkpoint_path) else None

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoint_interval(self):
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self):
        """The newest checkpoint's path prefix, or ``None``."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list:
        """The kept checkpoints' paths, oldest first."""
        return list(self._maybe_delete)

    def _sweep(self) -> None:
        if self._max_to_keep is None:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            path, stamp = next(iter(self._maybe_delete.items()))
            del self._maybe_delete[path]
            if self._keep_every_seconds is not None and stamp - self._keep_every_seconds >= \
                    self._last_preserved_timestamp:
                self._last_preserved_timestamp = stamp
                continue
            if os.path.exists(checkpoint_file(path)):
                os.remove(checkpoint_file(path))

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Write a new checkpoint (numbered ``checkpoint_number``, else the checkpoint's save counter) and delete
        the oldest beyond ``max_to_keep``; returns its path (``None`` when ``checkpoint_interval`` says wait)."""
        if self._checkpoint_interval is not None:
            step = int(self._step_counter.numpy() if hasattr(self._step_counter, "numpy") else self._step_counter)
            if check_interval and self._last_checkpoint_step is not None and \
                    step < self._last_checkpoint_step + self._checkpoint_interval:
                return None
            self._last_checkpoint_step = step
        counter = getattr(self._checkpoint, "save_counter", None)
        if counter is not None:
            counter.assign_add(1)
        if checkpoint_number is None:
            if counter is None:
                raise ValueError("`checkpoint_number` is required for an object without a `save_counter`.")
            checkpoint_number = int(counter.numpy())
        elif hasattr(checkpoint_number, "numpy"):
            checkpoint_number = int(checkpoint_number.numpy())
        path = f"{self._prefix}-{int(checkpoint_number)}"
        if hasattr(self._checkpoint, "write"):
            self._checkpoint.write(path, options=options)
        else:
            write_checkpoint({}, path)
        now = time.time()
        self._maybe_delete.pop(path, None)
        self._maybe_delete[path] = now
        self._latest_checkpoint = path
        self._sweep()
        update_checkpoint_state(self._directory, path, list(self._maybe_delete), list(self._maybe_delete.values()),
                                self._last_preserved_timestamp)
        return path

    def restore_or_initialize(self):
        """Restore the latest checkpoint (returning its path), or call ``init_fn`` and return ``None``."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = int(self._step_counter.numpy())
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self) -> None:
        """Nothing to wait for: featherflow writes checkpoints synchronously."""
