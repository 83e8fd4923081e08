"""The differentiable gradient rules of ``ops/math.py``'s ops (arithmetic, powers, exp/log, abs, extremes,
clipping, casts), used for higher-order gradients (``core/gradients.py``). They sit beside ``math.py``, whose
raw-array rules serve first-order gradients, as ``nn_gradients.py`` does for ``nn.py``.

>>> from featherflow.core.gradients import has_gradient_rule
>>> has_gradient_rule("pow") and has_gradient_rule("cast")
True
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tensor import Tensor
from featherflow.ops._dual import locally_constant
from featherflow.ops.math import cast, floordiv, log, negative, pow


def _conj(t):
    if t.value.dtype.kind == "c":
        from featherflow.ops.complex import conj

        return conj(t)
    return t


def _mask(array, like):
    return Tensor(array.astype(like.value.dtype))


@register_gradient("add")
def _add_rule(op, g):
    return g, g


@register_gradient("subtract")
def _subtract_rule(op, g):
    return g, negative(g)


@register_gradient("multiply")
def _multiply_rule(op, g):
    x, y = op.inputs
    return (g * _conj(y) if op.needs[0] else None, g * _conj(x) if op.needs[1] else None)


@register_gradient("divide")
def _divide_rule(op, g):
    x, y = op.inputs
    return (g / _conj(y) if op.needs[0] else None, -g * _conj(op.output / y) if op.needs[1] else None)


@register_gradient("floormod")
def _floormod_rule(op, g):
    x, y = op.inputs
    return g, (-g * floordiv(x, y) if op.needs[1] else None)


@register_gradient("negative")
def _negative_rule(op, g):
    return (negative(g),)


@register_gradient("pow")
def _pow_rule(op, g):
    from featherflow.ops.compare import where

    x, y = op.inputs
    gx = g * y * pow(x, y - 1) if op.needs[0] else None
    gy = None
    if op.needs[1]:
        positive = x > 0
        gy = g * op.output * log(where(positive, x, x * 0 + 1))
    return gx, gy


@register_gradient("square")
def _square_rule(op, g):
    return (2 * g * op.inputs[0],)


@register_gradient("sqrt")
def _sqrt_rule(op, g):
    return (g * 0.5 / op.output,)


@register_gradient("rsqrt")
def _rsqrt_rule(op, g):
    y = op.output
    return (-0.5 * g * y * y * y,)


@register_gradient("exp")
def _exp_rule(op, g):
    return (g * op.output,)


@register_gradient("log")
def _log_rule(op, g):
    return (g / op.inputs[0],)


@register_gradient("log1p")
def _log1p_rule(op, g):
    return (g / (1 + op.inputs[0]),)


@register_gradient("abs")
def _abs_rule(op, g):
    x = op.inputs[0]
    if x.value.dtype.kind == "c":  # d|z| = g z / |z| (0 at 0), TensorFlow's convention for complex inputs
        magnitude = op.output
        at_zero = Tensor((magnitude.value == 0).astype(magnitude.value.dtype))
        return (cast(g, x.value.dtype) * x / cast(magnitude + at_zero, x.value.dtype),)
    return (g * locally_constant(array_module(x.value).sign(x.value), x, g.value.dtype),)


@register_gradient("maximum")
@register_gradient("minimum")
def _extreme_rule(op, g):
    x, y = op.inputs
    chosen = (x.value >= y.value) if op.name == "maximum" else (x.value <= y.value)
    return (g * _mask(chosen, g) if op.needs[0] else None, g * _mask(~chosen, g) if op.needs[1] else None)


@register_gradient("clip_by_value")
def _clip_rule(op, g):
    t, lo, hi = op.inputs
    below, above = t.value < lo.value, t.value > hi.value
    return g * _mask(~(below | above), g), g * _mask(below, g), g * _mask(above, g)


@register_gradient("squared_difference")
def _squared_difference_rule(op, g):
    x, y = op.inputs
    gx = 2 * g * (x - y)
    return gx, (negative(gx) if op.needs[1] else None)


@register_gradient("divide_no_nan")
def _divide_no_nan_rule(op, g):
    from featherflow.ops.compare import where

    x, y = op.inputs
    zero = Tensor(y.value == 0)
    safe = where(zero, y * 0 + 1, y)
    gx = where(zero, g * 0, g / safe) if op.needs[0] else None
    gy = where(zero, g * 0, -g * op.output / safe) if op.needs[1] else None
    return gx, gy


@register_gradient("add_n")
def _add_n_rule(op, g):
    return (g,) * len(op.inputs)


@register_gradient("identity")
def _identity_rule(op, g):
    return (g,)


@register_gradient("cast")
def _cast_rule(op, g):
    source = op.inputs[0].value.dtype
    if source.kind == "f" and g.value.dtype.kind == "c":
        from featherflow.ops.complex import real

        g = real(g)
    return (cast(g, source),)
