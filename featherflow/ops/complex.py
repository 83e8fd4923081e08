"""Complex numbers: ``complex``, ``real``, ``imag``, ``conj``, ``angle``.

Gradients follow TensorFlow's convention for a real loss ``L`` of a complex ``z = x + iy``: the
gradient is ``dL/dx + i dL/dy`` (so ``d|z|^2 = 2z``). Under it ``real``'s rule turns a real output
gradient ``g`` into ``g + 0i``, ``imag``'s into ``0 + ig``, ``conj``'s conjugates, and ``complex``
splits a complex gradient back into its parts.

>>> import featherflow as ff
>>> ff.complex([1.0], [2.0]).numpy()
array([1.+2.j], dtype=complex64)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor, binary_operands, broadcast_error

_COMPLEX_OF = {np.dtype("float32"): np.dtype("complex64"), np.dtype("float64"): np.dtype("complex128")}
_REAL_OF = {np.dtype("complex64"): np.dtype("float32"), np.dtype("complex128"): np.dtype("float64")}


def complex(real, imag, name=None) -> Tensor:  # noqa: A001 - TensorFlow's name
    """Build ``real + i * imag`` (float32 parts give complex64, float64 parts complex128).

    >>> complex(1.0, 2.0).numpy()
    array(1.+2.j, dtype=complex64)
    """
    re, im = binary_operands(real, imag, "complex")
    if re.value.dtype not in _COMPLEX_OF:
        raise TypeError(
            f"complex: the `real` and `imag` components must both be float32 or both float64. Received: "
            f"real.dtype={re.dtype.name}, imag.dtype={im.dtype.name}"
        )
    xp = array_module(re.value)
    try:
        out = (re.value + 1j * im.value).astype(_COMPLEX_OF[re.value.dtype])
    except ValueError:
        raise broadcast_error("complex", re, im) from None
    return record("complex", (re, im), xp.asarray(out),
                  lambda g, needs: (xp.real(g) if needs[0] else None, xp.imag(g) if needs[1] else None))


@register_gradient("complex")
def _complex_rule(op, g):
    return real(g), imag(g)


def real(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The real part of a complex tensor (a real tensor is returned unchanged).

    >>> real([1.0 + 2.0j]).numpy()
    array([1.])
    """
    x = as_tensor(input, "real", "input")
    xv = x.value
    if xv.dtype.kind != "c":
        return x
    xp = array_module(xv)
    return record("real", (x,), xp.real(xv).copy(), lambda g, needs: (g.astype(xv.dtype),))


@register_gradient("real")
def _real_rule(op, g):
    return (complex(g, g * 0),)


def imag(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The imaginary part of a complex tensor (zeros for a real tensor).

    >>> imag([1.0 + 2.0j]).numpy()
    array([2.])
    """
    x = as_tensor(input, "imag", "input")
    xv = x.value
    xp = array_module(xv)
    if xv.dtype.kind != "c":
        return Tensor(xp.zeros_like(xv))
    return record("imag", (x,), xp.imag(xv).copy(), lambda g, needs: (1j * g.astype(xv.dtype),))


@register_gradient("imag")
def _imag_rule(op, g):
    return (complex(g * 0, g),)


def conj(x, name=None) -> Tensor:
    """The complex conjugate (a real tensor is returned unchanged).

    >>> conj([1.0 + 2.0j]).numpy()
    array([1.-2.j])
    """
    x = as_tensor(x, "conj")
    xv = x.value
    if xv.dtype.kind != "c":
        return x
    xp = array_module(xv)
    return record("conj", (x,), xp.conj(xv), lambda g, needs: (xp.conj(g),))


@register_gradient("conj")
def _conj_rule(op, g):
    return (conj(g),)


def angle(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The argument of a complex number, in ``[-pi, pi]``; for a real tensor ``pi`` where it is negative, else 0.

    Gradient: ``g * (-y + ix) / |z|^2`` for ``z = x + iy``.

    >>> angle([1.0j, -1.0]).numpy()
    array([1.57079633, 3.14159265])
    """
    x = as_tensor(input, "angle", "input")
    xv = x.value
    xp = array_module(xv)
    if xv.dtype.kind != "c":
        return Tensor(xp.where(xv < 0, xp.asarray(np.pi, dtype=xv.dtype), xp.zeros((), dtype=xv.dtype)))

    def backward(g, needs):
        with np.errstate(all="ignore"):
            return (g * (-xv.imag + 1j * xv.real) / (xv.real ** 2 + xv.imag ** 2),)

    return record("angle", (x,), xp.angle(xv), backward)


@register_gradient("angle")
def _angle_rule(op, g):
    z = op.inputs[0]
    re, im = real(z), imag(z)
    return (complex(-g * im, g * re) / complex(re * re + im * im, re * 0),)
