"""Convolution layers: Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
(DepthwiseConv2D, SeparableConv1D/2D are in ``depthwise_conv``).

Each layer is one fused op (convolution + bias + ReLU/sigmoid/tanh) from ``featherflow.ops.conv``:
im2col and a single float32 GEMM, with work buffers reused between steps. Inputs are
channels-last; ``data_format="channels_first"`` inputs are transposed in and out.

Weight layouts are Keras's: Conv kernels ``kernel_size + (in_channels // groups, filters)``,
transposed-conv kernels ``kernel_size + (filters, in_channels)``, depthwise kernels
``kernel_size + (in_channels, depth_multiplier)``.

>>> from featherflow import keras
>>> layer = keras.layers.Conv2D(8, 3, activation="relu")
>>> layer(keras.Input(shape=(28, 28, 1))).shape
(None, 26, 26, 8)
>>> [w.shape for w in layer.weights]
[(3, 3, 1, 8), (8,)]
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.keras import activations, constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import _FUSED, _serialize
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.reshaping import normalize_data_format
from featherflow.ops.conv import conv2d_fused
from featherflow.ops.conv3d import conv3d_fused, conv3d_transpose_fused
from featherflow.ops.conv_variants import conv2d_transpose_fused


def normalize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple:
    """An int or an iterable of ``n`` ints as an ``n``-tuple, with Keras's error text."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
        if values is None or len(values) != n or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value!r}")
        values = tuple(int(v) for v in values)
    bad = [v for v in values if v < 0 or (v == 0 and not allow_zero)]
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r} "
                         f"including {bad} that does not satisfy the requirement `{req}`.")
    return values


def normalize_padding(value, allowed=("valid", "same")) -> str:
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    extra = ' (or "causal", only for `Conv1D`)' if "causal" not in allowed else ', "causal"'
    raise ValueError(f'The `padding` argument must be a list/tuple or one of "valid", "same"{extra}. '
                     f"Received: padding={value!r}")


def conv_output_length(length, filter_size, padding, stride, dilation=1):
    """Output length of a convolution along one axis (``None`` stays ``None``)."""
    if length is None:
        return None
    dilated = filter_size + (filter_size - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - dilated + 1
    else:  # full
        out = length + dilated - 1
    return (out + stride - 1) // stride


def deconv_output_length(length, filter_size, padding, output_padding=None, stride=1, dilation=1):
    """Output length of a transposed convolution along one axis (Keras's formula)."""
    if length is None:
        return None
    filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(filter_size - stride, 0)
        if padding == "full":
            return length * stride - (stride + filter_size - 2)
        return length * stride
    pad = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}[padding]
    return (length - 1) * stride + filter_size - 2 * pad + output_padding


def _padding_arg(padding, kernel_size, dilation_rate):
    if padding == "causal":
        return tuple((0, 0) for _ in kernel_size[:-1]) + (((kernel_size[-1] - 1) * dilation_rate[-1], 0),)
    return padding.upper()


