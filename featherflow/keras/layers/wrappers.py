"""Layer wrappers: ``TimeDistributed`` (one layer applied to every timestep) and ``Bidirectional``
(a recurrent layer run forwards and backwards, outputs merged).

>>> from featherflow import keras
>>> import numpy as np
>>> keras.layers.Bidirectional(keras.layers.LSTM(3))(np.ones((2, 4, 5), "float32")).shape
(2, 6)
>>> keras.layers.TimeDistributed(keras.layers.Dense(2))(np.ones((2, 4, 5), "float32")).shape
(2, 4, 2)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core import Tensor
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.recurrent import _is_tensor_like, deserialize_layer
from featherflow.keras.layers.recurrent import serialize_layer as _serialize_layer


class Wrapper(Layer):
    """Base class of layers that wrap another layer (``self.layer``).

    Args:
        layer: the wrapped layer instance.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `{type(self).__name__}` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        self.built = True

    def get_config(self):
        config = Layer.get_config(self)
        config["layer"] = _serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Apply ``layer`` to every temporal slice of the input: ``(batch, time, ...)`` is folded to
    ``(batch * time, ...)``, passed through the layer once, and unfolded.

    Args:
        layer: the layer to apply (its weights are shared across timesteps).

    >>> from featherflow import keras
    >>> import numpy as np
    >>> keras.layers.TimeDistributed(keras.layers.Dense(8)).compute_output_shape((None, 10, 16))
    (None, 10, 8)
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _check_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return input_shape

    def build(self, input_shape):
        input_shape = self._check_shape(input_shape)
        if not self.layer.built:
            self.layer._maybe_build([(None,) + input_shape[2:]])
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = self._check_shape(input_shape)
        inner = self.layer.compute_output_shape((None,) + input_shape[2:])
        return (input_shape[0], input_shape[1]) + tuple(inner)[1:]

    def call(self, inputs, training=None, mask=None):
        x = inputs if isinstance(inputs, Tensor) else ops.constant(np.asarray(inputs))
        batch, steps = x.shape[0], x.shape[1]
        folded = ops.reshape(x, (batch * steps,) + tuple(x.shape[2:]))
        kwargs = {}
        if self.layer._call_has_training:
            kwargs["training"] = training
        if self.layer._call_has_mask and mask is not None:
            m = np.asarray(mask.value if isinstance(mask, Tensor) else mask)
            kwargs["mask"] = Tensor(m.reshape((batch * steps,) + m.shape[2:]))
        out = self.layer(folded, **kwargs)
        return ops.reshape(out, (batch, steps) + tuple(out.shape[1:]))

    def compute_mask(self, inputs, mask=None):
        return mask


