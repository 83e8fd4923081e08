"""``Discretization``: bucket numbers by boundaries, given or estimated from data by ``adapt``.

``adapt`` keeps tf.keras 2's approximate-quantile summary (sorted samples every ``1 / epsilon`` of the
data, merged and compressed by interpolating cumulative weights), so the learned boundaries are the ones
tf.keras learns from the same data.

>>> from featherflow import keras
>>> import numpy as np
>>> keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])(np.array([[-1.5, 1.0, 3.4, 0.5]])).numpy()
array([[0, 2, 3, 1]])
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import floatx
from featherflow.core import Tensor
from featherflow.core.ragged import RaggedTensor
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.index_lookup import (
    COUNT,
    INT,
    MULTI_HOT,
    ONE_HOT,
    categorical_output_shape,
    encode_categorical,
    iterate_batches,
    validate_string_arg,
)


def summarize(values, epsilon):
    """A ``(2, n)`` summary of ``values``: every ``len / (1 / epsilon)``-th sorted value and its weight."""
    values = np.sort(np.asarray(values, dtype=np.float32).reshape(-1))
    elements = np.float32(values.size)
    num_buckets = 1.0 / epsilon
    increment = int(elements / np.float32(num_buckets))
    step = max(increment, 1)
    boundaries = values[increment::step]
    weights = np.ones_like(boundaries) * np.float32(step)
    return np.stack([boundaries, weights])


def compress(summary, epsilon):
    """Interpolate the summary down to about ``1 / epsilon`` bins (tf.keras's ``_compress_summary_numpy``)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype(np.float32)


def merge_summaries(prev_summary, next_summary, epsilon):
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = merged[:, np.argsort(merged[0], kind="stable")]
    return compress(merged, epsilon)


def get_bin_boundaries(summary, num_bins):
    return compress(summary, 1.0 / num_bins)[0, :-1]


class Discretization(Layer):
    """Bucket each number: output ``i`` when ``bin_boundaries[i - 1] <= x < bin_boundaries[i]``.

    Args:
        bin_boundaries: sorted boundaries (``len + 1`` buckets); or
        num_bins: the number of buckets ``adapt`` estimates quantile boundaries for;
        epsilon: the quantile approximation's error tolerance (default 0.01).
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"``, ``"count"``.
        sparse: not supported.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False, **kwargs):
        if "bins" in kwargs:
            import warnings

            warnings.warn("bins is deprecated, please use bin_boundaries or num_bins instead.", DeprecationWarning,
                          stacklevel=2)
            bins = kwargs.pop("bins")
            if isinstance(bins, int) and num_bins is None:
                num_bins = bins
            elif bin_boundaries is None:
                bin_boundaries = bins
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == INT else floatx()
        elif output_mode == INT and np.dtype(kwargs["dtype"]).kind not in "iu":
            kwargs["dtype"] = "int64"
        super().__init__(**kwargs)
        validate_string_arg(output_mode, (INT, ONE_HOT, MULTI_HOT, COUNT), type(self).__name__, "output_mode")
        if sparse:
            raise ValueError("`sparse=True` is not supported by featherflow's Discretization.")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. You passed `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Both `num_bins` and `bin_boundaries` should not be set. You passed "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if isinstance(bin_boundaries, Tensor):
            bin_boundaries = bin_boundaries.numpy()
        bin_boundaries = None if bin_boundaries is None else np.asarray(bin_boundaries, dtype="float64").tolist()
        self.input_bin_boundaries = bin_boundaries
        self.bin_boundaries = bin_boundaries if bin_boundaries is not None else []
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self._summary = np.zeros((2, 0), dtype=np.float32)

    def _keeps_int_inputs(self) -> bool:
        return True

    def _convert_input(self, x):
        if isinstance(x, (Tensor, RaggedTensor)) or x is None:
            return x
        return Tensor(np.asarray(x))

    def reset_state(self) -> None:
        self._summary = np.zeros((2, 0), dtype=np.float32)

    def update_state(self, data) -> None:
        if self.input_bin_boundaries is not None:
            raise ValueError(f"Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, "
                             f"use `num_bins` instead. You passed `bin_boundaries={self.input_bin_boundaries}`.")
        values = data.flat_values.value if isinstance(data, RaggedTensor) else np.asarray(data)
        self._summary = merge_summaries(summarize(values, self.epsilon), self._summary, self.epsilon)

    def finalize_state(self) -> None:
        if self.input_bin_boundaries is not None:
            return
        if self.num_bins is None:
            raise ValueError("Discretization needs `num_bins` to adapt (or pass `bin_boundaries`).")
        self.bin_boundaries = get_bin_boundaries(self._summary, self.num_bins).tolist()

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Estimate ``num_bins - 1`` quantile boundaries of ``data`` (array, tensor or dataset of batches)."""
        self.reset_state()
        for batch in iterate_batches(data, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()

    def _bucketize(self, values):
        if np.asarray(values).dtype.kind not in "iuf":
            raise TypeError(f'Layer "{self.name}" expects numeric inputs. Received dtype {np.asarray(values).dtype}')
        boundaries = np.asarray(self.bin_boundaries, dtype="float64")
        return np.searchsorted(boundaries, np.asarray(values, dtype="float64"), side="right").astype(np.int64)

    def call(self, inputs):
        depth = len(self.bin_boundaries) + 1
        if isinstance(inputs, RaggedTensor):
            ids = inputs.with_flat_values(self._bucketize(inputs.flat_values.value))
            if self.output_mode == INT:
                return ids.with_flat_values(ids.flat_values.value.astype(self.dtype))
            ids = ids.to_tensor(default_value=np.iinfo(np.int64).max).value
        else:
            ids = self._bucketize(inputs.value)
        return encode_categorical(ids, self.output_mode, depth, self.dtype)

    def compute_output_shape(self, input_shape):
        return categorical_output_shape(tuple(input_shape), self.output_mode, len(self.bin_boundaries) + 1)

    def save_own_variables(self, store) -> None:
        """The boundaries ``adapt`` learned (given ones live in the config)."""
        if self.input_bin_boundaries is None:
            store["bin_boundaries"] = np.asarray(self.bin_boundaries, dtype="float64")

    def load_own_variables(self, store) -> None:
        if "bin_boundaries" in store:
            self.bin_boundaries = np.asarray(store["bin_boundaries"], dtype="float64").tolist()

    def get_config(self):
        config = super().get_config()
        config.update(bin_boundaries=self.input_bin_boundaries, num_bins=self.num_bins, epsilon=self.epsilon,
                      output_mode=self.output_mode, sparse=self.sparse)
        return config
