"""Element-wise and order transformations: map, filter, shuffle, repeat, take, skip, shard, cache, concatenate,
unique, scan and friends.

>>> import featherflow as tf
>>> ds = tf.data.Dataset.range(6).shuffle(6, seed=1, reshuffle_each_iteration=False)
>>> first = [int(v) for v in ds]
>>> sorted(first), first == [int(v) for v in ds]
([0, 1, 2, 3, 4, 5], True)
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from featherflow.backend import random as backend_random
from featherflow.core.runtime import state as _runtime
from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import STRING, TensorSpec
from featherflow.data import structure as nest
from featherflow.data.dataset import (
    AUTOTUNE,
    INFINITE,
    UNKNOWN,
    Dataset,
    UnaryDataset,
    _check_count,
    as_int,
    call_with_element,
)
from featherflow.data.sources import _Iterations, _rng_for
from featherflow.data.traced import TracedFunction


def _check_function(fn, name: str) -> None:
    if not callable(fn):
        raise TypeError(f"`{name}` must be a callable. Received: {name}={fn!r:.100}")


def _spec_of_output(out):
    return nest.spec_of(nest.normalize_output(out))


def infer_function_spec(dataset: Dataset, fn, describe=_spec_of_output):
    """The spec of ``fn``'s outputs on ``dataset``'s elements, found as TensorFlow's tracing finds it: ``fn``
    runs on two stand-in elements (unknown sizes 2 and 3, values 0 and 1); sizes that differ between the two
    outputs, whether they follow the input's sizes or its values, become ``None``. When that fails (``fn``
    needs real values), ``None`` (the caller then looks at a real element). ``describe`` turns one output
    into its spec."""
    spec = dataset.element_spec
    leaves = nest.flatten(spec)
    if not all(isinstance(s, TensorSpec) and s.shape is not None for s in leaves):
        return None
    specs = []
    previous, _runtime.stand_ins = _runtime.stand_ins, True  # py_function's user code is not run on stand-ins
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for size, value in ((2, 0), (3, 1)):
                element = nest.pack_as(spec, [nest.stand_in_for_spec(s, size, value) for s in leaves])
                try:
                    specs.append(describe(call_with_element(fn, element)))
                except Exception:  # noqa: BLE001 - fn may need real data; the caller falls back to a real element
                    return None
    finally:
        _runtime.stand_ins = previous
    if not nest.same_structure(specs[0], specs[1]):
        return None
    return nest.relax_specs(specs[0], specs[1])


class MapDataset(UnaryDataset):
    """``Dataset.map``: ``map_func`` on every element, optionally in threads."""

    def __init__(self, input_dataset, map_func, num_parallel_calls=None, deterministic=None):
        _check_function(map_func, "map_func")
        if num_parallel_calls is not None:
            num_parallel_calls = _check_count(num_parallel_calls, "num_parallel_calls")
            if num_parallel_calls == 0:
                raise ValueError("`num_parallel_calls` must be a positive integer or tf.data.AUTOTUNE. "
                                 "Received: num_parallel_calls=0")
        self._input = input_dataset
        self._fn = map_func
        self._traced = TracedFunction(map_func)  # compiled per element signature (see featherflow.data.traced)
        self._parallel = num_parallel_calls
        self._deterministic = deterministic

    def _spec(self):
        spec = infer_function_spec(self._input, self._fn)
        return spec if spec is not None else Dataset._spec(self)  # the first real output's spec

    def _apply(self, element):
        return self._traced(element)

    def _finite_proof(self):
        return self._traced.proven_finite.__contains__

    def _elements(self):
        from featherflow.data.parallel import Autotuner, inline_iterator, parallel_map, worker_count

        if self._parallel is None or self._parallel == 1:
            return map(self._traced, self._input._elements())
        deterministic = self._deterministic
        if deterministic is None:
            deterministic = self.options().deterministic is not False
        workers = worker_count(self._parallel)
        if self._parallel != AUTOTUNE:
            return parallel_map(self._input._elements(), self._apply, workers, ordered=deterministic)
        # AUTOTUNE: threads only when they make this consumer's steps faster (a function holding Python's
        # GIL gains nothing from them and pays their hand-offs)
        tuner = self.__dict__.setdefault("_tuner", Autotuner())
        return tuner.iterate(self._input._elements(), [
            lambda it, back: inline_iterator(it, self._apply, handback=back),
            lambda it, back: parallel_map(it, self._apply, workers, ordered=deterministic, handback=back)])


def _as_bool(value, what: str) -> bool:
    arr = value.value if isinstance(value, Tensor) else np.asarray(value)
    if arr.shape != () or arr.dtype != np.bool_:
        raise ValueError(f"Invalid `{what}`. `{what}` must return a `tf.bool` scalar tensor, but its return type is "
                         f"{TensorSpec(arr.shape, arr.dtype)!r}.")
    return bool(arr)


class FilterDataset(UnaryDataset):
    """``Dataset.filter``: the elements for which ``predicate`` returns True."""

    def __init__(self, input_dataset, predicate):
        _check_function(predicate, "predicate")
        self._input = input_dataset
        self._predicate = predicate

    def _cardinality(self) -> int:
        return UNKNOWN

    def _elements(self):
        predicate = self._predicate
        for element in self._input._elements():
            if _as_bool(call_with_element(predicate, element), "predicate"):
                yield element


class TakeWhileDataset(FilterDataset):
    """``Dataset.take_while``: the elements before the first that fails ``predicate``."""

    def _elements(self):
        predicate = self._predicate
        for element in self._input._elements():
            if not _as_bool(call_with_element(predicate, element), "predicate"):
                return
            yield element


def _object_array(items: list) -> np.ndarray:
    """A 1-D object array of ``items``, filled one by one (NumPy would stack equal-shaped arrays)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _slot_order(slots: np.ndarray, buffer_size: int) -> np.ndarray:
    """The steps sorted by slot, steps of one slot in step order (a stable sort; on 16-bit keys when the
    buffer allows it, where NumPy's stable sort is a radix sort, several times faster)."""
    if buffer_size <= np.iinfo(np.int16).max + 1:
        return np.argsort(slots.astype(np.int16), kind="stable")
    return np.argsort(slots, kind="stable")


