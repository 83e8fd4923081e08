"""Elementwise arithmetic, each op with its gradient rule beside it.

>>> import featherflow as ff
>>> ff.add([1.0, 2.0], 1.0).numpy()
array([2., 3.], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor, binary_operands, broadcast_error


def _add_backward(g, needs):
    return g, g


def add(x, y, name=None) -> Tensor:
    """``x + y`` with broadcasting.

    >>> add([1.0], [2.0]).numpy()
    array([3.], dtype=float32)
    """
    x, y = binary_operands(x, y, "add")
    try:
        out = x.value + y.value
    except ValueError:
        raise broadcast_error("add", x, y) from None
    return record("add", (x, y), out, _add_backward)


def subtract(x, y, name=None) -> Tensor:
    """``x - y`` with broadcasting.

    >>> subtract([3.0], [1.0]).numpy()
    array([2.], dtype=float32)
    """
    x, y = binary_operands(x, y, "subtract")
    try:
        out = x.value - y.value
    except ValueError:
        raise broadcast_error("subtract", x, y) from None
    return record("subtract", (x, y), out, lambda g, needs: (g, -g if needs[1] else None))


def multiply(x, y, name=None) -> Tensor:
    """``x * y`` with broadcasting.

    >>> multiply([2.0, 3.0], 2.0).numpy()
    array([4., 6.], dtype=float32)
    """
    x, y = binary_operands(x, y, "multiply")
    xv, yv = x.value, y.value
    try:
        out = xv * yv
    except ValueError:
        raise broadcast_error("multiply", x, y) from None
    return record("multiply", (x, y), out, lambda g, needs: (
        (g * yv.conj() if g.dtype.kind == "c" else g * yv) if needs[0] else None,
        (g * xv.conj() if g.dtype.kind == "c" else g * xv) if needs[1] else None))


def divide(x, y, name=None) -> Tensor:
    """``x / y`` (true division; integer inputs give floats as in TensorFlow's ``truediv``).

    >>> divide([1.0], [4.0]).numpy()
    array([0.25], dtype=float32)
    """
    x, y = binary_operands(x, y, "divide")
    xv, yv = x.value, y.value
    try:
        out = xv / yv
    except ValueError:
        raise broadcast_error("divide", x, y) from None
    if xv.dtype.kind in "iub":  # TensorFlow: 8- and 16-bit integers divide to float32, wider ones to float64
        return Tensor(out.astype("float32") if xv.dtype.itemsize <= 2 else out)
    return record("divide", (x, y), out, lambda g, needs: (
        (g / yv.conj() if g.dtype.kind == "c" else g / yv) if needs[0] else None,
        (-g * (out / yv).conj() if g.dtype.kind == "c" else -g * out / yv) if needs[1] else None))


truediv = divide


def floordiv(x, y, name=None) -> Tensor:
    """``x // y``: floor division (no gradient).

    >>> floordiv([7.0, -7.0], 2.0).numpy()
    array([ 3., -4.], dtype=float32)
    """
    x, y = binary_operands(x, y, "floordiv")
    try:
        return Tensor(x.value // y.value)
    except ValueError:
        raise broadcast_error("floordiv", x, y) from None


def floormod(x, y, name=None) -> Tensor:
    """``x % y`` with the sign of ``y``; gradient 1 w.r.t. ``x``, ``-floor(x/y)`` w.r.t. ``y``.

    >>> floormod([7.0, -7.0], 3.0).numpy()
    array([1., 2.], dtype=float32)
    """
    x, y = binary_operands(x, y, "floormod")
    xv, yv = x.value, y.value
    try:
        out = xv % yv
    except ValueError:
        raise broadcast_error("floormod", x, y) from None
    return record("floormod", (x, y), out,
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
    try:
        out = xv ** yv
    except ValueError as exc:
        if "Integers to negative integer powers" in str(exc):
            raise ValueError(f"pow: integers to negative integer powers are not allowed. Received: y={yv}") from None
        raise broadcast_error("pow", x, y) from None

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

    try:
        out = xp.maximum(xv, yv)
    except ValueError:
        raise broadcast_error("maximum", x, y) from None
    return record("maximum", (x, y), out, backward)


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

    try:
        out = xp.minimum(xv, yv)
    except ValueError:
        raise broadcast_error("minimum", x, y) from None
    return record("minimum", (x, y), out, backward)


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """Clip ``t`` to ``[clip_value_min, clip_value_max]`` (bounds broadcast against ``t``).

    Gradient: to ``t`` where it lies inside the range (bounds included), to a bound where
    ``t`` is beyond it, as in TensorFlow.

    >>> clip_by_value([-2.0, 0.5, 3.0], 0.0, 1.0).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    t = as_tensor(t, "clip_by_value", "t")
    dtype = t.value.dtype
    lo_t = clip_value_min if isinstance(clip_value_min, Tensor) else as_tensor(
        clip_value_min, "clip_by_value", "clip_value_min", dtype=dtype)
    hi_t = clip_value_max if isinstance(clip_value_max, Tensor) else as_tensor(
        clip_value_max, "clip_by_value", "clip_value_max", dtype=dtype)
    for bound, arg in ((lo_t, "clip_value_min"), (hi_t, "clip_value_max")):
        if bound.value.dtype != dtype:
            raise TypeError(
                f"clip_by_value: `{arg}` must have the dtype of `t` ({dtype.name}), received {bound.dtype.name}.")
    lo, hi = lo_t.value, hi_t.value
    if (lo > hi).any():
        raise ValueError(
            f"clip_by_value: clip_value_min must be <= clip_value_max. Received: "
            f"clip_value_min={lo}, clip_value_max={hi}"
        )
    tv = t.value
    xp = array_module(tv)
    try:
        out = xp.clip(tv, lo, hi)
    except ValueError:
        raise ValueError(
            f"clip_by_value: the bounds must broadcast to the shape of `t`. Received: t.shape={tv.shape}, "
            f"clip_value_min.shape={lo.shape}, clip_value_max.shape={hi.shape}"
        ) from None
    if out.shape != tv.shape:
        raise ValueError(
            f"clip_by_value: the bounds must broadcast to the shape of `t`; they may not enlarge it. "
            f"Received: t.shape={tv.shape}, clip_value_min.shape={lo.shape}, clip_value_max.shape={hi.shape}"
        )

    def backward(g, needs):
        below, above = tv < lo, tv > hi
        zero = xp.zeros((), dtype=g.dtype)
        return (xp.where(below | above, zero, g),
                xp.where(below, g, zero) if needs[1] else None,
                xp.where(above, g, zero) if needs[2] else None)

    return record("clip_by_value", (t, lo_t, hi_t), out, backward)


def squared_difference(x, y, name=None) -> Tensor:
    """``(x - y) ** 2`` with broadcasting.

    >>> squared_difference([1.0, 5.0], 3.0).numpy()
    array([4., 4.], dtype=float32)
    """
    x, y = binary_operands(x, y, "squared_difference")
    try:
        diff = x.value - y.value
    except ValueError:
        raise broadcast_error("squared_difference", x, y) from None

    def backward(g, needs):
        gx = 2 * g * diff
        return gx, (-gx if needs[1] else None)

    return record("squared_difference", (x, y), diff * diff, backward)


def divide_no_nan(x, y, name=None) -> Tensor:
    """``x / y``, but 0 wherever ``y == 0`` (also in the gradient).

    >>> divide_no_nan([1.0, 1.0], [2.0, 0.0]).numpy()
    array([0.5, 0. ], dtype=float32)
    """
    x, y = binary_operands(x, y, "divide_no_nan")
    xv, yv = x.value, y.value
    if xv.dtype.kind not in "fc":
        raise TypeError(f"divide_no_nan: arguments must be floating-point tensors, received dtype {xv.dtype.name}.")
    xp = array_module(xv)
    zero = yv == 0
    safe = xp.where(zero, xp.ones((), dtype=yv.dtype), yv)
    out = xp.where(zero, xp.zeros((), dtype=xv.dtype), xv / safe)

    def backward(g, needs):
        gx = xp.where(zero, 0, g / safe) if needs[0] else None
        gy = xp.where(zero, 0, -g * out / safe) if needs[1] else None
        return gx, gy

    return record("divide_no_nan", (x, y), out, backward)


def add_n(inputs, name=None) -> Tensor:
    """Elementwise sum of a list of same-shaped tensors.

    >>> add_n([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).numpy()
    array([ 9., 12.], dtype=float32)
    """
    from featherflow.ops.shape import tensor_list

    if isinstance(inputs, Tensor):
        inputs = [inputs]
    tensors = tensor_list(inputs, "add_n")
    first = tensors[0].value.shape
    for i, t in enumerate(tensors):
        if t.value.shape != first:
            raise ValueError(
                f"add_n: all inputs must have the same shape. Received: inputs[0].shape={first}, "
                f"inputs[{i}].shape={t.value.shape}"
            )
    total = tensors[0].value.copy()
    for t in tensors[1:]:
        total += t.value
    return record("add_n", tuple(tensors), total, lambda g, needs: (g,) * len(needs))


def scalar_mul(scalar, x, name=None) -> Tensor:
    """``scalar * x`` for a scalar ``scalar``.

    >>> scalar_mul(2.0, [1.0, 2.0]).numpy()
    array([2., 4.], dtype=float32)
    """
    x = as_tensor(x, "scalar_mul", "x")
    s = as_tensor(scalar, "scalar_mul", "scalar", dtype=x.value.dtype) if not isinstance(scalar, Tensor) else scalar
    if s.value.ndim != 0:
        raise ValueError(f"scalar_mul: `scalar` must be a scalar. Received: shape={s.shape}")
    return multiply(s, x)


def _snapshot(x: Tensor):
    """The value of ``x`` as a new tensor's array: copied from a Variable (later assigns must not leak)."""
    from featherflow.core.variable import Variable

    return x.value.copy() if isinstance(x, Variable) else x.value


def cast(x, dtype, name=None) -> Tensor:
    """Convert ``x`` to ``dtype``; float-to-float casts pass gradients through.

    Float to integer truncates toward zero, as in TensorFlow.

    >>> cast([1.7, -1.7], "int32").numpy()
    array([ 1, -1], dtype=int32)
    """
    import numpy as np

    x = as_tensor(x, "cast")
    try:
        target = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"cast: `dtype` must be a dtype such as 'float32'. Received: dtype={dtype!r}") from None
    if x.value.dtype == target:
        return x if type(x) is Tensor else identity(x)  # a Variable is read into a snapshot
    src_dtype = x.value.dtype
    out = x.value.astype(target)
    if target.kind in "fc" and src_dtype.kind in "fc":
        to_real = src_dtype.kind == "f" and target.kind == "c"  # the gradient of a real input is the real part
        return record("cast", (x,), out, lambda g, needs: ((g.real if to_real else g).astype(src_dtype),))
    return Tensor(out)


