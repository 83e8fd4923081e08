"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D.

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
    """``None`` -> ``keras.backend.image_data_format()``; otherwise one of Keras's two names (checked)."""
    if value is None:
        from featherflow.keras import backend

        return backend.image_data_format()
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


def _int_pairs(value, n, name):
    """An int, ``n`` ints or ``n`` pairs as ``n`` (before, after) pairs (Keras's padding/cropping forms)."""
    plural = "elements" if n > 1 else "element"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ((int(value), int(value)),) * n
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if n == 1 and items is not None and len(items) == 2 and all(isinstance(v, (int, np.integer)) for v in items):
        return ((int(items[0]), int(items[1])),)
    if items is None or len(items) != n:
        raise ValueError(f"`{name}` should have {n} {plural}. Received: {name}={value!r}.")
    pairs = []
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            pairs.append((int(item), int(item)))
        else:
            try:
                a, b = item
                pairs.append((int(a), int(b)))
            except (TypeError, ValueError):
                raise ValueError(
                    f"`{name}` should be either an int, a tuple of {n} ints, or a tuple of {n} tuples of 2 ints "
                    f"(before, after) per spatial axis. Received: {name}={value!r}.") from None
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"`{name}` must be non-negative. Received: {name}={value!r}.")
    return tuple(pairs)


class _Spatial(Layer):
    """Shared data-format handling for the layers that act on the spatial axes."""

    rank = 2

    def _spatial_axes(self):
        if getattr(self, "data_format", "channels_last") == "channels_first":
            return tuple(range(2, self.rank + 2))
        return tuple(range(1, self.rank + 1))


class ZeroPadding1D(_Spatial):
    """Pad the steps axis of ``(batch, steps, features)`` with zeros.

    >>> ZeroPadding1D(1)([[[1.0], [2.0]]]).numpy().ravel()
    array([0., 1., 2., 0.], dtype=float32)
    """

    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _int_pairs(padding, 1, "padding")[0]
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return ops.pad(inputs, [[0, 0], list(self.padding), [0, 0]])

    def compute_output_shape(self, input_shape):
        n, steps, c = tuple(input_shape)
        return (n, None if steps is None else steps + sum(self.padding), c)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config


class _ZeroPadding(_Spatial):
    """Zero padding of the ``rank`` spatial axes of ``(batch, *spatial, channels)`` (or channels first)."""

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.padding = _int_pairs(padding, self.rank, "padding")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        pads = [[0, 0]] * (self.rank + 2)
        for axis, pair in zip(self._spatial_axes(), self.padding):
            pads[axis] = list(pair)
        return ops.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, pair in zip(self._spatial_axes(), self.padding):
            out[axis] = None if out[axis] is None else out[axis] + sum(pair)
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


class ZeroPadding2D(_ZeroPadding):
    """Pad the rows and columns of an image batch with zeros.

    Args:
        padding: int (all sides), ``(rows, cols)`` (symmetric), or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    >>> ZeroPadding2D(1).compute_output_shape((None, 28, 28, 1))
    (None, 30, 30, 1)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping1D(_Spatial):
    """Crop ``(start, end)`` steps of ``(batch, steps, features)``.

    >>> Cropping1D((1, 0))([[[1.0], [2.0], [3.0]]]).numpy().ravel()
    array([2., 3.], dtype=float32)
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _int_pairs(cropping, 1, "cropping")[0]
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        start, end = self.cropping
        if inputs.shape[1] - start - end <= 0:
            raise ValueError(f"`cropping` parameter of `Cropping1D` layer must be smaller than the input length. "
                             f"Received: inputs.shape={inputs.shape}, and cropping={self.cropping}")
        return inputs[:, start:inputs.shape[1] - end, :]

    def compute_output_shape(self, input_shape):
        n, steps, c = tuple(input_shape)
        return (n, None if steps is None else steps - sum(self.cropping), c)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class _Cropping(_Spatial):
    """Cropping of the ``rank`` spatial axes of ``(batch, *spatial, channels)`` (or channels first)."""

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.cropping = _int_pairs(cropping, self.rank, "cropping")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _check(self, input_shape):
        for axis, (start, end) in zip(self._spatial_axes(), self.cropping):
            size = input_shape[axis]
            if size is not None and size - start - end <= 0:
                raise ValueError(f"Values in `cropping` argument should be smaller than the corresponding spatial "
                                 f"dimension of the input. Received: input_shape={tuple(input_shape)}, "
                                 f"cropping={self.cropping}")

    def call(self, inputs):
        self._check(inputs.shape)
        index = [slice(None)] * (self.rank + 2)
        for axis, (start, end) in zip(self._spatial_axes(), self.cropping):
            index[axis] = slice(start, inputs.shape[axis] - end)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        out = list(input_shape)
        for axis, pair in zip(self._spatial_axes(), self.cropping):
            out[axis] = None if out[axis] is None else out[axis] - sum(pair)
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config