def _previous_pick(slots: np.ndarray, order: np.ndarray) -> np.ndarray:
    """For each step, the index of the previous step that picked the same slot (-1 for none); ``order`` is
    ``_slot_order(slots)``."""
    repeated = slots[order[1:]] == slots[order[:-1]]
    previous = np.full(len(slots), -1, dtype=np.int64)
    previous[order[1:][repeated]] = order[:-1][repeated]
    return previous


def shuffle_blocks(take, buffer_size: int, rng: np.random.Generator, block: int):
    """TensorFlow's shuffle buffer, a block of steps at a time: the buffer is filled with ``buffer_size``
    items; each step outputs a uniformly chosen buffered item and puts the next input item in its place;
    once the input is exhausted, the buffered items are drawn one at a time without replacement.

    ``take(k)`` returns the next ``k`` input items as a 1-D array (object or int; fewer at the end). A step
    picks slot ``floor(u * size)`` for the next ``u`` of ``rng.random()`` whatever the block size, so every
    caller (whole elements or row indices) produces the same order from the same generator. Yields arrays.
    """
    buffer = take(buffer_size)
    if len(buffer) == buffer_size:
        while True:
            refills = take(block)
            steps = len(refills)
            if steps == 0:
                break
            slots = (rng.random(steps) * buffer_size).astype(np.int64)
            order = _slot_order(slots, buffer_size)
            previous = _previous_pick(slots, order)
            yield np.where(previous >= 0, refills[np.maximum(previous, 0)], buffer[slots])
            last = np.ones(steps, dtype=bool)  # each slot keeps the refill of its last pick in the block
            last[:-1] = slots[order[1:]] != slots[order[:-1]]
            buffer[slots[order[last]]] = refills[order[last]]
            if steps < block:
                break
    items = list(buffer)
    out = []
    for u in rng.random(len(items)).tolist():
        j = int(u * len(items))
        out.append(items[j])
        items[j] = items[-1]
        items.pop()
    if out:
        if buffer.dtype != object:
            yield np.asarray(out, dtype=buffer.dtype)
            return
        yield _object_array(out)


