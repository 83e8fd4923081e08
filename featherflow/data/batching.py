"""Grouping transformations: batch, padded_batch, unbatch, rebatch and window.

>>> import featherflow as tf
>>> [b.tolist() for b in tf.data.Dataset.range(8).batch(3).rebatch(2).as_numpy_iterator()]
[[0, 1], [2, 3], [4, 5], [6, 7]]
"""

from __future__ import annotations

import collections
import itertools

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import STRING, TensorSpec
from featherflow.data import structure as nest
from featherflow.data.dataset import (
    INFINITE,
    UNKNOWN,
    Dataset,
    DatasetSpec,
    ElementsDataset,
    UnaryDataset,
    _check_count,
)


def _check_batch_size(batch_size) -> int:
    return _check_count(batch_size, "batch_size", allow_minus_one=False)


def _batched_cardinality(n: int, batch_size: int, drop_remainder: bool) -> int:
    if n in (INFINITE, UNKNOWN):
        return n
    return n // batch_size if drop_remainder else -(-n // batch_size)


def _check_tensor_specs(dataset: Dataset, what: str) -> None:
    for spec in nest.flatten(dataset.element_spec):
        if isinstance(spec, DatasetSpec):
            raise TypeError(f"`{what}` is not supported for datasets whose elements are datasets (the elements of "
                            f"`window`): use `flat_map` to turn each window into tensors first.")


def stack_elements(elements: list, structure=None):
    """One batched element from a list of elements of the same structure and shapes."""
    first = elements[0]
    if isinstance(first, np.ndarray):
        columns = [elements]
    else:
        for k, element in enumerate(elements):
            if not nest.same_structure(first, element):
                raise ValueError(f"Cannot batch elements of different structures: element 0 is "
                                 f"{nest.structure_repr(first)} and element {k} is {nest.structure_repr(element)}.")
        columns = list(zip(*(nest.flatten(e) for e in elements)))
    stacked = []
    for component, column in enumerate(columns):
        if not isinstance(column[0], np.ndarray):
            raise TypeError("`batch` is not supported for datasets whose elements are datasets (the elements of "
                            "`window`): use `flat_map` to turn each window into tensors first.")
        shape, dtype = column[0].shape, column[0].dtype
        for k, arr in enumerate(column):
            if arr.shape != shape:
                raise ValueError(f"Cannot batch tensors with different shapes in component {component}. First "
                                 f"element had shape {shape} and element {k} had shape {arr.shape}. Use "
                                 "`padded_batch` to pad the elements to a common shape.")
            if arr.dtype != dtype:
                raise ValueError(f"Cannot batch tensors with different dtypes in component {component}: element 0 is "
                                 f"{dtype.name} and element {k} is {arr.dtype.name}.")
        stacked.append(np.stack(column))
    return stacked[0] if isinstance(first, np.ndarray) else nest.pack_as(first, stacked)


def _index_batches(source, batch_size: int, drop_remainder: bool):
    pending = None
    for chunk in source.chunks():
        if pending is not None and len(pending):
            chunk = np.concatenate([pending, chunk])
        full = len(chunk) - len(chunk) % batch_size
        for start in range(0, full, batch_size):
            yield source.gather(chunk[start:start + batch_size])
        pending = chunk[full:]
    if pending is not None and len(pending) and not drop_remainder:
        yield source.gather(pending)


