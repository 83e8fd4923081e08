"""``Variable``: a mutable tensor whose value is updated in place.

In-place updates matter: the Keras trainer re-homes trainable variables into one flat
buffer per dtype, so a variable's array may be a view that must never be rebound by
``assign``.

>>> import featherflow as ff
>>> v = ff.Variable([1.0, 2.0])
>>> _ = v.assign_add([1.0, 1.0]); v.numpy()
array([2., 3.], dtype=float32)
"""

from __future__ import annotations

import weakref

import numpy as np

from featherflow import compiler as _compiler
from featherflow.backend.arrays import array_module, to_numpy
from featherflow.compiler._state import _local as _compiler_local
from featherflow.core.runtime import state as _runtime
from featherflow.core.tensor import Tensor, _fmt_shape, convert_to_tensor

_CREATOR_ARGUMENTS = ("initial_value", "trainable", "name", "dtype", "constraint", "shape", "synchronization",
                      "aggregation")
_LIVE = weakref.WeakSet()  # every Variable: a traced tf.function binds them all to its program
_ON_READ = 3  # tf.VariableSynchronization.ON_READ.value
_TF_CREATOR_DEFAULTS = {"validate_shape": True, "caching_device": None, "variable_def": None, "import_scope": None,
                        "synchronization": None, "aggregation": None, "experimental_enable_variable_lifting": True}


class _VariableType(type):
    """``Variable``'s metaclass: inside a ``tf.variable_creator_scope``, ``Variable(...)`` goes through the
    scopes' creators (innermost first), each given ``next_creator`` and TensorFlow's keyword arguments."""

    def __call__(cls, *args, **kwargs):
        creators = _runtime.variable_creators
        if not creators:
            return super().__call__(*args, **kwargs)
        fields = {**_TF_CREATOR_DEFAULTS, "trainable": None, "name": None, "dtype": None, "constraint": None,
                  "shape": None, **dict(zip(_CREATOR_ARGUMENTS, args)), **kwargs}

        def base(**given):
            own = {k: given[k] for k in _CREATOR_ARGUMENTS if k in given}
            return super(_VariableType, cls).__call__(**own)

        def chain(level):
            if level < 0:
                return base
            return lambda **given: creators[level](chain(level - 1), **given)

        return chain(len(creators) - 1)(**fields)


