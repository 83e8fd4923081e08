"""``tf.TypeSpec`` and the specs of the composite values: ``SparseTensorSpec``, ``RaggedTensorSpec``,
``IndexedSlicesSpec``, ``TensorArraySpec``, ``NoneTensorSpec``, ``OptionalSpec``; ``tf.type_spec_from_value``.

A spec describes a value without holding one. ``TypeSpec`` is the abstract base; ``tf.TensorSpec``
(``core/tensor_spec.py``) is registered as one of its subclasses, so ``isinstance(spec, tf.TypeSpec)`` holds for
every spec. The composite specs compare by type, shape (``None`` sizes match anything), dtype and their other
fields, as TensorFlow's do.

>>> import featherflow as ff
>>> spec = ff.type_spec_from_value(ff.SparseTensor([[0, 1]], [2.0], [3, 4]))
>>> spec
SparseTensorSpec(TensorShape([3, 4]), tf.float32)
>>> ff.SparseTensorSpec([None, 4]).is_compatible_with(spec), isinstance(ff.TensorSpec([2]), ff.TypeSpec)
(True, True)
"""

from __future__ import annotations

import abc

import numpy as np

from featherflow.core.ragged import RaggedTensor
from featherflow.core.tensor import Tensor, TensorShape, convert_to_tensor
from featherflow.core.tensor_spec import TensorSpec, as_dtype, dtype_name
from featherflow.ops.eager_api import IndexedSlices
from featherflow.ops.sparse import SparseTensor
from featherflow.ops.tensor_array import TensorArray


def _shape(shape):
    if shape is None:
        return None
    if isinstance(shape, TensorShape):
        return shape
    dims = [shape] if isinstance(shape, (int, np.integer)) else list(shape)
    return TensorShape(None if d is None or d == -1 else int(d) for d in dims)


def _shape_repr(shape) -> str:
    return "TensorShape(None)" if shape is None else f"TensorShape({[d for d in shape]})"


def _dtype_repr(dtype) -> str:
    return "None" if dtype is None else f"tf.{dtype_name(dtype)}"


def _shapes_compatible(a, b) -> bool:
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _shape_is_subtype(a, b) -> bool:
    if b is None:
        return True
    if a is None or len(a) != len(b):
        return False
    return all(y is None or x == y for x, y in zip(a, b))


def _shape_supertype(a, b):
    if a is None or b is None or len(a) != len(b):
        return None
    return TensorShape(x if x == y else None for x, y in zip(a, b))


class TypeSpec(abc.ABC):
    """The abstract base of every spec (``tf.TypeSpec``): a description of a value's type.

    Subclasses give ``value_type`` and ``_fields()``: ``(shape, rest)`` where ``shape`` is the part compared
    loosely (``None`` sizes match any) and ``rest`` a tuple compared exactly. Comparison, ``is_subtype_of``,
    ``most_specific_common_supertype``, hashing and equality follow from them.
    """

    __slots__ = ()

    @property
    @abc.abstractmethod
    def value_type(self) -> type:
        """The Python type of the values this spec describes."""

    @abc.abstractmethod
    def _fields(self) -> tuple:
        """``(shape, rest)``."""

    def _with_shape(self, shape) -> TypeSpec:
        return self

    def is_compatible_with(self, spec_or_value) -> bool:
        """True when ``spec_or_value`` (a spec or a value) is of this type with a shape this spec accepts."""
        other = spec_or_value if isinstance(spec_or_value, TypeSpec) else None
        if other is None:
            try:
                other = type_spec_from_value(spec_or_value)
            except TypeError:
                return False
        if type(other) is not type(self):
            return False
        (shape, rest), (other_shape, other_rest) = self._fields(), other._fields()
        return rest == other_rest and _shapes_compatible(shape, other_shape)

    def is_subtype_of(self, other) -> bool:
        """True when every value this spec describes is also described by ``other``."""
        if type(other) is not type(self):
            return False
        (shape, rest), (other_shape, other_rest) = self._fields(), other._fields()
        return rest == other_rest and _shape_is_subtype(shape, other_shape)

    def most_specific_common_supertype(self, others):
        """The most specific spec describing this spec's and all ``others``' values (differing sizes become
        ``None``), or ``None`` when no spec of this type does."""
        shape, rest = self._fields()
        for other in others:
            if type(other) is not type(self) or other._fields()[1] != rest:
                return None
            shape = _shape_supertype(shape, other._fields()[0])
        return self._with_shape(shape)

    def most_specific_compatible_type(self, other):
        """``most_specific_common_supertype([other])``, raising ``ValueError`` when there is none."""
        out = self.most_specific_common_supertype([other])
        if out is None:
            raise ValueError(f"No TypeSpec is compatible with both {self!r} and {other!r}")
        return out

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._fields() == other._fields()

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._fields()))


TypeSpec.register(TensorSpec)


