"""Summary writers and the per-thread summary state: the default writer, its step, ``record_if``.

A writer from ``create_file_writer`` appends TensorBoard event files (TFRecord-framed ``Event``
protocol buffers) through TensorBoard's own ``EventFileWriter``, which flushes in a background
thread; the optional ``tensorboard`` package provides it (``pip install "featherflow[tensorboard]"``).

>>> import os, tempfile
>>> import featherflow as tf
>>> writer = tf.summary.create_file_writer(tempfile.mkdtemp())
>>> with writer.as_default(step=1):
...     tf.summary.scalar("loss", 0.25)
True
>>> tf.summary.scalar("loss", 0.25, step=2)   # no default writer: nothing is written
False
"""

from __future__ import annotations

import contextlib
import operator
import os
import threading

import numpy as np

from featherflow.core import Tensor
from featherflow.core.scopes import get_current_name_scope, name_scope

_state = threading.local()


def _get(name, default=None):
    return getattr(_state, name, default)


def import_tensorboard(what: str):
    """TensorBoard's modules that the summaries use, or an ImportError naming the extra to install."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise ImportError(f"{what} writes TensorBoard event files and needs the `tensorboard` package: "
                          'pip install "featherflow[tensorboard]"') from exc
    return event_pb2, summary_pb2, EventFileWriter, tensor_util


class SummaryWriter:
    """The interface of a summary writer (``tf.summary.SummaryWriter``): ``as_default``, ``set_as_default``,
    ``init``, ``flush``, ``close``. Create one with ``create_file_writer`` or ``create_noop_writer``."""

    _is_noop = True

    def set_as_default(self, step=None) -> None:
        """Make this the default writer of the thread (and ``step`` its default step) until replaced."""
        _state.writer = self
        if step is not None:
            _state.step = step

    @contextlib.contextmanager
    def as_default(self, step=None):
        """Within the block, summaries go to this writer (with ``step`` as the default step); flushed on exit."""
        previous_writer, previous_step = _get("writer"), _get("step")
        _state.writer = self
        if step is not None:
            _state.step = step
        try:
            yield self
        finally:
            _state.writer = previous_writer
            _state.step = previous_step
            self.flush()

    def init(self) -> None:
        """Kept for TensorFlow compatibility: writers are ready when created."""

    def flush(self) -> None:
        """Write buffered events to disk."""

    def close(self) -> None:
        """Flush and close; writing to a closed writer raises ``RuntimeError``."""

    def write_event(self, event) -> None:
        """Append one ``Event`` protocol buffer (used by the summary functions)."""


class NoopSummaryWriter(SummaryWriter):
    """A writer that writes nothing (``tf.summary.create_noop_writer``); summaries report ``False`` under it."""


class FileSummaryWriter(SummaryWriter):
    """Writes ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>`` in ``logdir``.

    Args:
        logdir: the directory (created if missing).
        max_queue: events buffered before a write (default 10).
        flush_millis: the longest time between flushes, in milliseconds (default 120000).
        filename_suffix: appended to the file name (default ``".v2"``, TensorFlow 2's).
    """

    _is_noop = False

    def __init__(self, logdir, max_queue=None, flush_millis=None, filename_suffix=None):
        _, _, event_file_writer, _ = import_tensorboard("tf.summary.create_file_writer")
        self.logdir = os.fspath(logdir)
        self._writer = event_file_writer(self.logdir, max_queue_size=10 if max_queue is None else int(max_queue),
                                         flush_secs=(120000 if flush_millis is None else flush_millis) / 1000.0,
                                         filename_suffix=".v2" if filename_suffix is None else filename_suffix)
        self._closed = False
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        """The event file this writer appends to."""
        return self._writer._file_name

    def write_event(self, event) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"SummaryWriter {self!r} is already closed")
            self._writer.add_event(event)

    def flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._writer.flush()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._writer.close()
                self._closed = True

    def __repr__(self) -> str:
        return f"<featherflow.summary.SummaryWriter logdir={self.logdir!r}>"


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None, name=None,
                       experimental_trackable=False, experimental_mesh=None) -> SummaryWriter:
    """A summary writer for ``logdir`` (``None`` gives a no-op writer, as in TensorFlow)."""
    if logdir is None:
        return NoopSummaryWriter()
    return FileSummaryWriter(logdir, max_queue, flush_millis, filename_suffix)


def create_noop_writer() -> SummaryWriter:
    """A writer whose summaries are dropped."""
    return NoopSummaryWriter()


def get_default_writer():
    """This thread's default writer, or ``None``."""
    return _get("writer")


def flush(writer=None, name=None) -> None:
    """Flush ``writer`` (default: the default writer, if any)."""
    writer = writer if writer is not None else _get("writer")
    if writer is not None:
        writer.flush()


# -- steps ----------------------------------------------------------------------------------------------
def get_step():
    """The default step (set by ``set_step`` or a writer's ``as_default(step=...)``), or ``None``."""
    return _get("step")


def set_step(step) -> None:
    """Set the default step of this thread; a variable (e.g. ``optimizer.iterations``) is read at each write."""
    _state.step = step


def resolve_step(step) -> int:
    """The int step of a write: ``step``, else the default step; ``ValueError`` when neither is set."""
    if step is None:
        step = _get("step")
    if step is None:
        raise ValueError("No step set. Please specify one either through the `step` argument or through "
                         "tf.summary.experimental.set_step()")
    if isinstance(step, Tensor):
        value = step.numpy()
        if value.ndim == 0 and value.dtype.kind in "iu":
            return int(value)
    else:
        try:
            return operator.index(step)  # ints, NumPy ints, objects with __index__
        except TypeError:
            pass
    raise ValueError(f"`step` must be a scalar integer (an int, or an integer tensor or variable). Received: "
                     f"step={step!r}")


# -- recording conditions --------------------------------------------------------------------------------
@contextlib.contextmanager
def record_if(condition):
    """Within the block, summaries are written only while ``condition`` (a bool, a tensor or a zero-argument
    callable evaluated at each write) holds."""
    previous = _get("condition", True)
    _state.condition = condition
    try:
        yield
    finally:
        _state.condition = previous


def should_record_summaries() -> bool:
    """Whether a summary written now would be recorded: a writer is set and the ``record_if`` condition holds."""
    writer = _get("writer")
    if writer is None or writer._is_noop:
        return False
    condition = _get("condition", True)
    if callable(condition):
        condition = condition()
    return bool(np.asarray(condition.numpy() if isinstance(condition, Tensor) else condition))


@contextlib.contextmanager
def summary_scope(name, default_name=None, values=None):
    """A name scope for summaries (``tf.name_scope``): yields ``(tag, scope_name)``; tags inside are prefixed."""
    name = name or default_name
    if not name:
        raise ValueError("`summary_scope` needs a `name` or a `default_name`.")
    with name_scope(name) as scope:
        yield scope.rstrip("/"), scope


def full_tag(name: str) -> str:
    """``name`` under the enclosing name scopes (``tf.name_scope`` and ``summary_scope``), as TensorFlow tags it."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"A summary `name` must be a non-empty string. Received: name={name!r}")
    scope = get_current_name_scope()
    return f"{scope}/{name}" if scope else name
