"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax (and Identity).

>>> from featherflow import keras
>>> import numpy as np
>>> keras.layers.LeakyReLU(alpha=0.1)(np.array([[-2.0, 3.0]], "float32")).numpy()
array([[-0.2,  3. ]], dtype=float32)
"""

from __future__ import annotations

from featherflow import ops
from featherflow.keras import constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _serialize


class _Elementwise(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's generalised ReLU: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``negative_slope * (x - threshold)``."""
    if negative_slope and max_value is None and threshold == 0:
        return ops.leaky_relu(x, alpha=negative_slope)
    negative = None
    if negative_slope:
        negative = ops.relu(threshold - x) if threshold else ops.relu(-x)
    clip = max_value is not None
    if threshold:
        out = x * ops.cast(ops.greater(x, threshold), x.dtype)
    elif max_value == 6:
        out = ops.relu6(x)
        clip = False
    else:
        out = ops.relu(x)
    if clip:
        out = ops.clip_by_value(out, 0.0, float(max_value))
    if negative is not None:
        out = out - negative_slope * negative
    return out


class ReLU(_Elementwise):
    """Rectified linear unit: ``max_value`` caps the output, ``negative_slope`` scales inputs below
    ``threshold``, inputs at or below ``threshold`` (and above 0 slope) are zeroed.

    >>> import numpy as np
    >>> ReLU(max_value=1.0)(np.array([[-1.0, 0.5, 2.0]], "float32")).numpy()
    array([[0. , 0.5, 1. ]], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: {max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be a negative value. Received: {negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError(f"threshold of a ReLU layer cannot be a negative value. Received: {threshold}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, inputs):
        return relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope, threshold=self.threshold)
        return config


class LeakyReLU(_Elementwise):
    """``x`` for ``x >= 0``, ``alpha * x`` otherwise (Keras's default ``alpha=0.3``)."""

    def __init__(self, alpha=0.3, **kwargs):
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError(f"The alpha value of a Leaky ReLU layer cannot be None. Expecting a float. "
                             f"Received: {alpha}")
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.leaky_relu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ELU(_Elementwise):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError(f"Alpha of an ELU layer cannot be None, expecting a float. Received: {alpha}")
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(_Elementwise):
    """``x`` for ``x > theta``, 0 otherwise."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if theta is None or theta < 0:
            raise ValueError(f"Theta of a Thresholded ReLU layer cannot be None or negative. Received: {theta}")
        self.theta = float(theta)

    def call(self, inputs):
        return inputs * ops.cast(ops.greater(inputs, self.theta), inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise, with a learned ``alpha`` per
    entry of the input's sample shape (``shared_axes`` share one value along those axes, e.g. ``[1, 2]``
    for one slope per channel of an image).

    >>> import numpy as np
    >>> PReLU(alpha_initializer="ones")(np.array([[-2.0, 3.0]], "float32")).numpy()
    array([[-2.,  3.]], dtype=float32)
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            param_shape[axis - 1] = 1
        self.alpha = self.add_weight(name="alpha", shape=tuple(param_shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(alpha_initializer=_serialize(self.alpha_initializer),
                      alpha_regularizer=_serialize(self.alpha_regularizer),
                      alpha_constraint=_serialize(self.alpha_constraint), shared_axes=self.shared_axes)
        return config


class Softmax(_Elementwise):
    """Softmax over ``axis`` (an int or a list of ints); masked positions (mask ``False``) get
    probability 0, as Keras does by adding -1e9 to their logits.

    >>> import numpy as np
    >>> Softmax()(np.array([[0.0, 0.0]], "float32")).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            large_negative = -65504.0 if inputs.dtype == "float16" else -1e9
            inputs = inputs + (1.0 - ops.cast(mask, inputs.dtype)) * large_negative
        if isinstance(self.axis, list):
            if len(self.axis) > 1:
                return ops.exp(inputs - ops.reduce_logsumexp(inputs, axis=self.axis, keepdims=True))
            return ops.softmax(inputs, axis=self.axis[0])
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Identity(_Elementwise):
    """Returns its input unchanged (a placeholder layer).

    >>> Identity()([[1.0, 2.0]]).numpy()
    array([[1., 2.]], dtype=float32)
    """

    def call(self, inputs):
        return inputs
