"""Recurrent layers: ``RNN`` (any cell), ``SimpleRNN``, ``LSTM`` and ``GRU``.

``LSTM``, ``GRU`` (``reset_after=True``) and ``SimpleRNN`` with built-in activations run the whole
sequence as ONE fused op (featherflow.ops.recurrent: the input projection of all timesteps is one
GEMM, backpropagation through time happens inside one backward rule). The per-step path through
``cell.call`` serves custom cells and activations, ``reset_after=False`` and ``recurrent_dropout``
while training; both paths compute the same function.

Input ``(batch, timesteps, features)`` (``(timesteps, batch, features)`` with ``time_major``);
output ``(batch, units)``, or ``(batch, timesteps, units)`` with ``return_sequences``; with
``return_state`` a list ``[output, *final_states]``.

>>> from featherflow import keras
>>> import numpy as np
>>> lstm = keras.layers.LSTM(4, return_sequences=True, return_state=True)
>>> seq, h, c = lstm(np.ones((2, 5, 3), "float32"))
>>> seq.shape, h.shape, c.shape
((2, 5, 4), (2, 4), (2, 4))
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core import Tensor, Variable
from featherflow.core.runtime import state as _runtime
from featherflow.keras.layers import recurrent_cells as cells_mod
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.input_spec import InputSpec, check_input_compatibility
from featherflow.keras.layers.recurrent_cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    activation_name,
    call_cell,
)
from featherflow.ops import recurrent as rnn_ops

_FUSABLE = set(rnn_ops._FUSED)


def deserialize_layer(config, custom_objects=None):
    """A layer or cell from its ``{"class_name": ..., "config": ...}`` dict (Keras 3, tf.keras 2.x or
    featherflow), through the saving package's closed registry (built-ins, registered objects and
    ``custom_objects``)."""
    if isinstance(config, Layer):
        return config
    from featherflow.keras.saving.serialization_lib import deserialize_keras_object

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Expected a layer config dict with a 'class_name'. Received: {config!r:.200}")
    return deserialize_keras_object(config, custom_objects)


def serialize_layer(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` of a layer or cell (Keras's form)."""
    from featherflow.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(layer)


def _is_tensor_like(x):
    from featherflow.keras.layers.node import KerasTensor

    return isinstance(x, (Tensor, KerasTensor, np.ndarray))


def _state_sizes(cell):
    s = cell.state_size
    return [int(v) for v in s] if isinstance(s, (list, tuple)) else [int(s)]


