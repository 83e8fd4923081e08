"""``featherflow.errors``: TensorFlow's ``tf.errors`` exception classes and codes (re-exports only)."""

from featherflow.compiler.errors import OperatorNotAllowedInGraphError  # noqa: F401
from featherflow.core.errors import *  # noqa: F401,F403
from featherflow.core.errors import (  # noqa: F401
    OpError,
    error_code_from_exception_type,
    exception_type_from_error_code,
)
