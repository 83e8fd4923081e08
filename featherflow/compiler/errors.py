"""The compiler's error types (re-exported as ``tf.errors.OperatorNotAllowedInGraphError``).

>>> issubclass(OperatorNotAllowedInGraphError, TypeError)
True
"""

from __future__ import annotations

from featherflow.compiler._state import TraceError


class OperatorNotAllowedInGraphError(TypeError):
    """A Python operation on a tensor that a traced function cannot express, such as ``if tensor:``
    (TensorFlow's ``tf.errors.OperatorNotAllowedInGraphError``)."""


__all__ = ["OperatorNotAllowedInGraphError", "TraceError"]