class BatchDataset(UnaryDataset):
    """``Dataset.batch``."""

    def __init__(self, input_dataset, batch_size, drop_remainder=False):
        self._input = input_dataset
        self._batch_size = _check_batch_size(batch_size)
        self._drop = bool(drop_remainder)

    def _cardinality(self) -> int:
        return _batched_cardinality(self._input._cardinality(), self._batch_size, self._drop)

    def _spec(self):
        _check_tensor_specs(self._input, "batch")
        size = self._batch_size if self._drop else None
        return nest.map_structure(lambda s: TensorSpec(None if s.shape is None else (size, *s.shape), s.dtype),
                                  self._input.element_spec)

    def _elements(self):
        source = self._input._index_source()
        if source is not None and type(self) is BatchDataset:
            return _index_batches(source, self._batch_size, self._drop)
        return (self._combine(group) for group in self._groups())

    def _groups(self):
        """Lists of ``batch_size`` consecutive elements (the last shorter unless ``drop_remainder``)."""
        it = self._input._elements()
        size, drop = self._batch_size, self._drop
        while True:
            elements = list(itertools.islice(it, size))
            if not elements or (drop and len(elements) < size):
                return
            yield elements

    def _combine(self, elements: list):
        return stack_elements(elements)


def _shapes_up_to(structure, shapes, what: str) -> list:
    """The leaves of ``shapes`` following ``structure`` (a shape is a list/tuple of ints, so the nest stops at
    ``structure``'s leaves)."""
    if isinstance(structure, tuple):
        if not isinstance(shapes, (tuple, list)) or len(shapes) != len(structure):
            raise ValueError(f"`{what}` must have the same structure as the dataset's elements "
                             f"{nest.structure_repr(structure)}. Received: {what}={shapes!r}")
        return [leaf for sub, item in zip(structure, shapes) for leaf in _shapes_up_to(sub, item, what)]
    if isinstance(structure, dict):
        if not isinstance(shapes, dict) or sorted(shapes) != sorted(structure):
            raise ValueError(f"`{what}` must have the same structure as the dataset's elements "
                             f"{nest.structure_repr(structure)}. Received: {what}={shapes!r}")
        return [leaf for key in sorted(structure) for leaf in _shapes_up_to(structure[key], shapes[key], what)]
    return [shapes]


def _as_padded_shape(shape, spec: TensorSpec, component: int) -> tuple:
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    dims = tuple(None if d is None or d == -1 else int(d) for d in (shape if not isinstance(shape, int)
                                                                    else (shape,)))
    if spec.shape is not None:
        if len(dims) != len(spec.shape):
            raise ValueError(f"The padded shape {dims} is not compatible with the shape {tuple(spec.shape)} of the "
                             f"corresponding input component {component}: the ranks differ.")
        for d, known in zip(dims, spec.shape):
            if d is not None and known is not None and d < known:
                raise ValueError(f"The padded shape {dims} is not compatible with the shape {tuple(spec.shape)} of "
                                 f"the corresponding input component {component}.")
    return dims


def _padding_value(value, spec: TensorSpec, component: int):
    if value is None:
        return b"" if spec.dtype == STRING else np.zeros((), spec.dtype)
    arr = value.value if isinstance(value, Tensor) else value
    if isinstance(arr, (str, bytes)) or (isinstance(arr, np.ndarray) and arr.dtype.kind in "OUS"):
        if spec.dtype != STRING:
            raise TypeError(f"Mismatched type between padding value {component} and input dataset's component "
                            f"{component}: string vs. {spec.dtype.name}")
        arr = nest.to_array(arr)
        return arr[()] if arr.ndim == 0 else arr
    arr = np.asarray(arr)
    if arr.shape != ():
        raise ValueError(f"Padding values must be scalars. Received padding value {component} of shape {arr.shape}.")
    if spec.dtype == STRING or (isinstance(value, (Tensor, np.ndarray, np.generic)) and arr.dtype != spec.dtype):
        raise TypeError(f"Mismatched type between padding value {component} and input dataset's component "
                        f"{component}: {arr.dtype.name} vs. {'string' if spec.dtype == STRING else spec.dtype.name}")
    return arr.astype(spec.dtype)


