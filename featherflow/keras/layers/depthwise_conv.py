"""Depthwise and separable convolutions: DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D.

A depthwise convolution filters each input channel on its own (``depth_multiplier`` filters per
channel); a separable convolution follows it with a 1x1 ("pointwise") convolution that mixes the
channels, which costs far fewer weights than a full convolution.

>>> from featherflow import keras
>>> layer = keras.layers.SeparableConv2D(8, 3, depth_multiplier=2)
>>> layer(keras.Input(shape=(10, 10, 3))).shape
(None, 8, 8, 8)
>>> [w.shape for w in layer.weights]
[(3, 3, 3, 2), (1, 1, 6, 8), (8,)]
"""

from __future__ import annotations

from featherflow import ops
from featherflow.keras import constraints, initializers, regularizers
from featherflow.keras.layers.convolutional import _BaseConv
from featherflow.keras.layers.core import _serialize
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.ops.conv import conv2d_fused
from featherflow.ops.conv_variants import depthwise_conv2d_fused


def _check_multiplier(value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a strictly positive integer. "
                         f"Received depth_multiplier={value!r}.")
    return value


class DepthwiseConv2D(_BaseConv):
    """Depthwise 2-D convolution: channel ``c`` is convolved with its own ``depth_multiplier`` filters;
    output channel ``c * depth_multiplier + m``.

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as ``Conv2D``.
        depth_multiplier: filters per input channel.
        depthwise_initializer / depthwise_regularizer / depthwise_constraint: for the kernel.

    Kernel ``(kh, kw, in_channels, depth_multiplier)`` named ``depthwise_kernel``; bias
    ``(in_channels * depth_multiplier,)``.

    >>> from featherflow import keras
    >>> keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(keras.Input(shape=(5, 5, 4))).shape
    (None, 3, 3, 8)
    """

    rank = 2
    _kernel_name = "depthwise_kernel"

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = _check_multiplier(depth_multiplier)
        self.input_spec = InputSpec(ndim=4)

    def _kernel_shape(self, channels):
        return self.kernel_size + (channels, self.depth_multiplier)

    def _bias_size(self, channels):
        return channels * self.depth_multiplier

    def _output_channels(self, channels):
        return None if channels is None else channels * self.depth_multiplier

    def build(self, input_shape):
        super().build(input_shape)
        self.depthwise_kernel = self.kernel
        self.input_spec = InputSpec(ndim=4, axes={self._channel_axis: self._input_channel(input_shape)})

    def _convolve(self, x, activation):
        return depthwise_conv2d_fused(x, self.kernel, self.bias, activation, self.strides, self.padding.upper(),
                                      self.dilation_rate, op=self.name)

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config.update(depth_multiplier=self.depth_multiplier,
                      depthwise_initializer=_serialize(self.kernel_initializer),
                      depthwise_regularizer=_serialize(self.kernel_regularizer),
                      depthwise_constraint=_serialize(self.kernel_constraint))
        return config


class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise 1-D convolution over ``(batch, steps, channels)``: channel ``c`` is convolved with its own
    ``depth_multiplier`` filters (``padding`` may be ``"causal"``).

    Kernel ``(kernel_size, in_channels, depth_multiplier)`` named ``depthwise_kernel``; bias
    ``(in_channels * depth_multiplier,)``.

    >>> from featherflow import keras
    >>> keras.layers.DepthwiseConv1D(3, depth_multiplier=2)(keras.Input(shape=(10, 4))).shape
    (None, 8, 8)
    """

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        _BaseConv.build(self, input_shape)
        self.depthwise_kernel = self.kernel
        self.input_spec = InputSpec(ndim=3, axes={self._channel_axis: self._input_channel(input_shape)})

    def _convolve(self, x, activation):
        pad = self.padding.upper()
        if pad == "CAUSAL":
            pad = ((0, 0), ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0))
        out = depthwise_conv2d_fused(ops.expand_dims(x, 1), ops.expand_dims(self.kernel, 0), self.bias, activation,
                                     (1,) + self.strides, pad, (1,) + self.dilation_rate, op=self.name)
        return ops.squeeze(out, 1)


class _SeparableConv(_BaseConv):
    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                 activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                 depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = _check_multiplier(depth_multiplier)
        self.depthwise_initializer = self.kernel_initializer
        self.depthwise_regularizer = self.kernel_regularizer
        self.depthwise_constraint = self.kernel_constraint
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        channels = self._input_channel(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel", shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def _convolve(self, x, activation):
        depthwise, pointwise = self.depthwise_kernel, self.pointwise_kernel
        strides, dilations = self.strides, self.dilation_rate
        pad = self.padding.upper()
        if self.rank == 1:
            x = ops.expand_dims(x, 1)
            depthwise, pointwise = ops.expand_dims(depthwise, 0), ops.expand_dims(pointwise, 0)
            strides, dilations = (1,) + strides, (1,) + dilations
            if pad == "CAUSAL":
                pad = ((0, 0), ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0))
        hidden = depthwise_conv2d_fused(x, depthwise, None, None, strides, pad, dilations, op=self.name)
        out = conv2d_fused(hidden, pointwise, self.bias, activation, (1, 1), "VALID", (1, 1), op=self.name)
        return ops.squeeze(out, 1) if self.rank == 1 else out

    def get_config(self):
        config = super().get_config()
        for key in ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config.update(depth_multiplier=self.depth_multiplier,
                      depthwise_initializer=_serialize(self.depthwise_initializer),
                      pointwise_initializer=_serialize(self.pointwise_initializer),
                      depthwise_regularizer=_serialize(self.depthwise_regularizer),
                      pointwise_regularizer=_serialize(self.pointwise_regularizer),
                      depthwise_constraint=_serialize(self.depthwise_constraint),
                      pointwise_constraint=_serialize(self.pointwise_constraint))
        return config


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution: a depthwise convolution, then a 1x1 convolution to ``filters``.

    Weights (Keras's order): ``depthwise_kernel (kh, kw, in, depth_multiplier)``,
    ``pointwise_kernel (1, 1, in * depth_multiplier, filters)``, ``bias (filters,)``.

    >>> from featherflow import keras
    >>> keras.layers.SeparableConv2D(4, 3, padding="same").compute_output_shape((None, 6, 6, 3))
    (None, 6, 6, 4)
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution over ``(batch, steps, channels)``.

    >>> from featherflow import keras
    >>> keras.layers.SeparableConv1D(4, 3)(keras.Input(shape=(10, 2))).shape
    (None, 8, 4)
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)



# Keras's long aliases
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
