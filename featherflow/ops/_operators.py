"""Attach Python operators (``+``, ``*``, ``@``, ``[]``, comparisons, ...) to ``Tensor``.

``core`` cannot import ``ops`` (imports point down), so the operators are installed
from here when ``featherflow.ops`` is imported, as TensorFlow's ``_override_operator`` does.
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.ops import bitwise, compare, indexing, linalg, math


def _swap(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


def _equality(op, none_result):
    def method(self, other):
        # TensorFlow: `t == None` is False, and shapes that do not broadcast compare unequal (no error).
        if other is None:
            return none_result
        try:
            return op(self, other)
        except ValueError as exc:
            if "cannot be broadcast" not in str(exc):
                raise
            return Tensor(np.asarray(none_result))

    return method


def _logical_or_bitwise(logical, bitwise_op, reflected=False):
    """TensorFlow's ``&``, ``|``, ``^``: logical on boolean tensors, bitwise on integer tensors."""

    def method(self, other):
        fn = bitwise_op if self.value.dtype.kind in "iu" else logical
        return fn(other, self) if reflected else fn(self, other)

    return method


def _invert(self):
    return bitwise.invert(self) if self.value.dtype.kind in "iu" else compare.logical_not(self)


def install() -> None:
    """Install the operator overloads on ``Tensor`` (idempotent)."""
    table = {
        "__add__": math.add, "__sub__": math.subtract, "__mul__": math.multiply,
        "__truediv__": math.divide, "__floordiv__": math.floordiv, "__mod__": math.floormod,
        "__pow__": math.pow, "__matmul__": linalg.matmul,
        "__lt__": compare.less, "__le__": compare.less_equal, "__gt__": compare.greater,
        "__ge__": compare.greater_equal,
    }
    for dunder, fn in table.items():
        setattr(Tensor, dunder, fn)  # a plain function binds as a method: no extra frame
    for dunder, fn in {
        "__radd__": math.add, "__rsub__": math.subtract, "__rmul__": math.multiply,
        "__rtruediv__": math.divide, "__rfloordiv__": math.floordiv, "__rmod__": math.floormod,
        "__rpow__": math.pow, "__rmatmul__": linalg.matmul,
    }.items():
        setattr(Tensor, dunder, _swap(fn))
    for name, logical, bitwise_op in (("and", compare.logical_and, bitwise.bitwise_and),
                                      ("or", compare.logical_or, bitwise.bitwise_or),
                                      ("xor", compare.logical_xor, bitwise.bitwise_xor)):
        setattr(Tensor, f"__{name}__", _logical_or_bitwise(logical, bitwise_op))
        setattr(Tensor, f"__r{name}__", _logical_or_bitwise(logical, bitwise_op, reflected=True))
    Tensor.__eq__ = _equality(compare.equal, False)
    Tensor.__ne__ = _equality(compare.not_equal, True)
    Tensor.__neg__ = math.negative
    Tensor.__pos__ = math.identity
    Tensor.__abs__ = math.abs
    Tensor.__invert__ = _invert
    Tensor.__getitem__ = indexing.getitem
    Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; identity hashing keeps sets/dicts usable