def stop_gradient(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The same value, but recorded as a constant: no gradient flows through it.

    >>> stop_gradient([1.0]).numpy()
    array([1.], dtype=float32)
    """
    x = as_tensor(input, "stop_gradient", "input")
    return Tensor(_snapshot(x))


def identity(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The same value (a snapshot for Variables); gradients pass through unchanged.

    >>> identity([1.0]).numpy()
    array([1.], dtype=float32)
    """
    x = as_tensor(input, "identity", "input")
    return record("identity", (x,), _snapshot(x), lambda g, needs: (g,))


def saturate_cast(value, dtype, name=None) -> Tensor:
    """``cast`` after clipping ``value`` to the range of ``dtype`` (no wrap-around for out-of-range values).

    >>> saturate_cast([-300.0, 300.0], "int8").numpy()
    array([-128,  127], dtype=int8)
    """
    import numpy as np

    x = as_tensor(value, "saturate_cast", "value")
    target = np.dtype(dtype)
    source = x.value.dtype
    if target.kind in "iu" and source.kind in "iuf":
        info = np.iinfo(target)
        lo, hi = int(info.min), int(info.max)
        if source.kind in "iu":
            src = np.iinfo(source)
            lo, hi = max(lo, int(src.min)), min(hi, int(src.max))
            x = clip_by_value(x, source.type(lo), source.type(hi))
        else:
            top = source.type(hi)
            if int(top) > hi:  # the bound is not a float of this width: take the largest one below it
                top = np.nextafter(top, source.type(-np.inf))
            x = clip_by_value(x, source.type(lo), top)
    elif target.kind == "f" and source.kind == "f" and target.itemsize < source.itemsize:
        limit = float(np.finfo(target).max)
        x = clip_by_value(x, source.type(-limit), source.type(limit))
    return cast(x, target)
