"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector.

These only move data around; each is one shape op (its gradient is the inverse move).

>>> from featherflow import keras
>>> keras.layers.Flatten()([[[1.0, 2.0], [3.0, 4.0]]]).shape
(1, 4)
"""

from __future__ import annotations

import math

import numpy as np

from featherflow import ops
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.input_spec import InputSpec


def normalize_data_format(value) -> str:
    """``None`` -> ``"channels_last"``; otherwise one of Keras's two names (checked)."""
    if value is None:
        return "channels_last"
    if not isinstance(value, str) or value.lower() not in ("channels_last", "channels_first"):
        raise ValueError(f'The `data_format` argument must be one of "channels_first", "channels_last". '
                         f"Received: data_format={value!r}")
    return value.lower()


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Expected an integer value for `{name}`, got {type(value)}.")
    return int(value)


class Flatten(Layer):
    """Flatten every axis but the batch axis: ``(batch, d1, d2, ...) -> (batch, d1*d2*...)``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; with channels-first
            inputs the channel axis is moved last before flattening, so weights trained on either
            layout line up.

    A ``(batch,)`` input becomes ``(batch, 1)``.

    >>> from featherflow import keras
    >>> keras.layers.Flatten(input_shape=(28, 28)).compute_output_shape((None, 28, 28))
    (None, 784)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs):
        if self._channels_first and inputs.ndim >= 3:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 1:
            return (input_shape[0], 1)
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(math.prod(rest))
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


def _fix_unknown_dimension(input_shape, output_shape):
    """Resolve one ``-1`` in ``output_shape`` so that it holds as many elements as ``input_shape``."""
    output_shape = list(output_shape)
    msg = (f"total size of new array must be unchanged, input_shape = {list(input_shape)}, "
           f"output_shape = {output_shape}")
    known, unknown = 1, None
    for index, dim in enumerate(output_shape):
        if dim < 0:
            if unknown is not None:
                raise ValueError(f"There must be at most one unknown dimension in output_shape. "
                                 f"Received: output_shape={output_shape}.")
            unknown = index
        else:
            known *= dim
    original = int(math.prod(input_shape))
    if unknown is not None:
        if known == 0 or original % known != 0:
            raise ValueError(msg)
        output_shape[unknown] = original // known
    elif original != known:
        raise ValueError(msg)
    return tuple(output_shape)


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (the batch axis is kept).

    Args:
        target_shape: the per-sample shape; one entry may be ``-1`` (inferred).

    >>> from featherflow import keras
    >>> keras.layers.Reshape((2, -1))([[1.0, 2.0, 3.0, 4.0]]).shape
    (1, 2, 2)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            self.target_shape = tuple(-1 if d is None else int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise TypeError(f"`target_shape` must be a tuple of integers. Received: target_shape={target_shape!r}"
                            ) from None
        if sum(1 for d in self.target_shape if d < 0) > 1:
            raise ValueError(f"There must be at most one unknown dimension in output_shape. "
                             f"Received: output_shape={list(self.target_shape)}.")
        self.supports_masking = False

    def call(self, inputs):
        shape = _fix_unknown_dimension(inputs.shape[1:], self.target_shape)
        return ops.reshape(inputs, (inputs.shape[0],) + shape)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + tuple(None if d < 0 else d for d in self.target_shape)
        return (input_shape[0],) + _fix_unknown_dimension(input_shape[1:], self.target_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permute the non-batch axes: ``dims`` is 1-indexed, e.g. ``(2, 1)`` swaps the two axes of a
    ``(batch, a, b)`` input.

    >>> from featherflow import keras
    >>> keras.layers.Permute((2, 1))(keras.Input(shape=(10, 64))).shape
    (None, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeat a ``(batch, features)`` input ``n`` times: output ``(batch, n, features)``.

    >>> from featherflow import keras
    >>> keras.layers.RepeatVector(3)([[1.0, 2.0]]).shape
    (1, 3, 2)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = _check_positive_int(n, "n")
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        # broadcasting a (batch, 1, features) view against ones: the tape sums the gradient over the copies
        ones = ops.ones((1, self.n, 1), dtype=inputs.dtype)
        return ops.expand_dims(inputs, 1) * ones

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config
