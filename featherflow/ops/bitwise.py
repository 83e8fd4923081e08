"""Bitwise operations on integer tensors (``tf.bitwise``); no gradients.

Shifts by a negative amount or by at least the bit width are undefined in TensorFlow; here they give
NumPy's result.

>>> import featherflow as ff
>>> ff.bitwise.bitwise_and([12, 10], [10, 6]).numpy()
array([8, 2], dtype=int32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor, binary_operands, broadcast_error


def _integers(x, y, op):
    x, y = binary_operands(x, y, op)
    if x.value.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer tensors, received dtype {x.dtype.name}.")
    return x.value, y.value


def _binary(op, fn, x, y):
    xv, yv = _integers(x, y, op)
    try:
        return Tensor(fn(array_module(xv), xv, yv))
    except ValueError:
        raise broadcast_error(op, Tensor(xv), Tensor(yv)) from None


def bitwise_and(x, y, name=None) -> Tensor:
    """Elementwise ``x & y``.

    >>> bitwise_and([5], [3]).numpy()
    array([1], dtype=int32)
    """
    return _binary("bitwise_and", lambda xp, a, b: xp.bitwise_and(a, b), x, y)


def bitwise_or(x, y, name=None) -> Tensor:
    """Elementwise ``x | y``.

    >>> bitwise_or([5], [3]).numpy()
    array([7], dtype=int32)
    """
    return _binary("bitwise_or", lambda xp, a, b: xp.bitwise_or(a, b), x, y)


def bitwise_xor(x, y, name=None) -> Tensor:
    """Elementwise ``x ^ y``.

    >>> bitwise_xor([5], [3]).numpy()
    array([6], dtype=int32)
    """
    return _binary("bitwise_xor", lambda xp, a, b: xp.bitwise_xor(a, b), x, y)


def left_shift(x, y, name=None) -> Tensor:
    """Elementwise ``x << y``.

    >>> left_shift([1, 3], [2, 1]).numpy()
    array([4, 6], dtype=int32)
    """
    return _binary("left_shift", lambda xp, a, b: xp.left_shift(a, b), x, y)


def right_shift(x, y, name=None) -> Tensor:
    """Elementwise ``x >> y`` (arithmetic for signed types: the sign is kept).

    >>> right_shift([8, -8], [2, 2]).numpy()
    array([ 2, -2], dtype=int32)
    """
    return _binary("right_shift", lambda xp, a, b: xp.right_shift(a, b), x, y)


def invert(x, name=None) -> Tensor:
    """Elementwise bitwise NOT ``~x``.

    >>> invert([0, 1]).numpy()
    array([-1, -2], dtype=int32)
    """
    t = as_tensor(x, "invert")
    if t.value.dtype.kind not in "iu":
        raise TypeError(f"invert: expected an integer tensor, received dtype {t.dtype.name}.")
    return Tensor(array_module(t.value).invert(t.value))
