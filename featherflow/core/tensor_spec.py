"""``TensorSpec``: the shape and dtype a tensor is expected to have (``tf.TensorSpec``).

A spec describes tensors without holding one: ``tf.data`` element specs, generator
``output_signature`` and ``tf.function``'s ``input_signature`` are made of them. A size of
``None`` in ``shape`` matches any size; ``shape=None`` matches any rank.

Strings are NumPy object arrays of ``bytes`` (what TensorFlow's ``.numpy()`` returns);
their dtype is ``numpy.dtype(object)``, spelled ``"string"`` and printed ``tf.string``.

>>> spec = TensorSpec(shape=(None, 3), dtype="float32", name="x")
>>> spec
TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')
>>> import numpy as np
>>> spec.is_compatible_with(np.zeros((5, 3), "float32")), spec.is_compatible_with(np.zeros((5, 4), "float32"))
(True, False)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.string_tensor import STRING
from featherflow.core.tensor import Tensor, TensorShape, _fmt_shape

_STRING_NAMES = {"string", "str", "bytes", "object", "tf.string"}


def as_dtype(dtype) -> np.dtype:
    """``dtype`` (a NumPy dtype, a name such as ``"float32"``/``"string"``, or a Python type) as a NumPy dtype.

    >>> as_dtype("string") == np.dtype(object), as_dtype(float).name
    (True, 'float64')
    """
    if isinstance(dtype, np.dtype):
        return STRING if dtype.kind in "USO" else dtype
    if dtype in (str, bytes, object) or (isinstance(dtype, str) and dtype.lower() in _STRING_NAMES):
        return STRING
    name = getattr(dtype, "name", None)  # objects with a TensorFlow-style ``.name`` (e.g. tf.float32)
    if isinstance(name, str) and not isinstance(dtype, type):
        dtype = name
    try:
        out = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"Cannot convert {dtype!r} to a dtype. Expected a NumPy dtype, a dtype name such as "
                        f"'float32' or 'string', or a Python type. Received: dtype={dtype!r}") from exc
    return STRING if out.kind in "USO" else out


def dtype_name(dtype) -> str:
    """TensorFlow's name of a dtype: ``"float32"``, ``"string"``, ..."""
    dtype = as_dtype(dtype)
    return "string" if dtype == STRING else dtype.name


def _as_shape(shape) -> TensorShape | None:
    if shape is None:
        return None
    if isinstance(shape, TensorSpec):
        raise TypeError(f"Expected a shape, received a TensorSpec: {shape!r}")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        dims = list(shape)
    except TypeError as exc:
        raise TypeError(f"Expected a shape: a list or tuple of ints or None. Received: shape={shape!r}") from exc
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < -1):
            raise TypeError(f"Dimensions of a shape must be non-negative ints or None. Received: shape={shape!r}")
    return TensorShape(None if d is None or d == -1 else int(d) for d in dims)


def _shape_of(value) -> tuple:
    if isinstance(value, (Tensor, np.ndarray)):
        return tuple(value.shape)
    return np.shape(value)


def _dtype_of(value) -> np.dtype:
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        return as_dtype(value.dtype)
    if isinstance(value, (str, bytes)):
        return STRING
    from featherflow.core.tensor import convert_to_tensor

    try:
        return convert_to_tensor(value).dtype
    except TypeError:
        return as_dtype(np.asarray(value).dtype)