class Cropping2D(_Cropping):
    """Crop rows and columns of an image batch.

    Args:
        cropping: int, ``(rows, cols)`` (symmetric), or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    >>> Cropping2D(((2, 2), (4, 4))).compute_output_shape((None, 28, 28, 3))
    (None, 24, 20, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


def interpolation_matrix(in_size: int, out_size: int, method: str, dtype) -> np.ndarray:
    """``(out_size, in_size)`` matrix that resizes one axis (TensorFlow 2's half-pixel centres).

    ``"bilinear"`` blends the two nearest inputs of ``(o + 0.5) * in/out - 0.5``; ``"nearest"``
    picks ``floor((o + 0.5) * in/out)``.
    """
    scale = in_size / out_size
    matrix = np.zeros((out_size, in_size), dtype="float64")
    rows = np.arange(out_size)
    if method == "nearest":
        src = np.minimum(np.floor((rows + 0.5) * scale).astype(int), in_size - 1)
        matrix[rows, src] = 1.0
    else:
        pos = np.clip((rows + 0.5) * scale - 0.5, 0, in_size - 1)
        lower = np.floor(pos).astype(int)
        upper = np.minimum(lower + 1, in_size - 1)
        frac = pos - lower
        np.add.at(matrix, (rows, lower), 1.0 - frac)
        np.add.at(matrix, (rows, upper), frac)
    return matrix.astype(dtype)


def resize_images(inputs, out_h: int, out_w: int, method: str, channels_first: bool = False):
    """Resize ``(batch, rows, cols, channels)`` images by two separable interpolation matrices."""
    h_axis, w_axis = (2, 3) if channels_first else (1, 2)
    h, w = inputs.shape[h_axis], inputs.shape[w_axis]
    dtype = inputs.dtype
    mat_h = ops.constant(interpolation_matrix(h, out_h, method, dtype))
    mat_w = ops.constant(interpolation_matrix(w, out_w, method, dtype))
    if channels_first:
        out = ops.einsum("oh,nchw->ncow", mat_h, inputs)
        return ops.einsum("pw,ncow->ncop", mat_w, out)
    out = ops.einsum("oh,nhwc->nowc", mat_h, inputs)
    return ops.einsum("pw,nowc->nopc", mat_w, out)


class UpSampling1D(Layer):
    """Repeat each step ``size`` times: ``(batch, steps, features) -> (batch, steps * size, features)``.

    >>> UpSampling1D(2)([[[1.0], [2.0]]]).numpy().ravel()
    array([1., 1., 2., 2.], dtype=float32)
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _check_positive_int(size, "size")
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        n, steps, c = inputs.shape
        expanded = ops.broadcast_to(ops.reshape(inputs, (n, steps, 1, c)), (n, steps, self.size, c))
        return ops.reshape(expanded, (n, steps * self.size, c))

    def compute_output_shape(self, input_shape):
        n, steps, c = tuple(input_shape)
        return (n, None if steps is None else steps * self.size, c)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling2D(_Spatial):
    """Enlarge images by ``size = (rows, cols)`` factors: ``"nearest"`` repeats pixels,
    ``"bilinear"`` interpolates (TensorFlow 2's half-pixel centres).

    >>> import numpy as np
    >>> UpSampling2D()(np.arange(4, dtype="float32").reshape(1, 2, 2, 1)).numpy()[0, :, :, 0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]], dtype=float32)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        from featherflow.keras.layers.convolutional import normalize_tuple

        self.size = normalize_tuple(size, 2, "size")
        self.data_format = normalize_data_format(data_format)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f'`interpolation` argument should be one of: "nearest" or "bilinear". '
                             f"Received: interpolation={interpolation!r}.")
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        first = self.data_format == "channels_first"
        (ha, wa) = self._spatial_axes()
        sh, sw = self.size
        if self.interpolation == "bilinear":
            return resize_images(inputs, inputs.shape[ha] * sh, inputs.shape[wa] * sw, "bilinear", first)
        x = ops.transpose(inputs, (0, 2, 3, 1)) if first else inputs
        n, h, w, c = x.shape
        expanded = ops.broadcast_to(ops.reshape(x, (n, h, 1, w, 1, c)), (n, h, sh, w, sw, c))
        out = ops.reshape(expanded, (n, h * sh, w * sw, c))
        return ops.transpose(out, (0, 3, 1, 2)) if first else out

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, factor in zip(self._spatial_axes(), self.size):
            out[axis] = None if out[axis] is None else out[axis] * factor
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format, interpolation=self.interpolation)
        return config
