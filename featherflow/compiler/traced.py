"""``TracedArray``: the stand-in for an ndarray while a function is traced.

It is duck-typed (not an ``ndarray`` subclass: ``np.asarray`` would silently turn a subclass into a base
view and freeze its value as a constant). It holds the real array computed at trace time and the slot the
value occupies in the program being recorded. NumPy hands every ufunc and array function that meets one
to ``__array_ufunc__`` / ``__array_function__``; the tracer records the call as a program step, computes
the real result and returns TracedArrays for it. So the first call computes exactly what eager code does,
and the program replays the same NumPy calls on new inputs.

Reading a value out of the program (``float(x)``, ``x.item()``, ``np.asarray`` into plain NumPy code) is
an *escape*: the compiled program could not reproduce what Python then does with the number. ``bool(x)``
(Python control flow on a tensor value) raises ``OperatorNotAllowedInGraphError``.

>>> import numpy as np
>>> from featherflow.compiler import Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.array([1.0, 2.0]))
...     y = (x * 2.0 + 1.0).sum()
>>> float(tracer.real(y))
8.0
>>> len(tracer.steps)
3
"""

from __future__ import annotations

import operator as _operator

import numpy as np

# ndarray methods that only read, recorded as method steps (``t.sum(axis=1)``)
_PURE_METHODS = (
    "all", "any", "argmax", "argmin", "argsort", "astype", "byteswap", "choose", "clip", "compress", "conj",
    "conjugate", "copy", "cumprod", "cumsum", "diagonal", "dot", "flatten", "max", "mean", "min", "nonzero",
    "prod", "ptp", "ravel", "repeat", "reshape", "round", "searchsorted", "squeeze", "std", "sum", "swapaxes",
    "take", "trace", "transpose", "var", "view",
)
# ndarray methods that write into the array: recorded as steps with a side effect
_MUTATING_METHODS = ("fill", "put", "itemset", "partition", "resize", "setfield", "sort", "setflags")
# ndarray methods that hand the value to Python: escapes
_ESCAPING_METHODS = ("item", "tolist", "tobytes", "tofile", "tostring", "dump", "dumps", "__reduce__",
                     "__reduce_ex__")


def _binary(ufunc):
    def forward(self, other):
        return ufunc(self, other)

    def reflected(self, other):
        return ufunc(other, self)

    def inplace(self, other):
        return ufunc(self, other, out=(self,))

    return forward, reflected, inplace


