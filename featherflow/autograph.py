"""``tf.autograph``: TensorFlow's source-conversion namespace, for a system that traces Python directly.

TensorFlow's AutoGraph rewrites a function's source (``if``/``while``/``for`` on tensors become
``tf.cond``/``tf.while_loop``) before ``tf.function`` traces it. featherflow converts nothing: ``tf.function``
runs the Python function itself and records the ops it executes, so the Python control flow is taken as the
values at trace time dictate (control flow on tensor values that must be decided at run time is written with
``tf.cond`` / ``tf.while_loop``). The functions here keep TensorFlow's names and signatures so that code using
them runs unchanged:

- ``to_graph(f)`` returns ``f`` itself: the function ``tf.function`` traces is the one given.
- ``to_code(f)`` returns ``f``'s Python source (TensorFlow returns the converted source; there is none here).
- ``do_not_convert(f)`` marks ``f`` (``is_not_converted(f)`` is true) and returns it; nothing converts it anyway.
- ``trace(*args)`` prints its arguments when it runs, which inside ``tf.function`` is at trace time.
- ``set_verbosity`` records the level (featherflow's tracing logs nothing more at higher levels);
  ``experimental.Feature`` and ``experimental.set_loop_options`` are accepted and change nothing.

>>> import featherflow as tf
>>> def double(x):
...     return x * 2
>>> tf.autograph.to_graph(double) is double
True
>>> print(tf.autograph.to_code(double), end="")
def double(x):
    return x * 2
>>> tf.autograph.trace("traced with", 3)
traced with 3
"""

from __future__ import annotations

import enum
import inspect
import os
import sys
import textwrap
import types as _types
from collections.abc import Callable
from typing import Any

_MARK = "__featherflow_do_not_convert__"
_state: dict = {"verbosity": None, "alsologtostdout": False}


def _check_entity(entity: Any, name: str) -> None:
    if not (callable(entity) or inspect.isclass(entity)):
        raise TypeError(f"tf.autograph.{name} expects a Python function, method or class. Received: "
                        f"{entity!r} of type {type(entity).__name__}")


def _check_features(features: Any, name: str) -> None:
    items = features if isinstance(features, (list, tuple, set, frozenset)) else (features,)
    for item in items:
        if item is not None and not isinstance(item, Feature):
            raise TypeError(f"tf.autograph.{name}: experimental_optional_features must be "
                            f"tf.autograph.experimental.Feature values. Received: {item!r}")


def to_graph(entity: Callable, recursive: bool = True, experimental_optional_features: Any = None) -> Callable:
    """The entity ``tf.function`` traces for ``entity``: ``entity`` itself (featherflow converts no source).

    Args:
        entity: a Python function, method or class.
        recursive: accepted for TensorFlow compatibility (there are no called functions to convert).
        experimental_optional_features: ``None`` or ``tf.autograph.experimental.Feature`` values (no effect).

    Returns:
        ``entity``, unchanged.

    Raises:
        TypeError: ``entity`` is not callable.

    >>> import featherflow as tf
    >>> f = tf.autograph.to_graph(lambda x: x + 1)
    >>> float(tf.function(f)(tf.constant(1.0)))
    2.0
    """
    _check_entity(entity, "to_graph")
    _check_features(experimental_optional_features, "to_graph")
    return entity


def to_code(entity: Callable, recursive: bool = True, experimental_optional_features: Any = None) -> str:
    """The Python source of ``entity``, dedented (TensorFlow returns the AutoGraph-converted source; featherflow
    traces the original, so the original is what runs).

    A ``tf.function``-decorated function gives the source of the Python function it wraps.

    Raises:
        TypeError: ``entity`` is not callable.
        ValueError: the source is not available (a built-in, or a function defined in an interactive prompt
            whose source Python did not keep).

    >>> import featherflow as tf
    >>> @tf.function
    ... def f(x):
    ...     return x + 1
    >>> tf.autograph.to_code(f).splitlines()[-1]
    '    return x + 1'
    """
    _check_entity(entity, "to_code")
    _check_features(experimental_optional_features, "to_code")
    target = getattr(entity, "python_function", entity)
    try:
        source = inspect.getsource(target)
    except (OSError, TypeError) as error:
        raise ValueError(f"tf.autograph.to_code could not read the source of {entity!r} ({error}). Source is "
                         f"available for functions and classes defined in files (or cells that Python keeps)."
                         ) from error
    return textwrap.dedent(source)


