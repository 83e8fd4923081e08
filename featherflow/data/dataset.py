"""``tf.data.Dataset``: an input pipeline of elements built from sources and transformations.

A dataset is a recipe: ``from_tensor_slices((x, y)).shuffle(1000).batch(32).map(f).prefetch(AUTOTUNE)``
builds a chain of small objects; each ``iter(ds)`` (a ``for`` loop, ``fit``) runs the chain anew, so a
shuffle with ``reshuffle_each_iteration=True`` gives a new order every epoch. Elements are tensors or
nests of them (tuples, named tuples, dicts); iteration yields featherflow tensors, ``as_numpy_iterator``
NumPy values.

Inside the pipeline elements are NumPy arrays. Slices of in-memory arrays are not copied one element
at a time where the chain allows it: ``from_tensor_slices`` -> ``shuffle``/``repeat``/``take``/
``skip``/``shard`` -> ``batch`` gathers each batch with one indexing operation per array, in the exact
order the element-by-element pipeline would give.

>>> import featherflow as tf
>>> ds = tf.data.Dataset.range(10).filter(lambda x: x % 2 == 0).map(lambda x: x * 10).batch(2)
>>> [b.tolist() for b in ds.as_numpy_iterator()]
[[0, 20], [40, 60], [80]]
>>> ds.element_spec
TensorSpec(shape=(None,), dtype=tf.int64, name=None)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import TensorSpec
from featherflow.data import structure as nest

AUTOTUNE = -1
INFINITE = -1  # tf.data.INFINITE_CARDINALITY
UNKNOWN = -2  # tf.data.UNKNOWN_CARDINALITY


def as_int(value, name: str) -> int:
    """A Python int from an int, NumPy integer or scalar integer tensor; ``TypeError`` naming ``name`` otherwise."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}")
    return int(value)


def _check_count(value, name: str, allow_minus_one: bool = True) -> int:
    value = as_int(value, name)
    if value < (-1 if allow_minus_one else 1):
        raise ValueError(f"`{name}` must be {'-1 or ' if allow_minus_one else ''}a "
                         f"{'non-negative' if allow_minus_one else 'positive'} integer. Received: {name}={value}")
    return value


def call_with_element(fn: Callable, element):
    """Call a user function with an element as TensorFlow does: a plain tuple is unpacked into arguments."""
    if type(element) is tuple:
        return fn(*nest.to_tensors(element))
    return fn(nest.to_tensors(element))


class DatasetSpec:
    """The type of a dataset used as a value (the elements of ``window``): its element spec.

    >>> DatasetSpec(TensorSpec([], "int64"))
    DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))
    """

    def __init__(self, element_spec, dataset_shape=()):
        self.element_spec = element_spec
        self.dataset_shape = tuple(dataset_shape)

    @property
    def value_type(self) -> type:
        return Dataset

    def is_compatible_with(self, other) -> bool:
        if isinstance(other, Dataset):
            other = DatasetSpec(other.element_spec)
        if not isinstance(other, DatasetSpec) or not nest.same_structure(self.element_spec, other.element_spec):
            return False
        return all(a.is_compatible_with(b) for a, b in
                   zip(nest.flatten(self.element_spec), nest.flatten(other.element_spec)))

    def __eq__(self, other) -> bool:
        return (isinstance(other, DatasetSpec) and self.dataset_shape == other.dataset_shape
                and nest.same_structure(self.element_spec, other.element_spec)
                and nest.flatten(self.element_spec) == nest.flatten(other.element_spec))

    def __hash__(self) -> int:
        return hash((tuple(nest.flatten(self.element_spec)), self.dataset_shape))

    def __repr__(self) -> str:
        return f"DatasetSpec({self.element_spec!r}, TensorShape({list(self.dataset_shape)}))"


