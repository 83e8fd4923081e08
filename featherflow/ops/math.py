"""Elementwise arithmetic, each op with its gradient rule beside it.

>>> import featherflow as ff
>>> ff.add([1.0, 2.0], 1.0).numpy()
array([2., 3.], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor, binary_operands


def add(x, y, name=None) -> Tensor:
    """``x + y`` with broadcasting.  >>> add([1.0], [2.0]).numpy()  # array([3.], dtype=float32)"""
    x, y = binary_operands(x, y, "add")
    return record("add", (x, y), x.value + y.value, lambda g, needs: (g, g))


def subtract(x, y, name=None) -> Tensor:
    """``x - y`` with broadcasting.

    >>> subtract([3.0], [1.0]).numpy()
    array([2.], dtype=float32)
    """
    x, y = binary_operands(x, y, "subtract")
    return record("subtract", (x, y), x.value - y.value, lambda g, needs: (g, -g if needs[1] else None))


def multiply(x, y, name=None) -> Tensor:
    """``x * y`` with broadcasting.

    >>> multiply([2.0, 3.0], 2.0).numpy()
    array([4., 6.], dtype=float32)
    """
    x, y = binary_operands(x, y, "multiply")
    xv, yv = x.value, y.value
    return record("multiply", (x, y), xv * yv,
                  lambda g, needs: (g * yv if needs[0] else None, g * xv if needs[1] else None))


def divide(x, y, name=None) -> Tensor:
    """``x / y`` (true division; integer inputs give floats as in TensorFlow's ``truediv``).

    >>> divide([1.0], [4.0]).numpy()
    array([0.25], dtype=float32)
    """
    x, y = binary_operands(x, y, "divide")
    xv, yv = x.value, y.value
    if xv.dtype.kind in "iub":
        return Tensor(xv / yv)
    out = xv / yv
    return record("divide", (x, y), out,
                  lambda g, needs: (g / yv if needs[0] else None, -g * out / yv if needs[1] else None))


truediv = divide


