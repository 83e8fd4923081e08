"""``Tensor``: an immutable array with a dtype and shape, recorded by ``GradientTape``.

Arithmetic operators are attached by ``featherflow.ops`` (the layer above), so this
module only knows arrays.

>>> import featherflow as ff
>>> t = ff.constant([1.0, 2.0])
>>> t.shape, t.dtype.name
((2,), 'float32')
"""

from __future__ import annotations

import numbers

import numpy as np

from featherflow.backend import arrays as _arrays
from featherflow.core.string_tensor import is_string_dtype, to_string_array


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class TensorShape(tuple):
    """A tensor's shape: a tuple of ints (``None`` for an unknown size) with TensorFlow's helpers.

    It compares, indexes and prints like a tuple, so ``t.shape == (2, 3)`` and
    ``np.zeros(t.shape)`` work; ``as_list()``, ``rank`` and ``num_elements()`` are TF's.

    >>> s = TensorShape([2, None])
    >>> s.as_list(), s.rank, s.num_elements(), s.is_fully_defined()
    ([2, None], 2, None, False)
    """

    __slots__ = ()

    def __new__(cls, dims=()):
        if dims is None:
            raise ValueError("featherflow does not support shapes of unknown rank (TensorShape(None)).")
        if isinstance(dims, int):
            dims = (dims,)
        return tuple.__new__(cls, (None if d is None else int(d) for d in dims))

    @property
    def rank(self) -> int:
        return len(self)

    ndims = rank

    @property
    def dims(self) -> list:
        return list(self)

    def as_list(self) -> list:
        """The sizes as a Python list."""
        return list(self)

    def num_elements(self):
        """The number of elements, or None when a size is unknown."""
        if None in self:
            return None
        count = 1
        for d in self:
            count *= d
        return count

    def is_fully_defined(self) -> bool:
        return None not in self

    def concatenate(self, other) -> TensorShape:
        return TensorShape(tuple(self) + tuple(other))

    def is_compatible_with(self, other) -> bool:
        other = tuple(other)
        return len(other) == len(self) and all(a is None or b is None or a == b for a, b in zip(self, other))

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return TensorShape(item) if isinstance(key, slice) else item  # a slice is a shape, as in TensorFlow

    def merge_with(self, other) -> TensorShape:
        """The shape that is both ``self`` and ``other`` (known sizes fill unknown ones); ``ValueError`` when
        they are not compatible."""
        other = TensorShape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape(a if a is not None else b for a, b in zip(self, other))

    def most_specific_compatible_shape(self, other) -> TensorShape:
        """The most specific shape compatible with both (sizes that differ become ``None``)."""
        other = TensorShape(other)
        if len(other) != len(self):
            raise ValueError(f"Shapes {self} and {other} have different ranks: their common shape has an unknown "
                             f"rank, which featherflow does not represent.")
        return TensorShape(a if a == b else None for a, b in zip(self, other))

    def is_subtype_of(self, other) -> bool:
        """True when every size of ``other`` is ``None`` or equal to this shape's."""
        other = tuple(other)
        return len(other) == len(self) and all(b is None or a == b for a, b in zip(self, other))

    def with_rank(self, rank: int) -> TensorShape:
        """This shape, after checking that it has ``rank`` dimensions."""
        if len(self) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")
        return self

    def with_rank_at_least(self, rank: int) -> TensorShape:
        if len(self) < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank: int) -> TensorShape:
        if len(self) > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    def assert_has_rank(self, rank: int) -> None:
        if len(self) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")

    def assert_same_rank(self, other) -> None:
        other = TensorShape(other)
        if len(other) != len(self):
            raise ValueError(f"Shapes {self} and {other} must have the same rank")

    def assert_is_compatible_with(self, other) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are incompatible")

    def assert_is_fully_defined(self) -> None:
        if not self.is_fully_defined():
            raise ValueError(f"Shape {self} is not fully defined")


_new_shape = tuple.__new__


