"""Locally-connected layers: ``LocallyConnected1D`` and ``LocallyConnected2D``, convolutions whose filters are not
shared: every output position has its own weights (tf.keras 2's ``implementation=1`` layout).

Output position ``p`` is ``patch(p) . kernel[p] + bias[p]``, where ``patch(p)`` is the flattened input window
feeding it (``keras.backend.local_conv1d`` / ``local_conv2d``).

>>> from featherflow import keras
>>> layer = keras.layers.LocallyConnected1D(4, 3)
>>> layer(keras.Input((10, 2))).shape, [w.shape for w in layer.weights]
((None, 8, 4), [(8, 6, 4), (8, 4)])
"""

from __future__ import annotations

from featherflow.keras import activations, constraints, initializers, regularizers
from featherflow.keras.backend import _nn as K
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _serialize
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.reshaping import normalize_data_format


def _tuple(value, n, name):
    value = (value,) * n if isinstance(value, int) else tuple(value)
    if len(value) != n or any(not isinstance(v, int) or v <= 0 for v in value):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} positive integers. Received: {name}={value}")
    return value


class _LocallyConnected(Layer):
    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _tuple(strides, self.rank, "strides")
        self.padding = str(padding).lower()
        if self.padding != "valid":
            raise ValueError(f'Invalid border mode for {type(self).__name__} (only "valid" is supported if '
                             f"implementation is 1): {padding}")
        if implementation != 1:
            raise ValueError(f"featherflow implements {type(self).__name__} with implementation=1 (the default); 2 and "
                             f"3 are other memory layouts of the same computation. Received: "
                             f"implementation={implementation}")
        self.implementation = implementation
        self.data_format = normalize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _split_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_first":
            return input_shape[1], input_shape[2:]
        return input_shape[-1], input_shape[1:-1]

    def _output_sizes(self, spatial):
        sizes = tuple(None if s is None else (s - k) // st + 1 for s, k, st in zip(spatial, self.kernel_size,
                                                                                    self.strides))
        return sizes

    def build(self, input_shape):
        channels, spatial = self._split_shape(input_shape)
        if channels is None or any(s is None for s in spatial):
            raise ValueError(f"{type(self).__name__} needs fully defined input sizes (it has one weight matrix per "
                             f"output position). Received input shape {tuple(input_shape)}")
        self.output_sizes = self._output_sizes(spatial)
        if any(s <= 0 for s in self.output_sizes):
            raise ValueError(f"One of the dimensions in the output is <= 0 due to downsampling in {self.name}. "
                             f"Consider increasing the input size. Received input shape {tuple(input_shape)} which "
                             "would produce output shape with a zero or negative value in a dimension.")
        positions = 1
        for size in self.output_sizes:
            positions *= size
        patch = channels
        for k in self.kernel_size:
            patch *= k
        self.kernel = self.add_weight(name="kernel", shape=(positions, patch, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight(name="bias", shape=self.output_sizes + (self.filters,),
                                    initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        axis = 1 if self.data_format == "channels_first" else -1
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={axis: channels})
        self.built = True

    def call(self, inputs):
        if self.rank == 1:
            out = K.local_conv1d(inputs, self.kernel, self.kernel_size, self.strides, self.data_format)
        else:
            out = K.local_conv2d(inputs, self.kernel, self.kernel_size, self.strides, self.output_sizes,
                                 self.data_format)
        if self.bias is not None:
            out = K.bias_add(out, self.bias, data_format=self.data_format)
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        _, spatial = self._split_shape(input_shape)
        sizes = self._output_sizes(spatial)
        batch = tuple(input_shape)[0]
        if self.data_format == "channels_first":
            return (batch, self.filters) + sizes
        return (batch,) + sizes + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
                      data_format=self.data_format, activation=activations.serialize(self.activation),
                      use_bias=self.use_bias, kernel_initializer=_serialize(self.kernel_initializer),
                      bias_initializer=_serialize(self.bias_initializer),
                      kernel_regularizer=_serialize(self.kernel_regularizer),
                      bias_regularizer=_serialize(self.bias_regularizer),
                      activity_regularizer=_serialize(self.activity_regularizer),
                      kernel_constraint=_serialize(self.kernel_constraint),
                      bias_constraint=_serialize(self.bias_constraint), implementation=self.implementation)
        return config


class LocallyConnected1D(_LocallyConnected):
    """Unshared-weights 1-D convolution over ``(batch, steps, channels)``.

    Args:
        filters: output channels.
        kernel_size, strides: the window and its step (ints or 1-tuples).
        padding: ``"valid"`` only (tf.keras's rule for implementation 1).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        activation, use_bias, initializers, regularizers, constraints: as ``Dense``.
        implementation: 1 (the layout here: kernel ``(output_length, kernel_size * channels, filters)``).
    """

    rank = 1


class LocallyConnected2D(_LocallyConnected):
    """Unshared-weights 2-D convolution over ``(batch, rows, cols, channels)``.

    Kernel ``(out_rows * out_cols, kh * kw * channels, filters)``, bias ``(out_rows, out_cols, filters)``.

    >>> from featherflow import keras
    >>> keras.layers.LocallyConnected2D(2, (2, 2), strides=2)(keras.Input((4, 6, 3))).shape
    (None, 2, 3, 2)
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, implementation, **kwargs)
