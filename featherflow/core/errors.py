"""TensorFlow's exception classes (``tf.errors``).

``OpError`` subclasses carry TensorFlow's error codes. Those that correspond to a Python built-in also
derive from it (``InvalidArgumentError`` is a ``ValueError``, ``OutOfRangeError`` an ``IndexError``,
``UnimplementedError`` a ``NotImplementedError``, ...), so code catching either kind works: featherflow's
ops raise ``ValueError`` for invalid arguments and the ``tf.debugging`` asserts raise
``InvalidArgumentError``, as TensorFlow does in eager mode.

>>> try:
...     raise InvalidArgumentError(None, None, "x must be positive")
... except ValueError as exc:
...     print(exc.message, exc.error_code == INVALID_ARGUMENT)
x must be positive True
"""

from __future__ import annotations

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """The base class of TensorFlow's runtime errors.

    Args:
        node_def: the failing node (None in eager execution; a message string alone is accepted too).
        op: the failing op (None in eager execution).
        message: the error message.
        error_code: one of the codes in this module.
    """

    error_code_default = UNKNOWN

    def __init__(self, node_def=None, op=None, message=None, error_code=None, *args):
        if message is None and isinstance(node_def, str):
            node_def, message = None, node_def
        super().__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = "" if message is None else str(message)
        self._error_code = self.error_code_default if error_code is None else error_code

    @property
    def message(self) -> str:
        return self._message

    @property
    def op(self):
        return self._op

    @property
    def node_def(self):
        return self._node_def

    @property
    def error_code(self) -> int:
        return self._error_code

    @property
    def experimental_payloads(self) -> dict:
        return {}

    def __str__(self) -> str:
        return self._message

    def __reduce__(self):
        return type(self), (self._node_def, self._op, self._message)


def _error(name, code, *bases, doc):
    cls = type(name, (OpError, *bases), {"error_code_default": code, "__doc__": doc})

    def __init__(self, node_def=None, op=None, message=None, *args):
        OpError.__init__(self, node_def, op, message, code)

    cls.__init__ = __init__
    return cls


CancelledError = _error("CancelledError", CANCELLED, doc="An operation or step was cancelled.")
UnknownError = _error("UnknownError", UNKNOWN, doc="An unknown error.")
InvalidArgumentError = _error("InvalidArgumentError", INVALID_ARGUMENT, ValueError,
                              doc="An operation received an invalid argument (also a ValueError).")
DeadlineExceededError = _error("DeadlineExceededError", DEADLINE_EXCEEDED, TimeoutError,
                               doc="A deadline expired before the operation could complete.")
NotFoundError = _error("NotFoundError", NOT_FOUND, LookupError, doc="A requested entity (e.g. a file) was not found.")
AlreadyExistsError = _error("AlreadyExistsError", ALREADY_EXISTS, doc="An entity that we attempted to create exists.")
PermissionDeniedError = _error("PermissionDeniedError", PERMISSION_DENIED, PermissionError,
                               doc="The caller does not have permission to run the operation.")
ResourceExhaustedError = _error("ResourceExhaustedError", RESOURCE_EXHAUSTED, MemoryError,
                                doc="Some resource (memory, a quota) has been exhausted.")
FailedPreconditionError = _error("FailedPreconditionError", FAILED_PRECONDITION, RuntimeError,
                                 doc="The system is not in a state to run the operation (e.g. an uninitialized value).")
AbortedError = _error("AbortedError", ABORTED, doc="The operation was aborted (e.g. by a concurrent action).")
OutOfRangeError = _error("OutOfRangeError", OUT_OF_RANGE, IndexError,
                         doc="An operation iterated past the valid range (e.g. the end of a dataset).")
UnimplementedError = _error("UnimplementedError", UNIMPLEMENTED, NotImplementedError,
                            doc="The operation is not implemented or supported.")
InternalError = _error("InternalError", INTERNAL, RuntimeError, doc="An internal invariant was broken.")
UnavailableError = _error("UnavailableError", UNAVAILABLE, doc="The runtime is currently unavailable.")
DataLossError = _error("DataLossError", DATA_LOSS, doc="Unrecoverable data loss or corruption.")
UnauthenticatedError = _error("UnauthenticatedError", UNAUTHENTICATED,
                              doc="The request does not have valid authentication credentials.")

_BY_CODE = {cls.error_code_default: cls for cls in (
    CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError, NotFoundError, AlreadyExistsError,
    PermissionDeniedError, ResourceExhaustedError, FailedPreconditionError, AbortedError, OutOfRangeError,
    UnimplementedError, InternalError, UnavailableError, DataLossError, UnauthenticatedError)}


def exception_type_from_error_code(error_code: int) -> type:
    """The exception class for a TensorFlow error code.

    >>> exception_type_from_error_code(OUT_OF_RANGE).__name__
    'OutOfRangeError'
    """
    try:
        return _BY_CODE[error_code]
    except KeyError:
        raise KeyError(f"Unknown TensorFlow error code. Received: error_code={error_code!r}") from None


def error_code_from_exception_type(cls: type) -> int:
    """The TensorFlow error code of an ``OpError`` subclass (``UNKNOWN`` for other exceptions).

    >>> error_code_from_exception_type(InvalidArgumentError)
    3
    """
    return getattr(cls, "error_code_default", UNKNOWN)
