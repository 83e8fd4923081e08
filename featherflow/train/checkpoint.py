"""``tf.train.Checkpoint``: save and restore the variables of a tree of objects, by their names in the tree.

An object takes part when it is a ``Variable``, a ``Checkpoint``, or has ``_trackable_children()``
(``{name: child}``: Keras layers, models and optimizers have it). A checkpoint's keys are the paths
of names from the checkpoint to each variable, e.g. ``model/dense/kernel``, ``optimizer/iter``.

``save(prefix)`` writes ``<prefix>-<n>.npz`` (``n`` = ``save_counter``) and returns ``<prefix>-<n>``;
``write(prefix)`` writes ``<prefix>.npz``. The file is a NumPy ``.npz`` archive (one array per key,
nothing executed on load), written atomically. ``restore(path)`` assigns every variable it finds;
a value whose variable does not exist yet is restored when it appears (deferred restore), as TensorFlow
does: when the layer holding it is first called, or when the object is attached to the checkpoint later
(``ckpt.step = tf.Variable(0)`` after ``ckpt.restore(path)``). The returned status checks what matched.

>>> import os, tempfile
>>> import featherflow as tf
>>> v = tf.Variable(1.0)
>>> ckpt = tf.train.Checkpoint(v=v)
>>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
>>> os.path.basename(path)
'ckpt-1'
>>> _ = v.assign(5.0)
>>> _ = ckpt.restore(path).assert_consumed(); float(v)
1.0
"""

from __future__ import annotations

import os
import tempfile
import warnings
import weakref

import numpy as np

from featherflow.core import Variable
from featherflow.train.experimental import PythonState

_SUFFIX = ".npz"
_META = "__featherflow_checkpoint__"


def checkpoint_file(save_path: str) -> str:
    """The file of the checkpoint ``save_path`` (a prefix such as ``ckpt-3``)."""
    return os.fspath(save_path) + _SUFFIX


def _is_trackable(value) -> bool:
    return isinstance(value, (Variable, Checkpoint, PythonState)) or callable(
        getattr(value, "_trackable_children", None))


def children(obj) -> dict:
    """``{name: child}`` of a trackable object (a variable has none)."""
    if isinstance(obj, (Variable, PythonState)):
        return {}
    if isinstance(obj, Checkpoint):
        kids = children(obj._root) if obj._root is not None else {}
        kids.update(obj._children)
        return kids
    return dict(obj._trackable_children())


