"""``tf.TensorArray``: a list of same-dtype tensors grown in loops, read back one by one or stacked.

In eager execution a TensorArray holds the written tensors themselves, so reads and ``stack``/``concat``/
``gather`` are ordinary (differentiable) ops on them. ``write`` returns the array (the usual
``ta = ta.write(i, x)`` works); an array of fixed size refuses indices past it unless ``dynamic_size``.

>>> import featherflow as ff
>>> ta = ff.TensorArray(ff.float32, size=0, dynamic_size=True)
>>> for i in range(3):
...     ta = ta.write(i, ff.constant(float(i)) * 2.0)
>>> ta.stack().numpy()
array([0., 2., 4.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, TensorShape, convert_to_tensor


class TensorArray:
    """A list of tensors of one ``dtype``.

    Args:
        dtype: the element dtype.
        size: the initial number of elements.
        dynamic_size: allow writes past ``size`` (the array grows).
        clear_after_read: accepted for TensorFlow code; elements stay readable (they are ordinary tensors).
        element_shape: the expected shape of every element (``None`` entries match anything).
        infer_shape: check every element against the first one's shape.
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape=True, element_shape=None, colocate_with_first_write_call=True,
                 name=None):
        self._dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))
        size = 0 if size is None else int(size.value if isinstance(size, Tensor) else size)
        if size < 0:
            raise ValueError(f"TensorArray: size must be non-negative. Received: size={size}")
        self._elements: list = [None] * size
        self._dynamic = bool(dynamic_size)
        self._infer_shape = bool(infer_shape)
        self._element_shape = None if element_shape is None else TensorShape(element_shape)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic

    @property
    def element_shape(self):
        return self._element_shape

    def size(self, name=None) -> Tensor:
        """The number of elements, an int32 scalar."""
        return Tensor(np.asarray(len(self._elements), dtype=np.int32))

    def _index(self, index, op):
        i = int(index.value if isinstance(index, Tensor) else index)
        if i < 0:
            raise InvalidArgumentError(None, None, f"TensorArray.{op}: index {i} is negative.")
        return i

    def _check(self, value, op):
        t = value if isinstance(value, Tensor) else convert_to_tensor(value, dtype=self._dtype)
        if t.value.dtype != self._dtype:
            raise InvalidArgumentError(None, None, f"TensorArray dtype is {self._dtype.name} but Op is trying to "
                                       f"write dtype {t.value.dtype.name}")
        if self._element_shape is not None and not self._element_shape.is_compatible_with(t.value.shape):
            raise InvalidArgumentError(None, None, f"TensorArray.{op}: element shape {t.value.shape} is not "
                                       f"compatible with {tuple(self._element_shape)}")
        if self._infer_shape and self._element_shape is None:
            self._element_shape = TensorShape(t.value.shape)
        return t

    def write(self, index, value, name=None) -> TensorArray:
        """Store ``value`` at ``index``; returns the array."""
        i = self._index(index, "write")
        t = self._check(value, "write")
        if i >= len(self._elements):
            if not self._dynamic:
                raise InvalidArgumentError(None, None, f"Tried to write to index {i} but array is not resizeable "
                                           f"and size is: {len(self._elements)}")
            self._elements.extend([None] * (i + 1 - len(self._elements)))
        self._elements[i] = t
        return self

    def read(self, index, name=None) -> Tensor:
        """The element at ``index`` (zeros of the element shape if never written)."""
        i = self._index(index, "read")
        if i >= len(self._elements):
            raise InvalidArgumentError(None, None, f"Tried to read from index {i} but array size is: "
                                       f"{len(self._elements)}")
        value = self._elements[i]
        if value is None:
            return self._zeros()
        return value

    def _zeros(self):
        if self._element_shape is None or not self._element_shape.is_fully_defined():
            raise InvalidArgumentError(None, None, "TensorArray: reading an unwritten element needs a fully defined "
                                       "element_shape.")
        return Tensor(np.zeros(tuple(self._element_shape), dtype=self._dtype))

    def _all(self):
        return [self._zeros() if e is None else e for e in self._elements]

    def stack(self, name=None) -> Tensor:
        """All elements stacked along a new first axis."""
        from featherflow.ops.shape import stack

        if not self._elements:
            shape = () if self._element_shape is None else tuple(d or 0 for d in self._element_shape)
            return Tensor(np.zeros((0,) + shape, dtype=self._dtype))
        return stack(self._all(), axis=0)

    def gather(self, indices, name=None) -> Tensor:
        """The elements at ``indices``, stacked."""
        from featherflow.ops.shape import stack

        idx = np.asarray(indices.value if isinstance(indices, Tensor) else indices).reshape(-1)
        return stack([self.read(int(i)) for i in idx], axis=0)

    def concat(self, name=None) -> Tensor:
        """All elements concatenated along their first axis."""
        from featherflow.ops.shape import concat

        return concat(self._all(), axis=0)

    def unstack(self, value, name=None) -> TensorArray:
        """Write the slices of ``value`` along axis 0 as elements ``0..n-1``."""
        from featherflow.ops.shape import unstack

        t = self._check_whole(value)
        for i, piece in enumerate(unstack(t) if t.value.shape[0] else []):
            self.write(i, piece)
        return self

    def scatter(self, indices, value, name=None) -> TensorArray:
        """Write ``value[j]`` to element ``indices[j]``."""
        from featherflow.ops.shape import unstack

        t = self._check_whole(value)
        idx = np.asarray(indices.value if isinstance(indices, Tensor) else indices).reshape(-1)
        if idx.size != t.value.shape[0]:
            raise InvalidArgumentError(None, None, f"TensorArray.scatter: {idx.size} indices for {t.value.shape[0]} "
                                       f"values.")
        for i, piece in zip(idx, unstack(t) if idx.size else []):
            self.write(int(i), piece)
        return self

    def split(self, value, lengths, name=None) -> TensorArray:
        """Split ``value`` along axis 0 into pieces of ``lengths`` and write them as elements."""
        from featherflow.ops.shape import split

        t = self._check_whole(value)
        sizes = [int(n) for n in np.asarray(lengths.value if isinstance(lengths, Tensor) else lengths).reshape(-1)]
        if self._element_shape is None or self._element_shape[:1] != (None,):
            self._element_shape = TensorShape((None,) + tuple(t.value.shape[1:]))  # pieces differ in length
        for i, piece in enumerate(split(t, sizes, axis=0)):
            self.write(i, piece)
        return self

    def _check_whole(self, value):
        t = value if isinstance(value, Tensor) else convert_to_tensor(value, dtype=self._dtype)
        if t.value.ndim < 1:
            raise ValueError("TensorArray: the value must have rank >= 1.")
        return t

    def identity(self) -> TensorArray:
        return self

    def close(self, name=None) -> None:
        self._elements = []

    def __repr__(self) -> str:
        return f"<TensorArray dtype={self._dtype.name} size={len(self._elements)}>"
