"""Console output that never crashes: Keras's ``print_msg`` with an encoding fallback.

A Windows console (cp1252) or ``PYTHONIOENCODING=ascii`` cannot encode every character a
metric name or a file name may hold; progress output must degrade (``?``), not raise.

>>> print_msg("loss: 0.5")
loss: 0.5
"""

from __future__ import annotations

import logging
import os
import sys

_interactive = [True]


def enable_interactive_logging() -> None:
    """Keras's messages (progress bars, callbacks' notes) go to standard output (the default)."""
    _interactive[0] = True


def disable_interactive_logging() -> None:
    """Keras's messages go to Python's ``logging`` (logger ``"keras"``, level INFO) instead of standard output."""
    _interactive[0] = False


def is_interactive_logging_enabled() -> bool:
    """Whether Keras's messages go to standard output (``True``) or to ``logging``.

    >>> disable_interactive_logging(); is_interactive_logging_enabled()
    False
    >>> enable_interactive_logging()
    """
    return _interactive[0]


def print_msg(message: str, line_break: bool = True, stream=None) -> None:
    """Write ``message`` to ``stream`` (``sys.stdout`` at call time) and flush.

    Args:
        message: the text.
        line_break: append a newline.
        stream: a text stream; ``None`` means the current ``sys.stdout`` (looked up at call
            time so that redirections such as pytest's ``capsys`` are honoured).
    """
    if not _interactive[0] and stream is None:
        logging.getLogger("keras").info(message)
        return
    stream = sys.stdout if stream is None else stream
    if stream is None:  # pythonw.exe and some daemons have no stdout at all
        return
    text = message + ("\n" if line_break else "")
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, errors="replace").decode(encoding, errors="replace"))
    try:
        stream.flush()
    except (OSError, ValueError):  # closed or broken pipe: progress output is best effort
        pass


def is_interactive_stream(stream=None) -> bool:
    """Whether ``stream`` (default ``sys.stdout``) can redraw a line in place.

    True on a terminal, in a Jupyter kernel and in PyCharm's console; False for files,
    pipes and captured output, which then receive plain lines without ``\\r``/``\\b``.
    """
    stream = sys.stdout if stream is None else stream
    if stream is None:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except (OSError, ValueError):
        return False
    return "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ
