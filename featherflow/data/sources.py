"""Datasets that start a pipeline: slices of arrays, one element, a generator, a range, zipped datasets,
file names, random numbers and mixtures of datasets.

>>> import featherflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices({"x": [[1, 2], [3, 4]], "y": [0, 1]})
>>> ds.element_spec["x"]
TensorSpec(shape=(2,), dtype=tf.int32, name=None)
"""

from __future__ import annotations

import glob
import os

import numpy as np

from featherflow.backend import random as backend_random
from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import STRING, TensorSpec, as_dtype
from featherflow.data import structure as nest
from featherflow.data.dataset import INFINITE, UNKNOWN, Dataset, ElementsDataset, as_int


class IndexSource:
    """Elements that are rows of in-memory arrays, in an order given as chunks of row indices.

    ``chunks()`` returns a fresh iterator of int64 index arrays for one iteration; transformations that only
    reorder or select rows (shuffle, repeat, take, skip, shard) derive a new ``IndexSource``, and ``batch``
    gathers each batch with one indexing operation per array.
    """

    def __init__(self, structure, arrays: list, chunks):
        self.structure = structure
        self.arrays = arrays
        self.chunks = chunks
        # the common element, a plain tuple of arrays (x, y), is rebuilt without the generic packing
        self._flat_tuple = type(structure) is tuple and all(type(s) is np.ndarray for s in structure)

    def derive(self, chunks) -> IndexSource:
        return IndexSource(self.structure, self.arrays, chunks)

    def gather(self, index: np.ndarray):
        """The rows ``index`` of every array, as one batched element."""
        if self._flat_tuple:
            return tuple([a[index] for a in self.arrays])
        return nest.pack_as(self.structure, [a[index] for a in self.arrays])

    def rows(self):
        """The elements of one iteration, one row at a time."""
        arrays, structure = self.arrays, self.structure
        single = len(arrays) == 1 and isinstance(structure, np.ndarray)
        for chunk in self.chunks():
            for i in chunk.tolist():
                if single:
                    yield arrays[0][i, ...]
                else:
                    yield nest.pack_as(structure, [a[i, ...] for a in arrays])


def _slice_source(arrays: list, structure, n: int) -> IndexSource:
    return IndexSource(structure, arrays, lambda: iter((np.arange(n, dtype=np.int64),)))


class TensorSliceDataset(Dataset):
    """``Dataset.from_tensor_slices``: the rows of each component, which must share their first size."""

    def __init__(self, tensors):
        if isinstance(tensors, Dataset):
            raise TypeError("`from_tensor_slices` takes tensors, arrays or nests of them, not a Dataset. "
                            "Received: tensors=<Dataset>")
        element = nest.normalize_element(tensors, "`tensors`")
        leaves = nest.flatten(element)
        if not leaves:
            raise ValueError("`from_tensor_slices` needs at least one component. Received: tensors=()")
        for leaf in leaves:
            if isinstance(leaf, Dataset):
                raise TypeError("`from_tensor_slices` takes tensors, not datasets. Received a Dataset in `tensors`.")
            if leaf.ndim == 0:
                raise ValueError(f"Unbatching a tensor is only supported for rank >= 1: `from_tensor_slices` slices "
                                 f"each component along its first axis. Received: a scalar component {leaf!r}")
        sizes = [leaf.shape[0] for leaf in leaves]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(tuple(leaf.shape)) for leaf in leaves)
            raise ValueError(f"Dimensions {sizes[0]} and {next(s for s in sizes if s != sizes[0])} are not "
                             f"compatible: `from_tensor_slices` needs every component of `tensors` to have the same "
                             f"size in axis 0 (the axis it slices). Received: components of shapes {shapes}")
        self._structure = element
        self._arrays = leaves
        self._n = int(sizes[0])

    def _cardinality(self) -> int:
        return self._n

    def _spec(self):
        return nest.pack_as(self._structure, [TensorSpec(a.shape[1:], a.dtype) for a in self._arrays])

    def _index_source(self) -> IndexSource:
        return _slice_source(self._arrays, self._structure, self._n)

    def _elements(self):
        return self._index_source().rows()


class TensorDataset(Dataset):
    """``Dataset.from_tensors``: one element."""

    def __init__(self, tensors):
        self._element = nest.normalize_element(tensors, "`tensors`")

    def _cardinality(self) -> int:
        return 1

    def _spec(self):
        return nest.spec_of(self._element)

    def _elements(self):
        yield self._element


class ListDataset(ElementsDataset):
    """``tf.data.experimental.from_list``: the elements of a Python list (all of one structure)."""

    def __init__(self, elements):
        if not isinstance(elements, (list, tuple)) or not elements:
            raise ValueError(f"`elements` must be a non-empty list. Received: elements={elements!r:.100}")
        values = [nest.normalize_element(e, "an element of `elements`") for e in elements]
        spec = nest.spec_of(values[0])
        for element in values[1:]:
            if not nest.same_structure(values[0], element):
                raise ValueError(f"All elements of `elements` must have the same structure. Received "
                                 f"{nest.structure_repr(values[0])} and {nest.structure_repr(element)}")
            spec = nest.relax_specs(spec, nest.spec_of(element))
            if spec is None:
                raise TypeError("All elements of `elements` must have the same dtypes.")
        super().__init__(values, spec)


class RangeDataset(Dataset):
    """``Dataset.range`` (``stop=None``: counting forever, ``Dataset.counter``)."""

    def __init__(self, *args, dtype="int64"):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to RangeDataset: expected 1 to 3 (start, stop, step). "
                             f"Received: {args}")
        if len(args) == 1:
            args = (0, args[0], 1)
        elif len(args) == 2:
            args = (args[0], args[1], 1)
        start, stop, step = args
        self._start = as_int(start, "start")
        self._stop = None if stop is None else as_int(stop, "stop")
        self._step = as_int(step, "step")
        if self._step == 0:
            raise ValueError("step must be a non-zero integer. Received: step=0")
        self._dtype = as_dtype(dtype)

    def _cardinality(self) -> int:
        if self._stop is None:
            return INFINITE
        return len(range(self._start, self._stop, self._step))

    def _spec(self):
        return TensorSpec((), self._dtype)

    def _index_source(self):
        n = self._cardinality()
        if n == INFINITE or n > 10_000_000:
            return None
        values = np.arange(self._start, self._stop, self._step, dtype=np.int64).astype(self._dtype, copy=False)
        return _slice_source([values], values, n)

    def _elements(self):
        dtype = self._dtype
        if self._stop is None:
            value = self._start
            while True:
                yield np.asarray(value, dtype=dtype)
                value += self._step
        for value in range(self._start, self._stop, self._step):
            yield np.asarray(value, dtype=dtype)


def _signature_from_types(output_types, output_shapes):
    if output_types is None:
        raise TypeError("To specify the output signature you need to provide either the `output_signature` argument "
                        "or the `output_types` argument.")
    if output_shapes is None:
        return nest.map_structure(lambda t: TensorSpec(None, t), output_types)
    types = nest.flatten(output_types)
    shapes = output_shapes
    if not isinstance(output_types, (tuple, dict)):
        shapes = [output_shapes]
    else:
        shapes = _flatten_shapes_up_to(output_types, output_shapes)
    return nest.pack_as(output_types, [TensorSpec(s, t) for t, s in zip(types, shapes)])


def _flatten_shapes_up_to(structure, shapes) -> list:
    if isinstance(structure, tuple):
        if not isinstance(shapes, (tuple, list)) or len(shapes) != len(structure):
            raise ValueError(f"`output_shapes` must have the structure of `output_types`. Received: "
                             f"output_shapes={shapes!r}")
        return [s for sub, shp in zip(structure, shapes) for s in _flatten_shapes_up_to(sub, shp)]
    if isinstance(structure, dict):
        return [s for key in sorted(structure) for s in _flatten_shapes_up_to(structure[key], shapes[key])]
    return [shapes]


def _flatten_up_to(signature, value):
    """The leaves of ``value`` matching the nest ``signature`` (lists accepted where it has tuples)."""
    if isinstance(signature, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(signature):
            raise ValueError("structure")
        return [leaf for sub, item in zip(signature, value) for leaf in _flatten_up_to(sub, item)]
    if isinstance(signature, dict):
        if not isinstance(value, dict) or sorted(value) != sorted(signature):
            raise ValueError("structure")
        return [leaf for key in sorted(signature) for leaf in _flatten_up_to(signature[key], value[key])]
    return [value]


def _convert_to_spec(value, spec: TensorSpec) -> np.ndarray:
    if spec.dtype == STRING:
        return nest.to_array(value if not isinstance(value, list) else np.asarray(value, dtype=object))
    if isinstance(value, Tensor):
        value = value.value
    arr = np.asarray(value)
    if arr.dtype.kind in "USO":
        raise TypeError("not numeric")
    return np.asarray(arr, dtype=spec.dtype)


class GeneratorDataset(Dataset):
    """``Dataset.from_generator``: the elements of ``generator(*args)``, checked against the signature."""

    def __init__(self, generator, output_types=None, output_shapes=None, args=None, output_signature=None):
        if not callable(generator):
            raise TypeError(f"`generator` must be a Python callable. Received: generator={generator!r:.80}")
        if output_signature is not None:
            if output_types is not None or output_shapes is not None:
                raise TypeError("The `output_types` and `output_shapes` arguments must not be specified together "
                                "with the `output_signature` argument.")
            for spec in nest.flatten(output_signature):
                if not isinstance(spec, TensorSpec):
                    raise TypeError(f"`output_signature` must contain objects that are subclass of `tf.TypeSpec` "
                                    f"but found {type(spec)} which is not.")
            signature = output_signature
        else:
            signature = _signature_from_types(output_types, output_shapes)
        self._generator = generator
        self._args = () if args is None else tuple(nest.to_numpy_output(nest.normalize_element(a, "`args`"))
                                                   for a in args)
        self._signature = signature
        self._signature_specs = nest.flatten(signature)

    def _spec(self):
        return self._signature

    def _elements(self):
        signature, specs = self._signature, self._signature_specs
        for value in self._generator(*self._args):
            try:
                leaves = _flatten_up_to(signature, value)
            except ValueError:
                raise TypeError(f"`generator` yielded an element that did not match the expected structure. The "
                                f"expected structure was {signature!r}, but the yielded element was "
                                f"{value!r:.200}.") from None
            arrays = []
            for leaf, spec in zip(leaves, specs):
                try:
                    arr = _convert_to_spec(leaf, spec)
                except (TypeError, ValueError):
                    raise TypeError(f"`generator` yielded an element that could not be converted to the expected "
                                    f"type. The expected type was {spec.dtype.name if spec.dtype != STRING else 'string'}"
                                    f", but the yielded element was {leaf!r:.200}.") from None
                if not spec._shape_compatible(arr.shape):
                    expected = "<unknown>" if spec.shape is None else tuple(spec.shape)
                    raise TypeError(f"`generator` yielded an element of shape {arr.shape} where an element of shape "
                                    f"{expected} was expected.")
                arrays.append(arr)
            yield arrays[0] if len(specs) == 1 and not nest.is_nest(signature) else nest.pack_as(signature, arrays)


def _is_dataset_nest(value) -> bool:
    return all(isinstance(leaf, Dataset) for leaf in nest.flatten(value))


class ZipDataset(Dataset):
    """``Dataset.zip``: the elements of a nest of datasets side by side, up to the shortest."""

    def __init__(self, datasets):
        if isinstance(datasets, list) or not _is_dataset_nest(datasets) or not nest.flatten(datasets):
            raise TypeError("Invalid `datasets`. `datasets` is expected to be a (nested) structure of "
                            "`tf.data.Dataset` objects. Python `list` is not supported and you should use `tuple` "
                            f"instead. Received: datasets={datasets!r:.200}")
        self._structure = datasets
        self._datasets = nest.flatten(datasets)

    def _inputs(self) -> list:
        return self._datasets

    def _cardinality(self) -> int:
        result = INFINITE
        for ds in self._datasets:
            n = ds._cardinality()
            if n == UNKNOWN:
                return UNKNOWN
            if n != INFINITE:
                result = n if result == INFINITE else min(result, n)
        return result

    def _spec(self):
        return nest.pack_as(self._structure, [ds.element_spec for ds in self._datasets])

    def _elements(self):
        iterators = [ds._elements() for ds in self._datasets]
        structure = self._structure
        for items in zip(*iterators):
            yield nest.pack_as(structure, items)


def list_files(file_pattern, shuffle=None, seed=None) -> Dataset:
    """``Dataset.list_files``: the names of the files matching ``file_pattern`` (a pattern or a list)."""
    patterns = file_pattern
    if isinstance(patterns, Tensor):
        patterns = patterns.numpy()
    if isinstance(patterns, (str, bytes, os.PathLike)):
        patterns = [patterns]
    patterns = [os.fsdecode(p) if not isinstance(p, bytes) else p.decode("utf-8")
                for p in np.asarray(patterns, dtype=object).reshape(-1).tolist()]
    names = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise ValueError(f"No files matched pattern: {pattern}")
        names.extend(matches)
    ds = TensorSliceDataset(np.array([n.encode("utf-8") for n in names], dtype=object))
    if shuffle is None or shuffle:
        ds = ds.shuffle(len(names), seed=seed)
    return ds


def _rng_for(seeds, iteration: int | None) -> np.random.Generator:
    if seeds is None:
        return np.random.default_rng()
    return np.random.default_rng(list(seeds) + ([] if iteration is None else [iteration]))


class _Iterations:
    """A thread-safe count of how many times a dataset has been iterated."""

    def __init__(self):
        import itertools
        import threading

        self._lock = threading.Lock()
        self._count = itertools.count()

    def next(self) -> int:
        with self._lock:
            return next(self._count)


class RandomDataset(Dataset):
    """``Dataset.random``: pseudorandom int64 scalars in ``[0, 2**63)`` forever."""

    def __init__(self, seed=None, rerandomize_each_iteration=None):
        self._seeds = backend_random.op_seed(seed)
        self._rerandomize = bool(rerandomize_each_iteration)
        self._iterations = _Iterations()

    def _cardinality(self) -> int:
        return INFINITE

    def _spec(self):
        return TensorSpec((), "int64")

    def _elements(self):
        rng = _rng_for(self._seeds, self._iterations.next() if self._rerandomize else 0)
        while True:
            for value in rng.integers(0, 2**63 - 1, size=1024, dtype=np.int64):
                yield np.asarray(value)


def _check_mixture_inputs(datasets, what: str) -> list:
    if isinstance(datasets, Dataset) or not isinstance(datasets, (list, tuple)) or not datasets:
        raise TypeError(f"`datasets` must be a non-empty list of datasets. Received: datasets={datasets!r:.100}")
    first = datasets[0].element_spec
    for ds in datasets:
        if not isinstance(ds, Dataset):
            raise TypeError(f"`datasets` must be a non-empty list of datasets. Received an element {ds!r:.100}")
        if nest.relax_specs(first, ds.element_spec) is None or not nest.same_structure(first, ds.element_spec):
            raise TypeError(f"All datasets passed to `{what}` must have the same element structure and dtypes. "
                            f"Received: {first!r} and {ds.element_spec!r}")
    return list(datasets)


class SampleDataset(Dataset):
    """``Dataset.sample_from_datasets``: each element from a dataset drawn with probability ``weights[i]``."""

    def __init__(self, datasets, weights, seed, stop_on_empty_dataset, rerandomize_each_iteration):
        self._datasets = _check_mixture_inputs(datasets, "sample_from_datasets")
        if weights is None:
            weights = np.ones(len(self._datasets))
        weights = np.asarray(weights.numpy() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if weights.shape != (len(self._datasets),) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"`weights` must be a list of {len(self._datasets)} non-negative numbers (one per "
                             f"dataset) with a positive sum. Received: weights={weights.tolist()}")
        self._weights = weights / weights.sum()
        self._seeds = backend_random.op_seed(seed)
        self._rerandomize = rerandomize_each_iteration is None or bool(rerandomize_each_iteration)
        self._stop = bool(stop_on_empty_dataset)
        self._iterations = _Iterations()

    def _inputs(self) -> list:
        return self._datasets

    def _spec(self):
        spec = self._datasets[0].element_spec
        for ds in self._datasets[1:]:
            spec = nest.relax_specs(spec, ds.element_spec)
        return spec

    def _cardinality(self) -> int:
        cards = [ds._cardinality() for ds in self._datasets]
        if all(c == INFINITE for c in cards):
            return INFINITE
        return UNKNOWN

    def _elements(self):
        rng = _rng_for(self._seeds, self._iterations.next() if self._rerandomize else 0)
        iterators = [ds._elements() for ds in self._datasets]
        weights = self._weights.copy()
        while weights.sum() > 0:
            i = int(rng.choice(len(iterators), p=weights / weights.sum()))
            try:
                yield next(iterators[i])
            except StopIteration:
                if self._stop:
                    return
                weights[i] = 0.0


class ChooseDataset(Dataset):
    """``Dataset.choose_from_datasets``: the next element of ``datasets[i]`` for each ``i`` of the choices."""

    def __init__(self, datasets, choice_dataset, stop_on_empty_dataset):
        self._datasets = _check_mixture_inputs(datasets, "choose_from_datasets")
        if not isinstance(choice_dataset, Dataset):
            raise TypeError(f"`choice_dataset` must be a dataset of scalar int64 indices. Received: "
                            f"{choice_dataset!r:.100}")
        spec = choice_dataset.element_spec
        if not isinstance(spec, TensorSpec) or spec.dtype != np.int64 or spec.shape != ():
            raise TypeError(f"Invalid `choice_dataset`. Elements of `choice_dataset` must be scalar of `tf.int64` "
                            f"dtype. Received: {spec!r}")
        self._choices = choice_dataset
        self._stop = bool(stop_on_empty_dataset)

    def _inputs(self) -> list:
        return [*self._datasets, self._choices]

    def _spec(self):
        spec = self._datasets[0].element_spec
        for ds in self._datasets[1:]:
            spec = nest.relax_specs(spec, ds.element_spec)
        return spec

    def _elements(self):
        iterators = [ds._elements() for ds in self._datasets]
        exhausted = [False] * len(iterators)
        for choice in self._choices._elements():
            i = int(choice)
            if not 0 <= i < len(iterators):
                raise ValueError(f"Selector index out of range: choose_from_datasets got index {i} for "
                                 f"{len(iterators)} datasets.")
            if exhausted[i]:
                continue
            try:
                yield next(iterators[i])
            except StopIteration:
                if self._stop:
                    return
                exhausted[i] = True
                if all(exhausted):
                    return