class Dataset:
    """A sequence of elements, built with the ``from_*``/``range``/``zip`` constructors and transformed by
    the methods below; see the module docstring. Subclasses implement ``_elements`` (and, when they know
    them, ``_cardinality`` and ``_spec``)."""

    _options = None

    # -- what subclasses provide ------------------------------------------------------------------------
    def _elements(self):
        """A fresh iterator over the elements as nests of NumPy arrays."""
        raise NotImplementedError

    def _cardinality(self) -> int:
        return UNKNOWN

    def _spec(self):
        """The element spec; by default the spec of the first element (the dataset is iterated)."""
        for element in self._elements():
            return nest.spec_of(element)
        raise ValueError(f"Cannot infer the element spec of {type(self).__name__}: it produced no elements.")

    def _index_source(self):
        """An ``IndexSource`` when the elements are slices of in-memory arrays in a known index order, else None."""
        return None

    def _inputs(self) -> list:
        return []

    def _finite_proof(self):
        """``proven(array) -> bool``: True for an array of this dataset's elements known to hold no NaN or
        infinity without looking (``fit`` skips its check for it); None when nothing is known."""
        return None

    # -- iteration ---------------------------------------------------------------------------------------
    def __iter__(self):
        from featherflow.data.iterators import DatasetIterator

        return DatasetIterator(self)

    def as_numpy_iterator(self):
        """An iterator over the elements as NumPy values (arrays, NumPy scalars, ``bytes`` for strings).

        >>> list(Dataset.from_tensor_slices({"a": [1, 2]}).as_numpy_iterator())
        [{'a': np.int32(1)}, {'a': np.int32(2)}]
        """
        for spec in nest.flatten(self.element_spec):
            if not isinstance(spec, TensorSpec):
                raise TypeError(f"Dataset.as_numpy_iterator() is not supported for datasets that produce values of "
                                f"type {type(spec).__name__}")
        from featherflow.data.iterators import NumpyIterator

        return NumpyIterator(self)

    def __bool__(self) -> bool:
        return True  # a dataset is never falsy (TensorFlow's behaviour; len() may be unknown)

    def __len__(self) -> int:
        n = self._cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def cardinality(self) -> Tensor:
        """The number of elements as a scalar int64 tensor: ``INFINITE_CARDINALITY`` (-1) for a repeated
        dataset, ``UNKNOWN_CARDINALITY`` (-2) when it cannot be known without iterating (after ``filter``).

        >>> int(Dataset.range(10).batch(3).cardinality()), int(Dataset.range(3).repeat().cardinality())
        (4, -1)
        """
        return Tensor(np.asarray(self._cardinality(), dtype=np.int64))

    @property
    def element_spec(self):
        """The nest of ``TensorSpec`` (``DatasetSpec`` for datasets) describing one element."""
        spec = self.__dict__.get("_element_spec_cache")
        if spec is None:
            spec = self.__dict__["_element_spec_cache"] = self._spec()
        return spec

    def __repr__(self) -> str:
        return f"<{type(self).__name__} element_spec={self.element_spec!r}>"

    def options(self):
        """The ``tf.data.Options`` of this dataset (merged over its inputs)."""
        from featherflow.data.options import Options

        merged = Options()
        for source in self._inputs():
            merged = merged.merge(source.options())
        return merged.merge(self._options) if self._options is not None else merged

    # -- constructors ---------------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None) -> Dataset:
        """The slices of ``tensors`` along their first axis; every component must have the same length.

        >>> [(int(a), float(b)) for a, b in Dataset.from_tensor_slices(([1, 2], [3.0, 4.0]))]
        [(1, 3.0), (2, 4.0)]
        """
        from featherflow.data.sources import TensorSliceDataset

        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None) -> Dataset:
        """A dataset of one element, ``tensors``."""
        from featherflow.data.sources import TensorDataset

        return TensorDataset(tensors)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None) -> Dataset:
        """The elements a Python generator yields, checked against ``output_signature`` (a nest of
        ``tf.TensorSpec``; or the older ``output_types``/``output_shapes``).

        ``generator`` is a callable returning an iterator, called anew on each iteration (with ``args``).
        """
        from featherflow.data.sources import GeneratorDataset

        return GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def range(*args, output_type=None, name=None, dtype=None) -> Dataset:
        """``range(stop)``, ``range(start, stop[, step])`` as scalars of ``output_type`` (int64 by default), like
        Python's ``range``; ``dtype`` is accepted as another name for ``output_type``.

        >>> list(Dataset.range(2, 10, 3).as_numpy_iterator())
        [np.int64(2), np.int64(5), np.int64(8)]
        >>> Dataset.range(3, output_type="int32").element_spec
        TensorSpec(shape=(), dtype=tf.int32, name=None)
        """
        from featherflow.data.sources import RangeDataset

        return RangeDataset(*args, dtype=output_type or dtype or "int64")

    @staticmethod
    def zip(*datasets, name=None) -> Dataset:
        """Elements of several datasets side by side (a tuple or dict nest of datasets); stops at the shortest.

        >>> list(Dataset.zip(Dataset.range(2), Dataset.range(5, 8)).as_numpy_iterator())
        [(np.int64(0), np.int64(5)), (np.int64(1), np.int64(6))]
        """
        from featherflow.data.sources import ZipDataset

        if len(datasets) == 1 and not isinstance(datasets[0], Dataset):
            datasets = datasets[0]
        return ZipDataset(datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None) -> Dataset:
        """The file names matching a glob pattern (or a list of patterns), as strings; shuffled unless
        ``shuffle=False`` (then sorted)."""
        from featherflow.data.sources import list_files

        return list_files(file_pattern, shuffle, seed)

    @staticmethod
    def counter(start=0, step=1, dtype="int64", name=None) -> Dataset:
        """``start, start + step, ...`` forever."""
        from featherflow.data.sources import RangeDataset

        return RangeDataset(start, None, step, dtype=dtype)

    @staticmethod
    def random(seed=None, rerandomize_each_iteration=None, name=None) -> Dataset:
        """Pseudorandom int64 scalars in ``[0, 2**63)``, forever."""
        from featherflow.data.sources import RandomDataset

        return RandomDataset(seed, rerandomize_each_iteration)

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                             rerandomize_each_iteration=None) -> Dataset:
        """Elements drawn at random from ``datasets`` with probabilities ``weights`` (uniform by default)."""
        from featherflow.data.sources import SampleDataset

        return SampleDataset(datasets, weights, seed, stop_on_empty_dataset, rerandomize_each_iteration)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True) -> Dataset:
        """Elements from ``datasets[i]`` for each int64 ``i`` of ``choice_dataset``."""
        from featherflow.data.sources import ChooseDataset

        return ChooseDataset(datasets, choice_dataset, stop_on_empty_dataset)

    # -- transformations -------------------------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None) -> Dataset:
        """``map_func`` applied to each element (a tuple element is unpacked into arguments).

        With ``num_parallel_calls`` (an int or ``AUTOTUNE``) that many elements are mapped at once in
        threads; their order is kept unless ``deterministic=False``.
        """
        from featherflow.data.transforms import MapDataset

        return MapDataset(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate, name=None) -> Dataset:
        """The elements for which ``predicate`` returns a true scalar boolean."""
        from featherflow.data.transforms import FilterDataset

        return FilterDataset(self, predicate)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None,
              name=None) -> Dataset:
        """Consecutive elements stacked into batches of ``batch_size`` (the last one smaller unless
        ``drop_remainder``). Every component must have the same shape in all elements of a batch.

        >>> [b.tolist() for b in Dataset.range(7).batch(3).as_numpy_iterator()]
        [[0, 1, 2], [3, 4, 5], [6]]
        """
        from featherflow.data.batching import BatchDataset

        return BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False,
                     name=None) -> Dataset:
        """Batches whose components are padded (with ``padding_values``, default 0 / ``b""``) to
        ``padded_shapes`` (default: the largest size in the batch along each axis).

        >>> import featherflow as tf
        >>> ds = Dataset.range(1, 4).map(lambda x: tf.fill([x], x)).padded_batch(2)
        >>> [b.tolist() for b in ds.as_numpy_iterator()]
        [[[1, 0], [2, 2]], [[3, 3, 3]]]
        """
        from featherflow.data.batching import PaddedBatchDataset

        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name=None) -> Dataset:
        """The rows of each element's components (the inverse of ``batch``)."""
        from featherflow.data.batching import UnbatchDataset

        return UnbatchDataset(self)

    def rebatch(self, batch_size, drop_remainder=False, name=None) -> Dataset:
        """The elements of batches regrouped into batches of ``batch_size`` (an int, or a list of sizes used
        in turn), like ``unbatch().batch(batch_size)``.

        >>> [b.tolist() for b in Dataset.range(8).batch(4).rebatch([2, 1, 1]).as_numpy_iterator()]
        [[0, 1], [2], [3], [4, 5], [6], [7]]
        """
        from featherflow.data.batching import RebatchDataset

        return RebatchDataset(self, batch_size, drop_remainder)

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None) -> Dataset:
        """Windows of ``size`` elements (each a dataset, or a nest of datasets per component) starting every
        ``shift`` elements (default ``size``) and taking every ``stride``-th element.

        >>> ds = Dataset.range(7).window(3, shift=2, drop_remainder=True).flat_map(lambda w: w.batch(3))
        >>> [w.tolist() for w in ds.as_numpy_iterator()]
        [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
        """
        from featherflow.data.batching import WindowDataset

        return WindowDataset(self, size, shift, stride, drop_remainder)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None) -> Dataset:
        """Randomly shuffled elements: a buffer of ``buffer_size`` elements is filled, each output is drawn
        uniformly from the buffer and its place taken by the next input element. A buffer at least as large
        as the dataset gives a uniform permutation: ``buffer_size=dataset.cardinality()``, or
        ``UNKNOWN_CARDINALITY`` (-2) for the whole dataset whatever its size. With ``reshuffle_each_iteration``
        (default True) each iteration (epoch) draws a new order; ``seed`` (or ``tf.random.set_seed``) makes the
        orders reproducible.
        """
        from featherflow.data.transforms import ShuffleDataset

        return ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None, name=None) -> Dataset:
        """The dataset ``count`` times over (forever when ``count`` is None or -1); each repetition iterates
        the input again (a shuffle draws a new order)."""
        from featherflow.data.transforms import RepeatDataset

        return RepeatDataset(self, count)

    def take(self, count, name=None) -> Dataset:
        """At most the first ``count`` elements (all of them for -1)."""
        from featherflow.data.transforms import TakeDataset

        return TakeDataset(self, count)

    def skip(self, count, name=None) -> Dataset:
        """All but the first ``count`` elements (none for -1)."""
        from featherflow.data.transforms import SkipDataset

        return SkipDataset(self, count)

    def take_while(self, predicate, name=None) -> Dataset:
        """The elements up to (not including) the first for which ``predicate`` is false."""
        from featherflow.data.transforms import TakeWhileDataset

        return TakeWhileDataset(self, predicate)

    def cache(self, filename="", name=None) -> Dataset:
        """Elements kept after the first complete iteration: in memory (``filename=""``) or in a file
        (``filename``; later runs of the program read the file instead of the input)."""
        from featherflow.data.cache import CacheDataset

        return CacheDataset(self, filename)

    def prefetch(self, buffer_size, name=None) -> Dataset:
        """Elements prepared ahead by a background thread, up to ``buffer_size`` of them (``AUTOTUNE``: a
        small buffer); overlaps the input pipeline with the work on the previous elements."""
        from featherflow.data.parallel import PrefetchDataset

        return PrefetchDataset(self, buffer_size)

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None) -> Dataset:
        """Elements of the datasets ``map_func`` returns for each input element, ``block_length`` at a time
        from ``cycle_length`` of them in turn (TensorFlow's order); with ``num_parallel_calls`` the open
        datasets are read ahead in threads.

        >>> ds = Dataset.range(1, 4).interleave(lambda x: Dataset.from_tensors(x).repeat(3), cycle_length=2)
        >>> [int(v) for v in ds]
        [1, 2, 1, 2, 1, 2, 3, 3, 3]
        """
        from featherflow.data.nested import InterleaveDataset

        return InterleaveDataset(self, map_func, cycle_length, block_length, num_parallel_calls, deterministic)

    def flat_map(self, map_func, name=None) -> Dataset:
        """The elements of the datasets ``map_func`` returns for each element, one dataset after the other."""
        from featherflow.data.nested import InterleaveDataset

        return InterleaveDataset(self, map_func, 1, 1, None, None)

    def enumerate(self, start=0, name=None) -> Dataset:
        """``(index, element)`` pairs, the index an int64 counting from ``start``."""
        from featherflow.data.sources import RangeDataset

        return Dataset.zip(RangeDataset(start, None, 1), self)

    def concatenate(self, dataset, name=None) -> Dataset:
        """This dataset's elements followed by ``dataset``'s (same structure and dtypes)."""
        from featherflow.data.transforms import ConcatenateDataset

        return ConcatenateDataset(self, dataset)

    def shard(self, num_shards, index, name=None) -> Dataset:
        """Every ``num_shards``-th element starting at ``index`` (one worker's part of the data)."""
        from featherflow.data.transforms import ShardDataset

        return ShardDataset(self, num_shards, index)

    def unique(self, name=None) -> Dataset:
        """The elements (int or string scalars) without repetitions, in first-seen order."""
        from featherflow.data.transforms import UniqueDataset

        return UniqueDataset(self)

    def scan(self, initial_state, scan_func, name=None) -> Dataset:
        """``scan_func(state, element) -> (new_state, output)`` over the elements; yields the outputs."""
        from featherflow.data.transforms import ScanDataset

        return ScanDataset(self, initial_state, scan_func)

    def group_by_window(self, key_func, reduce_func, window_size=None, window_size_func=None,
                        name=None) -> Dataset:
        """Elements grouped by the int64 ``key_func(element)``; each group of ``window_size`` elements (or
        ``window_size_func(key)``) goes to ``reduce_func(key, window_dataset)``, whose dataset's elements are
        the output. Groups left at the end follow in ascending key order."""
        from featherflow.data.grouping import GroupByWindowDataset

        return GroupByWindowDataset(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(self, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                  padded_shapes=None, padding_values=None, pad_to_bucket_boundary=False,
                                  no_padding=False, drop_remainder=False, name=None) -> Dataset:
        """Padded batches of elements of similar length: element ``e`` goes to the bucket ``i`` with
        ``bucket_boundaries[i-1] <= element_length_func(e) < bucket_boundaries[i]``, which is batched by
        ``bucket_batch_sizes[i]`` (padded to the longest element, or to the boundary minus one with
        ``pad_to_bucket_boundary``)."""
        from featherflow.data.grouping import bucket_by_sequence_length

        return bucket_by_sequence_length(self, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                         padded_shapes, padding_values, pad_to_bucket_boundary, no_padding,
                                         drop_remainder)

    def apply(self, transformation_func) -> Dataset:
        """``transformation_func(self)``, which must return a dataset (for reusable pipeline pieces)."""
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError(f"`transformation_func` must return a Dataset object. Received: {out!r:.100}")
        return out

    def with_options(self, options, name=None) -> Dataset:
        """This dataset with ``tf.data.Options`` applied (``deterministic`` is honoured by parallel maps)."""
        from featherflow.data.transforms import OptionsDataset

        return OptionsDataset(self, options)

    def assert_cardinality(self, expected_cardinality) -> Dataset:
        """This dataset, checked to have exactly ``expected_cardinality`` elements while it is iterated."""
        from featherflow.data.transforms import AssertCardinalityDataset

        return AssertCardinalityDataset(self, expected_cardinality)

    # -- consuming -----------------------------------------------------------------------------------------
    def reduce(self, initial_state, reduce_func, name=None):
        """``reduce_func(state, element)`` folded over the elements from ``initial_state``; returns tensors.

        >>> int(Dataset.range(5).reduce(np.int64(0), lambda total, x: total + x))
        10
        """
        state = nest.normalize_element(initial_state, "initial_state")
        for element in self._elements():
            out = reduce_func(nest.to_tensors(state), nest.to_tensors(element))
            new_state = nest.normalize_output(out, "the output of `reduce_func`")
            check_state(state, new_state, "reduce_func")
            state = new_state
        return nest.to_tensors(state)

    def get_single_element(self, name=None):
        """The one element of a one-element dataset, as tensors."""
        it = self._elements()
        try:
            element = next(it)
        except StopIteration:
            raise ValueError("Dataset was empty.") from None
        for _ in it:
            raise ValueError("Dataset had more than one element.")
        return nest.to_tensors(element)


def check_state(state, new_state, func_name: str) -> None:
    """Refuse a new state whose structure or dtypes differ from the initial state's (as TensorFlow does)."""
    old_specs, new_specs = nest.flatten(nest.spec_of(state)), None
    if nest.same_structure(state, new_state):
        new_specs = nest.flatten(nest.spec_of(new_state))
    if new_specs is None or [s.dtype for s in old_specs] != [s.dtype for s in new_specs]:
        raise TypeError(f"The element types for the new state of `{func_name}` must match the initial state. "
                        f"Expected {nest.spec_of(state)!r}; got {nest.spec_of(new_state)!r}.")


class ElementsDataset(Dataset):
    """A dataset over a Python list of (normalized) elements with a known spec: a window's component, a group of
    ``group_by_window``."""

    def __init__(self, elements: list, spec):
        self._values = elements
        self._element_spec_cache = spec

    def _cardinality(self) -> int:
        return len(self._values)

    def _elements(self):
        return iter(self._values)


class UnaryDataset(Dataset):
    """A transformation of one input dataset; by default it keeps the input's cardinality, spec and options."""

    def __init__(self, input_dataset: Dataset):
        self._input = input_dataset

    def _inputs(self) -> list:
        return [self._input]

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _spec(self):
        return self._input.element_spec
