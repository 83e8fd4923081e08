"""``tf.function`` and friends for an engine that always executes eagerly.

featherflow runs every op immediately on NumPy arrays, so there is no graph to trace:
``function`` returns the Python function itself (TensorFlow code decorated with
``@tf.function`` runs unchanged, with eager semantics), and ``executing_eagerly`` is
always true.

>>> import featherflow as tf
>>> @tf.function
... def square_sum(x):
...     return tf.reduce_sum(x * x)
>>> float(square_sum(tf.constant([1.0, 2.0])))
5.0
"""

from __future__ import annotations

import functools


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_implements=None, experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None, experimental_follow_type_hints=None):
    """Decorator compatible with ``tf.function``; the function runs eagerly, unchanged.

    Usable bare (``@function``), with arguments (``@function(jit_compile=True)``) or as a
    call (``function(f)``).
    """
    def wrap(f):
        if not callable(f):
            raise TypeError(f"function: expected a callable to wrap. Received: {f!r}")

        @functools.wraps(f)
        def eager(*args, **kwargs):
            return f(*args, **kwargs)

        eager.python_function = f
        return eager

    return wrap if func is None else wrap(func)


_settings = {"run_functions_eagerly": False}


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Ask ``tf.function``-decorated functions to run eagerly (featherflow's always do; the setting is kept for
    ``functions_run_eagerly``).

    >>> run_functions_eagerly(True); functions_run_eagerly()
    True
    >>> run_functions_eagerly(False)
    """
    _settings["run_functions_eagerly"] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """The value last given to ``run_functions_eagerly`` (False by default, as in TensorFlow)."""
    return _settings["run_functions_eagerly"]


def executing_eagerly() -> bool:
    """Always True: featherflow has no graph mode.

    >>> executing_eagerly()
    True
    """
    return True
