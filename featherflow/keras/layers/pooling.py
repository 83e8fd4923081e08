"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the global poolings.

Local pooling runs one op from ``featherflow.ops.pooling`` (non-overlapping windows by
reshaping views; the gradient of a max goes to the first maximum of each window).

>>> from featherflow import keras
>>> keras.layers.MaxPooling2D()(keras.Input(shape=(26, 26, 32))).shape
(None, 13, 13, 32)
>>> keras.layers.GlobalAveragePooling2D()(keras.Input(shape=(5, 5, 8))).shape
(None, 8)
"""

from __future__ import annotations

from featherflow import ops
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.convolutional import conv_output_length, normalize_padding, normalize_tuple
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.reshaping import normalize_data_format
from featherflow.ops.conv3d import pool3d
from featherflow.ops.pooling import pool2d


class _Pooling(Layer):
    rank = 2
    kind = "max"

    def __init__(self, pool_size, strides, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = normalize_tuple(self.pool_size if strides is None else strides, self.rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0,) + tuple(range(2, self.rank + 2)) + (1,))
        pool, strides = self.pool_size, self.strides
        if self.rank == 3:
            out = pool3d(x, self.kind, pool, strides, self.padding.upper(), op=self.name)
            return ops.transpose(out, (0, 4, 1, 2, 3)) if self.data_format == "channels_first" else out
        if self.rank == 1:
            x = ops.expand_dims(x, 1)
            pool, strides = (1,) + pool, (1,) + strides
        out = pool2d(x, self.kind, pool, strides, self.padding.upper(), op=self.name)
        if self.rank == 1:
            out = ops.squeeze(out, 1)
        if self.data_format == "channels_first":
            out = ops.transpose(out, (0, self.rank + 1) + tuple(range(1, self.rank + 1)))
        return out

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            spatial, channels = input_shape[1:-1], input_shape[-1]
        else:
            spatial, channels = input_shape[2:], input_shape[1]
        out = tuple(conv_output_length(length, k, self.padding, s) for length, k, s in
                    zip(spatial, self.pool_size, self.strides))
        if any(d is not None and d <= 0 for d in out):
            raise ValueError(f"Computed output size would be negative. Received: inputs.shape={input_shape} and "
                             f"pool_size={self.pool_size}.")
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (channels,)
        return (input_shape[0], channels) + out

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                      data_format=self.data_format)
        return config


class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows of ``(batch, rows, cols, channels)``, moved by ``strides``.

    Args:
        pool_size: int or 2-tuple (default ``(2, 2)``).
        strides: int, 2-tuple or ``None`` (= ``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    >>> import numpy as np
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> MaxPooling2D()(x).numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows (``"same"`` padding averages only the real entries).

    >>> import numpy as np
    >>> AveragePooling2D()(np.ones((1, 4, 4, 1), "float32")).shape
    (1, 2, 2, 1)
    """

    kind = "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling):
    """Max over windows of ``(batch, steps, channels)``.

    >>> MaxPooling1D(2)([[[1.0], [3.0], [2.0], [0.0]]]).numpy().ravel()
    array([3., 2.], dtype=float32)
    """

    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """Mean over windows of ``(batch, steps, channels)``.

    >>> AveragePooling1D(2)([[[1.0], [3.0], [2.0], [0.0]]]).numpy().ravel()
    array([2., 1.], dtype=float32)
    """

    rank = 1
    kind = "avg"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pooling):
    """Max over ``pool_size`` windows of volumes ``(batch, depth, rows, cols, channels)``.

    >>> import numpy as np
    >>> MaxPooling3D()(np.arange(8, dtype="float32").reshape(1, 2, 2, 2, 1)).numpy().ravel()
    array([7.], dtype=float32)
    """

    rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling):
    """Mean over ``pool_size`` windows of volumes (``"same"`` padding averages only the real entries).

    >>> import numpy as np
    >>> AveragePooling3D()(np.arange(8, dtype="float32").reshape(1, 2, 2, 2, 1)).numpy().ravel()
    array([3.5], dtype=float32)
    """

    rank = 3
    kind = "avg"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    rank = 2
    kind = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        return tuple(range(1, self.rank + 1)) if self.data_format == "channels_last" else tuple(
            range(2, self.rank + 2))

    def call(self, inputs):
        reduce = ops.reduce_max if self.kind == "max" else ops.reduce_mean
        return reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over the spatial axes: ``(batch, rows, cols, channels) -> (batch, channels)``
    (``keepdims=True`` keeps ``(batch, 1, 1, channels)``).

    >>> import numpy as np
    >>> GlobalMaxPooling2D()(np.arange(8, dtype="float32").reshape(1, 2, 2, 2)).numpy()
    array([[6., 7.]], dtype=float32)
    """


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over the spatial axes: ``(batch, rows, cols, channels) -> (batch, channels)``.

    >>> import numpy as np
    >>> GlobalAveragePooling2D()(np.arange(8, dtype="float32").reshape(1, 2, 2, 2)).numpy()
    array([[3., 4.]], dtype=float32)
    """

    kind = "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps: ``(batch, steps, features) -> (batch, features)``.

    >>> GlobalMaxPooling1D()([[[1.0, 5.0], [3.0, 2.0]]]).numpy()
    array([[3., 5.]], dtype=float32)
    """

    rank = 1

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps: ``(batch, steps, features) -> (batch, features)``. With a mask (from
    ``Embedding(mask_zero=True)`` or ``Masking``) only the unmasked steps are averaged.

    >>> GlobalAveragePooling1D()([[[1.0, 5.0], [3.0, 2.0]]]).numpy()
    array([[2. , 3.5]], dtype=float32)
    """

    rank = 1
    kind = "avg"

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps_axis = 1 if self.data_format == "channels_last" else 2
        weights = ops.cast(mask, inputs.dtype)
        weights = ops.expand_dims(weights, 2 if steps_axis == 1 else 1)
        total = ops.reduce_sum(inputs * weights, axis=steps_axis, keepdims=self.keepdims)
        count = ops.reduce_sum(weights, axis=steps_axis, keepdims=self.keepdims)
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over the three spatial axes: ``(batch, depth, rows, cols, channels) -> (batch, channels)``.

    >>> import numpy as np
    >>> GlobalMaxPooling3D()(np.arange(16, dtype="float32").reshape(1, 2, 2, 2, 2)).numpy()
    array([[14., 15.]], dtype=float32)
    """

    rank = 3


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes: ``(batch, depth, rows, cols, channels) -> (batch, channels)``.

    >>> import numpy as np
    >>> GlobalAveragePooling3D()(np.arange(16, dtype="float32").reshape(1, 2, 2, 2, 2)).numpy()
    array([[7., 8.]], dtype=float32)
    """

    rank = 3
    kind = "avg"


# Keras's short aliases
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
