"""Preprocessing layers: Rescaling, Normalization (with ``adapt``), Resizing, CenterCrop, CategoryEncoding
(the random image augmentations are in :mod:`featherflow.keras.layers.image_augmentation`).

They run inside the model, so a saved model carries its own preprocessing.

>>> from featherflow import keras
>>> import numpy as np
>>> keras.layers.Rescaling(1 / 255)(np.array([[0, 255]], "uint8")).numpy()
array([[0., 1.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow import image as image_ops
from featherflow import ops
from featherflow.backend import epsilon as _epsilon
from featherflow.core import Tensor
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.reshaping import normalize_data_format
from featherflow.keras.utils.image_utils import get_interpolation, smart_resize
from featherflow.ops._host import on_host


class Rescaling(Layer):
    """``inputs * scale + offset``, e.g. ``Rescaling(1/255)`` maps pixel bytes to ``[0, 1]`` and
    ``Rescaling(1/127.5, offset=-1)`` to ``[-1, 1]``.

    >>> Rescaling(2.0, offset=1.0)([[1.0]]).numpy()
    array([[3.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        scale = ops.cast(self.scale, inputs.dtype)
        offset = ops.cast(self.offset, inputs.dtype)
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset)
        return config


class Normalization(Layer):
    """Feature-wise standardization ``(x - mean) / sqrt(variance)``, with statistics given or learned
    by ``adapt(data)``.

    Args:
        axis: the axis (or axes) that keep separate statistics (default -1, the features); ``None``
            uses one mean and variance for everything.
        mean / variance: fixed statistics (broadcast to the kept axes); otherwise call ``adapt``.
        invert: apply the inverse, ``mean + x * sqrt(variance)``.

    >>> import numpy as np
    >>> layer = Normalization()
    >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> layer(np.array([[1.0, 20.0]])).numpy()
    array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            self.axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = (axis,)
        else:
            self.axis = tuple(int(a) for a in axis)
        if 0 in self.axis:
            raise ValueError(f"The argument 'axis' may not be 0. Received: axis={axis}")
        if (mean is None) != (variance is None):
            raise ValueError(f"When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._keep_axes = None

    def _kept(self, ndim):
        axes = tuple(a % ndim for a in self.axis)
        for a in axes:
            if not 0 < a < ndim:
                raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                                 f"ndim={ndim}, while axis={self.axis}")
        return axes

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._keep_axes = self._kept(ndim)
        for a in self._keep_axes:
            if input_shape[a] is None:
                raise ValueError(f"All `axis` values to be kept must have known shape. Got axis: {self.axis}, "
                                 f"input shape: {input_shape}, with unknown axis at index: {a}")
        self._broadcast = tuple(input_shape[i] if i in self._keep_axes else 1 for i in range(ndim))
        param_shape = tuple(input_shape[a] for a in self._keep_axes)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=param_shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=param_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64", initializer="zeros",
                                         trainable=False)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of ``data`` (an array, or an iterable of batches) over every
        axis except the kept ones, and store them."""
        if self.input_mean is not None:
            raise ValueError("Normalization layers with fixed `mean` and `variance` cannot be adapted.")
        batches = [data] if not _is_batch_iterable(data) else data
        total, total_sq, count = None, None, 0
        for index, batch in enumerate(batches):
            if steps is not None and index >= steps:
                break
            arr = np.asarray(batch.numpy() if isinstance(batch, Tensor) else batch, dtype="float64")
            if arr.ndim == 1 and self.axis:
                arr = arr[:, None]
            if not self.built:
                self.build((None,) + arr.shape[1:])
                if self._batch_input_shape is None:
                    # an adapted layer declares its input, as in tf.keras: a Sequential it starts is built
                    self._batch_input_shape = tuple(arr.shape[i] if i in self._keep_axes else None
                                                    for i in range(arr.ndim))
            reduce = tuple(i for i in range(arr.ndim) if i not in self._keep_axes)
            n = int(np.prod([arr.shape[i] for i in reduce])) if reduce else 1
            s = arr.sum(axis=reduce)
            sq = (arr * arr).sum(axis=reduce)
            total = s if total is None else total + s
            total_sq = sq if total_sq is None else total_sq + sq
            count += n
        if count == 0:
            raise ValueError("`adapt` received no data: pass a non-empty array or iterable of batches.")
        mean = total / count
        variance = np.maximum(total_sq / count - mean * mean, 0.0)
        self.adapt_mean.assign(np.asarray(mean, dtype=self.adapt_mean.dtype).reshape(self.adapt_mean.shape))
        self.adapt_variance.assign(np.asarray(variance, dtype=self.adapt_variance.dtype)
                                   .reshape(self.adapt_variance.shape))
        self.count.assign(np.asarray(count, dtype="int64"))

    def _statistics(self, dtype):
        if self.input_mean is not None:
            mean = np.broadcast_to(np.asarray(self.input_mean, dtype=dtype), self._param_shape()).reshape(
                self._broadcast)
            variance = np.broadcast_to(np.asarray(self.input_variance, dtype=dtype), self._param_shape()).reshape(
                self._broadcast)
            return ops.constant(mean), ops.constant(variance)
        return (ops.reshape(ops.cast(self.adapt_mean, dtype), self._broadcast),
                ops.reshape(ops.cast(self.adapt_variance, dtype), self._broadcast))

    def _param_shape(self):
        return tuple(self._broadcast[a] for a in self._keep_axes)

    @property
    def mean(self):
        """The mean in the inputs' broadcast shape (e.g. ``(1, features)``), once built."""
        return self._statistic(0, "mean")

    @property
    def variance(self):
        """The variance in the inputs' broadcast shape, once built."""
        return self._statistic(1, "variance")

    def _statistic(self, index, name):
        if not self.built:
            raise AttributeError(f"'Normalization' object has no attribute '{name}' before it is built (by "
                                 "`adapt`, a call, or `input_shape=`).")
        return self._statistics(self.dtype)[index]

    def call(self, inputs):
        mean, variance = self._statistics(inputs.dtype)
        std = ops.maximum(ops.sqrt(variance), ops.cast(_epsilon(), inputs.dtype))
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        axis = self.axis
        config.update(axis=None if axis == () else (axis[0] if len(axis) == 1 else axis), invert=self.invert,
                      mean=_listify(self.input_mean), variance=_listify(self.input_variance))
        return config


def _listify(value):
    if value is None:
        return None
    arr = np.asarray(value)
    return arr.tolist() if arr.ndim else arr.item()


def _is_batch_iterable(data) -> bool:
    return not isinstance(data, (np.ndarray, Tensor, list, tuple)) and hasattr(data, "__iter__")


class Resizing(Layer):
    """Resize images to ``(height, width)`` with any ``tf.image.resize`` method (TF 2's half-pixel kernels);
    ``crop_to_aspect_ratio`` first centre-crops the largest window with the target aspect ratio
    (``smart_resize``). Outputs floats; ``data_format="channels_first"`` takes ``(batch, channels, rows, cols)``.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``,
            ``"lanczos5"``, ``"gaussian"`` or ``"mitchellcubic"``.

    >>> import numpy as np
    >>> Resizing(4, 6)(np.ones((2, 8, 8, 3), "float32")).shape
    (2, 4, 6, 3)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        self._method = get_interpolation(interpolation)
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        size = (self.height, self.width)
        if self.crop_to_aspect_ratio:
            return _in_layout(self, inputs, lambda x: smart_resize(x, size, interpolation=self.interpolation))
        return _in_layout(self, inputs, lambda x: ops.cast(image_ops.resize(x, size, method=self._method), x.dtype))

    def compute_output_shape(self, input_shape):
        return _with_size(self, input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, interpolation=self.interpolation,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio, data_format=self.data_format)
        return config


def _in_layout(layer, inputs, fn):
    """``fn`` on channels-last images, with the layer's ``data_format`` handled around it."""
    if layer.data_format != "channels_first":
        return ops.cast(fn(inputs), inputs.dtype)
    perm = (0, 2, 3, 1) if inputs.ndim == 4 else (1, 2, 0)
    back = (0, 3, 1, 2) if inputs.ndim == 4 else (2, 0, 1)
    return ops.transpose(ops.cast(fn(ops.transpose(inputs, perm)), inputs.dtype), back)


def _with_size(layer, input_shape):
    shape = list(input_shape)
    rows, cols = (-2, -1) if layer.data_format == "channels_first" else (-3, -2)
    shape[rows], shape[cols] = layer.height, layer.width
    return tuple(shape)


class CenterCrop(Layer):
    """Crop the central ``(height, width)`` window of images (start ``int((size - target) / 2)``); images smaller
    than the window along either axis are ``smart_resize``d to it instead.

    >>> import numpy as np
    >>> CenterCrop(2, 2)(np.arange(16, dtype="float32").reshape(1, 4, 4, 1)).numpy()[0, :, :, 0]
    array([[ 5.,  6.],
           [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        return _in_layout(self, inputs, self._crop)

    def _crop(self, images):
        if images.ndim not in (3, 4):
            raise ValueError(f'Layer "{self.name}" expects images of rank 3 or 4. Received: '
                             f"inputs.shape={tuple(images.shape)}")
        h_diff, w_diff = images.shape[-3] - self.height, images.shape[-2] - self.width
        if h_diff < 0 or w_diff < 0:
            return smart_resize(images, (self.height, self.width))
        top, left = int(h_diff / 2), int(w_diff / 2)
        return images[..., top:top + self.height, left:left + self.width, :]

    def compute_output_shape(self, input_shape):
        return _with_size(self, input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, data_format=self.data_format)
        return config


class CategoryEncoding(Layer):
    """Encode integer categories in ``[0, num_tokens)`` as ``"one_hot"``, ``"multi_hot"`` (default) or
    ``"count"`` vectors of length ``num_tokens``.

    >>> import numpy as np
    >>> CategoryEncoding(4, output_mode="count")(np.array([[0, 1, 1]])).numpy()
    array([[1., 2., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"  # Keras's old name
        if output_mode not in ("one_hot", "multi_hot", "count"):
            raise ValueError(f'Unknown arg for output_mode: {output_mode}. Expected one of "one_hot", '
                             f'"multi_hot", "count".')
        if num_tokens is None or int(num_tokens) < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("`sparse=True` is not supported by featherflow's CategoryEncoding.")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def _keeps_int_inputs(self) -> bool:
        return True

    def call(self, inputs, count_weights=None):
        # array arithmetic on the ids (one bincount), never a read into Python: in a tf.function the encoding is
        # replayed on every batch's ids; the range check runs on the real ids at every call (a host call)
        ids = inputs.value if isinstance(inputs, Tensor) else np.asarray(inputs)
        if ids.dtype.kind == "f":
            ids = ids.astype("int64")
        if ids.ndim == 0:
            ids = ids[None]
        if self.output_mode == "one_hot" and ids.shape[-1] != 1:
            ids = ids[..., None]
        if ids.ndim == 1:
            ids = ids[:, None]
        if ids.ndim > 2:
            raise ValueError(f"When output_mode is not `'int'`, maximum supported output rank is 2. Received "
                             f"output_mode {self.output_mode} and input shape {tuple(inputs.shape)}, which would "
                             f"result in output rank {ids.ndim}.")
        on_host(self._check_range, ids)
        rows, tokens = ids.shape[0], self.num_tokens
        cells = (np.arange(rows)[:, None] * tokens + ids).ravel()  # one bin per (row, token)
        if count_weights is not None:
            weights = count_weights.value if isinstance(count_weights, Tensor) else np.asarray(count_weights)
            out = np.bincount(cells, weights=weights.astype(self.dtype).reshape(ids.shape).ravel(), minlength=rows * tokens)
        else:
            out = np.bincount(cells, minlength=rows * tokens)
            if self.output_mode != "count":
                out = out > 0
        return Tensor(out.reshape(rows, tokens).astype(self.dtype))

    def _check_range(self, ids) -> None:
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_tokens):
            raise ValueError(f"Input values must be in the range 0 <= values < num_tokens with num_tokens="
                             f"{self.num_tokens}. Received: min={ids.min()}, max={ids.max()}")

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0] if input_shape else None, self.num_tokens)

    def get_config(self):
        config = super().get_config()
        config.update(num_tokens=self.num_tokens, output_mode=self.output_mode, sparse=self.sparse)
        return config
