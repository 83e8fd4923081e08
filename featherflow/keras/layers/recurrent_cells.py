"""Recurrent cells: ``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` and ``StackedRNNCells``.

A cell computes ONE timestep: ``output, new_states = cell(inputs_t, states)``. The sequence layers
(``LSTM``, ``GRU``, ``SimpleRNN``) run their cell's weights through a fused whole-sequence kernel
(featherflow.ops.recurrent) whenever they can; the per-step path through ``cell.call`` is used for
custom cells, custom activations and ``recurrent_dropout`` during training, and is the reference
semantics (Keras's ``implementation=1`` when recurrent dropout is on, else ``implementation=2``).

>>> from featherflow import keras
>>> import numpy as np
>>> cell = keras.layers.LSTMCell(3)
>>> out, (h, c) = cell(np.ones((2, 4), "float32"), [np.zeros((2, 3), "float32")] * 2)
>>> out.shape, c.shape
((2, 3), (2, 3))
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.backend import random as _random
from featherflow.core import Tensor
from featherflow.keras import activations, constraints, initializers, regularizers
from featherflow.keras.layers.base import Layer
from featherflow.ops import array_kernels


def get_initializer(identifier):
    """``initializers.get`` (kept as the one place the cells resolve initializers)."""
    return initializers.get(identifier)


def serialize(obj):
    """Config form of an initializer / regularizer / constraint / activation (``None`` stays ``None``)."""
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return getattr(obj, "__name__", obj)


def activation_name(fn):
    """The name of a built-in activation, or None for a custom callable."""
    name = activations.serialize(fn)
    return name if isinstance(name, str) else None


def _check_units(units):
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
        raise TypeError(f"Expected an integer value for `units`. Received: units={units!r}")
    if units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got {units}.")
    return int(units)


def _check_rate(value, name):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a float in the range [0, 1]. Received: {name}={value}")
    return value


class DropoutRNNCellMixin:
    """Dropout masks for a cell, drawn once per sequence and reused at every timestep (Gal &
    Ghahramani, 2016): inverted dropout on the inputs (``dropout``) and on the previous state
    (``recurrent_dropout``). Seeded through featherflow's global generator."""

    def reset_dropout_mask(self):
        self._dropout_mask_cache = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask_cache = None

    def _make_masks(self, like, rate, count):
        value = like.value if isinstance(like, Tensor) else np.asarray(like)
        rng = _random.generator()
        scaled = array_kernels.dropout_mask(rng.random((count,) + value.shape), rate, value.dtype)
        return [Tensor(m) for m in scaled]

    def get_dropout_mask_for_cell(self, inputs, training, count=1):
        """``count`` masks shaped like ``inputs`` (cached until ``reset_dropout_mask``), or None."""
        if not training or not 0 < self.dropout < 1:
            return None
        cache = getattr(self, "_dropout_mask_cache", None)
        if cache is None or len(cache) < count or cache[0].shape != tuple(np.shape(inputs)):
            cache = self._dropout_mask_cache = self._make_masks(inputs, self.dropout, count)
        return cache

    def get_recurrent_dropout_mask_for_cell(self, inputs, training, count=1):
        if not training or not 0 < self.recurrent_dropout < 1:
            return None
        cache = getattr(self, "_recurrent_dropout_mask_cache", None)
        if cache is None or len(cache) < count or cache[0].shape != tuple(np.shape(inputs)):
            cache = self._recurrent_dropout_mask_cache = self._make_masks(inputs, self.recurrent_dropout, count)
        return cache