class _BaseConv(Layer):
    """Shared configuration, validation, build and shape logic of the convolution layers."""

    rank = 2
    _kernel_name = "kernel"
    _transpose = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        if filters is not None:
            if isinstance(filters, bool) or not isinstance(filters, (int, np.integer, float)):
                raise TypeError(f"Expected an integer value for `filters`. Received: filters={filters!r}")
            filters = int(filters)
            if filters <= 0:
                raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                                 f"Received filters={filters}.")
        self.filters = filters
        self.groups = int(groups or 1)
        if filters is not None and filters % self.groups != 0:
            raise ValueError(f"The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, filters={filters}.")
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        allowed = ("valid", "same", "causal") if rank == 1 and not self._transpose else ("valid", "same")
        self.padding = normalize_padding(padding, allowed)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        act_name = activations.serialize(self.activation)
        self._fused_activation = _FUSED.get(act_name, False) if isinstance(act_name, str) else False
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self._channel_axis = -1 if self.data_format == "channels_last" else 1

    # -- building -----------------------------------------------------------------------
    def _input_channel(self, input_shape):
        channels = tuple(input_shape)[self._channel_axis]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs should be defined. The input_shape received is "
                             f"{tuple(input_shape)}, where axis {self._channel_axis % len(input_shape)} (0-based) "
                             f"is the channel dimension, which found to be `None`.")
        return int(channels)

    def _kernel_shape(self, channels):
        if channels % self.groups != 0:
            raise ValueError(f"The number of input channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {channels} channels.")
        return self.kernel_size + (channels // self.groups, self.filters)

    def _bias_size(self, channels):
        return self.filters

    def build(self, input_shape):
        channels = self._input_channel(input_shape)
        self.kernel = self.add_weight(name=self._kernel_name, shape=self._kernel_shape(channels),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight(name="bias", shape=(self._bias_size(channels),),
                                    initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    # -- calling --------------------------------------------------------------------------
    def _to_channels_last(self, inputs):
        batch_shape = inputs.shape[:-(self.rank + 1)]
        if len(batch_shape) != 1:  # extra leading batch axes are folded into one
            inputs = ops.reshape(inputs, (-1,) + tuple(inputs.shape[-(self.rank + 1):]))
        if self.data_format == "channels_first":
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, self.rank + 2)) + (1,))
        return inputs, batch_shape

    def _from_channels_last(self, outputs, batch_shape):
        if self.data_format == "channels_first":
            outputs = ops.transpose(outputs, (0, self.rank + 1) + tuple(range(1, self.rank + 1)))
        if len(batch_shape) != 1:
            outputs = ops.reshape(outputs, tuple(batch_shape) + tuple(outputs.shape[1:]))
        return outputs

    def call(self, inputs):
        x, batch_shape = self._to_channels_last(inputs)
        fused = self._fused_activation
        out = self._convolve(x, fused if fused is not False else None)
        out = self._from_channels_last(out, batch_shape)
        return out if fused is not False else self.activation(out)

    def _convolve(self, x, activation):
        """Channels-last convolution of ``x`` with bias and the fused ``activation``."""
        kernel, bias = self.kernel, self.bias
        pad = _padding_arg(self.padding, self.kernel_size, self.dilation_rate)
        if self.rank == 3:
            if self.groups == 1:
                return conv3d_fused(x, kernel, bias, activation, self.strides, pad, self.dilation_rate, op=self.name)
            return self._grouped(x, kernel, bias, activation, self.strides, pad, self.dilation_rate)
        if self.rank == 1:
            x = ops.expand_dims(x, 1)
            kernel = ops.expand_dims(kernel, 0)
            strides, dilations = (1,) + self.strides, (1,) + self.dilation_rate
            pad = pad if isinstance(pad, str) else ((0, 0),) + pad
        else:
            strides, dilations = self.strides, self.dilation_rate
        if self.groups == 1:
            out = conv2d_fused(x, kernel, bias, activation, strides, pad, dilations, op=self.name)
        else:
            out = self._grouped(x, kernel, bias, activation, strides, pad, dilations)
        return ops.squeeze(out, 1) if self.rank == 1 else out

    def _grouped(self, x, kernel, bias, activation, strides, pad, dilations):
        channels = x.shape[-1] // self.groups
        per = self.filters // self.groups
        outs = []
        for g in range(self.groups):
            xg = x[..., g * channels:(g + 1) * channels]
            kg = kernel[..., g * per:(g + 1) * per]
            conv = conv3d_fused if self.rank == 3 else conv2d_fused
            outs.append(conv(xg, kg, None, None, strides, pad, dilations, op=self.name))
        out = ops.concat(outs, axis=-1)
        if bias is not None:
            out = out + bias
        if activation is not None:
            out = activations.get(activation)(out)
        return out

    # -- shapes and config --------------------------------------------------------------------
    def _spatial_output(self, spatial):
        return tuple(conv_output_length(length, k, self.padding, s, d) for length, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def _output_channels(self, channels):
        return self.filters

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        rank = self.rank
        if self.data_format == "channels_last":
            spatial, channels = input_shape[-rank - 1:-1], input_shape[-1]
        else:
            spatial, channels = input_shape[-rank:], input_shape[-rank - 1]
        out_spatial = self._spatial_output(spatial)
        if any(d is not None and d <= 0 for d in out_spatial):
            raise ValueError(f"One of the dimensions in the output is <= 0 due to downsampling in {self.name}. "
                             f"Consider increasing the input size. Received input shape {input_shape} which would "
                             f"produce output shape with a zero or negative value in a dimension.")
        out_channels = self._output_channels(channels)
        batch = input_shape[:-rank - 1]
        if self.data_format == "channels_last":
            return batch + out_spatial + (out_channels,)
        return batch + (out_channels,) + out_spatial

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            data_format=self.data_format, dilation_rate=self.dilation_rate, groups=self.groups,
            activation=activations.serialize(self.activation), use_bias=self.use_bias,
            kernel_initializer=_serialize(self.kernel_initializer), bias_initializer=_serialize(self.bias_initializer),
            kernel_regularizer=_serialize(self.kernel_regularizer), bias_regularizer=_serialize(self.bias_regularizer),
            activity_regularizer=_serialize(self.activity_regularizer),
            kernel_constraint=_serialize(self.kernel_constraint), bias_constraint=_serialize(self.bias_constraint),
        )
        return config


