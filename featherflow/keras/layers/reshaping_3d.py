"""Volumetric reshaping layers: ZeroPadding3D, Cropping3D, UpSampling3D on ``(batch, depth, rows, cols,
channels)`` (or ``(batch, channels, depth, rows, cols)`` with ``data_format="channels_first"``).

Each is one shape op (pad, slice, broadcast-and-reshape) whose gradient is the inverse move.

>>> from featherflow import keras
>>> keras.layers.ZeroPadding3D(1)(keras.Input(shape=(4, 4, 4, 2))).shape
(None, 6, 6, 6, 2)
"""

from __future__ import annotations

from featherflow import ops
from featherflow.keras.layers.convolutional import normalize_tuple
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.reshaping import _Cropping, _Spatial, _ZeroPadding, normalize_data_format


class ZeroPadding3D(_ZeroPadding):
    """Pad the three spatial axes with zeros.

    Args:
        padding: int (all sides), 3 ints (symmetric per axis), or 3 ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    >>> import numpy as np
    >>> ZeroPadding3D(((1, 0), (0, 0), (0, 2)))(np.ones((1, 1, 1, 1, 1), "float32")).shape
    (1, 2, 1, 3, 1)
    """

    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crop the three spatial axes.

    Args:
        cropping: int, 3 ints (symmetric per axis), or 3 ``(start, end)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    >>> Cropping3D(((1, 1), (0, 2), (1, 0))).compute_output_shape((None, 5, 5, 5, 3))
    (None, 3, 3, 4, 3)
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class UpSampling3D(_Spatial):
    """Repeat each voxel ``size = (depth, rows, cols)`` times along the spatial axes.

    >>> import numpy as np
    >>> UpSampling3D((1, 2, 1))(np.arange(2, dtype="float32").reshape(1, 1, 2, 1, 1)).numpy().ravel()
    array([0., 0., 1., 1.], dtype=float32)
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 3, "size")
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=5)

    def call(self, inputs):
        first = self.data_format == "channels_first"
        x = ops.transpose(inputs, (0, 2, 3, 4, 1)) if first else inputs
        n, d, h, w, c = x.shape
        sd, sh, sw = self.size
        expanded = ops.broadcast_to(ops.reshape(x, (n, d, 1, h, 1, w, 1, c)), (n, d, sd, h, sh, w, sw, c))
        out = ops.reshape(expanded, (n, d * sd, h * sh, w * sw, c))
        return ops.transpose(out, (0, 4, 1, 2, 3)) if first else out

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, factor in zip(self._spatial_axes(), self.size):
            out[axis] = None if out[axis] is None else out[axis] * factor
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format)
        return config