class PaddedBatchDataset(BatchDataset):
    """``Dataset.padded_batch``."""

    def __init__(self, input_dataset, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False):
        super().__init__(input_dataset, batch_size, drop_remainder)
        _check_tensor_specs(input_dataset, "padded_batch")
        spec = input_dataset.element_spec
        leaves = nest.flatten(spec)
        if padded_shapes is None:
            # Every size padded to the batch's largest: the same as the spec's shapes for the known sizes
            # (all elements have them), and no reliance on a spec inferred by tracing.
            shapes = [None] * len(leaves)
        else:
            shapes = [_as_padded_shape(shape, s, i) for i, (shape, s) in
                      enumerate(zip(_shapes_up_to(spec, padded_shapes, "padded_shapes"), leaves))]
        if padding_values is None:
            values = [None] * len(leaves)
        elif nest.is_nest(spec) and not nest.is_nest(padding_values):
            values = [padding_values] * len(leaves)
        else:
            values = _shapes_up_to(spec, padding_values, "padding_values")
        self._shapes = shapes
        self._values = [_padding_value(v, s, i) for i, (v, s) in enumerate(zip(values, leaves))]

    def _spec(self):
        spec = self._input.element_spec
        size = self._batch_size if self._drop else None
        out = []
        for i, (shape, s) in enumerate(zip(self._shapes, nest.flatten(spec))):
            if shape is None:
                if s.shape is None:
                    raise ValueError(f"You must provide `padded_shapes` argument because component {i} has unknown "
                                     "rank.")
                shape = tuple(s.shape)
            out.append(TensorSpec((size, *shape), s.dtype))
        return nest.pack_as(spec, out)

    def _combine(self, elements: list):
        columns = list(zip(*(nest.flatten(e) for e in elements)))
        out = []
        for component, (column, shape, value) in enumerate(zip(columns, self._shapes, self._values)):
            if shape is None:
                shape = (None,) * column[0].ndim
            rank = len(shape)
            for arr in column:
                if arr.ndim != rank:
                    raise ValueError(f"Cannot pad component {component}: expected rank {rank}, received an element "
                                     f"of shape {arr.shape}.")
            target = tuple(d if d is not None else max((a.shape[i] for a in column), default=0)
                           for i, d in enumerate(shape))
            batch = np.empty((len(column), *target), dtype=column[0].dtype)
            batch[...] = value
            for row, arr in enumerate(column):
                if any(a > t for a, t in zip(arr.shape, target)):
                    raise ValueError(f"Attempted to pad to a smaller size than the input element: component "
                                     f"{component} has shape {arr.shape}, padded shape {target}.")
                batch[(row, *(slice(0, d) for d in arr.shape))] = arr
            out.append(batch)
        return nest.pack_as(elements[0], out)


def _leading_size(element) -> int:
    sizes = set()
    for arr in nest.flatten(element):
        if arr.ndim == 0:
            raise ValueError("Cannot unbatch an input with scalar components.")
        sizes.add(arr.shape[0])
    if len(sizes) > 1:
        raise ValueError(f"Cannot unbatch an input whose components have different batch sizes. Received sizes "
                         f"{sorted(sizes)}.")
    return sizes.pop()


class UnbatchDataset(UnaryDataset):
    """``Dataset.unbatch``: the rows of each element."""

    def __init__(self, input_dataset):
        _check_tensor_specs(input_dataset, "unbatch")
        for spec in nest.flatten(input_dataset.element_spec):
            if spec.shape is not None and len(spec.shape) == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        self._input = input_dataset

    def _cardinality(self) -> int:
        return UNKNOWN

    def _spec(self):
        return nest.map_structure(lambda s: TensorSpec(None if s.shape is None else s.shape[1:], s.dtype),
                                  self._input.element_spec)

    def _elements(self):
        for element in self._input._elements():
            n = _leading_size(element)
            if isinstance(element, np.ndarray):
                for i in range(n):
                    yield element[i, ...]
                continue
            leaves = nest.flatten(element)
            for i in range(n):
                yield nest.pack_as(element, [a[i, ...] for a in leaves])