def do_not_convert(func: Callable | None = None) -> Callable:
    """Mark ``func`` as not to be converted and return it; usable as ``@do_not_convert`` or
    ``@do_not_convert()``. featherflow converts no function, so the mark changes nothing but
    ``is_not_converted``; ``tf.function`` still traces the function's ops.

    >>> import featherflow as tf
    >>> @tf.autograph.experimental.do_not_convert
    ... def g(x):
    ...     return x
    >>> tf.autograph.is_not_converted(g), g(3)
    (True, 3)
    """
    if func is None:
        return do_not_convert
    if not callable(func):
        raise TypeError(f"do_not_convert expects a callable. Received: {func!r} of type {type(func).__name__}")
    try:
        setattr(func, _MARK, True)
    except (AttributeError, TypeError):  # built-ins and objects with __slots__: mark a thin wrapper instead
        import functools

        original = func

        @functools.wraps(original)
        def func(*args, **kwargs):
            return original(*args, **kwargs)

        setattr(func, _MARK, True)
    return func


def is_not_converted(func: Callable) -> bool:
    """Whether ``func`` was marked with ``do_not_convert`` (featherflow's helper; not in TensorFlow)."""
    return bool(getattr(func, _MARK, False))


def trace(*args: Any) -> None:
    """Print ``args`` as ``print`` does. Inside a ``tf.function`` this runs while the function is traced (once
    per input signature), not at every call: use ``tf.print`` for values at run time.

    >>> import featherflow as tf
    >>> tf.autograph.trace("shape", (2, 3))
    shape (2, 3)
    """
    print(*args)


def set_verbosity(level: int, alsologtostdout: bool = False) -> None:
    """Set the AutoGraph verbosity level (takes precedence over the ``AUTOGRAPH_VERBOSITY`` environment
    variable, as in TensorFlow). featherflow records it (``get_verbosity``); it converts nothing, so there is
    nothing more to log.

    >>> import featherflow as tf
    >>> tf.autograph.set_verbosity(3); tf.autograph.get_verbosity()
    3
    >>> tf.autograph.set_verbosity(0)
    """
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ValueError(f"set_verbosity expects a non-negative int level. Received: level={level!r}")
    _state["verbosity"] = level
    _state["alsologtostdout"] = bool(alsologtostdout)


def get_verbosity() -> int:
    """The level given to ``set_verbosity``, else ``AUTOGRAPH_VERBOSITY`` from the environment, else 0."""
    if _state["verbosity"] is not None:
        return _state["verbosity"]
    value = os.environ.get("AUTOGRAPH_VERBOSITY", "0")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"AUTOGRAPH_VERBOSITY must be an integer. Received: {value!r}") from None


class Feature(enum.Enum):
    """``tf.autograph.experimental.Feature``: AutoGraph's optional conversions (accepted; featherflow converts
    no source, so none changes anything)."""

    ALL = "ALL"
    AUTO_CONTROL_DEPS = "AUTO_CONTROL_DEPS"
    ASSERT_STATEMENTS = "ASSERT_STATEMENTS"
    BUILTIN_FUNCTIONS = "BUILTIN_FUNCTIONS"
    EQUALITY_OPERATORS = "EQUALITY_OPERATORS"
    LISTS = "LISTS"
    NAME_SCOPES = "NAME_SCOPES"

    @classmethod
    def all(cls) -> tuple:
        """Every feature."""
        return tuple(cls.__members__.values())

    @classmethod
    def all_but(cls, exclude) -> tuple:
        """Every feature except ``exclude`` (one feature or a collection)."""
        exclude = set(exclude) if isinstance(exclude, (list, tuple, set, frozenset)) else {exclude}
        return tuple(f for f in cls.__members__.values() if f not in exclude)


_UNSPECIFIED = object()


def set_loop_options(parallel_iterations=_UNSPECIFIED, swap_memory=_UNSPECIFIED, maximum_iterations=_UNSPECIFIED,
                     shape_invariants=_UNSPECIFIED) -> None:
    """``tf.autograph.experimental.set_loop_options``: hints for the loop it is called in. TensorFlow ignores
    the call outside converted loops; featherflow converts no loop, so it is accepted and ignored here too
    (``tf.while_loop`` takes the same options as arguments)."""
    if maximum_iterations not in (_UNSPECIFIED, None) and (isinstance(maximum_iterations, bool) or
                                                          not isinstance(maximum_iterations, int)):
        raise TypeError(f"set_loop_options: maximum_iterations must be an int. Received: {maximum_iterations!r}")


experimental = _types.ModuleType(__name__ + ".experimental", "``tf.autograph.experimental``.")
experimental.do_not_convert = do_not_convert
experimental.Feature = Feature
experimental.set_loop_options = set_loop_options
sys.modules.setdefault(experimental.__name__, experimental)