class RNN(Layer):
    """Base recurrent layer: runs ``cell`` over the time axis.

    Args:
        cell: an RNN cell (``call(inputs, states) -> (output, new_states)`` and ``state_size``), or a
            list of cells (stacked).
        return_sequences: return the output of every step, not only the last.
        return_state: also return the final states.
        go_backwards: process the sequence in reverse and return the reversed output sequence.
        stateful: the final states of a batch are the initial states of the next (needs a fixed
            batch size: ``batch_input_shape`` or ``Input(batch_size=...)``); ``reset_states()`` zeroes them.
        unroll: accepted for compatibility (the loop is always a Python loop or a fused kernel).
        time_major: inputs and outputs are ``(timesteps, batch, ...)``.
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments: ``inputs``, ``mask`` (``(batch, timesteps)`` booleans), ``training``,
    ``initial_state`` (list of state tensors), ``constants`` (extra inputs for cells that take them).
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, time_major=False, **kwargs):
        zero_output_for_mask = kwargs.pop("zero_output_for_mask", False)
        input_length = kwargs.pop("input_length", None)
        input_dim = kwargs.pop("input_dim", None)
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs and (input_dim or input_length):
            kwargs["input_shape"] = (input_length, input_dim)
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError("Argument `cell` should have a `call` method and a `state_size` attribute. "
                             f"Received: cell={cell!r}")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._states = None
        self._num_constants = 0
        self._num_extra_inputs = 0
        self._sequence_spec = InputSpec(ndim=3)
        self.input_spec = self._sequence_spec

    # -- calling with initial states / constants --------------------------------------------------
    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1 and all(_is_tensor_like(x) for x in inputs) \
                and initial_state is None and constants is None:
            inputs = list(inputs)
            n_const = self._num_constants
            if n_const:
                constants, inputs = inputs[len(inputs) - n_const:], inputs[:len(inputs) - n_const]
            if len(inputs) > 1:
                initial_state = inputs[1:]
            inputs = inputs[0]
        if initial_state is not None and not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        if constants is not None and not isinstance(constants, (list, tuple)):
            constants = [constants]
        extra = list(initial_state or []) + list(constants or [])
        self._num_constants = len(constants or [])
        self._num_extra_inputs = len(extra)
        self._refresh_spec()
        if extra:
            return super().__call__([inputs] + extra, **kwargs)
        return super().__call__(inputs, **kwargs)

    def _refresh_spec(self):
        spec = self._sequence_spec
        self.input_spec = spec if not self._num_extra_inputs else [spec] + [None] * self._num_extra_inputs

    def _split_inputs(self, inputs, initial_state):
        constants = None
        if isinstance(inputs, (list, tuple)):
            inputs = list(inputs)
            if self._num_constants:
                constants = inputs[len(inputs) - self._num_constants:]
                inputs = inputs[:len(inputs) - self._num_constants]
            if len(inputs) > 1:
                initial_state = inputs[1:]
            inputs = inputs[0]
        return inputs, initial_state, constants

    # -- building -----------------------------------------------------------------------------------
    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        check_input_compatibility(InputSpec(ndim=3), [input_shape], self.name)
        step_shape = (input_shape[1],) + input_shape[2:] if self.time_major else (input_shape[0],) + input_shape[2:]
        if not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        self._sequence_spec = InputSpec(ndim=3, axes={-1: input_shape[-1]})
        self._refresh_spec()
        if self.stateful:
            batch = input_shape[1] if self.time_major else input_shape[0]
            if batch is None:
                raise ValueError(
                    "If a RNN is stateful, it needs to know its batch size. Specify the batch size of your input "
                    "tensors: \n- If using a Sequential model, specify the batch size by passing a "
                    "`batch_input_shape` argument to your first layer.\n- If using the functional API, specify "
                    "the batch size by passing a `batch_shape` argument to your Input layer."
                )
            self._stateful_batch = int(batch)
            self.reset_states()
        self.built = True

    # -- states ---------------------------------------------------------------------------------------
    @property
    def states(self):
        """The state variables of a stateful layer (``[None, ...]`` otherwise)."""
        if self._states is None:
            return [None] * len(_state_sizes(self.cell))
        return self._states

    def get_initial_state(self, inputs):
        batch = inputs.shape[1] if self.time_major else inputs.shape[0]
        return [ops.zeros((batch, size), dtype=self.dtype) for size in _state_sizes(self.cell)]

    def reset_states(self, states=None):
        """Zero the states of a stateful layer, or set them to ``states`` (NumPy arrays)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        batch = getattr(self, "_stateful_batch", None)
        if batch is None:
            raise ValueError("The layer is not built yet: call it on data (or build it) before reset_states().")
        sizes = _state_sizes(self.cell)
        if self._states is None:
            self._states = [Variable(np.zeros((batch, s), dtype=self.dtype), trainable=False,
                                     name=f"{self.name}/state_{i}") for i, s in enumerate(sizes)]
        if states is None:
            for v in self._states:
                v.assign(np.zeros(v.shape, dtype=self.dtype))
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != len(self._states):
            raise ValueError(f"Layer {self.name} expects {len(self._states)} states, but it received "
                             f"{len(states)} state values. States received: {states}")
        for i, (v, value) in enumerate(zip(self._states, states)):
            value = np.asarray(value, dtype=self.dtype)
            if value.shape != v.shape:
                raise ValueError(f"State {i} is incompatible with layer {self.name}: expected shape={v.shape} "
                                 f"but found shape={value.shape}")
            v.assign(value)

    # -- the computation ----------------------------------------------------------------------------------
    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        inputs, initial_state, split_constants = self._split_inputs(inputs, initial_state)
        constants = constants if constants is not None else split_constants
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not isinstance(inputs, Tensor):
            inputs = ops.constant(np.asarray(inputs, dtype=self.dtype))
        check_input_compatibility(self._sequence_spec, [inputs.shape], self.name)
        if self.time_major:
            inputs = ops.transpose(inputs, [1, 0, 2])
        batch = inputs.shape[0]
        initial_state = self._initial_states(inputs, initial_state, batch)
        mask_array = None
        if mask is not None:
            mask_array = np.asarray(mask.value if isinstance(mask, Tensor) else mask).astype(bool)
            if self.time_major and mask_array.shape != inputs.shape[:2]:
                mask_array = mask_array.T
        training = bool(training) if training is not None else False
        output, states = self._run(inputs, initial_state, mask_array, training, constants)
        if self.stateful and not _runtime.inferring_shapes:
            for var, value in zip(self._states, states):
                var.assign(value.value)
        if self.time_major and self.return_sequences:
            output = ops.transpose(output, [1, 0, 2])
        if self.return_state:
            return [output] + list(states)
        return output

    def _initial_states(self, inputs, initial_state, batch):
        sizes = _state_sizes(self.cell)
        if initial_state is not None:
            initial_state = [s if isinstance(s, Tensor) else ops.constant(np.asarray(s, dtype=self.dtype))
                             for s in initial_state]
            if len(initial_state) != len(sizes):
                raise ValueError(f"Layer {self.name} expects {len(sizes)} state(s), but it received "
                                 f"{len(initial_state)} initial state(s). Input received: {initial_state}")
            for i, (s, size) in enumerate(zip(initial_state, sizes)):
                if tuple(s.shape) != (batch, size):
                    raise ValueError(f"An `initial_state` was passed that is not compatible with `cell.state_size`."
                                     f" Received state {i} of shape {tuple(s.shape)}, expected ({batch}, {size}).")
            return [ops.cast(s, self.dtype) if s.dtype != np.dtype(self.dtype) else s for s in initial_state]
        if self.stateful:
            if self._states[0].shape[0] != batch:
                raise ValueError(f'Layer "{self.name}" is stateful with a batch size of {self._states[0].shape[0]}, '
                                 f"but it received a batch of {batch} samples. Stateful RNNs need every batch to "
                                 "have the batch size the layer was built with.")
            return [Tensor(v.value.copy()) for v in self._states]
        return [None] * len(sizes)

    def _run(self, inputs, initial_state, mask, training, constants):
        """Per-step loop through ``cell.call``; returns ``(output, final_states)``."""
        return self._run_steps(inputs, initial_state, mask, training, constants)

    def _run_steps(self, inputs, initial_state, mask, training, constants):
        cell = self.cell
        batch = inputs.shape[0]
        states = [s if s is not None else ops.zeros((batch, size), dtype=self.dtype)
                  for s, size in zip(initial_state, _state_sizes(cell))]
        for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if hasattr(cell, reset):
                getattr(cell, reset)()
        slices = rnn_ops.unstack_time(inputs)
        steps = len(slices)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs = []
        prev_output = None
        for t in order:
            out, new_states = call_cell(cell, slices[t], states, training, constants)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if mask is not None:
                keep = ops.constant(mask[:, t:t + 1])
                if prev_output is None:
                    prev_output = ops.zeros(out.shape, dtype=out.dtype)
                fill = ops.zeros(out.shape, dtype=out.dtype) if self.zero_output_for_mask else prev_output
                out = ops.where(keep, out, fill)
                new_states = [ops.where(keep, n, s) for n, s in zip(new_states, states)]
            outputs.append(out)
            prev_output = out
            states = new_states
        output = rnn_ops.stack_time(outputs) if self.return_sequences else outputs[-1]
        return output, states

    # -- shapes, masks, config ----------------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        batch, steps = (input_shape[1], input_shape[0]) if self.time_major else input_shape[:2]
        cell = self.cell
        units = getattr(cell, "output_size", _state_sizes(cell)[0])
        if self.return_sequences:
            out = (steps, batch, units) if self.time_major else (batch, steps, units)
        else:
            out = (batch, units)
        if self.return_state:
            return [out] + [(batch, s) for s in _state_sizes(cell)]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(_state_sizes(self.cell))
        return output_mask

    def _rnn_config(self):
        config = {"return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                  "time_major": self.time_major}
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        return config

    def get_config(self):
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        config["cell"] = serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **config)