def shuffle_stream(items, buffer_size: int, rng: np.random.Generator):
    """``shuffle_blocks`` over an iterator of elements (held in object arrays), one element at a time."""
    it = iter(items)

    def take(k: int) -> np.ndarray:
        return _object_array(list(itertools.islice(it, k)))

    block = max(1, min(1024, buffer_size // 8))  # input read ahead: at most an eighth of the buffer more
    for chunk in shuffle_blocks(take, buffer_size, rng, block):
        yield from chunk


def _index_taker(chunks):
    """``take(k)`` over a stream of int64 index chunks."""
    pending = [np.empty(0, dtype=np.int64)]
    source = iter(chunks)

    def take(k: int) -> np.ndarray:
        have = sum(len(c) for c in pending)
        while have < k:
            chunk = next(source, None)
            if chunk is None:
                break
            pending.append(chunk)
            have += len(chunk)
        joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
        pending[:] = [joined[k:]]
        return joined[:k]

    return take


def _chunked(values, size: int = 4096):
    """Ints from an iterator regrouped into int64 arrays of ``size``."""
    while True:
        block = list(itertools.islice(values, size))
        if not block:
            return
        yield np.asarray(block, dtype=np.int64)


def _flat_ints(chunks):
    for chunk in chunks:
        yield from chunk.tolist()


class ShuffleDataset(UnaryDataset):
    """``Dataset.shuffle``: see ``Dataset.shuffle`` for the buffer semantics."""

    def __init__(self, input_dataset, buffer_size, seed=None, reshuffle_each_iteration=None):
        buffer_size = as_int(buffer_size, "buffer_size")
        if buffer_size <= 0 and buffer_size != UNKNOWN:
            raise ValueError(f"`buffer_size` must be greater than zero or UNKNOWN_CARDINALITY (-2, a buffer holding "
                             f"the whole dataset). Received: buffer_size={buffer_size}")
        self._input = input_dataset
        self._buffer_size = None if buffer_size == UNKNOWN else buffer_size  # None: the whole dataset
        seeds = backend_random.op_seed(seed)
        # Without any seed the orders are random, but fixed here so reshuffle_each_iteration=False repeats one.
        self._seeds = seeds if seeds is not None else (int(np.random.SeedSequence().entropy % 2**63),)
        self._reshuffle = reshuffle_each_iteration is None or bool(reshuffle_each_iteration)
        self._iterations = _Iterations()

    def _rng(self) -> np.random.Generator:
        return _rng_for(self._seeds, self._iterations.next() if self._reshuffle else 0)

    def _index_source(self):
        source = self._input._index_source()
        if source is None:
            return None
        def chunks():
            stream = source.chunks()
            buffer_size = self._buffer_size
            if buffer_size is None:  # the whole dataset in the buffer
                stream = [np.concatenate(list(stream) or [np.empty(0, np.int64)])]
                buffer_size = max(len(stream[0]), 1)
            return shuffle_blocks(_index_taker(stream), buffer_size, self._rng(), 4096)

        return source.derive(chunks)

    def _elements(self):
        if self._buffer_size is None:
            items = list(self._input._elements())
            return shuffle_stream(iter(items), max(len(items), 1), self._rng())
        return shuffle_stream(self._input._elements(), self._buffer_size, self._rng())


class RepeatDataset(UnaryDataset):
    """``Dataset.repeat``: the input ``count`` times (forever for None / -1)."""

    def _finite_proof(self):  # the input's elements, unchanged
        return self._input._finite_proof()

    def __init__(self, input_dataset, count=None):
        self._input = input_dataset
        self._count = -1 if count is None else _check_count(count, "count")

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if self._count < 0:
            return 0 if n == 0 else INFINITE
        if self._count == 0:
            return 0
        if n in (INFINITE, UNKNOWN):
            return n
        return n * self._count

    def _passes(self, make_iterator):
        passes = itertools.count() if self._count < 0 else range(self._count)
        for _ in passes:
            produced = False
            for item in make_iterator():
                produced = True
                yield item
            if not produced:
                return  # an empty input repeated forever is still empty

    def _index_source(self):
        source = self._input._index_source()
        if source is None:
            return None
        return source.derive(lambda: self._passes(source.chunks))

    def _elements(self):
        return self._passes(self._input._elements)


def _take_chunks(chunks, count: int):
    left = count
    for chunk in chunks:
        if left <= 0:
            return
        if len(chunk) >= left:
            yield chunk[:left]
            return
        left -= len(chunk)
        yield chunk


def _skip_chunks(chunks, count: int):
    left = count
    for chunk in chunks:
        if left >= len(chunk):
            left -= len(chunk)
            continue
        yield chunk[left:]
        left = 0


class TakeDataset(UnaryDataset):
    """``Dataset.take``: the first ``count`` elements (all for -1)."""

    def _finite_proof(self):  # the input's elements, unchanged
        return self._input._finite_proof()

    def __init__(self, input_dataset, count):
        self._input = input_dataset
        self._count = _check_count(count, "count")

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if n == UNKNOWN:
            return UNKNOWN
        if self._count < 0:
            return n
        return self._count if n == INFINITE else min(n, self._count)

    def _index_source(self):
        source = self._input._index_source()
        if source is None or self._count < 0:
            return source
        return source.derive(lambda: _take_chunks(source.chunks(), self._count))

    def _elements(self):
        if self._count < 0:
            return self._input._elements()
        return itertools.islice(self._input._elements(), self._count)


class SkipDataset(UnaryDataset):
    """``Dataset.skip``: all but the first ``count`` elements (nothing for -1)."""

    def _finite_proof(self):  # the input's elements, unchanged
        return self._input._finite_proof()

    def __init__(self, input_dataset, count):
        self._input = input_dataset
        self._count = _check_count(count, "count")

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        return 0 if self._count < 0 else max(0, n - self._count)

    def _index_source(self):
        source = self._input._index_source()
        if source is None:
            return None
        if self._count < 0:
            return source.derive(lambda: iter(()))
        return source.derive(lambda: _skip_chunks(source.chunks(), self._count))

    def _elements(self):
        if self._count < 0:
            return iter(())
        return itertools.islice(self._input._elements(), self._count, None)


class ShardDataset(UnaryDataset):
    """``Dataset.shard``: elements ``index, index + num_shards, ...``."""

    def _finite_proof(self):  # the input's elements, unchanged
        return self._input._finite_proof()

    def __init__(self, input_dataset, num_shards, index):
        num_shards = _check_count(num_shards, "num_shards", allow_minus_one=False)
        index = _check_count(index, "index")
        if not 0 <= index < num_shards:
            raise ValueError(f"`index` must be between 0 and num_shards - 1 ({num_shards - 1}). Received: "
                             f"index={index}")
        self._input = input_dataset
        self._num_shards = num_shards
        self._index = index

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        return n // self._num_shards + (1 if n % self._num_shards > self._index else 0)

    def _index_source(self):
        source = self._input._index_source()
        if source is None:
            return None
        num, index = self._num_shards, self._index

        def chunks():
            return _chunked(itertools.islice(_flat_ints(source.chunks()), index, None, num))

        return source.derive(chunks)

    def _elements(self):
        return itertools.islice(self._input._elements(), self._index, None, self._num_shards)


class ConcatenateDataset(Dataset):
    """``Dataset.concatenate``: one dataset's elements, then the other's."""

    def __init__(self, first, second):
        if not isinstance(second, Dataset):
            raise TypeError(f"`dataset` must be a Dataset. Received: dataset={second!r:.100}")
        a, b = first.element_spec, second.element_spec
        relaxed = nest.relax_specs(a, b) if nest.same_structure(a, b) else None
        if relaxed is None:
            raise TypeError(f"Incompatible dataset elements:\n  {a!r} vs.   {b!r}")
        self._first, self._second = first, second
        self._element_spec_cache = relaxed

    def _inputs(self) -> list:
        return [self._first, self._second]

    def _cardinality(self) -> int:
        n1, n2 = self._first._cardinality(), self._second._cardinality()
        if INFINITE in (n1, n2):
            return INFINITE
        if UNKNOWN in (n1, n2):
            return UNKNOWN
        return n1 + n2

    def _elements(self):
        return itertools.chain(self._first._elements(), self._second._elements())


class UniqueDataset(UnaryDataset):
    """``Dataset.unique``: scalar int or string elements without repetitions."""

    def __init__(self, input_dataset):
        spec = input_dataset.element_spec
        if not isinstance(spec, TensorSpec) or (spec.dtype.kind not in "iu" and spec.dtype != STRING):
            raise TypeError(f"Unique transformation only supports datasets with elements of type int32, int64 or "
                            f"string. Received: element_spec={spec!r}")
        self._input = input_dataset

    def _cardinality(self) -> int:
        return UNKNOWN

    def _elements(self):
        seen = set()
        for element in self._input._elements():
            key = element.item() if element.ndim == 0 else element.tobytes()
            if key not in seen:
                seen.add(key)
                yield element


class ScanDataset(UnaryDataset):
    """``Dataset.scan``: a running state through the elements; yields ``scan_func``'s outputs."""

    def __init__(self, input_dataset, initial_state, scan_func):
        _check_function(scan_func, "scan_func")
        self._input = input_dataset
        self._initial = nest.normalize_element(initial_state, "initial_state")
        self._fn = scan_func

    def _spec(self):
        return Dataset._spec(self)  # the first output's spec (the scan function needs the running state)

    def _step(self, state, element):
        from featherflow.data.dataset import check_state

        out = self._fn(nest.to_tensors(state), nest.to_tensors(element))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"The scan function must return a pair comprising the new state and the output value. "
                            f"Received: {out!r:.100}")
        new_state = nest.normalize_output(out[0], "the new state of `scan_func`")
        check_state(state, new_state, "scan_func")
        return new_state, nest.normalize_output(out[1], "the output of `scan_func`")

    def _elements(self):
        state = self._initial
        for element in self._input._elements():
            state, output = self._step(state, element)
            yield output


class OptionsDataset(UnaryDataset):
    """``Dataset.with_options``: the input, with ``tf.data.Options`` attached."""

    def _finite_proof(self):  # the input's elements, unchanged
        return self._input._finite_proof()

    def __init__(self, input_dataset, options):
        from featherflow.data.options import Options

        if not isinstance(options, Options):
            raise TypeError(f"`options` must be a `tf.data.Options`. Received: options={options!r:.100}")
        self._input = input_dataset
        self._options = options

    def _index_source(self):
        return self._input._index_source()

    def _elements(self):
        return self._input._elements()


class AssertCardinalityDataset(OptionsDataset):
    """``tf.data.experimental.assert_cardinality``: the input, checked to have exactly the expected count."""

    def __init__(self, input_dataset, expected_cardinality):
        self._input = input_dataset
        self._expected = _check_count(expected_cardinality, "expected_cardinality")

    def _cardinality(self) -> int:
        return self._expected

    def _index_source(self):
        return None

    def _elements(self):
        count = 0
        for element in self._input._elements():
            count += 1
            if self._expected != INFINITE and count > self._expected:
                raise ValueError(f"Input dataset was expected to contain {self._expected} elements but contained at "
                                 f"least {count} elements.")
            yield element
        if self._expected == INFINITE or count < self._expected:
            raise ValueError(f"Input dataset was expected to contain {self._expected} elements but contained only "
                             f"{count} elements.")