class Variable(Tensor, metaclass=_VariableType):
    """A named, mutable tensor; trainable variables are watched by ``GradientTape`` automatically.

    Args:
        initial_value: data, a tensor, or a zero-argument callable returning either.
        trainable: whether tapes watch it automatically and optimizers train it (default True, False for
            ``synchronization=ON_READ`` as in TensorFlow).
        name: the variable's name (``"Variable"`` when omitted).
        dtype: dtype to convert the initial value to.
        constraint: optional callable applied to the value after each optimizer update.
        shape: accepted for TensorFlow compatibility; must match the initial value.
        synchronization, aggregation: ``tf.VariableSynchronization`` / ``tf.VariableAggregation`` values, kept
            for the ``synchronization`` / ``aggregation`` properties (one process: nothing to synchronize).
    """

    __slots__ = ("name", "constraint", "_path")

    def __init__(self, initial_value=None, trainable=None, name=None, dtype=None, constraint=None,
                 shape=None, **kwargs):
        if initial_value is None:
            raise ValueError("A Variable needs an initial value. Received: initial_value=None")
        tracer = _compiler.current()
        if tracer is not None:  # created while a tf.function traces: initialized once, on real values
            with _compiler.init_scope():
                self.__init__(initial_value, trainable, name, dtype, constraint, shape, **kwargs)
            tracer.variable_created(self)
            return
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        if isinstance(initial_value, Tensor) and _compiler.is_traced(initial_value.value):
            initial_value = _compiler.concrete(initial_value.value)
        elif _compiler.is_traced(initial_value):
            initial_value = _compiler.concrete(initial_value)
        if dtype is not None and not isinstance(initial_value, Tensor):
            # Python data goes straight to the requested dtype (0.1 -> float64 without a float32 detour).
            value = convert_to_tensor(initial_value, dtype=dtype).value
        else:
            value = convert_to_tensor(initial_value).value
            if dtype is not None and value.dtype != np.dtype(dtype):
                value = convert_to_tensor(value, dtype=dtype).value
        # A private copy (always an array, never a NumPy scalar): the caller's data must never alias it.
        value = array_module(value).array(value, copy=True)
        if shape is not None and tuple(shape) != value.shape and None not in tuple(shape):
            raise ValueError(f"Variable shape {tuple(shape)} does not match its initial value's shape "
                             f"{value.shape}.")
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument must be a callable. Received: constraint={constraint!r}")
        super().__init__(value)
        self.name = "Variable" if name is None else str(name)
        scope = _runtime.name_scope
        if scope:  # tf.name_scope prefixes the names of the variables created inside it
            self.name = f"{scope}/{self.name}"
        self._path = self.name
        for key in ("synchronization", "aggregation"):  # enum members, stored by value (core cannot import them)
            if kwargs.get(key) is not None:
                self.__dict__["_" + key] = getattr(kwargs[key], "value", kwargs[key])
        if trainable is None:
            trainable = self.__dict__.get("_synchronization") != _ON_READ
        self._trainable = bool(trainable)
        self.constraint = constraint
        _LIVE.add(self)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)

    @property
    def path(self) -> str:
        """The variable's full name, e.g. ``"dense/kernel"``."""
        return self._path

    def _check_shape(self, new, op):
        if new.shape != self.value.shape:
            raise ValueError(
                f"Cannot {op} a value of shape {new.shape} to variable '{self.name}' of shape "
                f"{self.value.shape}. Received: value.shape={new.shape}"
            )

    def _as_value(self, value, op):
        arr = value.value if isinstance(value, Tensor) else convert_to_tensor(
            value, dtype_hint=self.dtype).value
        if arr.shape != self.value.shape:
            self._check_shape(arr, op)
        return arr

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Write ``value`` into the variable in place; returns the variable."""
        self.value[...] = self._as_value(value, "assign")
        return self

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Add ``delta`` to the variable in place; returns the variable."""
        self.value += self._as_value(delta, "assign_add")
        return self

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtract ``delta`` from the variable in place; returns the variable."""
        self.value -= self._as_value(delta, "assign_sub")
        return self

    def read_value(self) -> Tensor:
        """A tensor snapshot of the current value (a copy, unaffected by later updates)."""
        return Tensor(self.value.copy())

    def __array__(self, dtype=None, copy=None):
        # A snapshot, as in TensorFlow: writing into np.asarray(variable) must not change the variable.
        # np.asarray(variable, copy=False) asks for the live buffer explicitly and gets it.
        arr = self.value if isinstance(self.value, np.ndarray) else to_numpy(self.value)
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr if copy is False else arr.copy()

    def numpy(self) -> np.ndarray:
        return np.array(self.value, copy=True) if isinstance(self.value, np.ndarray) else to_numpy(self.value)

    def __repr__(self) -> str:
        if _compiler.is_traced(self.value):
            return f"<tf.Variable '{self.name}:0' shape={_fmt_shape(self.shape)} dtype={self.dtype.name}>"
        value = self.numpy()
        shown = repr(value.item()) if value.ndim == 0 else repr(value)
        return (f"<tf.Variable '{self.name}:0' shape={_fmt_shape(self.shape)} dtype={self.dtype.name}, "
                f"numpy={shown}>")

    __str__ = __repr__

    def __deepcopy__(self, memo):
        out = Variable(self.value.copy(), trainable=self._trainable, name=self.name,
                       constraint=self.constraint)
        out.__dict__.update({k: v for k, v in self.__dict__.items() if k in ("_synchronization", "_aggregation")})
        memo[id(self)] = out
        return out


# -- what a tf.function trace shows its own thread ----------------------------------------------------------
# While a function is traced, the variables it may read must hold traced values *for the tracing thread
# only*: another thread (a tuner trial, a second model training beside it) keeps reading and updating the real
# arrays. During a trace each live variable's class is switched to a layout-compatible subclass (no new
# slots) whose ``value`` property looks the variable up in the tracing thread's views and otherwise reads the
# real array in Tensor's ``value`` slot; the classes are switched back when the trace ends, so eager code pays
# nothing when no thread traces.
_VALUE_SLOT = Tensor.__dict__["value"]
_slot_get = _VALUE_SLOT.__get__
_slot_set = _VALUE_SLOT.__set__
_TRACED_CLASSES: dict = {}


def _view_get(self):
    views = _compiler_local.views
    if views is not None:
        traced = views.get(id(self))
        if traced is not None:
            return traced
    return _slot_get(self)


def _view_set(self, value) -> None:
    views = _compiler_local.views
    if views is not None and id(self) in views:
        if _compiler.is_traced(value):  # ``v.value += ...`` in the trace: still the traced value
            views[id(self)] = value
            return
        del views[id(self)]  # a real array bound in the trace (an optimizer re-homing it): seen by all threads
    _slot_set(self, value)


def _traced_class(cls: type) -> type:
    sub = _TRACED_CLASSES.get(cls)
    if sub is None:
        sub = type(cls)(cls.__name__, (cls,), {"__slots__": (), "__module__": cls.__module__,
                                                "__qualname__": cls.__qualname__,
                                                "value": property(_view_get, _view_set),
                                                "__reduce_ex__": _reduce_as(cls)})
        sub._ff_traced_view_of = cls
        _TRACED_CLASSES[cls] = sub
    return sub


def _reduce_as(cls: type):
    def reduce_ex(self, protocol):
        reduced = cls.__reduce_ex__(self, protocol)  # pickled/copied during a trace: as the real class
        if isinstance(reduced, tuple) and len(reduced) > 1 and reduced[1] and reduced[1][0] is type(self):
            reduced = (reduced[0], (cls,) + tuple(reduced[1][1:])) + tuple(reduced[2:])
        return reduced
    return reduce_ex


class trace_views:
    """Context manager used by ``tf.function`` while it traces: ``bind(variable, traced)`` makes
    ``variable.value`` read ``traced`` in this thread, until the context exits (other threads read the real
    array throughout).

    >>> v = Variable([1.0])
    >>> with trace_views() as views:
    ...     views.bind(v, "traced")  # (a TracedArray in a real trace)
    ...     seen = v.value
    >>> seen, type(v) is Variable, v.value.tolist()
    ('traced', True, [1.0])
    """

    __slots__ = ("_previous", "_switched")

    def __enter__(self):
        self._previous = _compiler_local.views
        self._switched = []
        _compiler_local.views = {}
        return self

    def bind(self, variable: Variable, traced) -> None:
        cls = type(variable)
        if getattr(cls, "_ff_traced_view_of", None) is None:
            variable.__class__ = _traced_class(cls)
            self._switched.append((variable, cls))
        _compiler_local.views[id(variable)] = traced

    def __exit__(self, *exc) -> bool:
        _compiler_local.views = self._previous
        for variable, cls in self._switched:
            variable.__class__ = cls
        self._switched = []
        return False
