"""Comparisons and logical ops (boolean results, no gradient).

>>> import featherflow as ff
>>> ff.greater([1.0, 3.0], 2.0).numpy()
array([False,  True])
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor, binary_operands, broadcast_error


def _compare(name, fn, example):
    def op(x, y, name=None) -> Tensor:
        x, y = binary_operands(x, y, op.__name__)
        try:
            return Tensor(fn(x.value, y.value))
        except ValueError:
            raise broadcast_error(op.__name__, x, y) from None

    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = (f"Elementwise ``{name}`` with broadcasting; a boolean tensor (no gradient).\n\n"
                  f"    >>> {name}([1.0, 2.0, 3.0], 2.0).numpy()\n    {example}\n    ")
    return op


equal = _compare("equal", lambda a, b: a == b, "array([False,  True, False])")
not_equal = _compare("not_equal", lambda a, b: a != b, "array([ True, False,  True])")
less = _compare("less", lambda a, b: a < b, "array([ True, False, False])")
less_equal = _compare("less_equal", lambda a, b: a <= b, "array([ True,  True, False])")
greater = _compare("greater", lambda a, b: a > b, "array([False, False,  True])")
greater_equal = _compare("greater_equal", lambda a, b: a >= b, "array([False,  True,  True])")


def _bool_operand(x, op, arg):
    t = as_tensor(x, op, arg)
    if t.value.dtype.kind != "b":
        raise TypeError(f"{op}: argument `{arg}` must be a boolean tensor, received dtype {t.dtype.name}.")
    return t


def _logical(name, fn, example):
    def op(x, y, name=None) -> Tensor:
        x = _bool_operand(x, op.__name__, "x")
        y = _bool_operand(y, op.__name__, "y")
        try:
            return Tensor(fn(x.value, y.value))
        except ValueError:
            raise broadcast_error(op.__name__, x, y) from None

    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = (f"Elementwise ``{name}`` of two boolean tensors.\n\n"
                  f"    >>> {name}([True, True, False], [True, False, False]).numpy()\n    {example}\n    ")
    return op


logical_and = _logical("logical_and", lambda a, b: a & b, "array([ True, False, False])")
logical_or = _logical("logical_or", lambda a, b: a | b, "array([ True,  True, False])")
logical_xor = _logical("logical_xor", lambda a, b: a ^ b, "array([False,  True, False])")


def logical_not(x, name=None) -> Tensor:
    """Elementwise NOT of a boolean tensor.

    >>> logical_not([True, False]).numpy()
    array([False,  True])
    """
    x = _bool_operand(x, "logical_not", "x")
    return Tensor(~x.value)


def where(condition, x=None, y=None, name=None) -> Tensor:
    """Choose from ``x`` where ``condition`` is true, else from ``y`` (broadcast); with only
    ``condition``, the coordinates of true elements (int64, shape ``(n, rank)``).

    >>> where([True, False], [1.0, 2.0], [3.0, 4.0]).numpy()
    array([1., 4.], dtype=float32)
    """
    from featherflow.core.tape import record

    cond = as_tensor(condition, "where", "condition")
    if cond.value.dtype.kind != "b":
        raise TypeError(f"where: `condition` must be boolean, received dtype {cond.dtype.name}.")
    cv = cond.value
    xp = array_module(cv)
    if x is None and y is None:
        return Tensor(xp.argwhere(cv).astype("int64"))
    if x is None or y is None:
        raise ValueError("where: `x` and `y` must both be given, or neither.")
    x, y = binary_operands(x, y, "where")
    try:
        out = xp.where(cv, x.value, y.value)
    except ValueError:
        raise ValueError(
            f"where: condition, x and y must broadcast together. Received: condition.shape={cv.shape}, "
            f"x.shape={x.shape}, y.shape={y.shape}"
        ) from None

    def backward(g, needs):
        zero = xp.zeros((), dtype=g.dtype)
        return (xp.where(cv, g, zero) if needs[0] else None, xp.where(cv, zero, g) if needs[1] else None)

    return record("where", (x, y), out, backward)


@register_gradient("where")
def _where_rule(op, g):
    cond = Tensor(op.captured["cv"])
    zero = g * 0
    return (where(cond, g, zero) if op.needs[0] else None, where(cond, zero, g) if op.needs[1] else None)
