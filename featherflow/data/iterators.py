"""Iterators over datasets: ``iter(dataset)`` (featherflow tensors) and ``as_numpy_iterator()`` (NumPy values).

>>> import featherflow as tf
>>> it = iter(tf.data.Dataset.range(2))
>>> int(it.get_next()), int(next(it)), bool(it.get_next_as_optional().has_value())
(0, 1, False)
"""

from __future__ import annotations

from featherflow.data import structure as nest


class DatasetIterator:
    """``iter(dataset)``: yields the elements as featherflow tensors (``tf.data.Iterator``)."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = dataset._elements()

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self) -> DatasetIterator:
        return self

    def __next__(self):
        return nest.to_tensors(next(self._it))

    def get_next(self):
        """The next element; raises ``StopIteration`` (TensorFlow: ``OutOfRangeError``) at the end."""
        return next(self)

    def get_next_as_optional(self):
        """The next element wrapped in an ``Optional`` (empty at the end of the dataset)."""
        from featherflow.data.experimental import Optional

        try:
            return Optional.from_value(next(self))
        except StopIteration:
            return Optional.empty(self.element_spec)


Iterator = DatasetIterator  # tf.data.Iterator


class IteratorSpec:
    """The type of an iterator (``tf.data.IteratorSpec``): the element spec of what it yields."""

    def __init__(self, element_spec):
        self.element_spec = element_spec

    @property
    def value_type(self) -> type:
        return DatasetIterator

    def __eq__(self, other) -> bool:
        return isinstance(other, IteratorSpec) and repr(other.element_spec) == repr(self.element_spec)

    def __hash__(self) -> int:
        return hash(repr(self.element_spec))

    def __repr__(self) -> str:
        return f"IteratorSpec({self.element_spec!r})"


class NumpyIterator:
    """``dataset.as_numpy_iterator()``: yields the elements as NumPy values."""

    def __init__(self, dataset):
        self._it = dataset._elements()

    def __iter__(self) -> NumpyIterator:
        return self

    def __next__(self):
        return nest.to_numpy_output(next(self._it))

    next = __next__
