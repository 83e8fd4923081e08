"""``group_by_window`` and ``bucket_by_sequence_length``: batches of elements that share a key.

Elements are grouped by ``key_func``; a group is handed to ``reduce_func`` as a dataset when it holds
``window_size`` elements, and the groups left when the input ends follow in ascending key order (as in
TensorFlow).

>>> import featherflow as tf
>>> ds = tf.data.Dataset.range(10).group_by_window(lambda x: x % 3, lambda key, w: w.batch(2), window_size=2)
>>> [b.tolist() for b in ds.as_numpy_iterator()]
[[0, 3], [1, 4], [2, 5], [6, 9], [7], [8]]
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.data.dataset import UNKNOWN, Dataset, ElementsDataset, UnaryDataset, _check_count, call_with_element
from featherflow.data.structure import flatten, pack_as, relax_specs, to_tensors


def _scalar_int(value, what: str) -> int:
    arr = value.value if isinstance(value, Tensor) else np.asarray(value)
    if arr.shape != () or arr.dtype.kind not in "iu":
        raise ValueError(f"`{what}` must return a scalar int64 tensor. Received: {value!r:.100}")
    return int(arr)


class GroupByWindowDataset(UnaryDataset):
    """``Dataset.group_by_window``."""

    def __init__(self, input_dataset, key_func, reduce_func, window_size=None, window_size_func=None):
        if (window_size is None) == (window_size_func is None):
            raise ValueError("Either the `window_size` argument or the `window_size_func` argument must be "
                             "specified.")
        if window_size is not None:
            size = _check_count(window_size, "window_size", allow_minus_one=False)
            window_size_func = lambda key: size  # noqa: E731
        self._input = input_dataset
        self._key_func = key_func
        self._reduce_func = reduce_func
        self._size_func = window_size_func
        self._window_size = window_size

    def _cardinality(self) -> int:
        return UNKNOWN

    def _window(self, key: int, elements: list) -> Dataset:
        rows = ElementsDataset(elements, self._input.element_spec)
        out = self._reduce_func(to_tensors(np.asarray(key, dtype=np.int64)), rows)
        if not isinstance(out, Dataset):
            raise TypeError(f"`reduce_func` must return a `Dataset` object. Got {type(out).__name__}.")
        return out

    def _size(self, key: int) -> int:
        if self._window_size is not None:
            return self._window_size
        size = _scalar_int(self._size_func(to_tensors(np.asarray(key, dtype=np.int64))), "window_size_func")
        if size <= 0:
            raise ValueError(f"Window size must be greater than zero, but got {size}.")
        return size

    def _spec(self):
        # reduce_func on an empty window of the input's spec: batch/padded_batch know their spec statically.
        empty = ElementsDataset([], self._input.element_spec)
        try:
            out = self._reduce_func(to_tensors(np.asarray(0, dtype=np.int64)), empty)
            if isinstance(out, Dataset):
                return out.element_spec
        except Exception:  # noqa: BLE001 - reduce_func may need a real key or window: look at a real one
            pass
        for element in self._input._elements():
            key = _scalar_int(call_with_element(self._key_func, element), "key_func")
            return self._window(key, [element]).element_spec
        raise ValueError("Cannot infer the element spec of group_by_window: its input is empty.")

    def _elements(self):
        groups: dict = {}
        for element in self._input._elements():
            key = _scalar_int(call_with_element(self._key_func, element), "key_func")
            group = groups.setdefault(key, [])
            group.append(element)
            if len(group) >= self._size(key):
                del groups[key]
                yield from self._window(key, group)._elements()
        for key in sorted(groups):
            yield from self._window(key, groups[key])._elements()


def bucket_by_sequence_length(dataset, element_length_func, bucket_boundaries, bucket_batch_sizes,
                              padded_shapes=None, padding_values=None, pad_to_bucket_boundary=False,
                              no_padding=False, drop_remainder=False) -> Dataset:
    """``Dataset.bucket_by_sequence_length``: see the method."""
    boundaries = [int(b) for b in bucket_boundaries]
    sizes = [int(s) for s in bucket_batch_sizes]
    if len(sizes) != len(boundaries) + 1:
        raise ValueError(f"len(bucket_batch_sizes) must equal len(bucket_boundaries) + 1. Received: "
                         f"bucket_boundaries={boundaries}, bucket_batch_sizes={sizes}")
    if boundaries != sorted(boundaries):
        raise ValueError(f"`bucket_boundaries` must be sorted in increasing order. Received: {boundaries}")

    def bucket_of(*args):
        length = _scalar_int(element_length_func(*args), "element_length_func")
        return Tensor(np.asarray(int(np.searchsorted(boundaries, length, side="right")), dtype=np.int64))

    def batch_bucket(bucket_id, window):
        bucket = int(bucket_id)
        if no_padding:
            return window.batch(sizes[bucket], drop_remainder=drop_remainder)
        shapes = padded_shapes
        if shapes is None:
            shapes = _map_specs(window.element_spec, lambda s: tuple(s.shape))
        if pad_to_bucket_boundary:
            if bucket >= len(boundaries):
                raise ValueError("When pad_to_bucket_boundary=True, elements must have length < "
                                 "max(bucket_boundaries).")
            filler = boundaries[bucket] - 1
            shapes = _map_shapes(window.element_spec, shapes, filler)
        return window.padded_batch(sizes[bucket], shapes, padding_values, drop_remainder=drop_remainder)

    grouped = GroupByWindowDataset(dataset, bucket_of, batch_bucket,
                                   window_size_func=lambda bucket_id: sizes[int(bucket_id)])
    # The spec covers every bucket (their padded sizes differ with pad_to_bucket_boundary).
    empty = ElementsDataset([], dataset.element_spec)
    buckets = len(sizes) - (1 if pad_to_bucket_boundary else 0)
    specs = [batch_bucket(np.int64(i), empty).element_spec for i in range(buckets)]
    spec = specs[0]
    for other in specs[1:]:
        spec = relax_specs(spec, other)
    grouped._element_spec_cache = spec
    return grouped


def _map_specs(spec, fn):
    return pack_as(spec, [fn(s) for s in flatten(spec)])


def _map_shapes(spec, shapes, filler: int):
    from featherflow.data.batching import _shapes_up_to

    leaves = _shapes_up_to(spec, shapes, "padded_shapes")
    filled = [tuple(filler if d is None or d == -1 else d for d in shape) for shape in leaves]
    return pack_as(spec, filled)