def walk_variables(obj, prefix: str = "", seen=None):
    """``(path, variable)`` of every variable (and ``PythonState``) under ``obj`` (each once, by its first path)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (Variable, PythonState)):
        yield prefix, obj
        return
    for name, child in children(obj).items():
        yield from walk_variables(child, f"{prefix}/{name}" if prefix else name, seen)


def _resolve(root, path: str):
    """``(object at path or None, deepest existing object on the path, the rest of the path)``."""
    obj, parts, i = root, path.split("/"), 0
    while i < len(parts):
        kids = children(obj)
        for j in range(len(parts), i, -1):  # names may hold "/" (list items "blocks/0"): longest first
            name = "/".join(parts[i:j])
            if name in kids:
                obj, i = kids[name], j
                break
        else:
            return None, obj, "/".join(parts[i:])
    return obj, obj, ""


def read_checkpoint(save_path) -> dict:
    """``{key: array}`` of a checkpoint written by ``Checkpoint.save``/``write``."""
    path = checkpoint_file(save_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Failed to find any matching files for {os.fspath(save_path)} (no checkpoint file "
                                f"{path}). Pass the prefix returned by `Checkpoint.save` or "
                                "`tf.train.latest_checkpoint(directory)`.")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files if key != _META}


def write_checkpoint(values: dict, file_prefix) -> str:
    """Write ``{key: array}`` to ``<file_prefix>.npz`` atomically; returns ``file_prefix``."""
    file_prefix = os.fspath(file_prefix)
    target = checkpoint_file(file_prefix)
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **{_META: np.array("1")}, **values)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return file_prefix


class CheckpointOptions:
    """Options of ``save``/``restore`` (accepted for compatibility; featherflow writes synchronously on the
    local file system)."""

    def __init__(self, experimental_io_device=None, experimental_enable_async_checkpoint=False,
                 experimental_write_callbacks=None, enable_async=False, experimental_sharding_callback=None,
                 experimental_skip_slot_variables=False):
        self.experimental_io_device = experimental_io_device
        self.enable_async = bool(enable_async or experimental_enable_async_checkpoint)
        self.experimental_enable_async_checkpoint = self.enable_async
        self.experimental_write_callbacks = experimental_write_callbacks
        self.experimental_sharding_callback = experimental_sharding_callback
        self.experimental_skip_slot_variables = experimental_skip_slot_variables


class Checkpoint:
    """Groups trackable objects (models, layers, optimizers, variables, other checkpoints) to save and restore.

    Args:
        root: an object whose children become this checkpoint's children.
        **kwargs: the objects to track, by name (``model=model, optimizer=optimizer``).
    """

    def __init__(self, root=None, **kwargs):
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_deferred_statuses", [])  # restores still holding values for future objects
        if root is not None and not _is_trackable(root):
            raise ValueError(f"`root` must be a trackable object (a model, layer, optimizer or variable). "
                             f"Received: {root!r}")
        for name, value in kwargs.items():
            setattr(self, name, value)
        object.__setattr__(self, "save_counter", Variable(np.zeros((), np.int64), trainable=False,
                                                          name="save_counter"))
        self._children["save_counter"] = self.save_counter

    def __setattr__(self, name, value):
        if not name.startswith("_"):
            if not _is_trackable(value):
                raise ValueError(f"Checkpoint was expecting a trackable object (an object derived from `Trackable`), "
                                 f"got {value!r}. If you believe this object should be trackable (i.e. it is part of "
                                 "the TensorFlow Python API and manages state), please open an issue.")
            self._children[name] = value
        object.__setattr__(self, name, value)
        if not name.startswith("_") and self._deferred_statuses:
            for status in list(self._deferred_statuses):  # an object attached after `restore` gets its values now
                status._apply()
                status._register_deferred()
                if not status._pending:
                    self._deferred_statuses.remove(status)

    # -- saving -------------------------------------------------------------------------------------
    def _values(self) -> dict:
        values = {}
        for path, variable in walk_variables(self):
            values[path] = np.array(variable.serialize() if isinstance(variable, PythonState) else variable.numpy(),
                                    copy=True)
        return values

    def write(self, file_prefix, options=None) -> str:
        """Write the tracked variables to ``<file_prefix>.npz`` (no numbering); returns ``file_prefix``."""
        return write_checkpoint(self._values(), file_prefix)

    def save(self, file_prefix, options=None) -> str:
        """Increment ``save_counter`` and write ``<file_prefix>-<save_counter>``; returns that path."""
        self.save_counter.assign_add(1)
        return self.write(f"{os.fspath(file_prefix)}-{int(self.save_counter.numpy())}", options)

    # -- restoring ------------------------------------------------------------------------------------
    def read(self, save_path, options=None) -> CheckpointLoadStatus:
        """Restore from ``save_path`` (a path returned by ``save``/``write``); see ``restore``."""
        return self.restore(save_path, options)

    def restore(self, save_path, options=None):
        """Assign the checkpoint's values to the tracked variables; values for variables not created yet wait
        for them (deferred restore). ``save_path=None`` restores nothing (``InitializationOnlyStatus``)."""
        if save_path is None:
            return InitializationOnlyStatus()
        status = CheckpointLoadStatus(self, read_checkpoint(save_path))
        if status._pending:
            self._deferred_statuses.append(status)
        return status


class CheckpointLoadStatus:
    """What a ``restore`` matched; values for variables created later are assigned when they appear.

    Unused values (and, with ``assert_consumed``, objects with no saved value) are errors for the
    ``assert_*`` methods; without ``expect_partial()``, values never restored are warned about when the
    status is garbage collected, as TensorFlow does.
    """

    def __init__(self, root, values: dict):
        self._root = root
        self._pending = dict(values)
        self._restored: set = set()
        self._expect_partial = [False]
        self._apply()
        self._register_deferred()
        weakref.finalize(self, _warn_unused, self._pending, self._expect_partial)

    def _apply(self) -> bool:
        for key in list(self._pending):
            found, _, _ = _resolve(self._root, key)
            if isinstance(found, PythonState):
                found.deserialize(str(self._pending.pop(key)))
                self._restored.add(key)
            elif isinstance(found, Variable):
                value = self._pending[key]
                if tuple(found.shape) != tuple(value.shape):
                    raise ValueError(f"Received incompatible tensor with shape {tuple(value.shape)} when attempting "
                                     f"to restore variable with shape {tuple(found.shape)} and name {key}.")
                found.assign(np.asarray(value, dtype=found.dtype))
                self._restored.add(key)
                del self._pending[key]
        return True

    def _register_deferred(self) -> None:
        """Hand slot values to objects that keep them (``_restore_deferred``), and wait on each deepest existing
        layer of an unmatched key (and on the top-level object above it) for its variables."""
        handed: dict = {}
        for key in self._pending:
            _, deepest, rest = _resolve(self._root, key)
            if callable(getattr(deepest, "_restore_deferred", None)):
                handed.setdefault(id(deepest), (deepest, {}))[1][rest] = key
        for obj, relative in handed.values():
            if obj._restore_deferred({rest: self._pending[key] for rest, key in relative.items()}):
                for key in relative.values():
                    self._restored.add(key)
                    del self._pending[key]
        waiting: dict = {}
        for key in self._pending:
            _, deepest, _ = _resolve(self._root, key)
            top, _, _ = _resolve(self._root, key.split("/")[0])
            for obj in (deepest, top):
                if obj is not None and callable(getattr(obj, "_trackable_children", None)) \
                        and hasattr(obj, "_run_pending_restores"):
                    waiting[id(obj)] = obj
        restore = _DeferredRestore(self)
        for obj in waiting.values():
            pending = obj.__dict__.setdefault("_pending_restores", [])
            pending.append(restore)

    def expect_partial(self):
        """Silence the warning about checkpoint values that were never restored; returns the status."""
        self._expect_partial[0] = True
        return self

    def assert_consumed(self):
        """Every checkpoint value was restored and every tracked variable got a value (else AssertionError)."""
        if self._pending:
            raise AssertionError(f"Unresolved object in checkpoint: {sorted(self._pending)}")
        unmatched = [path for path, _ in walk_variables(self._root) if path not in self._restored]
        if unmatched:
            raise AssertionError(f"Some Python objects were not bound to checkpointed values, likely due to changes in "
                                 f"the Python program: {unmatched}")
        return self

    def assert_existing_objects_matched(self):
        """Every variable that exists now got a value (values waiting for future variables are fine)."""
        unmatched = [path for path, _ in walk_variables(self._root) if path not in self._restored]
        if unmatched:
            raise AssertionError(f"Some objects had no checkpointed value: {unmatched}")
        return self

    def assert_nontrivial_match(self):
        """At least one variable besides ``save_counter`` was restored."""
        if not self._restored - {"save_counter"}:
            raise AssertionError("Nothing except the root object matched a checkpointed value. Typically this means "
                                 "that the checkpoint does not match the Python program.")
        return self

    def run_restore_ops(self, session=None) -> None:
        """Nothing to run in eager execution: values are assigned as soon as their variables exist."""

    def initialize_or_restore(self, session=None) -> None:
        """Nothing to run in eager execution (variables are initialized at creation)."""


class _DeferredRestore:
    """The callable a layer runs after its first call: assign what its new variables can take."""

    def __init__(self, status: CheckpointLoadStatus):
        self._status = status  # kept alive by the layers waiting on it, as TensorFlow keeps deferred values

    def __call__(self, layer) -> bool:
        if self._status._pending:
            self._status._apply()
        return True


class InitializationOnlyStatus:
    """``restore(None)``: nothing restored; the variables keep their initial values."""

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    assert_existing_objects_matched = assert_nontrivial_match = assert_consumed

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None) -> None:
        """Nothing to run."""

    def initialize_or_restore(self, session=None) -> None:
        """Nothing to run: variables are initialized at creation."""


def _warn_unused(pending: dict, expect_partial: list) -> None:
    if pending and not expect_partial[0]:
        warnings.warn(f"Value in checkpoint could not be found in the restored object: {sorted(pending)[:10]}. Call "
                      "`.expect_partial()` on the restore status to silence this warning.", stacklevel=1)