class AbstractRNNCell(Layer):
    """Base class of a custom RNN cell: implement ``call(inputs, states) -> (output, new_states)``,
    ``state_size`` and ``output_size``; ``get_initial_state`` gives zeros. ``keras.layers.RNN`` runs it.

    >>> import numpy as np
    >>> from featherflow import keras
    >>> class Accumulate(AbstractRNNCell):
    ...     state_size = output_size = 2
    ...     def call(self, inputs, states):
    ...         total = states[0] + inputs
    ...         return total, [total]
    >>> keras.layers.RNN(Accumulate())(np.ones((1, 3, 2), "float32")).numpy()
    array([[3., 3.]], dtype=float32)
    """

    def call(self, inputs, states):
        raise NotImplementedError(f"{type(self).__name__} must implement `call(inputs, states)`.")

    @property
    def state_size(self):
        raise NotImplementedError(f"{type(self).__name__} must define `state_size`.")

    @property
    def output_size(self):
        raise NotImplementedError(f"{type(self).__name__} must define `output_size`.")

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states for ``batch_size`` (or the batch of ``inputs``)."""
        return _CellBase.get_initial_state(self, inputs, batch_size, dtype)


class _CellBase(DropoutRNNCellMixin, Layer):
    """Shared constructor and config of the three built-in cells."""

    _gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.units = _check_units(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = None if recurrent_activation is None else activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.recurrent_initializer = get_initializer(recurrent_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, _check_rate(dropout, "dropout")))
        self.recurrent_dropout = min(1.0, max(0.0, _check_rate(recurrent_dropout, "recurrent_dropout")))
        # Keras: implementation 2 cannot apply per-gate recurrent dropout masks.
        self.implementation = 1 if self.recurrent_dropout and implementation != 1 else int(implementation)
        self.supports_masking = False

    @property
    def output_size(self):
        return self.units

    def _input_features(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        last = tuple(input_shape)[-1]
        if last is None:
            raise ValueError(f'The last dimension of the inputs to layer "{self.name}" should be defined. Found None. '
                             f"Full input shape received: {tuple(input_shape)}")
        return int(last)

    def _add_kernels(self, features, bias_shape):
        gates = self._gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=(features, gates), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, gates), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=bias_shape, initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _bias_init(self):
        return self.bias_initializer

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states for ``batch_size`` (or the batch of ``inputs``)."""
        if batch_size is None:
            batch_size = np.shape(inputs)[0]
        dtype = dtype or self.dtype
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        states = [ops.zeros((int(batch_size), int(s)), dtype=dtype) for s in sizes]
        return states if isinstance(self.state_size, (list, tuple)) else states[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, activation=activations.serialize(self.activation), use_bias=self.use_bias,
            kernel_initializer=serialize(self.kernel_initializer),
            recurrent_initializer=serialize(self.recurrent_initializer),
            bias_initializer=serialize(self.bias_initializer), kernel_regularizer=serialize(self.kernel_regularizer),
            recurrent_regularizer=serialize(self.recurrent_regularizer),
            bias_regularizer=serialize(self.bias_regularizer), kernel_constraint=serialize(self.kernel_constraint),
            recurrent_constraint=serialize(self.recurrent_constraint),
            bias_constraint=serialize(self.bias_constraint), dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
        )
        if self.recurrent_activation is not None:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config


def _states_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


