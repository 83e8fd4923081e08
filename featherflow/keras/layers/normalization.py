"""Normalization layers: BatchNormalization, LayerNormalization, UnitNormalization.

>>> from featherflow import keras
>>> bn = keras.layers.BatchNormalization()
>>> bn(keras.Input(shape=(10,))).shape
(None, 10)
>>> [w.name.split("/")[-1] for w in bn.weights]
['gamma', 'beta', 'moving_mean', 'moving_variance']
"""

from __future__ import annotations

from featherflow import ops
from featherflow.core.runtime import state as _runtime
from featherflow.keras import constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _serialize
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.ops.normalization import batch_norm_training, layer_norm


def _normalize_axes(axis, ndim, layer_name):
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"Invalid axis: {a}. Expected an axis in [{-ndim}, {ndim}) for layer "
                             f'"{layer_name}" with input rank {ndim}.')
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"Duplicate axis: {axis}")
    return sorted(out)


class BatchNormalization(Layer):
    """Normalize each channel with the batch's statistics while training and with moving averages
    at inference: ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Args:
        axis: the channel axis (or list of axes) that keeps its own statistics; default -1.
        momentum: moving averages update as ``moving = moving * momentum + batch * (1 - momentum)``.
        epsilon: added to the variance (default 1e-3).
        center / scale: learn ``beta`` / ``gamma``.
        beta/gamma/moving_mean/moving_variance initializers (zeros, ones, zeros, ones),
        beta/gamma regularizers and constraints.
        fused: ``None`` (Keras's choice: 4-D and 5-D inputs with the channel axis first or last) or a bool.
            As in TensorFlow, the fused form updates the moving variance with the unbiased
            (``n / (n - 1)``) batch variance; the other form with the biased one.

    ``training=True`` (``fit``) normalizes with the batch statistics and updates the moving ones;
    otherwise (``predict``, ``evaluate``, or a frozen layer with ``trainable=False``) the moving
    statistics are used and nothing changes. Weights (Keras's order): ``gamma``, ``beta``
    (trainable), ``moving_mean``, ``moving_variance`` (non-trainable).

    >>> import numpy as np
    >>> layer = BatchNormalization()
    >>> y = layer(np.array([[0.0], [2.0]], "float32"), training=True)
    >>> print(y.numpy().ravel().round(3), layer.moving_mean.numpy())
    [-1.  1.] [0.01]
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, fused=None, renorm=False, virtual_batch_size=None, adjustment=None, **kwargs):
        super().__init__(**kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("featherflow's BatchNormalization does not implement batch renormalization, "
                                      "virtual batches or `adjustment`.")
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: "
                            f"{axis!r}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.synchronized = bool(synchronized)
        self.fused = fused
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if ndim == 0:
            raise ValueError(f"Input has undefined rank. Received: input_shape={input_shape}.")
        self._axes = _normalize_axes(self.axis, ndim, self.name)
        for a in self._axes:
            if input_shape[a] is None:
                raise ValueError(f"Axis {a} of the input tensor should have a defined dimension but the layer "
                                 f"received an input with shape {input_shape}.")
        self._reduce_axes = tuple(i for i in range(ndim) if i not in self._axes)
        fused = self.fused
        if fused is None:
            fused = ndim in (4, 5) and self._axes in ([1], [ndim - 1])
        self._use_unbiased = bool(fused)
        self._epsilon = max(self.epsilon, 1.001e-5) if fused else self.epsilon  # TF's fused-kernel minimum
        param_shape = tuple(input_shape[a] for a in self._axes)
        # parameters broadcast against the input: the trailing axis needs no reshape
        self._broadcast_shape = None if self._axes == [ndim - 1] else tuple(
            input_shape[i] if i in self._axes else 1 for i in range(ndim))
        self.gamma = self.add_weight(name="gamma", shape=param_shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=param_shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight(name="moving_mean", shape=param_shape,
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=param_shape,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.input_spec = InputSpec(ndim=ndim, axes={a: input_shape[a] for a in self._axes})
        self.built = True

    def _shaped(self, param):
        if param is None or self._broadcast_shape is None:
            return param
        return ops.reshape(param, self._broadcast_shape)

    def call(self, inputs, training=None, mask=None):
        if not self.trainable:
            training = False  # a frozen BatchNormalization runs in inference mode (TF 2 behaviour)
        if training and mask is None:
            return self._train_step(inputs)
        if training:
            return self._train_step_masked(inputs, mask)
        inv = ops.rsqrt(self._shaped(self.moving_variance) + self._epsilon)
        scale = inv * self._shaped(self.gamma) if self.gamma is not None else inv
        shift = -self._shaped(self.moving_mean) * scale
        if self.beta is not None:
            shift = shift + self._shaped(self.beta)
        return inputs * scale + shift

    def _train_step(self, inputs):
        out, mean, var = batch_norm_training(inputs, self._shaped(self.gamma), self._shaped(self.beta),
                                             self._reduce_axes, self._epsilon)
        count = 1
        for a in self._reduce_axes:
            count *= inputs.shape[a]
        self._update_moving(mean, var, count)
        return out

    def _train_step_masked(self, inputs, mask):
        """Statistics over the unmasked positions only (the mask broadcasts against the inputs)."""
        weights = ops.cast(mask, inputs.dtype)
        while weights.ndim < inputs.ndim:
            weights = ops.expand_dims(weights, -1)
        total = ops.reduce_sum(ops.broadcast_to(weights, inputs.shape), axis=self._reduce_axes, keepdims=True)
        mean = ops.reduce_sum(inputs * weights, axis=self._reduce_axes, keepdims=True) / total
        centered = inputs - mean
        var = ops.reduce_sum(centered * centered * weights, axis=self._reduce_axes, keepdims=True) / total
        out = centered * ops.rsqrt(var + self._epsilon)
        if self.gamma is not None:
            out = out * self._shaped(self.gamma)
        if self.beta is not None:
            out = out + self._shaped(self.beta)
        self._update_moving(mean.value, var.value, float(total.value.ravel()[0]) if total.size else 1.0)
        return out

    def _update_moving(self, mean, var, count):
        if _runtime.inferring_shapes:
            return
        shape = self.moving_mean.shape
        mean = mean.reshape(shape)
        var = var.reshape(shape)
        if self._use_unbiased and count > 1:
            var = var * (count / (count - 1.0))
        decay = 1.0 - self.momentum
        self.moving_mean.assign_sub((self.moving_mean.value - mean) * decay)
        self.moving_variance.assign_sub((self.moving_variance.value - var) * decay)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis, momentum=self.momentum, epsilon=self.epsilon, center=self.center, scale=self.scale,
            beta_initializer=_serialize(self.beta_initializer), gamma_initializer=_serialize(self.gamma_initializer),
            moving_mean_initializer=_serialize(self.moving_mean_initializer),
            moving_variance_initializer=_serialize(self.moving_variance_initializer),
            beta_regularizer=_serialize(self.beta_regularizer), gamma_regularizer=_serialize(self.gamma_regularizer),
            beta_constraint=_serialize(self.beta_constraint), gamma_constraint=_serialize(self.gamma_constraint),
            synchronized=self.synchronized,
        )
        if self.fused is not None:
            config["fused"] = self.fused
        return config


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` (default the last): ``y = gamma * (x - mean) /
    sqrt(var + epsilon) + beta`` with per-sample mean and (biased) variance; no moving statistics.

    Args:
        axis: int or list of ints: the normalized axes (``gamma``/``beta`` have their sizes).
        epsilon: added to the variance (default 1e-3).
        center / scale: learn ``beta`` / ``gamma``; initializers, regularizers, constraints.

    Weights: ``gamma``, ``beta``.

    >>> import numpy as np
    >>> LayerNormalization(epsilon=0.0)(np.array([[1.0, 3.0]], "float32")).numpy()
    array([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: "
                            f"{axis!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._axes = tuple(_normalize_axes(self.axis, ndim, self.name))
        param_shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in param_shape):
            raise ValueError(f"The normalized axes {self._axes} of the input must have defined sizes. "
                             f"Received: input_shape={input_shape}")
        # gamma/beta broadcast against the input when the normalized axes are the trailing ones
        trailing = self._axes == tuple(range(ndim - len(self._axes), ndim))
        self._broadcast_shape = None if trailing else tuple(
            input_shape[i] if i in self._axes else 1 for i in range(ndim))
        self.gamma = self.add_weight(name="gamma", shape=param_shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=param_shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.built = True

    def _shaped(self, param):
        if param is None or self._broadcast_shape is None:
            return param
        return ops.reshape(param, self._broadcast_shape)

    def call(self, inputs):
        return layer_norm(inputs, self._shaped(self.gamma), self._shaped(self.beta), self._axes, self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
            beta_initializer=_serialize(self.beta_initializer), gamma_initializer=_serialize(self.gamma_initializer),
            beta_regularizer=_serialize(self.beta_regularizer), gamma_regularizer=_serialize(self.gamma_regularizer),
            beta_constraint=_serialize(self.beta_constraint), gamma_constraint=_serialize(self.gamma_constraint),
        )
        return config


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``x / sqrt(max(sum(x**2), 1e-12))``.

    >>> import numpy as np
    >>> UnitNormalization()(np.array([[3.0, 4.0]], "float32")).numpy()
    array([[0.6, 0.8]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.supports_masking = True

    def call(self, inputs):
        return ops.l2_normalize(inputs, axis=self.axis, epsilon=1e-12)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
