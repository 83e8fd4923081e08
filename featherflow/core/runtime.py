"""The runtime state of featherflow: what this thread is recording and calling right now.

Every piece of mutable state that lives for the length of a call, and not in an object, is here, on one
``threading.local`` (as Keras 3 keeps its global state): two threads, for instance two trials of a
``FuturesExecutor`` on a ``ThreadPoolExecutor``, never see each other's tapes or training flag.

Per thread (``state``):

* ``tapes``: the ``GradientTape``s entered in this thread and not exited yet, innermost last; ``record``
  offers every op to them;
* ``training``: the layer call context, the ``training`` flag of the layer call in progress (``None``
  outside any call), which inner layers called without ``training=`` inherit;
* ``inferring_shapes``: true while layers run on dummy data to infer output shapes (stateful layers then
  keep no state from the run);
* ``model_call_depth``: how many ``Model.__call__`` and ``Layer.__call__`` are in progress (the outermost one
  clears the ``add_loss`` losses left by the previous call);
* ``name_scope``: the ``tf.name_scope`` in force (``""`` at top level), which prefixes new variables' names;
* ``device``: the ``DeviceSpec`` of the ``tf.device`` scope in force (``None`` outside one);
* ``variable_creators``: the creators of the ``tf.variable_creator_scope`` s entered, innermost last, through
  which ``tf.Variable(...)`` goes;
* ``stand_ins``: true while ``tf.data`` runs a function on stand-in elements to find its output spec (the
  user code of ``tf.py_function`` / ``numpy_function`` is then not run: TensorFlow's tracing does not run it).

Process-wide (``loss_event_count``): a counter of ``add_loss`` calls, which a compiled training step reads
to skip looking for added losses when there were none. It is a change signal, not call state, so every
thread's ``add_loss`` moves it: a step that sees it move only looks at its own model's layers (a harmless
extra look), and it never stands still across an ``add_loss`` in a thread that later hands the model to
another.

>>> from featherflow.core import runtime
>>> runtime.state.training is None
True
>>> with runtime.training_scope(True):
...     runtime.state.training
True
"""

from __future__ import annotations

import threading

__all__ = [
    "RuntimeState",
    "active_tapes",
    "count_loss_event",
    "inferring_shapes_scope",
    "loss_event_count",
    "state",
    "training_scope",
]


class RuntimeState(threading.local):
    """The per-thread fields (see the module docstring); each thread starts from these defaults."""

    def __init__(self) -> None:
        self.tapes: list = []
        self.training = None
        self.inferring_shapes: bool = False
        self.model_call_depth: int = 0
        self.name_scope: str = ""
        self.device = None
        self.variable_creators: list = []
        self.stand_ins: bool = False


state = RuntimeState()

_loss_events = [0]
_loss_events_lock = threading.Lock()  # `+= 1` alone can lose an update or move back between two threads


def active_tapes() -> list:
    """This thread's recording tapes, innermost last (the live list: do not modify it)."""
    return state.tapes


def count_loss_event() -> None:
    """Note one ``add_loss`` call (any thread)."""
    with _loss_events_lock:
        _loss_events[0] += 1


def loss_event_count() -> int:
    """The number of the last ``add_loss`` call noted so far: compare two readings to see whether one came."""
    return _loss_events[0]


class training_scope:
    """Context manager: this thread's layer call context has ``training`` inside (restored on exit).

    Args:
        training: the flag layers called without ``training=`` see (``True``, ``False`` or ``None``).
    """

    __slots__ = ("_training", "_previous")

    def __init__(self, training) -> None:
        self._training = training

    def __enter__(self):
        self._previous = state.training
        state.training = self._training
        return self

    def __exit__(self, *exc) -> bool:
        state.training = self._previous
        return False


class inferring_shapes_scope:
    """Context manager: this thread runs layers on dummy data to infer shapes (restored on exit)."""

    __slots__ = ("_previous",)

    def __enter__(self):
        self._previous = state.inferring_shapes
        state.inferring_shapes = True
        return self

    def __exit__(self, *exc) -> bool:
        state.inferring_shapes = self._previous
        return False
