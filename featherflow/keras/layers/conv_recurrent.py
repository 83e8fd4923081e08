"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Shi et al. 2015, "Convolutional LSTM Network").

An LSTM whose input and recurrent transforms are convolutions, over sequences of 1-D, 2-D or 3-D maps
``(batch, time, *spatial, channels)`` (``channels_first``: ``(batch, time, channels, *spatial)``)::

    z_t = conv(x_t, W) + b + conv_same(h_{t-1}, U)        i, f, g, o = split(z_t, 4)
    c_t = sigmoid_r(f) * c_{t-1} + sigmoid_r(i) * act(g)    h_t = sigmoid_r(o) * act(c_t)

with tf.keras 2's weights (``kernel`` ``kernel_size + (channels, 4 filters)``, ``recurrent_kernel``
``kernel_size + (filters, 4 filters)``, ``bias`` ``(4 filters,)``, gates in the order i, f, c, o),
defaults (``recurrent_activation="hard_sigmoid"``, ``unit_forget_bias=True``) and options. The input
convolution of every timestep is ONE convolution over the batch and time axes folded together; only the
recurrent convolution runs per step. Dropout masks (one per gate) are drawn once per call, as Keras.

>>> from featherflow import keras
>>> layer = keras.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)
>>> layer(keras.Input(shape=(5, 16, 16, 1))).shape
(None, 5, 16, 16, 4)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.backend import random as _random
from featherflow.core import Tensor, Variable
from featherflow.core.runtime import state as _runtime
from featherflow.keras import activations, constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.convolutional import conv_output_length, normalize_padding, normalize_tuple
from featherflow.keras.layers.core import _serialize
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.recurrent_cells import unit_forget_bias_initializer
from featherflow.keras.layers.reshaping import normalize_data_format
from featherflow.ops.conv import conv2d_fused
from featherflow.ops.conv3d import conv3d_fused


def _conv(x, kernel, bias, strides, padding, dilations, rank, name):
    """Channels-last convolution of rank 1, 2 or 3 (``padding`` "SAME"/"VALID")."""
    if rank == 3:
        return conv3d_fused(x, kernel, bias, None, strides, padding, dilations, op=name)
    if rank == 2:
        return conv2d_fused(x, kernel, bias, None, strides, padding, dilations, op=name)
    out = conv2d_fused(ops.expand_dims(x, 1), ops.expand_dims(kernel, 0), bias, None, (1,) + tuple(strides),
                       padding, (1,) + tuple(dilations), op=name)
    return ops.squeeze(out, 1)