class RebatchDataset(UnaryDataset):
    """``Dataset.rebatch``: the rows of the input batches regrouped into batches of the given size(s)."""

    def __init__(self, input_dataset, batch_size, drop_remainder=False):
        _check_tensor_specs(input_dataset, "rebatch")
        if isinstance(batch_size, Tensor):
            batch_size = batch_size.numpy().tolist()
        sizes = list(batch_size) if isinstance(batch_size, (list, tuple, np.ndarray)) else [batch_size]
        if not sizes:
            raise ValueError("`batch_size` must be a positive integer or a non-empty list of them. Received: []")
        self._sizes = [_check_batch_size(s) for s in sizes]
        self._input = input_dataset
        self._drop = bool(drop_remainder)

    def _cardinality(self) -> int:
        return UNKNOWN

    def _spec(self):
        def rebatched(s: TensorSpec):
            if s.shape is None or len(s.shape) == 0:
                raise ValueError("Cannot rebatch an input with scalar components.")
            size = None
            if len(set(self._sizes)) == 1:
                target = self._sizes[0]
                if self._drop or (s.shape[0] is not None and s.shape[0] % target == 0):
                    size = target
            return TensorSpec((size, *s.shape[1:]), s.dtype)

        return nest.map_structure(rebatched, self._input.element_spec)

    def _elements(self):
        sizes = itertools.cycle(self._sizes)
        target = next(sizes)
        pending: list = []
        count = 0
        for batch in self._input._elements():
            n = _leading_size(batch)
            if n == 0:
                continue
            pending.append(batch)
            count += n
            while count >= target:
                merged = pending[0] if len(pending) == 1 else _concat(pending)
                leaves = nest.flatten(merged)
                yield nest.pack_as(merged, [a[:target] for a in leaves])
                count -= target
                pending = [nest.pack_as(merged, [a[target:] for a in leaves])] if count else []
                target = next(sizes)
        if count and not self._drop:
            yield pending[0] if len(pending) == 1 else _concat(pending)


def _concat(elements: list):
    columns = zip(*(nest.flatten(e) for e in elements))
    return nest.pack_as(elements[0], [np.concatenate(column) for column in columns])


class WindowDataset(UnaryDataset):
    """``Dataset.window``: nests of datasets, one per window of input elements."""

    def __init__(self, input_dataset, size, shift=None, stride=1, drop_remainder=False):
        self._size = _check_count(size, "size", allow_minus_one=False)
        self._shift = self._size if shift is None else _check_count(shift, "shift", allow_minus_one=False)
        self._stride = _check_count(stride, "stride", allow_minus_one=False)
        self._drop = bool(drop_remainder)
        self._input = input_dataset

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        if self._drop:
            span = (self._size - 1) * self._stride + 1
            return 0 if n < span else (n - span) // self._shift + 1
        return -(-n // self._shift)

    def _spec(self):
        return nest.map_structure(DatasetSpec, self._input.element_spec)

    def _elements(self):
        it = self._input._elements()
        buffer: collections.deque = collections.deque()
        buffer_start = 0  # position of buffer[0] in the input
        exhausted = False
        start = 0
        component_specs = nest.flatten(self._input.element_spec)
        while True:
            last = start + (self._size - 1) * self._stride
            while not exhausted and buffer_start + len(buffer) <= last:
                try:
                    buffer.append(next(it))
                except StopIteration:
                    exhausted = True
            end = buffer_start + len(buffer)
            positions = [p for p in range(start, last + 1, self._stride) if p < end]
            if not positions or (self._drop and len(positions) < self._size):
                return
            window = [buffer[p - buffer_start] for p in positions]
            columns = list(zip(*(nest.flatten(e) for e in window)))
            yield nest.pack_as(window[0], [ElementsDataset(list(column), spec)
                                           for column, spec in zip(columns, component_specs)])
            start += self._shift
            while buffer_start < start:
                if buffer:
                    buffer.popleft()
                elif exhausted:
                    return
                else:
                    try:
                        next(it)
                    except StopIteration:
                        exhausted = True
                buffer_start += 1