class _FusedRNN(RNN):
    """An RNN over one of the built-in cells, with the fused whole-sequence kernel."""

    _cell_class = None
    _cell_args: tuple = ()

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, time_major=False, **kwargs):
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in self._cell_args}
        if "implementation" in kwargs:
            cell_kwargs["implementation"] = kwargs.pop("implementation")
        cell_kwargs["dtype"] = kwargs.get("dtype")
        cell_kwargs["trainable"] = kwargs.get("trainable", True)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        cell = self._cell_class(units, **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, time_major=time_major,
                         activity_regularizer=activity_regularizer, **kwargs)

    def __getattr__(self, name):
        # units, activation, kernel_initializer, dropout, ... live on the cell, as in Keras.
        if name in type(self)._cell_args or name in ("units", "implementation"):
            cell = self.__dict__.get("cell")
            if cell is not None:
                return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _fused_ok(self, training, constants):
        cell = self.cell
        if type(cell) is not self._cell_class or constants:
            return False
        if training and cell.recurrent_dropout > 0:
            return False
        names = [activation_name(cell.activation)]
        if cell.recurrent_activation is not None:
            names.append(activation_name(cell.recurrent_activation))
        return all(n in _FUSABLE for n in names)

    def _run(self, inputs, initial_state, mask, training, constants):
        if not self._fused_ok(training, constants):
            return self._run_steps(inputs, initial_state, mask, training, constants)
        cell = self.cell
        x = inputs
        if training and 0 < cell.dropout < 1:
            # Keras's fused path: one inverted-dropout mask over (batch, timesteps, features).
            x = ops.dropout(x, cell.dropout)
        kwargs = {"mask": mask, "go_backwards": self.go_backwards, "return_sequences": self.return_sequences,
                  "zero_output_for_mask": self.zero_output_for_mask,
                  "activation": activation_name(cell.activation)}
        if cell.recurrent_activation is not None:
            kwargs["recurrent_activation"] = activation_name(cell.recurrent_activation)
        results = self._fused_op()(x, cell.kernel, cell.recurrent_kernel, cell.bias, initial_state, **kwargs)
        return results[0], list(results[1:])

    def get_config(self):
        config = Layer.get_config(self)
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = cells_mod.serialize(self.activity_regularizer)
        config.update(self._rnn_config())
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


