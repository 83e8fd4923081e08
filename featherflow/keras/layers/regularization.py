"""Regularization layers: Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization.

The noise layers act only when called with ``training=True`` (``fit`` does this); at inference
they return their inputs unchanged. Noise comes from featherflow's seeded generator: a layer built
with ``seed=s`` owns a generator seeded with ``s``; otherwise it draws from the global generator,
so ``keras.utils.set_random_seed`` makes runs bit-identical.

>>> from featherflow import keras
>>> import numpy as np
>>> layer = keras.layers.Dropout(0.5)
>>> layer(np.ones((1, 4), "float32")).numpy()  # inference: identity
array([[1., 1., 1., 1.]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from featherflow import ops
from featherflow.backend import random as _random
from featherflow.core import Tensor
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.reshaping import normalize_data_format
from featherflow.ops import _dropout_compiled, array_kernels
from featherflow.ops.nn import masked_output, scaled_by_mask


def _check_rate(rate, layer):
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating, np.integer)):
        raise TypeError(f"Expected a float value for `rate` of {layer}. Received: rate={rate!r}")
    rate = float(rate)
    if not 0 <= rate <= 1:
        raise ValueError(f"Invalid value {rate} received for `rate`, expected a value between 0 and 1.")
    return rate


class _NoiseLayer(Layer):
    """Shared seed handling for the layers that draw noise during training."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"Expected an integer `seed` or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._generator = _random.make_generator(self.seed) if self.seed is not None else None
        self.supports_masking = True

    def _rng(self):
        return self._generator if self._generator is not None else _random.generator()

    def _uniform(self, shape, dtype):
        return array_kernels.dropout_uniform(self._rng(), shape, dtype)

    def _normal(self, shape, dtype):
        draw_dtype = "float64" if np.dtype(dtype).itemsize > 4 else "float32"
        return self._rng().standard_normal(shape, dtype=draw_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Dropout(_NoiseLayer):
    """Inverted dropout: while training, zero each entry with probability ``rate`` and scale the
    others by ``1 / (1 - rate)`` so the expected value is unchanged; identity at inference.

    Args:
        rate: fraction of the inputs to drop, in ``[0, 1]``.
        noise_shape: shape of the keep/drop mask, broadcast against the input; ``None`` entries
            take the input's size (``(None, 1, None)`` drops whole time steps' features alike).
        seed: integer seed for this layer's own generator.

    >>> from featherflow import keras
    >>> import numpy as np
    >>> out = keras.layers.Dropout(0.5, seed=0)(np.ones((1, 6), "float32"), training=True).numpy()
    >>> sorted(set(out.ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate, type(self).__name__)
        self.noise_shape = None if noise_shape is None else tuple(
            None if d is None else int(d) for d in noise_shape)

    def _get_noise_shape(self, inputs):
        if self.noise_shape is None:
            return inputs.shape
        if len(self.noise_shape) != inputs.ndim:
            raise ValueError(f'Layer "{self.name}": `noise_shape` must have one entry per input axis. Received: '
                             f"noise_shape={self.noise_shape}, inputs.shape={inputs.shape}")
        return tuple(inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        dtype = inputs.dtype
        shape = self._get_noise_shape(inputs)
        if self.rate == 1:
            return inputs * Tensor(np.zeros(shape, dtype=dtype))
        value = inputs.value if isinstance(inputs, Tensor) else None
        if value is not None and tuple(shape) == value.shape:
            run = _dropout_compiled.compiled_dropout(value)
            if run is not None:  # the mask and the output in one compiled pass (eager and traced alike)
                out, scale = run(value, self.rate, self._generator)
                return masked_output(inputs, out, scale)
        scale = dropout_mask(self, shape, dtype)
        if type(value) is np.ndarray and scale.shape == value.shape:
            # the common case as one recorded op: x * scale, gradient g * scale (what ops.multiply
            # computes, without its operand checks - this runs every training step)
            return scaled_by_mask(inputs, scale)
        return ops.multiply(inputs, Tensor(scale))

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


def dropout_mask(layer: Dropout, shape, dtype) -> np.ndarray:
    """The scaled keep mask ``layer`` multiplies its inputs by in training: ``shape`` draws from the layer's
    generator (its own when built with ``seed``, else the global one), ``array_kernels.dropout_mask`` of them.
    ``Dropout.call`` draws through here.

    >>> import numpy as np
    >>> mask = dropout_mask(Dropout(0.5, seed=1), (2, 4), np.float32)
    >>> sorted(set(mask.ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """
    dtype = np.dtype(dtype)
    return array_kernels.dropout_mask(layer._uniform(shape, dtype), layer.rate, dtype)


class SpatialDropout1D(Dropout):
    """Dropout of whole feature channels of a ``(batch, steps, channels)`` input: one keep/drop
    decision per sample and channel, shared by all steps (adjacent steps are correlated, so
    element-wise dropout would not regularize).

    >>> from featherflow import keras
    >>> import numpy as np
    >>> out = keras.layers.SpatialDropout1D(0.5, seed=1)(np.ones((2, 5, 3), "float32"), training=True).numpy()
    >>> bool((out == out[:, :1, :]).all())
    True
    """

    def __init__(self, rate, **kwargs):
        super().__init__(rate, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _get_noise_shape(self, inputs):
        return (inputs.shape[0], 1, inputs.shape[2])


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps of a 4-D input: one decision per sample and channel.

    Args:
        rate: fraction of channels to drop.
        data_format: ``"channels_last"`` (``(batch, rows, cols, channels)``, default) or ``"channels_first"``.
    """

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, **kwargs)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=4)

    def _get_noise_shape(self, inputs):
        n, a, b, c = inputs.shape
        return (n, 1, 1, c) if self.data_format == "channels_last" else (n, a, 1, 1)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class SpatialDropout3D(Dropout):
    """Dropout of whole feature volumes of a 5-D input: one decision per sample and channel.

    Args:
        rate: fraction of channels to drop.
        data_format: ``"channels_last"`` (``(batch, depth, rows, cols, channels)``, default) or
            ``"channels_first"``.

    >>> from featherflow import keras
    >>> import numpy as np
    >>> out = keras.layers.SpatialDropout3D(0.5, seed=1)(np.ones((2, 2, 3, 3, 4), "float32"), training=True).numpy()
    >>> bool((out == out[:, :1, :1, :1, :]).all())
    True
    """

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, **kwargs)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=5)

    def _get_noise_shape(self, inputs):
        n, a, _, _, c = inputs.shape
        return (n, 1, 1, 1, c) if self.data_format == "channels_last" else (n, a, 1, 1, 1)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class GaussianNoise(_NoiseLayer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` while training (identity at inference).

    >>> from featherflow import keras
    >>> keras.layers.GaussianNoise(0.1)([[1.0]], training=False).numpy()
    array([[1.]], dtype=float32)
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = float(stddev)
        if self.stddev < 0:
            raise ValueError(f"Invalid value received for argument `stddev`. Expected a non-negative float. "
                             f"Received: stddev={stddev}")

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        noise = self._normal(inputs.shape, inputs.dtype).astype(inputs.dtype, copy=False)
        noise *= inputs.dtype.type(self.stddev)
        return ops.add(inputs, Tensor(noise))

    def get_config(self):
        config = super().get_config()
        config.update(stddev=self.stddev, seed=self.seed)
        return config


class GaussianDropout(_NoiseLayer):
    """Multiply by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))`` while
    training (identity at inference).

    >>> from featherflow import keras
    >>> keras.layers.GaussianDropout(0.2)([[2.0]]).numpy()
    array([[2.]], dtype=float32)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        rate = _check_rate(rate, type(self).__name__)
        self.rate = rate

    def call(self, inputs, training=None):
        if not training or self.rate == 0 or self.rate == 1:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._normal(inputs.shape, inputs.dtype).astype(inputs.dtype, copy=False)
        noise *= inputs.dtype.type(stddev)
        noise += 1
        return ops.multiply(inputs, Tensor(noise))

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps the mean and variance of self-normalizing (SELU) activations: dropped
    entries are set to ``-scale*alpha`` and an affine map ``a*x + b`` restores the statistics.

    >>> from featherflow import keras
    >>> keras.layers.AlphaDropout(0.1)([[1.0]]).numpy()
    array([[1.]], dtype=float32)
    """

    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate, type(self).__name__)
        self.noise_shape = None if noise_shape is None else tuple(
            None if d is None else int(d) for d in noise_shape)

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        alpha_p = -self._ALPHA * self._SCALE
        keep = (self._uniform(shape, inputs.dtype) >= self.rate).astype(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        # a * (x * keep + alpha_p * (1 - keep)) + b, written as x * (a*keep) + offset
        multiplier = (a * keep).astype(inputs.dtype)
        offset = (a * alpha_p * (1 - keep) + b).astype(inputs.dtype)
        return ops.add(ops.multiply(inputs, Tensor(multiplier)), Tensor(offset))

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


class ActivityRegularization(Layer):
    """Identity that adds ``l1 * sum(|x|) + l2 * sum(x**2)`` (divided by the batch size, as Keras
    does for activity penalties) to the layer's ``losses``.

    >>> from featherflow import keras
    >>> layer = keras.layers.ActivityRegularization(l1=0.5)
    >>> _ = layer([[1.0, -2.0]])
    >>> float(layer.losses[0])
    1.5
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(**kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.supports_masking = True

    def call(self, inputs):
        penalty = None
        if self.l1:
            penalty = ops.reduce_sum(ops.abs(inputs)) * self.l1
        if self.l2:
            term = ops.reduce_sum(ops.square(inputs)) * self.l2
            penalty = term if penalty is None else penalty + term
        if penalty is not None:
            batch = max(inputs.shape[0], 1) if inputs.ndim else 1
            self.add_loss(penalty / float(batch))
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config