class TensorSpec:
    """Describes a tensor: its shape (``None`` for an unknown size), dtype and an optional name.

    Args:
        shape: a tuple/list of ints and ``None``, a ``TensorShape``, or ``None`` for an unknown rank.
        dtype: the element type (default ``float32``); ``"string"`` for string tensors.
        name: an optional name (used by ``tf.function`` signatures).

    >>> TensorSpec([None], "int64").is_compatible_with(TensorSpec([4], "int64"))
    True
    >>> TensorSpec([2], "int32").most_specific_compatible_type(TensorSpec([3], "int32"))
    TensorSpec(shape=(None,), dtype=tf.int32, name=None)
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype="float32", name: str | None = None):
        self._shape = _as_shape(shape)
        self._dtype = as_dtype(dtype)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string or None. Received: name={name!r}")
        self._name = name

    # -- attributes ---------------------------------------------------------------------------------
    @property
    def shape(self) -> TensorShape | None:
        """The shape (``None`` when even the rank is unknown)."""
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def value_type(self) -> type:
        """The Python type of the values this spec describes."""
        return Tensor

    # -- construction ---------------------------------------------------------------------------------
    @classmethod
    def from_tensor(cls, tensor, name: str | None = None) -> TensorSpec:
        """The spec of ``tensor`` (a tensor, array or Python value): its exact shape and dtype.

        >>> TensorSpec.from_tensor(np.zeros((2, 3), "int32"))
        TensorSpec(shape=(2, 3), dtype=tf.int32, name=None)
        """
        if isinstance(tensor, TensorSpec):
            return cls.from_spec(tensor, name)
        return cls(_shape_of(tensor), _dtype_of(tensor), name)

    @classmethod
    def from_spec(cls, spec: TensorSpec, name: str | None = None) -> TensorSpec:
        """A copy of ``spec`` (with a new ``name`` when given)."""
        if not isinstance(spec, TensorSpec):
            raise TypeError(f"Expected a TensorSpec. Received: spec={spec!r}")
        return cls(spec.shape, spec.dtype, name if name is not None else spec.name)

    # -- comparison -------------------------------------------------------------------------------------
    def _shape_compatible(self, shape) -> bool:
        if self._shape is None or shape is None:
            return True
        shape = tuple(shape)
        return len(shape) == len(self._shape) and all(
            a is None or b is None or a == b for a, b in zip(self._shape, shape))

    def is_compatible_with(self, spec_or_value) -> bool:
        """True when ``spec_or_value`` (a spec, tensor, array or Python value) has this dtype and a shape this
        spec accepts (every size equal where both are known)."""
        if isinstance(spec_or_value, TensorSpec):
            return self._dtype == spec_or_value.dtype and self._shape_compatible(spec_or_value.shape)
        try:
            dtype = _dtype_of(spec_or_value)
        except (TypeError, ValueError):
            return False
        return self._dtype == dtype and self._shape_compatible(_shape_of(spec_or_value))

    def is_subtype_of(self, other: TensorSpec) -> bool:
        """True when every tensor this spec describes is also described by ``other``."""
        if not isinstance(other, TensorSpec) or other.dtype != self._dtype:
            return False
        if other.shape is None:
            return True
        if self._shape is None or len(self._shape) != len(other.shape):
            return False
        return all(b is None or a == b for a, b in zip(self._shape, other.shape))

    def most_specific_common_supertype(self, others) -> TensorSpec | None:
        """The most specific spec that describes this spec's and every one of ``others``' tensors
        (sizes that differ become ``None``), or ``None`` when the dtypes differ."""
        shape = self._shape
        for other in others:
            if not isinstance(other, TensorSpec) or other.dtype != self._dtype:
                return None
            if shape is None or other.shape is None or len(shape) != len(other.shape):
                shape = None
                continue
            shape = tuple(a if a == b else None for a, b in zip(shape, other.shape))
        return TensorSpec(shape, self._dtype, self._name)

    def most_specific_compatible_type(self, other: TensorSpec) -> TensorSpec:
        """Like ``most_specific_common_supertype([other])``, raising ``ValueError`` when the dtypes differ."""
        out = self.most_specific_common_supertype([other])
        if out is None:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and {other!r}: the dtypes differ.")
        return out

    def __eq__(self, other) -> bool:
        return (isinstance(other, TensorSpec) and self._shape == other.shape and self._dtype == other.dtype
                and self._name == other.name)

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self) -> str:
        shape = "<unknown>" if self._shape is None else _fmt_shape(self._shape)
        return f"TensorSpec(shape={shape}, dtype=tf.{dtype_name(self._dtype)}, name={self._name!r})"

    def __reduce__(self):
        return (TensorSpec, (None if self._shape is None else tuple(self._shape), self._dtype, self._name))
