"""``tf.debugging``: assertions that raise ``InvalidArgumentError`` in eager mode, with TensorFlow's messages.

Value assertions (``assert_equal``, ``assert_less``, ``assert_near``, ...) broadcast their operands and, on
failure, report the condition and the first elements; static checks (rank, shape, dtype) raise
``ValueError``/``TypeError`` as TensorFlow does. ``check_numerics`` raises on NaN/Inf; ``enable_check_numerics``
makes NumPy raise ``FloatingPointError`` wherever an op creates a NaN or Inf (``numpy.seterr``), until
``disable_check_numerics``.

>>> import featherflow as ff
>>> ff.debugging.assert_equal(ff.constant([1, 2]), ff.constant([1, 2])) is None
True
"""

from __future__ import annotations

import collections.abc as _abc

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.ops._convert import as_tensor, binary_operands


def _summary(values, summarize) -> str:
    flat = np.asarray(values).reshape(-1)
    n = flat.size if summarize is None else min(int(summarize), flat.size)
    return f"{np.array2string(flat[:n], separator=' ')}"


def _fail_binary(x, y, condition, message, summarize, mask=None):
    xv, yv = np.asarray(x.value), np.asarray(y.value)
    lines = [message] if message else []
    lines.append(f"Condition {condition} did not hold.")
    if mask is not None and xv.shape == yv.shape:
        bad = np.argwhere(~mask)
        n = len(bad) if summarize is None else min(int(summarize), len(bad))
        lines += [f"Indices of first {n} different values:", str(bad[:n]), "Corresponding x values:",
                  _summary(xv[tuple(bad[:n].T)], None), "Corresponding y values:", _summary(yv[tuple(bad[:n].T)], None)]
    n_x = xv.size if summarize is None else min(int(summarize), xv.size)
    n_y = yv.size if summarize is None else min(int(summarize), yv.size)
    lines += [f"First {n_x} elements of x:", _summary(xv, summarize), f"First {n_y} elements of y:",
              _summary(yv, summarize)]
    raise InvalidArgumentError(None, None, "\n".join(lines))


def _compare(x, y, fn, condition, message, summarize, op):
    x, y = binary_operands(x, y, op)
    try:
        holds = fn(np.asarray(x.value), np.asarray(y.value))
    except ValueError:
        raise ValueError(f"{op}: x and y must broadcast together. Received: x.shape={tuple(x.shape)}, "
                         f"y.shape={tuple(y.shape)}") from None
    if not np.all(holds):
        _fail_binary(x, y, condition, message, summarize, np.broadcast_to(holds, np.broadcast_shapes(
            x.value.shape, y.value.shape)) if x.value.shape == y.value.shape else None)
    return None


def assert_equal(x, y, message=None, summarize=None, name=None):
    """Raise ``InvalidArgumentError`` unless ``x == y`` everywhere (broadcast).

    >>> assert_equal([1, 2], [1, 2]) is None
    True
    """
    return _compare(x, y, np.equal, "x == y", message, summarize, "assert_equal")


def assert_none_equal(x, y, summarize=None, message=None, name=None):
    """Raise unless ``x != y`` everywhere.

    >>> assert_none_equal([1, 2], [3, 4]) is None
    True
    """
    return _compare(x, y, np.not_equal, "x != y", message, summarize, "assert_none_equal")


def assert_less(x, y, message=None, summarize=None, name=None):
    """Raise unless ``x < y`` everywhere.

    >>> assert_less([1.0], 2.0) is None
    True
    """
    return _compare(x, y, np.less, "x < y", message, summarize, "assert_less")


def assert_less_equal(x, y, message=None, summarize=None, name=None):
    """Raise unless ``x <= y`` everywhere.

    >>> assert_less_equal([2.0], 2.0) is None
    True
    """
    return _compare(x, y, np.less_equal, "x <= y", message, summarize, "assert_less_equal")


def assert_greater(x, y, message=None, summarize=None, name=None):
    """Raise unless ``x > y`` everywhere.

    >>> assert_greater([3.0], 2.0) is None
    True
    """
    return _compare(x, y, np.greater, "x > y", message, summarize, "assert_greater")