class TracedArray:
    """A traced ndarray value: the real array (``tracer.real(t)``) plus its slot in the program."""

    __slots__ = ("_real", "_slot", "_tracer", "__weakref__")
    __array_priority__ = 1000  # above Tensor (100) and ndarray: mixed arithmetic comes here
    __hash__ = None  # like ndarray
    _ff_traced = True

    def __init__(self, real, slot: int, tracer) -> None:
        self._real = real
        self._slot = slot
        self._tracer = tracer

    # -- metadata: static in a program traced for one shape and dtype ---------------------
    @property
    def shape(self) -> tuple:
        return self._real.shape

    @property
    def dtype(self) -> np.dtype:
        return self._real.dtype

    @property
    def ndim(self) -> int:
        return self._real.ndim

    @property
    def size(self) -> int:
        return self._real.size

    @property
    def itemsize(self) -> int:
        return self._real.itemsize

    @property
    def nbytes(self) -> int:
        return self._real.nbytes

    @property
    def strides(self) -> tuple:
        return self._real.strides

    @property
    def flags(self):
        return self._real.flags

    @property
    def T(self):
        return self._tracer.method(self, "transpose", (), {})

    @property
    def real(self):
        return np.real(self)

    @property
    def imag(self):
        return np.imag(self)

    def __len__(self) -> int:
        if self._real.ndim == 0:
            raise TypeError("len() of unsized object")
        return self._real.shape[0]

    def __iter__(self):
        if self._real.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        for i in range(self._real.shape[0]):
            yield self[i]

    def __repr__(self) -> str:
        return f"<TracedArray t{self._slot} shape={self._real.shape} dtype={self._real.dtype}>"

    __str__ = __repr__

    # -- the NumPy protocols ---------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return self._tracer.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return self._tracer.function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        real = self._tracer.escape(self, "np.asarray / np.array (the value is read into plain NumPy code)")
        real = np.asarray(real)
        if dtype is not None and real.dtype != dtype:
            return real.astype(dtype)
        return real.copy() if copy else real

    # -- escapes ----------------------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self._tracer.escape(self, "bool", control_flow=True))

    def __float__(self) -> float:
        return float(self._tracer.escape(self, "float()"))

    def __int__(self) -> int:
        return int(self._tracer.escape(self, "int()"))

    def __complex__(self) -> complex:
        return complex(self._tracer.escape(self, "complex()"))

    def __index__(self) -> int:
        return self._tracer.escape(self, "use as a Python index").__index__()

    def __format__(self, spec: str) -> str:
        return format(self._tracer.escape(self, "format()"), spec)

    # -- indexing and methods ---------------------------------------------------------------
    def __getitem__(self, key):
        return self._tracer.method(self, "__getitem__", (key,), {})

    def __setitem__(self, key, value) -> None:
        self._tracer.setitem(self, key, value)

    def __getattr__(self, name):
        if name in _PURE_METHODS or name in _MUTATING_METHODS:
            tracer = self._tracer
            return lambda *args, **kwargs: tracer.method(self, name, args, kwargs)
        if name in _ESCAPING_METHODS:
            tracer = self._tracer

            def escaping(*args, **kwargs):
                return getattr(np.asarray(tracer.escape(self, f".{name}()")), name)(*args, **kwargs)
            return escaping
        if name.startswith("__") or not hasattr(np.ndarray, name):
            raise AttributeError(f"'TracedArray' object has no attribute {name!r}")
        raise AttributeError(f"featherflow's tf.function cannot trace ndarray.{name} on a traced value.")

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __invert__(self):
        return np.invert(self)

    def __eq__(self, other):
        return np.equal(self, other)

    def __ne__(self, other):
        return np.not_equal(self, other)

    def __lt__(self, other):
        return np.less(self, other)

    def __le__(self, other):
        return np.less_equal(self, other)

    def __gt__(self, other):
        return np.greater(self, other)

    def __ge__(self, other):
        return np.greater_equal(self, other)

    __add__, __radd__, __iadd__ = _binary(np.add)
    __sub__, __rsub__, __isub__ = _binary(np.subtract)
    __mul__, __rmul__, __imul__ = _binary(np.multiply)
    __truediv__, __rtruediv__, __itruediv__ = _binary(np.true_divide)
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary(np.floor_divide)
    __mod__, __rmod__, __imod__ = _binary(np.remainder)
    __pow__, __rpow__, __ipow__ = _binary(np.power)
    __matmul__, __rmatmul__, __imatmul__ = _binary(np.matmul)
    __and__, __rand__, __iand__ = _binary(np.bitwise_and)
    __or__, __ror__, __ior__ = _binary(np.bitwise_or)
    __xor__, __rxor__, __ixor__ = _binary(np.bitwise_xor)
    __lshift__, __rlshift__, __ilshift__ = _binary(np.left_shift)
    __rshift__, __rrshift__, __irshift__ = _binary(np.right_shift)

    def __divmod__(self, other):
        return np.divmod(self, other)

    def __copy__(self):
        return self._tracer.method(self, "copy", (), {})

    def __deepcopy__(self, memo):
        return self._tracer.method(self, "copy", (), {})


def is_traced(value) -> bool:
    """True for a ``TracedArray``.

    >>> is_traced(np.zeros(2))
    False
    """
    return type(value) is TracedArray or type(value) is TracedScalar


def concrete(value):
    """The real array behind ``value`` (``value`` itself when it is not traced), without recording anything:
    for one-time setup during a trace (a variable's initial value).

    >>> concrete(np.ones(1))
    array([1.])
    """
    return value._real if type(value) is TracedArray or type(value) is TracedScalar else value



def _python_binary(op, name):
    def forward(self, other):
        if isinstance(other, (int, float)) or type(other) is TracedScalar:
            return self._tracer.python_op(op, (self, other))
        return getattr(TracedArray, name)(self, other)

    def reflected(self, other):
        if isinstance(other, (int, float)):
            return self._tracer.python_op(op, (other, self))
        return getattr(TracedArray, "__r" + name[2:])(self, other)

    return forward, reflected


class TracedScalar(TracedArray):
    """A Python number computed at every call by a host call (an optimizer's learning rate and bias
    corrections): arithmetic with Python numbers stays Python arithmetic (recorded), and NumPy sees a Python
    number (NumPy's weak scalar promotion), exactly as in eager code."""

    __slots__ = ()

    @property
    def shape(self) -> tuple:
        return ()

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self._real)

    @property
    def ndim(self) -> int:
        return 0

    @property
    def size(self) -> int:
        return 1

    def __neg__(self):
        return self._tracer.python_op(_operator.neg, (self,))

    __add__, __radd__ = _python_binary(_operator.add, "__add__")
    __sub__, __rsub__ = _python_binary(_operator.sub, "__sub__")
    __mul__, __rmul__ = _python_binary(_operator.mul, "__mul__")
    __truediv__, __rtruediv__ = _python_binary(_operator.truediv, "__truediv__")
    __pow__, __rpow__ = _python_binary(_operator.pow, "__pow__")
    __mod__, __rmod__ = _python_binary(_operator.mod, "__mod__")
    __floordiv__, __rfloordiv__ = _python_binary(_operator.floordiv, "__floordiv__")