class Bidirectional(Wrapper):
    """Run a recurrent layer over the sequence forwards and backwards and merge the two outputs.

    Args:
        layer: an ``RNN`` instance (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN(cell)``); fresh copies are
            made from its config for both directions (``forward_<name>``, ``backward_<name>``), in
            the wrapper's ``dtype`` when one is given.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or ``None`` (a list of both).
        backward_layer: optional recurrent layer for the backward direction; it must have the opposite
            ``go_backwards`` and the same ``return_sequences``/``return_state``/``stateful``.

    With ``return_sequences`` the backward outputs are flipped back into input order and masked steps
    output zeros (as Keras). With ``return_state`` the result is ``[output, *forward_states,
    *backward_states]``. ``initial_state`` takes the forward states followed by the backward ones.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a `tf.keras.layers.Layer` instance. "
                             f"Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` need to be a `tf.keras.layers.Layer` instance. "
                             f"Received: {backward_layer}")
        if merge_mode not in ("sum", "mul", "ave", "concat", None):
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        super().__init__(layer, **kwargs)
        # not tracked as a sub-layer here: Keras orders the weights forward then backward
        object.__setattr__(self, "_original_backward", backward_layer)
        dtype = kwargs.get("dtype")
        self.forward_layer = self._recreate(layer, go_backwards=False, prefix="forward_", dtype=dtype)
        if backward_layer is None:
            self.backward_layer = self._recreate(layer, go_backwards=True, prefix="backward_", dtype=dtype)
        else:
            self.backward_layer = backward_layer
            self._check_pair()
        self._layers.remove(self.layer)  # only the two directions hold weights
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        for direction in (self.forward_layer, self.backward_layer):
            # Keras: with return_sequences, masked steps output zeros in both directions.
            direction.zero_output_for_mask = self.return_sequences
        self.supports_masking = True
        self._num_initial_states = 0
        if weights:
            half = len(weights) // 2
            self._pending_weights = (weights[:half], weights[half:])
        else:
            self._pending_weights = None

    @staticmethod
    def _recreate(layer, go_backwards, prefix, dtype=None):
        config = layer.get_config()
        if dtype is not None:
            config["dtype"] = dtype  # an explicit dtype on the wrapper applies to both directions
        if go_backwards:
            config["go_backwards"] = not config.get("go_backwards", False)
        name = layer.name
        config["name"] = prefix + (name[len(prefix):] if name.startswith(prefix) else name)  # as Keras 3: no doubles
        return type(layer).from_config(config)

    def _check_pair(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        for attr in ("return_sequences", "return_state", "stateful"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(f"Forward layer and backward layer should have the same `{attr}`. "
                                 f"Received: forward={getattr(fwd, attr)}, backward={getattr(bwd, attr)}")
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Forward layer and backward layer are expected to have different `go_backwards` "
                             f"values, but got: forward={fwd.go_backwards}, backward={bwd.go_backwards}")

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1 and all(_is_tensor_like(x) for x in inputs) \
                and initial_state is None:
            inputs, initial_state = inputs[0], list(inputs[1:])
        if initial_state is not None and not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        self._num_initial_states = len(initial_state or [])
        if initial_state:
            if len(initial_state) % 2:
                raise ValueError("When passing `initial_state` to a Bidirectional RNN, the state should be a list "
                                 f"containing the states of the underlying RNNs. Received: {initial_state}")
            return super().__call__([inputs] + list(initial_state), **kwargs)
        return super().__call__(inputs, **kwargs)

    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        for direction in (self.forward_layer, self.backward_layer):
            if not direction.built:
                direction._maybe_build([tuple(input_shape)])
        if self._pending_weights is not None:
            self.forward_layer.set_weights(self._pending_weights[0])
            self.backward_layer.set_weights(self._pending_weights[1])
            self._pending_weights = None
        self.built = True

    def call(self, inputs, training=None, mask=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            inputs, initial_state = inputs[0], list(inputs[1:])
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        fwd_kwargs, bwd_kwargs = {"training": training}, {"training": training}
        if mask is not None:
            fwd_kwargs["mask"] = bwd_kwargs["mask"] = mask
        if initial_state:
            half = len(initial_state) // 2
            fwd_kwargs["initial_state"] = initial_state[:half]
            bwd_kwargs["initial_state"] = initial_state[half:]
        y = self.forward_layer(inputs, **fwd_kwargs)
        y_rev = self.backward_layer(inputs, **bwd_kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            time_axis = 0 if getattr(self.forward_layer, "time_major", False) else 1
            key = (slice(None),) * time_axis + (slice(None, None, -1),)
            y_rev = y_rev[key]
        if self.merge_mode == "concat":
            output = ops.concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) * 0.5
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        shape = self.forward_layer.compute_output_shape(tuple(input_shape))
        state_shapes = []
        if self.return_state:
            shape, state_shapes = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            out = tuple(shape)[:-1] + (shape[-1] * 2,)
            outputs = [out]
        elif self.merge_mode is None:
            outputs = [tuple(shape), tuple(shape)]
        else:
            outputs = [tuple(shape)]
        if self.return_state:
            return outputs + state_shapes * 2
        return outputs[0] if len(outputs) == 1 else outputs

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            n_states = len(self.forward_layer.states) * 2
            return masks + [None] * n_states
        return masks[0] if len(masks) == 1 else masks

    def reset_states(self, states=None):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        if self._original_backward is not None:
            config["backward_layer"] = _serialize_layer(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        template = config.pop("layer")
        if isinstance(template, dict):  # only a template for the two directions: never built, holds no weights
            template = {key: value for key, value in template.items() if key != "build_config"}
        layer = deserialize_layer(template, custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)
