"""Core layers: Dense (fused matmul + bias + activation), Activation, Masking.

>>> from featherflow import keras
>>> layer = keras.layers.Dense(3, activation="relu")
>>> layer([[1.0, 2.0]]).shape
(1, 3)
"""

from __future__ import annotations

from featherflow import ops
from featherflow.keras import activations, constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.input_spec import InputSpec

_FUSED = {"linear": None, "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}


def _serialize(obj):
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return getattr(obj, "__name__", obj)


class Dense(Layer):
    """Densely connected layer: ``activation(inputs @ kernel + bias)`` over the last axis.

    Args:
        units: output size.
        activation: name or callable (``None`` = linear). ReLU, sigmoid and tanh run fused
            with the matmul; softmax keeps its logits for a stable cross-entropy.
        use_bias: add a bias vector.
        kernel_initializer / bias_initializer: default Glorot-uniform / zeros.
        kernel_regularizer / bias_regularizer / activity_regularizer: optional penalties.
        kernel_constraint / bias_constraint: optional projections after each update.

    Input ``(batch, ..., in)``; output ``(batch, ..., units)``. Kernel ``(in, units)``.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) and not (
                hasattr(units, "__index__") and not isinstance(units, float)):
            raise TypeError(f"Expected an integer value for `units`. Received: units={units!r}")
        units = int(units)
        if units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def __setattr__(self, name, value):
        if name == "activation":  # setting it also re-decides which activation runs fused with the matmul
            act_name = activations.serialize(value)
            object.__setattr__(self, "_fused_activation",
                               _FUSED.get(act_name, False) if isinstance(act_name, str) else False)
        super().__setattr__(name, value)

    def build(self, input_shape):
        if len(input_shape) < 2:  # tf.keras's InputSpec(min_ndim=2) check, made before the build
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: expected min_ndim=2, '
                             f"found ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}")
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"The last dimension of the inputs to a Dense layer should be defined. Found None. "
                             f"Full input shape received: {tuple(input_shape)}")
        self.kernel = self.add_weight(name="kernel", shape=(last, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        self.built = True

    def call(self, inputs):
        if self._fused_activation is not False:
            return ops.dense(inputs, self.kernel, self.bias, self._fused_activation)
        return self.activation(ops.dense(inputs, self.kernel, self.bias, None))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, activation=activations.serialize(self.activation), use_bias=self.use_bias,
            kernel_initializer=_serialize(self.kernel_initializer), bias_initializer=_serialize(self.bias_initializer),
            kernel_regularizer=_serialize(self.kernel_regularizer), bias_regularizer=_serialize(self.bias_regularizer),
            activity_regularizer=_serialize(self.activity_regularizer),
            kernel_constraint=_serialize(self.kernel_constraint), bias_constraint=_serialize(self.bias_constraint),
        )
        return config


class Activation(Layer):
    """Apply an activation function elementwise: ``output = activation(inputs)``.

    Args:
        activation: a name (``"relu"``, ``"softmax"``, ...) or a callable.

    Input: any shape; output: the same shape. Masks pass through.

    >>> from featherflow import keras
    >>> keras.layers.Activation("relu")([[-1.0, 2.0]]).numpy()
    array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Masking(Layer):
    """Mask the time steps whose features all equal ``mask_value``: those steps are zeroed and the
    output carries a ``(batch, steps)`` boolean mask that downstream layers (RNNs, pooling) skip.

    Args:
        mask_value: the padding value (default 0.0).

    >>> from featherflow import keras
    >>> import numpy as np
    >>> x = np.array([[[1.0, 2.0], [0.0, 0.0]]], "float32")
    >>> keras.layers.Masking()(x)._keras_mask.numpy()
    array([[ True, False]])
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        return ops.reduce_any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.reduce_any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = inputs * ops.cast(keep, inputs.dtype)
        outputs._keras_mask = ops.squeeze(keep, -1)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
