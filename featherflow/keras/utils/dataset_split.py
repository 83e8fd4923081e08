"""``keras.utils.split_dataset``: split a dataset, or arrays (tuples/lists/dicts of arrays), into two parts.

A ``tf.data.Dataset`` is split into two datasets, as in tf.keras (a batched dataset is split by samples and
both parts batched again). Arrays come back as arrays in the structure they were given (an array, a
tuple/list of arrays, a dict of arrays), ready for ``model.fit(*left)``; tf.keras returns datasets there too.

>>> import numpy as np
>>> left, right = split_dataset(np.arange(10), left_size=0.8)
>>> left.tolist(), right.tolist()
([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
"""

from __future__ import annotations

import numbers
import random

import numpy as np


def _rescale_sizes(left_size, right_size, total_length: int) -> tuple[int, int]:
    """tf.keras's rules: floats are fractions (rounded), ints are counts, None is the complement."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Real)):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, Received: type({name})={type(size)}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split sizes must be non-zero.")
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is None:
            continue
        if isinstance(size, numbers.Integral) and (size <= 0 or size >= total_length):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total_length}, or a float within the "
                f"range `[0, 1]`. Received: {name}={size}"
            )
        if not isinstance(size, numbers.Integral) and (size <= 0 or size >= 1):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total_length}, or a float within the "
                f"range `[0, 1]`. Received: {name}={size}"
            )
    is_float = {name: size is not None and not isinstance(size, numbers.Integral)
                for name, size in (("left", left_size), ("right", right_size))}
    if is_float["left"] and is_float["right"] and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal to 1.")
    left = None if left_size is None else (round(left_size * total_length) if is_float["left"] else int(left_size))
    right = None if right_size is None else (round(right_size * total_length) if is_float["right"] else int(right_size))
    if left is None:
        left = total_length - right
    elif right is None:
        right = total_length - left
    if left + right > total_length:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total_length}. "
            f"Received: left_size + right_size = {left + right} and total_length = {total_length}"
        )
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length {total_length}, `left_size`={left_size} and `right_size`={right_size}. "
                f"Resulting {side} side dataset split will be empty. Adjust any of the aforementioned parameters"
            )
    return left, right


def _as_array(x) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def _split_order(total: int, left_size, right_size, shuffle: bool, seed) -> tuple:
    """The sample indices of the left and right parts (tf.keras's ``random.Random(seed)`` shuffle)."""
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(order)
    left, right = _rescale_sizes(left_size, right_size, total)
    return np.array(order[:left], dtype=np.int64), np.array(order[total - right:], dtype=np.int64)


def _split_tf_dataset(dataset, left_size, right_size, shuffle, seed) -> tuple:
    from featherflow.data import AUTOTUNE, Dataset
    from featherflow.data.batching import BatchDataset, stack_elements
    from featherflow.data.experimental import from_list

    if dataset._cardinality() == -1:
        raise ValueError("The `dataset` argument must be a finite dataset: it is infinite (`repeat()` was called "
                         "on it), so it cannot be split.")
    batch_size = dataset._batch_size if isinstance(dataset, BatchDataset) else None
    samples = list((dataset.unbatch() if batch_size else dataset)._elements())
    if not samples:
        raise ValueError("The `dataset` argument must not be empty.")
    parts = []
    for index in _split_order(len(samples), left_size, right_size, shuffle, seed):
        chosen = [samples[i] for i in index.tolist()]
        try:
            part = Dataset.from_tensor_slices(stack_elements(chosen))
        except ValueError:  # elements of different shapes stay a list
            part = from_list(chosen)
        parts.append((part.batch(batch_size) if batch_size else part).prefetch(AUTOTUNE))
    return tuple(parts)


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False, seed: int | None = None):
    """Splits a dataset into a left half and a right half (e.g. train / test).

    Args:
        dataset: a finite ``tf.data.Dataset``, an array, or a tuple/list/dict of arrays of the same length
            (samples on axis 0).
        left_size: float in ``(0, 1)``: fraction of the samples (``round(left_size * n)``) in the
            left part; int: number of samples; None: the complement of ``right_size``.
        right_size: the same for the right part, which is taken from the END of the data
            (after shuffling) as in tf.keras, so unused samples fall in the middle.
        shuffle: shuffle the samples before splitting (Python ``random.Random(seed).shuffle``
            of the sample order, the permutation tf.keras uses).
        seed: random seed for the shuffle.

    Returns:
        ``(left, right)``: two datasets for a dataset, else each with the structure of ``dataset``.
    """
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    from featherflow.keras.models.dataset_adapter import is_dataset

    if is_dataset(dataset):
        return _split_tf_dataset(dataset, left_size, right_size, shuffle, seed)
    container = None
    if isinstance(dataset, dict):
        container, keys = dict, list(dataset)
        arrays = [_as_array(dataset[key]) for key in keys]
    elif isinstance(dataset, (tuple, list)) and not all(isinstance(part, numbers.Number) for part in dataset):
        # As in tf.keras, a list/tuple holds several arrays of the same length (x, y, ...).
        container = type(dataset)
        arrays = [_as_array(part) for part in dataset]
    else:
        arrays = [_as_array(dataset)]
    if not arrays or any(array.ndim == 0 for array in arrays):
        raise TypeError(
            "The `dataset` argument must be an array or a list/tuple/dict of arrays. "
            f"Received: dataset={dataset!r} of type {type(dataset)}"
        )
    lengths = {len(array) for array in arrays}
    if len(lengths) != 1:
        raise ValueError(f"All arrays of `dataset` must have the same length. Received lengths: {sorted(lengths)}")
    left_index, right_index = _split_order(lengths.pop(), left_size, right_size, shuffle, seed)

    def restore(index):
        parts = [array[index] for array in arrays]
        if container is dict:
            return dict(zip(keys, parts))
        if container is not None:
            return container(parts)
        return parts[0]

    return restore(left_index), restore(right_index)