class SparseTensorSpec(TypeSpec):
    """The spec of a ``SparseTensor``: its dense shape and dtype.

    >>> import featherflow as ff
    >>> ff.SparseTensorSpec([None, 3]).is_compatible_with(ff.SparseTensor([[0, 0]], [1.0], [5, 3]))
    True
    """

    __slots__ = ("_shape", "_dtype")

    def __init__(self, shape=None, dtype="float32"):
        self._shape, self._dtype = _shape(shape), as_dtype(dtype)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    value_type = property(lambda self: SparseTensor)

    @classmethod
    def from_value(cls, value) -> SparseTensorSpec:
        return cls(value.shape, value.dtype)

    def _fields(self) -> tuple:
        return self._shape, (self._dtype,)

    def _with_shape(self, shape) -> SparseTensorSpec:
        return SparseTensorSpec(shape, self._dtype)

    def __repr__(self) -> str:
        return f"SparseTensorSpec({_shape_repr(self._shape)}, {_dtype_repr(self._dtype)})"


class RaggedTensorSpec(TypeSpec):
    """The spec of a ``RaggedTensor``: shape (ragged dimensions ``None``), dtype, ``ragged_rank`` (default: the
    rank minus one) and the row-partition dtype.

    >>> import featherflow as ff
    >>> ff.RaggedTensorSpec([2, None], "int32")
    RaggedTensorSpec(TensorShape([2, None]), tf.int32, 1, tf.int64)
    """

    __slots__ = ("_shape", "_dtype", "_ragged_rank", "_row_splits_dtype", "_flat_values_spec")

    def __init__(self, shape=None, dtype="float32", ragged_rank=None, row_splits_dtype="int64",
                 flat_values_spec=None):
        self._shape = _shape(shape)
        self._dtype = as_dtype(flat_values_spec.dtype if flat_values_spec is not None else dtype)
        if ragged_rank is None:
            if self._shape is None:
                raise ValueError("Must specify ragged_rank or a shape with a known rank.")
            ragged_rank = len(self._shape) - 1
        ragged_rank = int(ragged_rank)
        if self._shape is not None and not 0 <= ragged_rank < max(len(self._shape), 1):
            raise ValueError(f"ragged_rank must be non-negative and less than the rank {len(self._shape)}. "
                             f"Received: ragged_rank={ragged_rank}")
        self._ragged_rank = ragged_rank
        self._row_splits_dtype = as_dtype(row_splits_dtype)
        if self._row_splits_dtype.name not in ("int32", "int64"):
            raise ValueError(f"row_splits_dtype must be int32 or int64. Received: {row_splits_dtype!r}")
        self._flat_values_spec = flat_values_spec

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ragged_rank = property(lambda self: self._ragged_rank)
    row_splits_dtype = property(lambda self: self._row_splits_dtype)
    flat_values_spec = property(lambda self: self._flat_values_spec)
    value_type = property(lambda self: RaggedTensor if self._ragged_rank > 0 else Tensor)

    @classmethod
    def from_value(cls, value) -> RaggedTensorSpec:
        return cls(value.shape, value.dtype, value.ragged_rank, value.row_splits.dtype)

    def _fields(self) -> tuple:
        return self._shape, (self._dtype, self._ragged_rank, self._row_splits_dtype)

    def _with_shape(self, shape) -> RaggedTensorSpec:
        return RaggedTensorSpec(shape, self._dtype, self._ragged_rank, self._row_splits_dtype)

    def __repr__(self) -> str:
        return (f"RaggedTensorSpec({_shape_repr(self._shape)}, {_dtype_repr(self._dtype)}, {self._ragged_rank}, "
                f"{_dtype_repr(self._row_splits_dtype)})")


class IndexedSlicesSpec(TypeSpec):
    """The spec of an ``IndexedSlices``: the dense shape, the values' dtype, the indices' dtype and shape, and
    the dense-shape dtype (``None`` when the slices carry no dense shape).

    >>> import featherflow as ff
    >>> ff.IndexedSlicesSpec([5, 3])
    IndexedSlicesSpec(TensorShape([5, 3]), tf.float32, tf.int64, None, TensorShape([None]))
    """

    __slots__ = ("_shape", "_dtype", "_indices_dtype", "_dense_shape_dtype", "_indices_shape")

    def __init__(self, shape=None, dtype="float32", indices_dtype="int64", dense_shape_dtype=None,
                 indices_shape=None):
        self._shape, self._dtype = _shape(shape), as_dtype(dtype)
        self._indices_dtype = as_dtype(indices_dtype)
        self._dense_shape_dtype = None if dense_shape_dtype is None else as_dtype(dense_shape_dtype)
        self._indices_shape = _shape([None] if indices_shape is None else indices_shape)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    indices_dtype = property(lambda self: self._indices_dtype)
    dense_shape_dtype = property(lambda self: self._dense_shape_dtype)
    indices_shape = property(lambda self: self._indices_shape)
    value_type = property(lambda self: IndexedSlices)

    @classmethod
    def from_value(cls, value) -> IndexedSlicesSpec:
        dense = value.dense_shape
        return cls(value.shape, value.dtype, value.indices.dtype, None if dense is None else dense.dtype,
                   value.indices.shape)

    def _fields(self) -> tuple:
        return self._shape, (self._dtype, self._indices_dtype, self._dense_shape_dtype, self._indices_shape)

    def _with_shape(self, shape) -> IndexedSlicesSpec:
        return IndexedSlicesSpec(shape, self._dtype, self._indices_dtype, self._dense_shape_dtype, self._indices_shape)

    def __repr__(self) -> str:
        return (f"IndexedSlicesSpec({_shape_repr(self._shape)}, {_dtype_repr(self._dtype)}, "
                f"{_dtype_repr(self._indices_dtype)}, {_dtype_repr(self._dense_shape_dtype)}, "
                f"{_shape_repr(self._indices_shape)})")