def assert_greater_equal(x, y, message=None, summarize=None, name=None):
    """Raise unless ``x >= y`` everywhere.

    >>> assert_greater_equal([2.0], 2.0) is None
    True
    """
    return _compare(x, y, np.greater_equal, "x >= y", message, summarize, "assert_greater_equal")


def _sign_check(x, fn, condition, message, summarize, op):
    t = as_tensor(x, op, "x")
    return _compare(t, Tensor(np.zeros((), dtype=t.value.dtype)), fn, condition, message, summarize, op)


def assert_positive(x, message=None, summarize=None, name=None):
    """Raise unless ``x > 0`` everywhere.

    >>> assert_positive([1, 2]) is None
    True
    """
    return _sign_check(x, np.greater, "x > 0", message, summarize, "assert_positive")


def assert_negative(x, message=None, summarize=None, name=None):
    """Raise unless ``x < 0`` everywhere.

    >>> assert_negative([-1]) is None
    True
    """
    return _sign_check(x, np.less, "x < 0", message, summarize, "assert_negative")


def assert_non_negative(x, message=None, summarize=None, name=None):
    """Raise unless ``x >= 0`` everywhere.

    >>> assert_non_negative([0, 1]) is None
    True
    """
    return _sign_check(x, np.greater_equal, "x >= 0", message, summarize, "assert_non_negative")