class SimpleRNNCell(_CellBase):
    """One step of a fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
        units: size of the state and output.
        activation: default ``tanh``.
        use_bias, kernel/recurrent/bias initializers (Glorot-uniform / orthogonal / zeros),
        regularizers and constraints as in ``Dense``.
        dropout / recurrent_dropout: fractions dropped from the inputs / the previous state.

    Weights: kernel ``(features, units)``, recurrent_kernel ``(units, units)``, bias ``(units,)``.
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                         kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                         **kwargs)
        self.state_size = self.units

    def build(self, input_shape):
        self._add_kernels(self._input_features(input_shape), (self.units,))
        self.built = True

    def call(self, inputs, states, training=None):
        prev = _states_list(states)[0]
        dp = self.get_dropout_mask_for_cell(inputs, training)
        rdp = self.get_recurrent_dropout_mask_for_cell(prev, training)
        x = inputs * dp[0] if dp is not None else inputs
        h = ops.dense(x, self.kernel, self.bias)
        if rdp is not None:
            prev = prev * rdp[0]
        output = self.activation(h + ops.matmul(prev, self.recurrent_kernel))
        return output, ([output] if isinstance(states, (list, tuple)) else output)

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation", None)
        return config


def unit_forget_bias_initializer(base, units: int):
    """The LSTM bias initializer of ``unit_forget_bias=True``: ``base`` for the input, cell and output gates'
    ``units`` entries each, ones for the forget gate's (Jozefowicz et al., 2015), in Keras's gate order i, f, c, o.

    >>> from featherflow.keras import initializers
    >>> unit_forget_bias_initializer(initializers.get("zeros"), 1)((4,), dtype="float32").numpy()
    array([0., 1., 0., 0.], dtype=float32)
    """

    def init(shape, dtype=None, **kwargs):
        def part(n):
            value = base((n,), dtype=dtype)
            return np.asarray(value.value if isinstance(value, Tensor) else value)
        return Tensor(np.concatenate([part(units), np.ones(units, dtype=dtype), part(2 * units)]))

    return init


class LSTMCell(_CellBase):
    """One LSTM step (Hochreiter & Schmidhuber, 1997), Keras's formulation and layout.

    ``z = x @ kernel + h @ recurrent_kernel + bias`` split into gates ``i, f, c, o``;
    ``c' = f * c + i * activation(z_c)``, ``h' = o * activation(c')`` with ``i, f, o`` through
    ``recurrent_activation``.

    Args:
        units: state size.
        activation: default ``tanh``; recurrent_activation: default ``sigmoid``.
        unit_forget_bias: initialise the forget-gate bias to one (Jozefowicz et al., 2015).
        Other arguments as in ``SimpleRNNCell``; ``implementation`` 1 draws one dropout mask per gate.

    Weights: kernel ``(features, 4u)``, recurrent_kernel ``(u, 4u)``, bias ``(4u,)``.
    """

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                         recurrent_dropout, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_init(self):
        return unit_forget_bias_initializer(self.bias_initializer, self.units) if self.unit_forget_bias \
            else self.bias_initializer

    def build(self, input_shape):
        self._add_kernels(self._input_features(input_shape), (4 * self.units,))
        self.built = True

    def call(self, inputs, states, training=None):
        h_prev, c_prev = _states_list(states)[:2]
        u = self.units
        dp = self.get_dropout_mask_for_cell(inputs, training, count=4)
        rdp = self.get_recurrent_dropout_mask_for_cell(h_prev, training, count=4)
        if self.implementation == 1:
            pre = []
            for k in range(4):
                x_k = inputs * dp[k] if dp is not None else inputs
                h_k = h_prev * rdp[k] if rdp is not None else h_prev
                cols = slice(k * u, (k + 1) * u)
                z = ops.matmul(x_k, self.kernel[:, cols]) + ops.matmul(h_k, self.recurrent_kernel[:, cols])
                pre.append(z + self.bias[cols] if self.bias is not None else z)
            z_i, z_f, z_c, z_o = pre
        else:
            x = inputs * dp[0] if dp is not None else inputs
            z = ops.dense(x, self.kernel, self.bias) + ops.matmul(h_prev, self.recurrent_kernel)
            z_i, z_f, z_c, z_o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(unit_forget_bias=self.unit_forget_bias, implementation=self.implementation)
        return config


class GRUCell(_CellBase):
    """One GRU step (Cho et al., 2014), Keras's layout with gates ``z, r, h``.

    ``reset_after=True`` (default, cuDNN-compatible): ``hh = activation(x_h + r * (h @ U_h + b_rec_h))`` with
    bias ``(2, 3u)`` = [input bias, recurrent bias]; ``reset_after=False``: ``hh = activation(x_h + (r * h) @ U_h)``
    with bias ``(3u,)``. Then ``h' = z * h + (1 - z) * hh``.

    Args as in ``LSTMCell`` (``recurrent_activation`` default ``sigmoid``), plus ``reset_after``.
    """

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 reset_after=True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                         recurrent_dropout, **kwargs)
        self.reset_after = bool(reset_after)
        self.state_size = self.units

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_kernels(self._input_features(input_shape), bias_shape)
        self.built = True

    def call(self, inputs, states, training=None):
        h_prev = _states_list(states)[0]
        u = self.units
        dp = self.get_dropout_mask_for_cell(inputs, training, count=3)
        rdp = self.get_recurrent_dropout_mask_for_cell(h_prev, training, count=3)
        if self.bias is None:
            in_bias = rec_bias = None
        elif self.reset_after:
            in_bias, rec_bias = self.bias[0], self.bias[1]
        else:
            in_bias, rec_bias = self.bias, None
        per_gate_x = [inputs * dp[k] if dp is not None else inputs for k in range(3)]
        per_gate_h = [h_prev * rdp[k] if rdp is not None else h_prev for k in range(3)]
        if self.implementation != 1:
            per_gate_x = [per_gate_x[0]] * 3  # implementation 2: one input mask for all gates
        parts = []
        for k in range(3):
            cols = slice(k * u, (k + 1) * u)
            xk = ops.matmul(per_gate_x[k], self.kernel[:, cols])
            parts.append(xk + in_bias[cols] if in_bias is not None else xk)
        x_z, x_r, x_h = parts

        def recurrent(k, h):
            cols = slice(k * u, (k + 1) * u)
            out = ops.matmul(h, self.recurrent_kernel[:, cols])
            return out + rec_bias[cols] if rec_bias is not None else out

        z = self.recurrent_activation(x_z + recurrent(0, per_gate_h[0]))
        r = self.recurrent_activation(x_r + recurrent(1, per_gate_h[1]))
        if self.reset_after:
            hh = self.activation(x_h + r * recurrent(2, per_gate_h[2]))
        else:
            hh = self.activation(x_h + ops.matmul(r * per_gate_h[2], self.recurrent_kernel[:, 2 * u:]))
        h = z * h_prev + (1 - z) * hh
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        config = super().get_config()
        config.update(implementation=self.implementation, reset_after=self.reset_after)
        return config


class StackedRNNCells(Layer):
    """Several cells run as one: the output of each is the input of the next; the state is the
    concatenation of the cells' states (``RNN([cell1, cell2])`` wraps a list in this).

    Args:
        cells: list of cell instances.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError(f"All cells must have a `call` method and a `state_size` attribute. "
                                 f"Received cells={cells}")
        self.cells = list(cells)

    @property
    def state_size(self):
        sizes = []
        for cell in self.cells:
            s = cell.state_size
            sizes.extend(s if isinstance(s, (list, tuple)) else [s])
        return sizes

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", last.state_size if isinstance(last.state_size, int)
                       else last.state_size[0])

    def _counts(self):
        return [len(c.state_size) if isinstance(c.state_size, (list, tuple)) else 1 for c in self.cells]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
                cell.built = True
            shape = shape[:-1] + (int(getattr(cell, "output_size", cell.state_size if isinstance(
                cell.state_size, int) else cell.state_size[0])),)
        self.built = True

    def call(self, inputs, states, training=None):
        states = _states_list(states)
        new_states = []
        start = 0
        for cell, n in zip(self.cells, self._counts()):
            cell_states = states[start:start + n]
            start += n
            inputs, out_states = call_cell(cell, inputs, cell_states, training)
            new_states.extend(_states_list(out_states))
        return inputs, new_states

    def get_config(self):
        from featherflow.keras.layers.recurrent import serialize_layer

        config = super().get_config()
        config["cells"] = [serialize_layer(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from featherflow.keras.layers.recurrent import deserialize_layer

        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def call_cell(cell, inputs, states, training=None, constants=None):
    """Run ``cell.call`` for one step (building it if needed), passing ``training``/``constants``
    only when the cell's ``call`` accepts them."""
    import inspect

    params = _CALL_PARAMS.get(type(cell))
    if params is None:
        sig = inspect.signature(type(cell).call).parameters
        params = _CALL_PARAMS[type(cell)] = (
            "training" in sig or any(p.kind is p.VAR_KEYWORD for p in sig.values()), "constants" in sig)
    kwargs = {}
    if params[0]:
        kwargs["training"] = training
    if constants and params[1]:
        kwargs["constants"] = constants
    return cell.call(inputs, states, **kwargs)


_CALL_PARAMS: dict = {}
