"""``interleave`` and ``flat_map``: datasets made from each element, read in TensorFlow's cycle order.

``cycle_length`` input elements are open at a time, each as the dataset ``map_func`` returns for it;
``block_length`` consecutive elements are taken from one before moving to the next. When an open dataset
ends, the cycle moves on and the next input element opens in its place when the cycle comes back to it.

>>> import featherflow as tf
>>> ds = tf.data.Dataset.range(1, 6).interleave(
...     lambda x: tf.data.Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4)
>>> [int(v) for v in ds][:12]
[1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2]
"""

from __future__ import annotations

import os

from featherflow.data.dataset import AUTOTUNE, UNKNOWN, Dataset, UnaryDataset, _check_count, call_with_element
from featherflow.data.transforms import _check_function


def _cycle_length(value) -> int:
    if value is None:
        return max(os.cpu_count() or 1, 1)
    value = _check_count(value, "cycle_length")
    if value == AUTOTUNE:
        return max(os.cpu_count() or 1, 1)
    if value == 0:
        raise ValueError("`cycle_length` must be a positive integer or tf.data.AUTOTUNE. Received: cycle_length=0")
    return value


class InterleaveDataset(UnaryDataset):
    """``Dataset.interleave`` (``flat_map`` is ``cycle_length=1``)."""

    def __init__(self, input_dataset, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                 deterministic=None):
        _check_function(map_func, "map_func")
        self._input = input_dataset
        self._fn = map_func
        self._cycle_length = _cycle_length(cycle_length)
        self._block_length = 1 if block_length is None else _check_count(block_length, "block_length",
                                                                          allow_minus_one=False)
        self._parallel = None if num_parallel_calls is None else _check_count(num_parallel_calls,
                                                                              "num_parallel_calls")

    def _cardinality(self) -> int:
        return UNKNOWN

    def _dataset_for(self, element) -> Dataset:
        out = call_with_element(self._fn, element)
        if not isinstance(out, Dataset):
            raise TypeError(f"The `map_func` argument must return a `Dataset` object. Got {type(out).__name__}.")
        return out

    def _spec(self):
        from featherflow.data.transforms import infer_function_spec

        def describe(out):
            if not isinstance(out, Dataset):
                raise TypeError("not a dataset")
            return out.element_spec

        spec = infer_function_spec(self._input, self._fn, describe)
        if spec is not None:
            return spec
        for element in self._input._elements():
            return self._dataset_for(element).element_spec
        raise ValueError("Cannot infer the element spec of the interleaved dataset: its input is empty.")

    def _open(self, element):
        elements = self._dataset_for(element)._elements()
        if self._parallel:
            from featherflow.data.parallel import background_iterator

            return background_iterator(elements, max(self._block_length, 2), name="featherflow-interleave")
        return elements

    def _elements(self):
        inputs = self._input._elements()
        slots: list = [None] * self._cycle_length
        index = 0
        block = 0
        inputs_done = False
        open_count = 0
        while True:
            current = slots[index]
            if current is None:
                if not inputs_done:
                    try:
                        element = next(inputs)
                    except StopIteration:
                        inputs_done = True
                    else:
                        slots[index] = self._open(element)
                        open_count += 1
                        continue
                if inputs_done and open_count == 0:
                    return
                index, block = (index + 1) % self._cycle_length, 0
                continue
            try:
                value = next(current)
            except StopIteration:
                slots[index] = None
                open_count -= 1
                index, block = (index + 1) % self._cycle_length, 0
                continue
            block += 1
            if block == self._block_length:
                index, block = (index + 1) % self._cycle_length, 0
            yield value