def floordiv(x, y, name=None) -> Tensor:
    """``x // y`` (no gradient)."""
    x, y = binary_operands(x, y, "floordiv")
    return Tensor(x.value // y.value)


def floormod(x, y, name=None) -> Tensor:
    """``x % y`` with the sign of ``y``; gradient 1 w.r.t. ``x``, ``-floor(x/y)`` w.r.t. ``y``."""
    x, y = binary_operands(x, y, "floormod")
    xv, yv = x.value, y.value
    return record("floormod", (x, y), xv % yv,
                  lambda g, needs: (g, -g * (xv // yv) if needs[1] else None))


mod = floormod


def negative(x, name=None) -> Tensor:
    """``-x``.

    >>> negative([1.0]).numpy()
    array([-1.], dtype=float32)
    """
    x = as_tensor(x, "negative")
    return record("negative", (x,), -x.value, lambda g, needs: (-g,))


def pow(x, y, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """``x ** y`` elementwise.

    >>> pow([2.0, 3.0], 2.0).numpy()
    array([4., 9.], dtype=float32)
    """
    x, y = binary_operands(x, y, "pow")
    xv, yv = x.value, y.value
    out = xv ** yv

    def backward(g, needs):
        xp = array_module(xv)
        gx = g * yv * xv ** (yv - 1) if needs[0] else None
        gy = None
        if needs[1]:
            safe = xp.where(xv > 0, xv, 1)
            gy = g * out * xp.log(safe)
        return gx, gy

    return record("pow", (x, y), out, backward)


def square(x, name=None) -> Tensor:
    """``x * x``.

    >>> square([3.0]).numpy()
    array([9.], dtype=float32)
    """
    x = as_tensor(x, "square")
    xv = x.value
    return record("square", (x,), xv * xv, lambda g, needs: (2 * g * xv,))


def sqrt(x, name=None) -> Tensor:
    """Square root.

    >>> sqrt([4.0]).numpy()
    array([2.], dtype=float32)
    """
    x = as_float_tensor(x, "sqrt")
    out = array_module(x.value).sqrt(x.value)
    return record("sqrt", (x,), out, lambda g, needs: (g * 0.5 / out,))


def rsqrt(x, name=None) -> Tensor:
    """``1 / sqrt(x)``.

    >>> rsqrt([4.0]).numpy()
    array([0.5], dtype=float32)
    """
    x = as_float_tensor(x, "rsqrt")
    out = 1 / array_module(x.value).sqrt(x.value)
    return record("rsqrt", (x,), out, lambda g, needs: (-0.5 * g * out * out * out,))


def exp(x, name=None) -> Tensor:
    """``e ** x``.

    >>> exp([0.0]).numpy()
    array([1.], dtype=float32)
    """
    x = as_float_tensor(x, "exp")
    out = array_module(x.value).exp(x.value)
    return record("exp", (x,), out, lambda g, needs: (g * out,))


def log(x, name=None) -> Tensor:
    """Natural logarithm.

    >>> log([1.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "log")
    xv = x.value
    return record("log", (x,), array_module(xv).log(xv), lambda g, needs: (g / xv,))


def log1p(x, name=None) -> Tensor:
    """``log(1 + x)``, accurate for small ``x``.

    >>> log1p([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "log1p")
    xv = x.value
    return record("log1p", (x,), array_module(xv).log1p(xv), lambda g, needs: (g / (1 + xv),))


def abs(x, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """Absolute value (gradient ``sign(x)``, 0 at 0).

    >>> abs([-2.0]).numpy()
    array([2.], dtype=float32)
    """
    x = as_tensor(x, "abs")
    xv = x.value
    xp = array_module(xv)
    return record("abs", (x,), xp.abs(xv), lambda g, needs: (g * xp.sign(xv),))


def sign(x, name=None) -> Tensor:
    """-1, 0 or 1 elementwise (no gradient: zero almost everywhere).

    >>> sign([-2.0, 0.0, 3.0]).numpy()
    array([-1.,  0.,  1.], dtype=float32)
    """
    x = as_tensor(x, "sign")
    return Tensor(array_module(x.value).sign(x.value))


def maximum(x, y, name=None) -> Tensor:
    """Elementwise maximum; the gradient goes to ``x`` where ``x >= y``.

    >>> maximum([1.0, 4.0], [3.0, 2.0]).numpy()
    array([3., 4.], dtype=float32)
    """
    x, y = binary_operands(x, y, "maximum")
    xv, yv = x.value, y.value
    xp = array_module(xv)

    def backward(g, needs):
        mask = xv >= yv
        return (g * mask if needs[0] else None, g * ~mask if needs[1] else None)

    return record("maximum", (x, y), xp.maximum(xv, yv), backward)


def minimum(x, y, name=None) -> Tensor:
    """Elementwise minimum; the gradient goes to ``x`` where ``x <= y``.

    >>> minimum([1.0, 4.0], [3.0, 2.0]).numpy()
    array([1., 2.], dtype=float32)
    """
    x, y = binary_operands(x, y, "minimum")
    xv, yv = x.value, y.value
    xp = array_module(xv)

    def backward(g, needs):
        mask = xv <= yv
        return (g * mask if needs[0] else None, g * ~mask if needs[1] else None)

    return record("minimum", (x, y), xp.minimum(xv, yv), backward)


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """Clip ``t`` to ``[clip_value_min, clip_value_max]``; gradient 1 inside the range, 0 outside.

    >>> clip_by_value([-2.0, 0.5, 3.0], 0.0, 1.0).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    t = as_tensor(t, "clip_by_value", "t")
    lo = as_tensor(clip_value_min, "clip_by_value", "clip_value_min", dtype=t.value.dtype).value
    hi = as_tensor(clip_value_max, "clip_by_value", "clip_value_max", dtype=t.value.dtype).value
    if (lo > hi).any():
        raise ValueError(
            f"clip_by_value: clip_value_min must be <= clip_value_max. Received: "
            f"clip_value_min={lo}, clip_value_max={hi}"
        )
    tv = t.value
    xp = array_module(tv)
    return record("clip_by_value", (t,), xp.clip(tv, lo, hi),
                  lambda g, needs: (g * ((tv >= lo) & (tv <= hi)),))


def cast(x, dtype, name=None) -> Tensor:
    """Convert ``x`` to ``dtype``; float-to-float casts pass gradients through.

    >>> cast([1.7, -1.7], "int32").numpy()
    array([ 1, -1], dtype=int32)
    """
    import numpy as np

    x = as_tensor(x, "cast")
    target = np.dtype(dtype)
    if x.value.dtype == target:
        return x
    src_dtype = x.value.dtype
    out = x.value.astype(target)
    if target.kind in "fc" and src_dtype.kind in "fc":
        return record("cast", (x,), out, lambda g, needs: (g.astype(src_dtype),))
    return Tensor(out)


def stop_gradient(x, name=None) -> Tensor:
    """The same value, but recorded as a constant: no gradient flows through it.

    >>> stop_gradient([1.0]).numpy()
    array([1.], dtype=float32)
    """
    x = as_tensor(x, "stop_gradient")
    return Tensor(x.value)


def identity(x, name=None) -> Tensor:
    """The same value; gradients pass through unchanged."""
    x = as_tensor(x, "identity")
    return record("identity", (x,), x.value, lambda g, needs: (g,))
