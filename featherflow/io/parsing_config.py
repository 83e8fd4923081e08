"""The feature specifications of ``tf.io.parse_example``: ``FixedLenFeature``, ``VarLenFeature``,
``FixedLenSequenceFeature``, ``SparseFeature`` and ``RaggedFeature`` (named tuples, as in TensorFlow).

>>> import featherflow as tf
>>> FixedLenFeature([2], tf.int64)
FixedLenFeature(shape=[2], dtype=tf.int64, default_value=None)
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from featherflow.core.dtypes import as_dtype
from featherflow.core.tensor_spec import STRING

_ALLOWED = {np.dtype("float32"): "float", np.dtype("int64"): "int64", STRING: "string"}


def dtype_repr(dtype) -> str:
    """``tf.int64``-style name of a dtype (``tf.string`` for the object dtype of strings)."""
    dtype = np.dtype(dtype)
    return "tf.string" if dtype == STRING else f"tf.{dtype.name}"


def feature_dtype(dtype, attr: str = "Tdense") -> np.dtype:
    """``dtype`` as one of the three dtypes an Example holds, or TensorFlow's InvalidArgumentError."""
    from featherflow.core.errors import InvalidArgumentError

    dtype = as_dtype(dtype)
    if dtype not in _ALLOWED:
        raise InvalidArgumentError(None, None, f"Value for attr '{attr}' of {dtype.name} is not in the list of allowed "
                                               f"values: float, int64, string")
    return dtype


def type_name(dtype) -> str:
    """TensorFlow's name of an Example dtype in its messages: ``float``, ``int64``, ``string``."""
    return _ALLOWED[np.dtype(dtype)]


def _repr(self) -> str:
    fields = ", ".join(f"{name}={dtype_repr(value) if name == 'dtype' else repr(value)}"
                       for name, value in zip(self._fields, self))
    return f"{type(self).__name__}({fields})"


class FixedLenFeature(namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])):
    """A feature with a fixed number of values, parsed to a dense tensor of ``shape``.

    Args:
        shape: the shape of the feature in one example (its values fill it in row-major order).
        dtype: ``tf.float32``, ``tf.int64`` or ``tf.string``.
        default_value: used when an example lacks the feature (``None``: the feature is required).
    """

    __slots__ = ()

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, as_dtype(dtype), default_value)

    __repr__ = _repr


class FixedLenSequenceFeature(namedtuple("FixedLenSequenceFeature",
                                         ["shape", "dtype", "allow_missing", "default_value"])):
    """A feature with any number of rows of ``shape``, parsed to ``[rows] + shape`` (padded in a batch).

    Args:
        shape: the shape of one row.
        dtype: ``tf.float32``, ``tf.int64`` or ``tf.string``.
        allow_missing: whether an example may lack the feature (required ``True`` in ``parse_example``).
        default_value: the padding value of a batch (0 or ``b""`` when ``None``).
    """

    __slots__ = ()

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, as_dtype(dtype), allow_missing, default_value)

    __repr__ = _repr


class VarLenFeature(namedtuple("VarLenFeature", ["dtype"])):
    """A feature with any number of values, parsed to a ``tf.SparseTensor``.

    Args:
        dtype: ``tf.float32``, ``tf.int64`` or ``tf.string``.
    """

    __slots__ = ()

    def __new__(cls, dtype):
        return super().__new__(cls, as_dtype(dtype))

    __repr__ = _repr


class SparseFeature(namedtuple("SparseFeature", ["index_key", "value_key", "dtype", "size", "already_sorted"])):
    """A sparse feature stored as index features and a value feature, parsed to a ``tf.SparseTensor``.

    Args:
        index_key: the int64 feature(s) holding the indices (a list for a multi-dimensional feature).
        value_key: the feature holding the values.
        dtype: the values' dtype.
        size: the dense size (a list, one per index key).
        already_sorted: whether the indices are sorted already (otherwise they are sorted, values with them).
    """

    __slots__ = ()

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        return super().__new__(cls, index_key, value_key, as_dtype(dtype), size, already_sorted)

    __repr__ = _repr


class RaggedFeature(namedtuple("RaggedFeature", ["dtype", "value_key", "partitions", "row_splits_dtype",
                                                 "validate"])):
    """A feature with any number of values, parsed to a ``tf.RaggedTensor`` in a batch (a dense vector in a
    single example).

    Args:
        dtype: ``tf.float32``, ``tf.int64`` or ``tf.string``.
        value_key: the feature's key (the dictionary key when ``None``).
        partitions: further ragged partitions of the values (``RaggedFeature.RowLengths`` ...): not supported.
        row_splits_dtype: ``tf.int32`` or ``tf.int64``.
        validate: accepted for compatibility.
    """

    __slots__ = ()
    RowSplits = namedtuple("RowSplits", ["key"])
    RowLengths = namedtuple("RowLengths", ["key"])
    RowStarts = namedtuple("RowStarts", ["key"])
    RowLimits = namedtuple("RowLimits", ["key"])
    ValueRowIds = namedtuple("ValueRowIds", ["key"])
    UniformRowLength = namedtuple("UniformRowLength", ["length"])

    def __new__(cls, dtype, value_key=None, partitions=(), row_splits_dtype="int32", validate=False):
        if partitions:
            raise ValueError("RaggedFeature: `partitions` are not supported by featherflow; parse the values and "
                             "the partition features as RaggedFeature/VarLenFeature and build the tensor with "
                             f"tf.RaggedTensor.from_row_lengths. Received: partitions={partitions!r}")
        row_splits_dtype = as_dtype(row_splits_dtype)
        if row_splits_dtype not in (np.dtype("int32"), np.dtype("int64")):
            raise ValueError(f"Invalid row_splits_dtype: {row_splits_dtype.name}. Expected int32 or int64.")
        return super().__new__(cls, as_dtype(dtype), value_key, tuple(partitions), row_splits_dtype, validate)

    __repr__ = _repr