class Conv1D(_BaseConv):
    """1-D convolution over ``(batch, steps, channels)`` (temporal convolution).

    Args:
        filters: number of output channels.
        kernel_size: int or 1-tuple; strides, dilation_rate likewise.
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (left padding: output ``t`` sees inputs ``<= t``).
        groups, activation, use_bias, initializers, regularizers, constraints: as ``Conv2D``.

    Kernel ``(kernel_size, in_channels // groups, filters)``.

    >>> from featherflow import keras
    >>> keras.layers.Conv1D(4, 3, padding="causal")(keras.Input(shape=(10, 2))).shape
    (None, 10, 4)
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2D(_BaseConv):
    """2-D convolution over images ``(batch, rows, cols, channels)``:
    ``out = activation(conv2d(inputs, kernel) + bias)``.

    Args:
        filters: number of output channels.
        kernel_size: int or ``(kh, kw)``.
        strides: int or 2-tuple (default 1).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(in / stride)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or 2-tuple (atrous convolution; not with strides > 1).
        groups: split the channels into groups convolved separately.
        activation: ReLU, sigmoid and tanh are fused into the convolution op.
        use_bias, kernel_initializer (Glorot uniform), bias_initializer (zeros), regularizers, constraints.

    Kernel ``(kh, kw, in_channels // groups, filters)``, bias ``(filters,)``.

    >>> from featherflow import keras
    >>> keras.layers.Conv2D(2, 3, strides=2, padding="same").compute_output_shape((None, 7, 7, 3))
    (None, 4, 4, 2)
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class _BaseConvTranspose(_BaseConv):
    _transpose = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, self.rank, "output_padding", allow_zero=True)
            for stride, out_pad in zip(self.strides, self.output_padding):
                if out_pad >= stride:
                    raise ValueError(f"Strides must be greater than output padding. Received strides={self.strides}, "
                                     f"output_padding={self.output_padding}.")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _kernel_shape(self, channels):
        return self.kernel_size + (self.filters, channels)

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: self._input_channel(input_shape)})

    def _spatial_output(self, spatial):
        out_pads = self.output_padding or (None,) * self.rank
        return tuple(deconv_output_length(length, k, self.padding, op, s, d) for length, k, op, s, d in
                     zip(spatial, self.kernel_size, out_pads, self.strides, self.dilation_rate))

    def _convolve(self, x, activation):
        kernel = self.kernel
        spatial = x.shape[1:-1]
        out_hw = self._spatial_output(spatial)
        strides, dilations = self.strides, self.dilation_rate
        if self.rank == 3:
            return conv3d_transpose_fused(x, kernel, self.bias, activation, out_hw, strides, self.padding.upper(),
                                          dilations, op=self.name)
        if self.rank == 1:
            x = ops.expand_dims(x, 1)
            kernel = ops.expand_dims(kernel, 0)
            out_hw, strides, dilations = (1,) + out_hw, (1,) + strides, (1,) + dilations
        out = conv2d_transpose_fused(x, kernel, self.bias, activation, out_hw, strides, self.padding.upper(),
                                     dilations, op=self.name)
        return ops.squeeze(out, 1) if self.rank == 1 else out

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = self.output_padding
        return config


class Conv2DTranspose(_BaseConvTranspose):
    """Transposed 2-D convolution ("deconvolution"): the gradient of a ``Conv2D`` w.r.t. its input,
    used to upsample. Output size along an axis: ``in * stride + max(k - stride, 0)`` (``"valid"``) or
    ``in * stride`` (``"same"``), or ``(in - 1) * stride + k - 2 * pad + output_padding`` when
    ``output_padding`` is given.

    Kernel ``(kh, kw, filters, in_channels)``, bias ``(filters,)``.

    >>> from featherflow import keras
    >>> keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(keras.Input(shape=(4, 4, 8))).shape
    (None, 8, 8, 3)
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv1DTranspose(_BaseConvTranspose):
    """Transposed 1-D convolution over ``(batch, steps, channels)``; kernel ``(k, filters, in_channels)``.

    >>> from featherflow import keras
    >>> keras.layers.Conv1DTranspose(2, 3, strides=2)(keras.Input(shape=(5, 4))).shape
    (None, 11, 2)
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3D(_BaseConv):
    """3-D convolution over volumes ``(batch, depth, rows, cols, channels)`` (video, medical scans):
    ``out = activation(conv3d(inputs, kernel) + bias)``, one im2col GEMM (:mod:`featherflow.ops.conv3d`).

    Args: as :class:`Conv2D`, with 3-tuples for ``kernel_size``, ``strides`` and ``dilation_rate``.
    Kernel ``(kd, kh, kw, in_channels // groups, filters)``, bias ``(filters,)``.

    >>> from featherflow import keras
    >>> keras.layers.Conv3D(4, 3, padding="same")(keras.Input(shape=(8, 16, 16, 1))).shape
    (None, 8, 16, 16, 4)
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(_BaseConvTranspose):
    """Transposed 3-D convolution (upsampling volumes); output size per axis as :class:`Conv2DTranspose`.
    Kernel ``(kd, kh, kw, filters, in_channels)``, bias ``(filters,)``.

    >>> from featherflow import keras
    >>> keras.layers.Conv3DTranspose(2, 3, strides=2, padding="same")(keras.Input(shape=(4, 4, 4, 8))).shape
    (None, 8, 8, 8, 2)
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


# Keras's long aliases
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3D = Conv3D
Convolution3DTranspose = Conv3DTranspose