def assert_non_positive(x, message=None, summarize=None, name=None):
    """Raise unless ``x <= 0`` everywhere.

    >>> assert_non_positive([0, -1]) is None
    True
    """
    return _sign_check(x, np.less_equal, "x <= 0", message, summarize, "assert_non_positive")


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Raise unless ``|x - y| <= atol + rtol * |y|`` everywhere (default tolerances ``10 * eps`` of the dtype).

    >>> assert_near([1.0], [1.0 + 1e-7]) is None
    True
    """
    x, y = binary_operands(x, y, "assert_near")
    eps = np.finfo(x.value.dtype).eps if x.value.dtype.kind in "fc" else 0.0
    rtol = 10 * eps if rtol is None else float(rtol)
    atol = 10 * eps if atol is None else float(atol)
    xv, yv = np.asarray(x.value), np.asarray(y.value)
    close = np.abs(xv - yv) <= atol + rtol * np.abs(yv)
    if not np.all(close):
        text = (f"{message + chr(10) if message else ''}x and y not equal to tolerance rtol = {rtol}, atol = {atol}\n"
                f"x (shape={xv.shape} dtype={xv.dtype.name}) = {_summary(xv, summarize)}\n"
                f"y (shape={yv.shape} dtype={yv.dtype.name}) = {_summary(yv, summarize)}")
        raise InvalidArgumentError(None, None, text)
    return None


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TensorFlow's name
    """Raise ``InvalidArgumentError`` showing ``data`` (a list of tensors/strings) when ``condition`` is false.

    >>> Assert(True, ["never shown"]) is None
    True
    """
    cond = condition.value if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype.kind != "b" or cond.size != 1:
        raise ValueError(f"Assert: condition must be a scalar boolean. Received: {condition!r:.60}")
    if not bool(cond):
        parts = []
        for item in data:
            if isinstance(item, (str, bytes)):
                parts.append(item if isinstance(item, str) else item.decode())
            else:
                parts.append(", ".join(str(v) for v in np.asarray(item).reshape(-1)[:summarize or None]))
        raise InvalidArgumentError(None, None, "Expected condition to be true. Summarized data: " + "\n".join(parts))
    return None


def assert_rank(x, rank, message=None, name=None):
    """Raise ``ValueError`` unless ``x`` has rank ``rank``.

    >>> assert_rank([[1.0]], 2) is None
    True
    """
    t = as_tensor(x, "assert_rank", "x")
    if t.value.ndim != int(rank):
        raise ValueError(f"{message + ' ' if message else ''}Tensor must have rank {int(rank)}.  Received rank "
                         f"{t.value.ndim}, shape {tuple(t.value.shape)}")
    return None


def assert_rank_at_least(x, rank, message=None, name=None):
    """Raise ``ValueError`` unless ``x`` has rank at least ``rank``.

    >>> assert_rank_at_least([[1.0]], 1) is None
    True
    """
    t = as_tensor(x, "assert_rank_at_least", "x")
    if t.value.ndim < int(rank):
        raise ValueError(f"{message + ' ' if message else ''}Tensor must have rank at least {int(rank)}.  Received "
                         f"rank {t.value.ndim}, shape {tuple(t.value.shape)}")
    return None


def assert_rank_in(x, ranks, message=None, name=None):
    """Raise ``ValueError`` unless the rank of ``x`` is one of ``ranks``.

    >>> assert_rank_in([1.0], [1, 2]) is None
    True
    """
    t = as_tensor(x, "assert_rank_in", "x")
    allowed = [int(r) for r in ranks]
    if t.value.ndim not in allowed:
        raise ValueError(f"{message + ' ' if message else ''}Tensor must have rank in {tuple(allowed)}.  Received "
                         f"rank {t.value.ndim}, shape {tuple(t.value.shape)}")
    return None


def assert_scalar(tensor, message=None, name=None):
    """Raise ``ValueError`` unless ``tensor`` is a scalar; returns it.

    >>> float(assert_scalar(2.0))
    2.0
    """
    t = as_tensor(tensor, "assert_scalar", "tensor")
    if t.value.ndim != 0:
        raise ValueError(f"{message + ' ' if message else ''}Expected scalar shape, saw shape: {tuple(t.value.shape)}.")
    return t


def assert_integer(x, message=None, name=None):
    """Raise ``TypeError`` unless ``x`` has an integer dtype.

    >>> assert_integer([1, 2]) is None
    True
    """
    t = as_tensor(x, "assert_integer", "x")
    if t.value.dtype.kind not in "iu":
        raise TypeError(f'{message + " " if message else ""}Expected "x" to be integer type.  Found: tensor of dtype '
                        f"{t.dtype.name}")
    return None


def assert_type(tensor, tf_type, message=None, name=None):
    """Raise ``TypeError`` unless ``tensor`` has dtype ``tf_type``.

    >>> import featherflow as ff
    >>> assert_type(ff.constant(1.0), ff.float32) is None
    True
    """
    t = tensor if isinstance(tensor, Tensor) else convert_to_tensor(tensor)
    expected = np.dtype(tf_type)
    if t.value.dtype != expected:
        raise TypeError(f"{message + ' ' if message else ''}tensor must be of type tf.{expected.name}; got "
                        f"tf.{t.dtype.name}")
    return None


def assert_same_float_dtype(tensors=None, dtype=None):
    """The common floating dtype of ``tensors`` (and ``dtype``); ``ValueError`` when they differ or are not float.

    >>> import featherflow as ff
    >>> assert_same_float_dtype([ff.zeros(2), ff.ones(3)]).name
    'float32'
    """
    found = None if dtype is None else np.dtype(dtype)
    for t in tensors or []:
        current = t.value.dtype if isinstance(t, Tensor) else np.asarray(t).dtype
        if found is None:
            found = current
        elif current != found:
            raise ValueError(f"{t!r:.60}, type={current.name}, must be of the same type ({found.name}).")
    found = np.dtype("float32") if found is None else found
    if found.kind != "f":
        raise ValueError(f"Expected floating point type, got {found.name}.")
    return found


def assert_proper_iterable(values):
    """Raise ``TypeError`` unless ``values`` is an iterable that is not a tensor, array or string.

    >>> assert_proper_iterable([1, 2]) is None
    True
    """
    if isinstance(values, (Tensor, np.ndarray, str, bytes)) or not isinstance(values, _abc.Iterable):
        raise TypeError(f'Expected argument "values" to be a "proper" iterable.  Found: {type(values)}')
    return None


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Check tensors against symbolic shapes: each entry is ``(tensor, spec)`` with spec items an int, a
    symbol shared across tensors, or ``None``; a leading ``"..."`` matches any prefix.

    >>> import featherflow as ff
    >>> assert_shapes([(ff.zeros((2, 3)), ("N", "D")), (ff.zeros((2,)), ("N",))]) is None
    True
    """
    entries = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    sizes: dict = {}
    for tensor, spec in entries:
        t = as_tensor(tensor, "assert_shapes", "tensor")
        shape = t.value.shape
        spec = list(spec) if not isinstance(spec, str) else [spec]
        if spec and spec[0] == "...":
            spec = spec[1:]
            shape = shape[len(shape) - len(spec):] if len(spec) <= len(shape) else None
        if shape is None or len(shape) != len(spec):
            raise ValueError(f"{message + ' ' if message else ''}Specified by tensor shape={tuple(t.value.shape)} "
                             f"dtype={t.dtype.name}: rank must be {len(spec)}.  Received rank {t.value.ndim}")
        for axis, (symbol, size) in enumerate(zip(spec, shape)):
            if symbol is None:
                continue
            if isinstance(symbol, int):
                if size != symbol:
                    raise ValueError(f"{message + ' ' if message else ''}Tensor shape={tuple(t.value.shape)} "
                                     f"dimension {axis} must have size {symbol}.  Received size {size}")
                continue
            if symbol in sizes and sizes[symbol][0] != size:
                owner = sizes[symbol][1]
                raise ValueError(f"{message + ' ' if message else ''}Specified by tensor shape={owner} dimension "
                                 f"{sizes[symbol][2]}.  Tensor shape={tuple(t.value.shape)} dtype={t.dtype.name} "
                                 f"dimension {axis} must have size {sizes[symbol][0]}.  Received size {size}, shape "
                                 f"{tuple(t.value.shape)}")
            sizes.setdefault(symbol, (size, tuple(t.value.shape), axis))
    return None


