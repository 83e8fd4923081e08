"""Gradient formulas written once for both backward paths: raw arrays (first order) and ops (higher order).

A formula receives its operands and a math namespace ``m``: ``ARRAY`` computes with the array module
(the fast first-order rule recorded with the op), ``TENSOR`` with featherflow ops (the differentiable
rule the tape uses when an outer tape records the backward pass). Python operators work on both.

>>> import numpy as np
>>> float(ARRAY.rsqrt(np.float64(4.0)))
0.5
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.ops._convert import as_float_tensor, binary_operands, broadcast_error

# Special functions formulas may call: name -> (array function, op). Filled by the modules that define them.
SPECIAL: dict = {}


def define_special(name: str, array_fn, op) -> None:
    """Make ``m.special(name, ...)`` call ``array_fn`` (raw path) or ``op`` (differentiable path)."""
    SPECIAL[name] = (array_fn, op)


class ARRAY:
    """Array math for the raw backward rules."""

    @staticmethod
    def sqrt(a):
        return array_module(a).sqrt(a)

    @staticmethod
    def rsqrt(a):
        return 1 / array_module(a).sqrt(a)

    @staticmethod
    def exp(a):
        return array_module(a).exp(a)

    @staticmethod
    def log(a):
        return array_module(a).log(a)

    @staticmethod
    def log1p(a):
        return array_module(a).log1p(a)

    @staticmethod
    def square(a):
        return a * a

    @staticmethod
    def abs(a):
        return array_module(a).abs(a)

    @staticmethod
    def sign(a):
        return array_module(a).sign(a)

    @staticmethod
    def sin(a):
        return array_module(a).sin(a)

    @staticmethod
    def cos(a):
        return array_module(a).cos(a)

    @staticmethod
    def where(condition, a, b):
        return array_module(a).where(condition, a, b)

    @staticmethod
    def zeros_like(a):
        return array_module(a).zeros_like(a)

    @staticmethod
    def ones_like(a):
        return array_module(a).ones_like(a)

    @staticmethod
    def conj(a):
        return array_module(a).conj(a)

    @staticmethod
    def special(name, *args):
        return SPECIAL[name][0](*args)


class TENSOR:
    """featherflow ops for the differentiable (higher-order) rules."""

    @staticmethod
    def sqrt(a):
        from featherflow.ops.math import sqrt

        return sqrt(a)

    @staticmethod
    def rsqrt(a):
        from featherflow.ops.math import rsqrt

        return rsqrt(a)

    @staticmethod
    def exp(a):
        from featherflow.ops.math import exp

        return exp(a)

    @staticmethod
    def log(a):
        from featherflow.ops.math import log

        return log(a)

    @staticmethod
    def log1p(a):
        from featherflow.ops.math import log1p

        return log1p(a)

    @staticmethod
    def square(a):
        from featherflow.ops.math import square

        return square(a)

    @staticmethod
    def abs(a):
        from featherflow.ops.math import abs as abs_

        return abs_(a)

    @staticmethod
    def sign(a):
        from featherflow.ops.math import sign

        return sign(a)

    @staticmethod
    def sin(a):
        from featherflow.ops.elementwise import sin

        return sin(a)

    @staticmethod
    def cos(a):
        from featherflow.ops.elementwise import cos

        return cos(a)

    @staticmethod
    def where(condition, a, b):
        from featherflow.ops.compare import where

        return where(condition, a, b)

    @staticmethod
    def zeros_like(a):
        from featherflow.ops.creation import zeros_like

        return zeros_like(a)

    @staticmethod
    def ones_like(a):
        from featherflow.ops.creation import ones_like

        return ones_like(a)

    @staticmethod
    def conj(a):
        from featherflow.ops.complex import conj

        return conj(a)

    @staticmethod
    def special(name, *args):
        return SPECIAL[name][1](*args)


def unary(x, op_name: str, forward, derivative, check=as_float_tensor):
    """Record the elementwise op ``forward(x)`` whose derivative is ``derivative(x, y, m)``.

    Pair it with ``register_unary(op_name, derivative)`` once, so higher-order gradients use the same
    formula with ops.
    """
    x = check(x, op_name)
    xv = x.value
    with np.errstate(all="ignore"):  # outside the domain: NaN/inf silently, as in TensorFlow
        out = forward(xv)

    def backward(g, needs):
        with np.errstate(all="ignore"):
            return (g * derivative(xv, out, ARRAY),)

    return record(op_name, (x,), out, backward)


def register_unary(op_name: str, derivative) -> None:
    """Register the differentiable rule ``g * derivative(x, y, TENSOR)`` for a ``unary`` op."""
    register_gradient(op_name)(lambda op, g: (g * derivative(op.inputs[0], op.output, TENSOR),))


def binary(x, y, op_name: str, forward, gradients, float_only=True):
    """Record the broadcasting op ``forward(x, y)``; ``gradients(x, y, out, g, m, needs)`` returns ``(gx, gy)``.

    Pair it with ``register_binary(op_name, gradients)``.
    """
    x, y = binary_operands(x, y, op_name)
    if float_only and x.value.dtype.kind not in "fc":
        as_float_tensor(x, op_name)  # raises the float-only error
    xv, yv = x.value, y.value
    try:
        with np.errstate(all="ignore"):
            out = forward(xv, yv)
    except ValueError:
        raise broadcast_error(op_name, x, y) from None

    def backward(g, needs):
        with np.errstate(all="ignore"):
            return gradients(xv, yv, out, g, ARRAY, needs)

    return record(op_name, (x, y), out, backward)


def register_binary(op_name: str, gradients) -> None:
    """Register the differentiable rule of a ``binary`` op."""
    register_gradient(op_name)(
        lambda op, g: gradients(op.inputs[0], op.inputs[1], op.output, g, TENSOR, op.needs))


def record_op(name: str, inputs, value, attrs=None, multi: bool = False):
    """Record an op whose one gradient rule is written with ops (registered with ``register_gradient(name)``).

    The first-order backward pass runs that rule too, on Tensors wrapping the raw arrays, with no tape
    recording; so one formula serves both orders. Meant for ops whose cost dwarfs a few op dispatches
    (decompositions, FFTs). ``attrs`` (constants of the op) reach the rule as ``op.captured["attrs"]``.
    ``multi``: ``value`` is a list of arrays, one per output.
    """
    from featherflow.core.gradients import OpRecord, gradient_rule
    from featherflow.core.tape import pause_all_tapes, record_multi
    from featherflow.core.tensor import Tensor

    holder = []
    attrs = {} if attrs is None else attrs

    def backward(g, needs):
        grads = [None if gi is None else Tensor(gi) for gi in g] if multi else Tensor(g)
        with pause_all_tapes():
            results = gradient_rule(name)(OpRecord(name, inputs, holder[0], needs, backward), grads)
        return tuple(None if r is None else r.value for r in results)

    backward.attrs = attrs  # what the rule reads as op.captured["attrs"]
    if multi:
        outs = record_multi(name, inputs, value, backward)
        holder.append(tuple(outs))
        return outs
    out = record(name, inputs, value, backward)
    holder.append(out)
    return out


def locally_constant(array, source, dtype):
    """``array`` (a mask or slope read off ``source``'s values) as a tensor recorded as a function of ``source``
    with a zero derivative. A rule that multiplies by it (ReLU's ``g * (x > 0)``) then stays connected to
    ``source``, so the Hessian of a piecewise-linear function is zeros, as in TensorFlow, rather than None."""
    from featherflow.core.tensor import Tensor

    value = array_module(array).asarray(array, dtype=dtype)
    if not isinstance(source, Tensor):
        return Tensor(value)
    return record("locally_constant", (source,), value, lambda g, needs: (_zeros_like(source),))


def _zeros_like(t):
    return array_module(t.value).zeros(t.value.shape, dtype=t.value.dtype)


@register_gradient("locally_constant")
def _locally_constant_rule(op, g):
    return (locally_constant(_zeros_like(op.inputs[0]), op.inputs[0], op.inputs[0].value.dtype),)
