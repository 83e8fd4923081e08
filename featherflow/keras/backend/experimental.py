"""``keras.backend.experimental``: the switch between tf.keras 2's two random-number sources.

featherflow has one source, its seeded generator (``keras.utils.set_random_seed`` makes runs
repeatable either way); the switch is recorded so code that sets or reads it runs unchanged.

>>> enable_tf_random_generator(); is_tf_random_generator_enabled()
True
>>> disable_tf_random_generator(); is_tf_random_generator_enabled()
False
"""

from __future__ import annotations

_state = {"enabled": False}


def enable_tf_random_generator() -> None:
    """Record that layers should draw from a ``tf.random.Generator`` (featherflow's generator always is one)."""
    _state["enabled"] = True


def disable_tf_random_generator() -> None:
    """Record the legacy stateful random ops as the source (tf.keras 2's default)."""
    _state["enabled"] = False


def is_tf_random_generator_enabled() -> bool:
    """Whether ``enable_tf_random_generator`` was called last (default ``False``, as in tf.keras 2)."""
    return _state["enabled"]