_COMMON_CELL_ARGS = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
                     "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                     "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")


class SimpleRNN(_FusedRNN):
    """Fully connected RNN whose output is fed back: ``h_t = activation(x_t @ W + h_{t-1} @ U + b)``.

    Args:
        units: output size. activation (default ``tanh``), use_bias, initializers (Glorot-uniform kernel,
        orthogonal recurrent kernel, zero bias), regularizers, constraints, dropout, recurrent_dropout as in
        ``SimpleRNNCell``; the sequence arguments as in ``RNN``.

    >>> from featherflow import keras
    >>> import numpy as np
    >>> keras.layers.SimpleRNN(2)(np.ones((3, 4, 5), "float32")).shape
    (3, 2)
    """

    _cell_class = SimpleRNNCell
    _cell_args = _COMMON_CELL_ARGS

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        super().__init__(units, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, activation=activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         **kwargs)

    @staticmethod
    def _fused_op():
        return rnn_ops.simple_rnn


class LSTM(_FusedRNN):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997) with Keras's defaults and layout.

    Args:
        units: output size. activation (``tanh``), recurrent_activation (``sigmoid``), use_bias,
        kernel_initializer (``glorot_uniform``), recurrent_initializer (``orthogonal``), bias_initializer
        (``zeros``), unit_forget_bias (``True``: forget-gate bias starts at one), regularizers, constraints,
        dropout, recurrent_dropout, implementation; the sequence arguments as in ``RNN``.

    Weights: kernel ``(features, 4u)``, recurrent_kernel ``(u, 4u)``, bias ``(4u,)``, gates ``i, f, c, o``.

    >>> from featherflow import keras
    >>> import numpy as np
    >>> layer = keras.layers.LSTM(8)
    >>> layer(np.ones((2, 10, 3), "float32")).shape
    (2, 8)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 32), (8, 32), (32,)]
    """

    _cell_class = LSTMCell
    _cell_args = _COMMON_CELL_ARGS + ("recurrent_activation", "unit_forget_bias")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, time_major=False, unroll=False, **kwargs):
        super().__init__(units, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, time_major=time_major,
                         activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         **kwargs)

    @staticmethod
    def _fused_op():
        return rnn_ops.lstm


class GRU(_FusedRNN):
    """Gated Recurrent Unit (Cho et al., 2014) with Keras's defaults: ``reset_after=True`` (bias ``(2, 3u)``).

    Args as in ``LSTM`` (no ``unit_forget_bias``), plus ``reset_after`` (``False``: reset gate before the
    recurrent matmul, bias ``(3u,)``, per-step path).

    Weights: kernel ``(features, 3u)``, recurrent_kernel ``(u, 3u)``, bias ``(2, 3u)``, gates ``z, r, h``.

    >>> from featherflow import keras
    >>> import numpy as np
    >>> out, h = keras.layers.GRU(3, return_state=True)(np.ones((2, 4, 5), "float32"))
    >>> out.shape, h.shape
    ((2, 3), (2, 3))
    """

    _cell_class = GRUCell
    _cell_args = _COMMON_CELL_ARGS + ("recurrent_activation", "reset_after")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, reset_after=True, **kwargs):
        super().__init__(units, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, time_major=time_major,
                         activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after, **kwargs)

    def _fused_ok(self, training, constants):
        return self.cell.reset_after and super()._fused_ok(training, constants)

    @staticmethod
    def _fused_op():
        return rnn_ops.gru
