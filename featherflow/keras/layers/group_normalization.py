"""``GroupNormalization`` (Wu & He 2018, "Group Normalization").

The channels are split into ``groups``; each sample is normalized with the mean and (biased) variance of
each group over the channels of the group and every non-batch axis, then scaled and shifted per channel:

    y = gamma * (x - mean_group) / sqrt(var_group + epsilon) + beta

``groups=1`` is layer normalization over all non-batch axes; ``groups=channels`` is instance normalization.

>>> from featherflow import keras
>>> import numpy as np
>>> x = np.array([[[1.0, 3.0, 10.0, 30.0]]], "float32")
>>> keras.layers.GroupNormalization(groups=2, epsilon=0.0)(x).numpy()
array([[[-1.,  1., -1.,  1.]]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core import Tensor
from featherflow.keras import constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _serialize
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.ops.normalization import layer_norm


class GroupNormalization(Layer):
    """Normalize groups of channels per sample (see the module docstring).

    Args:
        groups: number of groups (default 32); must divide the channels; -1 = one group per channel.
        axis: the channel axis (default -1).
        epsilon: added to the variance (default 1e-3).
        center / scale: learn ``beta`` / ``gamma`` (shape ``(channels,)``), with initializers
            (zeros / ones), regularizers and constraints.

    Input: any rank >= 2; output: the same shape. A Keras mask (broadcast to the input) weights the
    statistics, as ``tf.nn.weighted_moments`` does.

    >>> import numpy as np
    >>> GroupNormalization(groups=2)(np.ones((2, 5, 4), "float32")).shape
    (2, 5, 4)
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or (groups < 1 and groups != -1):
            raise ValueError(f"`groups` must be a positive integer or -1. Received: groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.supports_masking = True
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        rank = len(input_shape)
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise ValueError(f"Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank (with "
                             f"inputs.rank={rank}). Received: axis={self.axis}")
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                             f"received an input with shape {input_shape}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels "
                             f"({dim}).")
        self._channel_axis = axis
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: dim})
        self.gamma = self.add_weight(name="gamma", shape=(dim,), initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=(dim,), initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.built = True

    def _grouped_shape(self, shape) -> tuple:
        shape = list(shape)
        axis = self._channel_axis
        shape[axis] = shape[axis] // self.groups
        shape.insert(axis, self.groups)
        return tuple(shape)

    def call(self, inputs, mask=None):
        shape = tuple(inputs.shape)
        axis = self._channel_axis
        grouped = ops.reshape(inputs, self._grouped_shape(shape))
        rank = len(shape) + 1
        reduce_axes = tuple(i for i in range(1, rank) if i != axis)  # all but batch and the group axis
        broadcast = [1] * rank
        broadcast[axis], broadcast[axis + 1] = self.groups, shape[axis] // self.groups
        gamma = None if self.gamma is None else ops.reshape(self.gamma, broadcast)
        beta = None if self.beta is None else ops.reshape(self.beta, broadcast)
        if mask is None:
            out = layer_norm(grouped, gamma, beta, reduce_axes, self.epsilon)
        else:
            out = self._masked(grouped, mask, shape, reduce_axes, gamma, beta)
        return ops.reshape(out, shape)

    def _masked(self, grouped, mask, shape, reduce_axes, gamma, beta):
        """Weighted moments (``tf.nn.weighted_moments``) with the mask as frequency weights."""
        m = mask.value if isinstance(mask, Tensor) else np.asarray(mask)
        while m.ndim < len(shape):  # a (batch, steps) mask from Embedding(mask_zero=True) covers every channel
            m = m[..., None]
        weights = Tensor(np.broadcast_to(m, shape).astype(grouped.dtype).reshape(tuple(grouped.shape)))
        total = ops.reduce_sum(weights, axis=reduce_axes, keepdims=True)
        mean = ops.divide_no_nan(ops.reduce_sum(grouped * weights, axis=reduce_axes, keepdims=True), total)
        centered = grouped - mean
        variance = ops.divide_no_nan(ops.reduce_sum(weights * centered * centered, axis=reduce_axes,
                                                    keepdims=True), total)
        out = centered * ops.rsqrt(variance + ops.cast(self.epsilon, grouped.dtype))
        if gamma is not None:
            out = out * gamma
        if beta is not None:
            out = out + beta
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            groups=self.groups, axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
            beta_initializer=_serialize(self.beta_initializer), gamma_initializer=_serialize(self.gamma_initializer),
            beta_regularizer=_serialize(self.beta_regularizer), gamma_regularizer=_serialize(self.gamma_regularizer),
            beta_constraint=_serialize(self.beta_constraint), gamma_constraint=_serialize(self.gamma_constraint),
        )
        return config
