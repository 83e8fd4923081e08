"""The compiler's per-thread state: the trace in progress (if any) and whether it is suspended.

``current()`` is the ``Tracer`` recording in this thread, or ``None``; ``suspended()`` is true inside
``init_scope`` / ``host_call`` bodies, where traced arrays hand out their real values without being
recorded (the code there runs on real data now and, for a host call, again at every replay).

>>> current() is None, suspended()
(True, False)
"""

from __future__ import annotations

import threading


class TraceError(RuntimeError):
    """The traced function did something a compiled program cannot replay (a value left the program).

    The message names the operation and the line of user code where it happened, and how to fix it.
    """


class _Local(threading.local):
    def __init__(self) -> None:
        self.tracer = None
        self.suspended = 0
        self.views = None  # while tf.function traces in this thread: id(variable) -> its traced value


_local = _Local()
ACTIVE = [0]  # traces in progress in any thread: the cheap process-wide "is anyone tracing" check


def current():
    """The tracer recording in this thread (``None`` when not tracing, or while suspended)."""
    if _local.suspended:
        return None
    return _local.tracer


def tracing() -> bool:
    """True while this thread traces a function (and is not inside ``init_scope`` / a host call)."""
    return ACTIVE[0] > 0 and _local.tracer is not None and not _local.suspended


def tracing_anywhere() -> bool:
    """True while a trace is in progress in any thread (a cheap check: a thread that must not wait for another
    thread's trace, such as a dataset's producer, runs eagerly instead).

    >>> tracing_anywhere()
    False
    """
    return ACTIVE[0] > 0


def suspended() -> bool:
    return _local.suspended > 0


class init_scope:
    """Context manager: run the body eagerly on real values, unrecorded (TF's ``tf.init_scope``).

    Variables' initial values, optimizer state and other one-time setup made during a trace are built here,
    so they hold real arrays, never traced ones.
    """

    __slots__ = ()

    def __enter__(self):
        _local.suspended += 1
        return self

    def __exit__(self, *exc) -> bool:
        _local.suspended -= 1
        return False