class Tensor:
    """An n-dimensional array value; the unit every op consumes and produces.

    Args:
        value: the array (NumPy or CuPy). Use ``featherflow.constant`` to make one
            from Python data.
    """

    # `value` is a slot (read by every op); the rarely set attributes live in the instance
    # dict, created only when one is set, and default to the class attributes below. This
    # keeps construction (once per op) to a single store.
    __slots__ = ("value", "__dict__", "__weakref__")
    __array_priority__ = 100  # NumPy defers `ndarray + Tensor` to Tensor.__radd__
    _trainable = False  # True only for trainable Variables (watched by tapes automatically)
    _logits = None  # set by softmax: the logits it was computed from
    _keras_mask = None  # set by Keras layers that produce or propagate a mask

    def __init__(self, value):
        if isinstance(value, np.generic):
            # NumPy returns scalars (not 0-d arrays) from some 0-d arithmetic; keep `value` an array.
            value = np.asarray(value)
        self.value = value

    @property
    def shape(self) -> TensorShape:
        """The shape: a tuple of ints (a ``TensorShape``, so ``.as_list()`` works too)."""
        return _new_shape(TensorShape, self.value.shape)  # array shapes are int tuples already: no checks

    @property
    def dtype(self) -> np.dtype:
        """The element type, a ``numpy.dtype`` (``t.dtype == featherflow.float32``)."""
        return self.value.dtype

    @property
    def ndim(self) -> int:
        """Number of axes (rank)."""
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    def numpy(self) -> np.ndarray:
        """The value as a new NumPy array (a copy, as in TensorFlow: writing to it leaves the tensor intact);
        a scalar string tensor gives its bytes, as in TensorFlow (a ``numpy.bytes_``: ``.decode()`` and ``.item()``
        both work)."""
        value = self.value
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "O" and value.ndim == 0:
                item = value.item()
                return np.bytes_(item) if isinstance(item, bytes) else item
            return value.copy()
        return _arrays.to_numpy(value)

    def get_shape(self) -> TensorShape:
        """The shape (TensorFlow's older spelling of ``.shape``)."""
        return _new_shape(TensorShape, self.value.shape)  # array shapes are int tuples already: no checks

    def set_shape(self, shape) -> None:
        """Check that the tensor's shape is compatible with ``shape`` (``None`` matches any size).

        TensorFlow refines a graph tensor's static shape with it; a featherflow tensor's shape is always
        known, so, as for TensorFlow's eager tensors, this only checks (e.g. in a ``Dataset.map`` function).

        >>> t = Tensor(np.zeros((3, 6)))
        >>> t.set_shape([None, 6])
        >>> t.set_shape([None, 5])
        Traceback (most recent call last):
        ...
        ValueError: Tensor's shape (3, 6) is not compatible with supplied shape (None, 5).
        """
        if shape is None:  # an unknown rank: compatible with every shape
            return
        shape = TensorShape(shape)
        if not self.get_shape().is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {tuple(self.value.shape)} is not compatible with supplied shape "
                             f"{tuple(shape)}.")

    def __array__(self, dtype=None, copy=None):
        arr = _arrays.to_numpy(self.value)
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        if copy:
            return arr.copy()
        return arr

    def __len__(self) -> int:
        if self.value.ndim == 0:
            raise TypeError("len() of a scalar (0-D) tensor is undefined.")
        return self.value.shape[0]

    def __iter__(self):
        if self.value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar (0-D) tensor.")
        for i in range(self.value.shape[0]):
            yield self[i]

    def __bool__(self) -> bool:
        if self.value.size != 1:
            raise ValueError(
                "The truth value of a tensor with more than one element is ambiguous. "
                f"Use featherflow.reduce_any or reduce_all. Received: shape={self.shape}"
            )
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        if self.value.dtype.kind not in "iu" or self.value.ndim != 0:
            raise TypeError(f"Only scalar integer tensors can be used as an index. Received: {self!r}")
        return int(self.value)

    __hash__ = object.__hash__

    def ref(self):
        """An object usable as a dict key or set member that identifies this tensor."""
        return _Ref(self)

    def __repr__(self) -> str:
        if getattr(self.value, "_ff_traced", False):  # inside a tf.function trace: the symbolic form, as TF
            return f'<tf.Tensor "t{self.value._slot}" shape={_fmt_shape(self.shape)} dtype={_dtype_name(self.dtype)}>'
        value = np.asarray(self.numpy())
        arr = repr(value.item()) if value.ndim == 0 else repr(value)
        return f"<tf.Tensor: shape={_fmt_shape(self.shape)}, dtype={_dtype_name(self.dtype)}, numpy={arr}>"

    def __format__(self, format_spec: str) -> str:
        # As TensorFlow: format the NumPy value, so f"{loss:.4f}" works for scalar tensors.
        return self.numpy().__format__(format_spec)

    def __str__(self) -> str:
        if getattr(self.value, "_ff_traced", False):
            return f'Tensor("t{self.value._slot}", shape={_fmt_shape(self.shape)}, dtype={_dtype_name(self.dtype)})'
        return f"tf.Tensor({self.numpy()}, shape={_fmt_shape(self.shape)}, dtype={_dtype_name(self.dtype)})"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        out = Tensor(self.value.copy())
        memo[id(self)] = out
        return out