class ConvLSTM(Layer):
    """The convolutional LSTM of rank ``rank`` (use ConvLSTM1D/2D/3D). Arguments as :class:`ConvLSTM2D`."""

    rank = 2
    _saved_vars_subpath = "cell"  # Keras keeps these weights in a ConvLSTMCell: files hold them at <layer>/cell/vars

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, dropout=0.0,
                 recurrent_dropout=0.0, **kwargs):
        self.unroll = bool(kwargs.pop("unroll", False))  # accepted: the time loop is always a Python loop
        if kwargs.pop("time_major", False):
            raise ValueError("Convolutional RNNs do not support `time_major=True`: pass (batch, time, ...) inputs.")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive integer. "
                             f"Received filters={filters!r}.")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.supports_masking = True
        self.input_spec = InputSpec(ndim=rank + 3)
        self._states = None

    # -- shapes ------------------------------------------------------------------------------------------
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 2

    def _spatial_out(self, spatial):
        return tuple(conv_output_length(size, k, self.padding, s, d) for size, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def _state_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = input_shape[2:-1] if self.data_format == "channels_last" else input_shape[3:]
        out = self._spatial_out(spatial)
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        state = self._state_shape(input_shape)
        output = state[:1] + (input_shape[1],) + state[1:] if self.return_sequences else state
        return [output, state, state] if self.return_state else output

    # -- weights -------------------------------------------------------------------------------------------
    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs (last axis) should be defined. Found None. Full "
                             f"input shape received: input_shape={input_shape}")
        four = 4 * self.filters
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (int(channels), four),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=self.kernel_size + (self.filters, four),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight(name="bias", shape=(four,), initializer=self._bias_init(),
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 3, axes={self._channel_axis(): int(channels)})
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError("If a RNN is stateful, it needs to know its batch size. Specify the batch size of "
                                 "your input tensors (`batch_input_shape`, or `Input(batch_size=...)`).")
            self._state_shape_built = self._state_shape(input_shape)
            self.reset_states()
        self.built = True

    def _bias_init(self):
        return unit_forget_bias_initializer(self.bias_initializer, self.filters) if self.unit_forget_bias \
            else self.bias_initializer

    @property
    def states(self):
        """The state variables ``[h, c]`` of a stateful layer (``[None, None]`` otherwise)."""
        return [None, None] if self._states is None else self._states

    def reset_states(self, states=None):
        """Zero the states of a stateful layer, or set them to ``states`` (arrays ``[h, c]``)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        shape = getattr(self, "_state_shape_built", None)
        if shape is None:
            raise ValueError("The layer is not built yet: call it on data before reset_states().")
        if self._states is None:
            self._states = [Variable(np.zeros(shape, dtype=self.dtype), trainable=False, name=f"{self.name}_state")
                            for _ in range(2)]
        values = [np.zeros(shape, dtype=self.dtype)] * 2 if states is None else list(states)
        if len(values) != 2 or any(tuple(np.shape(v)) != shape for v in values):
            raise ValueError(f"Layer {self.name} expects 2 states of shape {shape}. Received: "
                             f"{[np.shape(v) for v in values]}")
        for var, value in zip(self._states, values):
            var.assign(np.asarray(value, dtype=self.dtype))

    # -- the computation -----------------------------------------------------------------------------------
    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            inputs, initial_state = inputs[0], list(inputs[1:]) or initial_state
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        first = self.data_format == "channels_first"
        rank = self.rank
        if first:  # (batch, time, channels, *spatial) -> channels last
            inputs = ops.transpose(inputs, (0, 1) + tuple(range(3, rank + 3)) + (2,))
        n, steps = inputs.shape[0], inputs.shape[1]
        spatial, channels = tuple(inputs.shape[2:-1]), inputs.shape[-1]
        out_spatial = self._spatial_out(spatial)
        state_shape = (n,) + out_spatial + (self.filters,)
        states = self._initial_states(initial_state, state_shape, first)
        training = bool(training)
        pad = self.padding.upper()
        folded = ops.reshape(inputs, (n * steps,) + spatial + (channels,))
        gate_kernels = ops.split(self.kernel, 4, axis=-1)
        gate_biases = ops.split(self.bias, 4) if self.use_bias else [None] * 4
        if training and 0 < self.dropout < 1:  # one mask per gate, shared by every timestep
            masks = self._masks((n,) + spatial + (channels,), self.dropout)
            parts = []
            for mask_g, kernel_g, bias_g in zip(masks, gate_kernels, gate_biases):
                dropped = ops.reshape(inputs * ops.expand_dims(mask_g, 1), folded.shape)
                parts.append(_conv(dropped, kernel_g, bias_g, self.strides, pad, self.dilation_rate, rank, self.name))
            projected = ops.concat(parts, axis=-1)
        else:
            projected = _conv(folded, self.kernel, self.bias, self.strides, pad, self.dilation_rate, rank, self.name)
        projected = ops.reshape(projected, (n, steps) + out_spatial + (4 * self.filters,))
        recurrent_masks = self._masks(state_shape, self.recurrent_dropout) if training and \
            0 < self.recurrent_dropout < 1 else None
        recurrent_kernels = ops.split(self.recurrent_kernel, 4, axis=-1) if recurrent_masks else None
        ones = (1,) * rank
        mask_array = None if mask is None else np.asarray(mask.value if isinstance(mask, Tensor) else mask, bool)
        h, c = states
        outputs, previous = [], None
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        for t in order:
            if recurrent_masks is None:
                recurrent = _conv(h, self.recurrent_kernel, None, ones, "SAME", ones, rank, self.name)
            else:
                recurrent = ops.concat([_conv(h * m, k, None, ones, "SAME", ones, rank, self.name)
                                        for m, k in zip(recurrent_masks, recurrent_kernels)], axis=-1)
            z = projected[:, t] + recurrent
            zi, zf, zc, zo = ops.split(z, 4, axis=-1)
            c_new = self.recurrent_activation(zf) * c + self.recurrent_activation(zi) * self.activation(zc)
            h_new = self.recurrent_activation(zo) * self.activation(c_new)
            if mask_array is not None:
                keep = mask_array[:, t].reshape((n,) + (1,) * (rank + 1))
                previous = ops.zeros(h_new.shape, dtype=h_new.dtype) if previous is None else previous
                out = ops.where(keep, h_new, previous)
                h, c = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
            else:
                out, h, c = h_new, h_new, c_new
            outputs.append(out)
            previous = out
        output = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        if self.stateful and self._states is not None and not _runtime.inferring_shapes:
            for var, value in zip(self._states, (h, c)):
                var.assign(value)
        if first:
            to_first = (0, rank + 1) + tuple(range(1, rank + 1))
            seq_first = (0, 1, rank + 2) + tuple(range(2, rank + 2))
            output = ops.transpose(output, seq_first if self.return_sequences else to_first)
            h, c = ops.transpose(h, to_first), ops.transpose(c, to_first)
        return [output, h, c] if self.return_state else output

    def _masks(self, shape, rate):
        keep = _random.generator().random((4,) + tuple(shape)) >= rate
        return [Tensor((m / (1.0 - rate)).astype(self.dtype)) for m in keep]

    def _initial_states(self, initial_state, state_shape, first):
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
                raise ValueError(f"Layer {self.name} expects 2 initial states [h, c]. Received: {initial_state!r}")
            states = []
            for s in initial_state:
                s = s if isinstance(s, Tensor) else ops.constant(np.asarray(s, dtype=self.dtype))
                if first:
                    s = ops.transpose(s, (0,) + tuple(range(2, self.rank + 2)) + (1,))
                if tuple(s.shape) != state_shape:
                    raise ValueError(f"An `initial_state` was passed that is not compatible with the layer's state "
                                     f"shape {state_shape} (channels last). Received: {tuple(s.shape)}")
                states.append(ops.cast(s, self.dtype) if s.dtype != np.dtype(self.dtype) else s)
            return states
        if self.stateful and self._states is not None:
            if self._states[0].shape != state_shape:
                raise ValueError(f'Layer "{self.name}" is stateful with states of shape {self._states[0].shape}, '
                                 f"but the inputs need {state_shape}: keep the batch size it was built with.")
            return [Tensor(v.value.copy()) for v in self._states]
        return [ops.zeros(state_shape, dtype=self.dtype), ops.zeros(state_shape, dtype=self.dtype)]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
            data_format=self.data_format, dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation), use_bias=self.use_bias,
            kernel_initializer=_serialize(self.kernel_initializer),
            recurrent_initializer=_serialize(self.recurrent_initializer),
            bias_initializer=_serialize(self.bias_initializer), unit_forget_bias=self.unit_forget_bias,
            kernel_regularizer=_serialize(self.kernel_regularizer),
            recurrent_regularizer=_serialize(self.recurrent_regularizer),
            bias_regularizer=_serialize(self.bias_regularizer),
            activity_regularizer=_serialize(self.activity_regularizer),
            kernel_constraint=_serialize(self.kernel_constraint),
            recurrent_constraint=_serialize(self.recurrent_constraint),
            bias_constraint=_serialize(self.bias_constraint), return_sequences=self.return_sequences,
            return_state=self.return_state, go_backwards=self.go_backwards, stateful=self.stateful,
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, unroll=self.unroll, time_major=False)
        return config


class ConvLSTM1D(ConvLSTM):
    """Convolutional LSTM over sequences of 1-D maps ``(batch, time, steps, channels)``.

    >>> import numpy as np
    >>> ConvLSTM1D(2, 3)(np.ones((1, 4, 6, 1), "float32")).shape
    (1, 4, 2)
    """

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """Convolutional LSTM over sequences of images ``(batch, time, rows, cols, channels)``.

    Args:
        filters: channels of the output and of the states.
        kernel_size, strides, dilation_rate: of the input convolution (the recurrent one is ``"same"``,
            stride 1, undilated); ints or 2-tuples.
        padding: ``"valid"`` or ``"same"`` (input convolution).
        data_format: ``"channels_last"`` or ``"channels_first"`` (``(batch, time, channels, rows, cols)``).
        activation: for the cell input and output (``tanh``); recurrent_activation: the gates
            (``hard_sigmoid``, tf.keras 2's default).
        unit_forget_bias: initialise the forget gate's bias to one.
        return_sequences, return_state, go_backwards, stateful: as :class:`LSTM`.
        dropout / recurrent_dropout: fraction of input / state units dropped (one mask per gate and call).

    >>> import numpy as np
    >>> seq, h, c = ConvLSTM2D(3, 3, padding="same", return_sequences=True, return_state=True)(
    ...     np.zeros((2, 4, 8, 8, 1), "float32"))
    >>> seq.shape, h.shape
    ((2, 4, 8, 8, 3), (2, 8, 8, 3))
    """

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """Convolutional LSTM over sequences of volumes ``(batch, time, depth, rows, cols, channels)``.

    >>> import numpy as np
    >>> ConvLSTM3D(2, 2)(np.ones((1, 2, 3, 3, 3, 1), "float32")).shape
    (1, 2, 2, 2, 2)
    """

    rank = 3