class TensorArraySpec(TypeSpec):
    """The spec of a ``TensorArray``: the element shape and dtype, ``dynamic_size`` and ``infer_shape``.

    >>> import featherflow as ff
    >>> ff.TensorArraySpec([3])
    TensorArraySpec(TensorShape([3]), tf.float32, False, True)
    """

    __slots__ = ("_shape", "_dtype", "_dynamic_size", "_infer_shape")

    def __init__(self, element_shape=None, dtype="float32", dynamic_size=False, infer_shape=True):
        self._shape, self._dtype = _shape(element_shape), as_dtype(dtype)
        self._dynamic_size, self._infer_shape = bool(dynamic_size), bool(infer_shape)

    element_shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    dynamic_size = property(lambda self: self._dynamic_size)
    infer_shape = property(lambda self: self._infer_shape)
    value_type = property(lambda self: TensorArray)

    @classmethod
    def from_value(cls, value) -> TensorArraySpec:
        return cls(value.element_shape, value.dtype, value.dynamic_size, getattr(value, "_infer_shape", True))

    def _fields(self) -> tuple:
        return self._shape, (self._dtype, self._dynamic_size, self._infer_shape)

    def _with_shape(self, shape) -> TensorArraySpec:
        return TensorArraySpec(shape, self._dtype, self._dynamic_size, self._infer_shape)

    def __repr__(self) -> str:
        return (f"TensorArraySpec({_shape_repr(self._shape)}, {_dtype_repr(self._dtype)}, {self._dynamic_size}, "
                f"{self._infer_shape})")


class NoneTensorSpec(TypeSpec):
    """The spec of ``None`` in a structure of values.

    >>> import featherflow as ff
    >>> ff.type_spec_from_value(None)
    NoneTensorSpec()
    """

    __slots__ = ()
    value_type = property(lambda self: type(None))

    def _fields(self) -> tuple:
        return (), ()

    def is_compatible_with(self, spec_or_value) -> bool:
        return spec_or_value is None or isinstance(spec_or_value, NoneTensorSpec)

    def __repr__(self) -> str:
        return "NoneTensorSpec()"


class OptionalSpec(TypeSpec):
    """The spec of a ``tf.experimental.Optional`` (``tf.data``'s ``get_next_as_optional``): its element spec.

    >>> import featherflow as ff
    >>> ff.OptionalSpec(ff.TensorSpec([], "float32"))
    OptionalSpec(TensorSpec(shape=(), dtype=tf.float32, name=None),)
    """

    __slots__ = ("_element_spec",)

    def __init__(self, element_spec):
        self._element_spec = element_spec

    element_spec = property(lambda self: self._element_spec)

    @property
    def value_type(self) -> type:
        from featherflow.data.experimental import Optional

        return Optional

    @classmethod
    def from_value(cls, value) -> OptionalSpec:
        return cls(value.element_spec)

    def _fields(self) -> tuple:
        return (), (self._element_spec,)

    def __repr__(self) -> str:
        return f"OptionalSpec({self._element_spec!r},)"


def type_spec_from_value(value) -> TypeSpec:
    """The spec of ``value``: a ``TensorSpec`` for tensors, arrays and Python numbers or lists, the matching
    composite spec for sparse, ragged, indexed-slices, tensor-array, optional values and ``None``.

    >>> import featherflow as ff
    >>> ff.type_spec_from_value([1.0, 2.0])
    TensorSpec(shape=(2,), dtype=tf.float32, name=None)
    """
    kinds = ((SparseTensor, SparseTensorSpec), (RaggedTensor, RaggedTensorSpec), (IndexedSlices, IndexedSlicesSpec),
             (TensorArray, TensorArraySpec))
    for kind, spec in kinds:
        if isinstance(value, kind):
            return spec.from_value(value)
    if value is None:
        return NoneTensorSpec()
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        return TensorSpec.from_tensor(value)
    if type(value).__name__ == "Optional" and hasattr(value, "element_spec") and hasattr(value, "has_value"):
        return OptionalSpec.from_value(value)
    if not isinstance(value, (dict, set)):
        try:
            return TensorSpec.from_tensor(convert_to_tensor(value))
        except (TypeError, ValueError):
            pass
    raise TypeError(f"Could not build a TypeSpec for {value!r} of unsupported type {type(value)}.")