class _Ref:
    """A hashable handle to a tensor (``tensor.ref()``); ``deref()`` returns it."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor):
        self._tensor = tensor

    def deref(self):
        return self._tensor

    def __hash__(self):
        return id(self._tensor)

    def __eq__(self, other):
        return isinstance(other, _Ref) and other._tensor is self._tensor


def _dtype_name(dtype) -> str:
    return "string" if dtype.kind == "O" else dtype.name


def _is_ragged(value) -> bool:
    if not isinstance(value, (list, tuple)) or not value:
        return False
    lengths = set()
    for item in value:
        if isinstance(item, (list, tuple)):
            lengths.add(len(item))
            if _is_ragged(item):
                return True
        else:
            lengths.add(-1)
    return len(lengths) > 1


def _int_dtype(arr):
    """int32 (TensorFlow's default for Python ints) unless a value does not fit, then int64."""
    if arr.size and (arr.min() < -(2**31) or arr.max() >= 2**31):
        return np.int64
    return np.int32


def _default_dtype(value):
    """TensorFlow's rule for Python data: floats -> floatx, ints -> int32, bools -> bool."""
    if isinstance(value, bool):
        return np.bool_
    if isinstance(value, numbers.Integral):
        return np.int32 if -(2**31) <= value < 2**31 else np.int64
    if isinstance(value, numbers.Real):
        return _arrays.floatx()
    if isinstance(value, complex):
        return np.complex128
    return None


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> Tensor:
    """Convert Python numbers, nested lists, NumPy arrays or tensors to a ``Tensor``.

    Python floats become ``floatx()`` (float32), Python ints ``int32``, as in TensorFlow;
    NumPy arrays keep their dtype unless ``dtype`` is given.

    Args:
        value: the data.
        dtype: required dtype; data of another kind (e.g. floats for an int dtype) is refused.
        dtype_hint: dtype to use for Python data when ``dtype`` is not given.
        name: unused, accepted for TensorFlow compatibility.

    >>> convert_to_tensor([1, 2]).dtype.name
    'int32'
    >>> convert_to_tensor(3.0).dtype.name
    'float32'
    """
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != np.dtype(dtype):
            raise ValueError(
                f"Tensor conversion requested dtype {np.dtype(dtype).name} for Tensor with dtype "
                f"{value.dtype.name}. Use featherflow.cast to change a tensor's dtype. Received: {value!r}"
            )
        return value
    xp = _arrays.xp()
    if is_string_dtype(dtype) or isinstance(value, (str, bytes)) or (
        isinstance(value, np.ndarray) and value.dtype.kind in "USO") or (
            isinstance(value, (list, tuple)) and dtype is None and value and isinstance(value[0], (str, bytes, list))):
        strings = to_string_array(value)  # string tensors: object arrays of bytes (core/string_tensor.py)
        if strings is not None:
            return Tensor(strings)
        if is_string_dtype(dtype):
            raise TypeError(f"Can't convert {value!r:.80} to a string tensor: expected str or bytes elements.")
    if isinstance(value, (str, bytes)) or (
        isinstance(value, np.ndarray) and value.dtype.kind in "USO"
    ):
        raise TypeError(
            "featherflow tensors hold numbers; strings and Python objects are not supported. "
            f"Received: value={value!r:.80}"
        )
    if isinstance(value, (list, tuple)):
        if _is_ragged(value):
            raise ValueError(
                "Can't convert a ragged (non-rectangular) Python list to a tensor: every row must "
                f"have the same length. Pad it first (keras.utils.pad_sequences). Received: {value!r:.80}"
            )
        arr = np.asarray(value)
        if arr.dtype.kind in "USO":
            raise TypeError(
                f"Can't convert to a tensor: expected numbers, received elements of type {arr.dtype}. "
                f"Received: value={value!r:.80}"
            )
        if dtype is None:
            if arr.dtype.kind == "f":
                dtype = dtype_hint or _arrays.floatx()
            elif arr.dtype.kind in "iu":
                dtype = dtype_hint or _int_dtype(arr)
            elif arr.dtype.kind == "b":
                dtype = np.bool_
    elif isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.generic):
        arr = value
        if dtype is None:
            dtype = dtype_hint or _default_dtype(value)
    elif isinstance(value, range):
        arr = np.asarray(value)
        if dtype is None:
            dtype = dtype_hint or _int_dtype(arr)
    else:
        if _CONVERSIONS and not isinstance(value, np.ndarray):
            converted = _registered_conversion(value, dtype, name)
            if converted is not None:
                return converted
        arr = value
    if dtype is not None:
        target = np.dtype(dtype)
        src = getattr(arr, "dtype", None)
        if src is not None and src.kind == "f" and target.kind in "iub":
            raise TypeError(
                f"Can't convert float data to the integer dtype {target.name} without losing values. "
                f"Cast it explicitly with featherflow.cast. Received: dtype={src.name}"
            )
        if isinstance(arr, float) and target.kind in "iu" and not float(arr).is_integer():
            raise TypeError(f"Can't convert {arr!r} to the integer dtype {target.name}.")
        out = xp.asarray(arr, dtype=target)
    else:
        out = xp.asarray(arr)
        if out.dtype.kind in "USO":
            raise TypeError(
                f"featherflow tensors hold numbers. Received: value of type {type(value).__name__}"
            )
    return Tensor(out)


