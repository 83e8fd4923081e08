"""``tf.debugging``'s traceback-filtering switches.

TensorFlow hides its own frames from tracebacks while filtering is on (the default). featherflow's ops are
plain Python functions whose frames it never removes, so these functions only keep the setting, for code
that turns it off and on and asks: the tracebacks are the same either way.

>>> disable_traceback_filtering(); is_traceback_filtering_enabled()
False
>>> enable_traceback_filtering(); is_traceback_filtering_enabled()
True
"""

from __future__ import annotations

_filtering = {"enabled": True}


def enable_traceback_filtering() -> None:
    """Record that traceback filtering is on (TensorFlow's default; featherflow shows every frame anyway)."""
    _filtering["enabled"] = True


def disable_traceback_filtering() -> None:
    """Record that traceback filtering is off."""
    _filtering["enabled"] = False


def is_traceback_filtering_enabled() -> bool:
    """The setting of ``enable_traceback_filtering`` / ``disable_traceback_filtering`` (``True`` at start)."""
    return _filtering["enabled"]