def _bad_values(t):
    v = np.asarray(t.value)
    return np.isnan(v).any(), np.isinf(v).any()


def check_numerics(tensor, message, name=None) -> Tensor:
    """Return ``tensor`` if it has no NaN or Inf, else raise ``InvalidArgumentError`` (``"<message> : Tensor had
    NaN values"``). Gradients pass through.

    >>> import featherflow as ff
    >>> check_numerics(ff.constant([1.0]), "fine").numpy()
    array([1.], dtype=float32)
    """
    from featherflow.ops.math import identity

    t = as_tensor(tensor, "check_numerics", "tensor")
    if t.value.dtype.kind not in "fc":
        raise TypeError(f"check_numerics: expected a floating-point tensor. Received dtype {t.dtype.name}")
    has_nan, has_inf = _bad_values(t)
    if has_nan or has_inf:
        what = "NaN and Inf" if has_nan and has_inf else ("NaN" if has_nan else "Inf")
        raise InvalidArgumentError(None, None, f"{message} : Tensor had {what} values")
    return identity(t)


def assert_all_finite(x, message, name=None) -> Tensor:
    """``check_numerics``: returns ``x`` when every value is finite.

    >>> import featherflow as ff
    >>> assert_all_finite(ff.constant([1.0]), "fine").shape
    (1,)
    """
    return check_numerics(x, message)


_SAVED_ERRSTATE: list = []


def enable_check_numerics(stack_height_limit=30, path_length_limit=50) -> None:
    """Make NumPy raise ``FloatingPointError`` wherever an op creates a NaN or Inf (until
    ``disable_check_numerics``); ops that define NaN/Inf results on purpose (outside their domain) still
    return them silently."""
    if not _SAVED_ERRSTATE:
        _SAVED_ERRSTATE.append(np.geterr())
    np.seterr(divide="raise", over="raise", invalid="raise")


def disable_check_numerics() -> None:
    """Restore NumPy's floating-point error handling from before ``enable_check_numerics``."""
    if _SAVED_ERRSTATE:
        np.seterr(**_SAVED_ERRSTATE.pop())


def is_numeric_tensor(tensor) -> bool:
    """True for tensors of a numeric dtype (ints, floats, complex; not bool or string).

    >>> import featherflow as ff
    >>> is_numeric_tensor(ff.constant([1.0])), is_numeric_tensor(ff.constant([True]))
    (True, False)
    """
    return isinstance(tensor, Tensor) and tensor.value.dtype.kind in "iufc"