_CONVERSIONS: list = []  # (priority, base_type, conversion_func), sorted: register_tensor_conversion_function


def register_tensor_conversion_function(base_type, conversion_func, priority=100) -> None:
    """Teach ``convert_to_tensor`` (and so every op) to convert objects of ``base_type``.

    ``conversion_func(value, dtype=None, name=None, as_ref=False)`` returns a Tensor (or something
    ``convert_to_tensor`` accepts); functions with lower ``priority`` are tried first.

    >>> class Meters:
    ...     def __init__(self, v):
    ...         self.v = v
    >>> register_tensor_conversion_function(Meters, lambda m, dtype=None, name=None, as_ref=False:
    ...                                     convert_to_tensor(m.v, dtype=dtype))
    >>> convert_to_tensor(Meters(2.5)).numpy()
    array(2.5, dtype=float32)
    """
    types = base_type if isinstance(base_type, tuple) else (base_type,)
    if not all(isinstance(t, type) for t in types):
        raise TypeError(f"register_tensor_conversion_function: base_type must be a type or a tuple of types. "
                        f"Received: {base_type!r}")
    if any(issubclass(t, (np.ndarray, np.generic, numbers.Number, str, bytes, list, tuple)) for t in types):
        raise TypeError(f"Cannot register conversions for Python or NumPy types. Received: {base_type!r}")
    if not callable(conversion_func):
        raise TypeError(f"conversion_func must be callable. Received: {conversion_func!r}")
    _CONVERSIONS.append((int(priority), types, conversion_func))
    _CONVERSIONS.sort(key=lambda item: item[0])


def _registered_conversion(value, dtype, name):
    for _, types, fn in _CONVERSIONS:
        if isinstance(value, types):
            result = fn(value, dtype=dtype, name=name, as_ref=False)
            if result is NotImplemented:
                continue
            return convert_to_tensor(result, dtype=dtype)
    return None


def is_tensor(value) -> bool:
    """True for featherflow ``Tensor`` and ``Variable`` objects."""
    return isinstance(value, Tensor)
