"""``keras.Sequential``: a plain stack of layers, one input and one output.

When the input shape is known (``input_shape=`` on the first layer, a ``keras.Input`` or an
``InputLayer`` added first, or ``build(shape)``), every ``add`` connects the layer symbolically,
so output shapes and ``summary()`` are available at once. Otherwise the graph is built on the
first data the model sees (``fit``, ``predict`` or a call), from that data's shape.

>>> from featherflow import keras
>>> model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,)), keras.layers.Dense(2)])
>>> model.output_shape
(None, 2)
>>> model.pop(); model.output_shape
(None, 4)
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow.core import Tensor
from featherflow.core.runtime import state as runtime
from featherflow.keras.layers.base import Layer, flatten
from featherflow.keras.layers.input_layer import Input, InputLayer
from featherflow.keras.layers.node import KerasTensor
from featherflow.keras.models.functional import Functional, init_graph, run_graph
from featherflow.keras.models.model import Model


def _input_spec_of_first_layer(layer):
    """``(batch_shape, dtype)`` a first layer declares (``input_shape=`` or a nested model's input), or None."""
    if isinstance(layer, Model) and layer.inputs and len(layer.inputs) == 1:
        return layer.inputs[0].shape, layer.inputs[0].dtype.name
    if isinstance(layer, Sequential) and layer._seq_layers:
        return _input_spec_of_first_layer(layer._seq_layers[0])
    shape = getattr(layer, "_batch_input_shape", None)
    if shape is None:
        return None
    dtype = "int32" if layer._keeps_int_inputs() else layer.dtype
    return tuple(shape), dtype


class Sequential(Functional):
    """A linear stack of layers.

    Args:
        layers: optional list of layers to add, in order.
        name: the model's name (default ``sequential``, ``sequential_1``, ...).

    ``model.layers`` lists the added layers (not the automatic ``InputLayer``).
    """

    def __init__(self, layers=None, name=None, **kwargs):
        Model.__init__(self, name=name, **kwargs)
        self._seq_layers: list = []
        self._seq_outputs: list = []  # symbolic output of each layer once the graph exists
        self._input_tensor = None
        self._has_explicit_input_shape = False
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    @property
    def layers(self) -> list:
        return [layer for layer in self._seq_layers]

    # -- building the stack -------------------------------------------------------------------
    def add(self, layer) -> None:
        """Add a layer on top of the stack (a ``keras.Input`` tensor sets the input shape)."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None and isinstance(
                layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Received: layer={layer!r} of type "
                            f"{type(layer)}.")
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_tensor is not None:
                raise ValueError("An InputLayer (or keras.Input) can only be the first layer of a Sequential model. "
                                 f'Received it after {len(self._seq_layers)} layer(s) in "{self.name}".')
            self._input_tensor = layer._inbound_nodes[0].outputs
            self._has_explicit_input_shape = True
            self._rebuild()
            return
        for existing in self._seq_layers:
            if existing.name == layer.name:
                raise ValueError(
                    f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is "
                    "already the name of a layer in this model. Update the `name` argument to pass a unique name."
                )
        if not self._seq_layers and self._input_tensor is None:
            spec = _input_spec_of_first_layer(layer)
            if spec is not None:
                self._input_tensor = Input(batch_shape=spec[0], dtype=spec[1], name=f"{layer.name}_input")
                self._has_explicit_input_shape = True
        self._seq_layers.append(layer)
        if self._input_tensor is not None:
            previous = self._seq_outputs[-1] if self._seq_outputs else self._input_tensor
            try:
                output = layer(previous)
            except Exception:
                self._seq_layers.pop()
                raise
            if len(flatten(output)) != 1:
                self._seq_layers.pop()
                raise ValueError("All layers in a Sequential model should have a single output tensor. For "
                                 "multi-output layers, use the functional API.")
            self._seq_outputs.append(flatten(output)[0])
            self._rebuild()
        else:
            object.__setattr__(self, "_layers", list(self._seq_layers))
            self.built = False
            self._plan = None

    def pop(self) -> None:
        """Remove the last layer."""
        if not self._seq_layers:
            raise TypeError("There are no layers in the model.")
        self._seq_layers.pop()
        if self._seq_outputs:
            self._seq_outputs.pop()
        if not self._seq_layers:
            self._reset_graph()
            return
        if self._input_tensor is not None:
            self._rebuild()
        else:
            object.__setattr__(self, "_layers", list(self._seq_layers))
            self._plan = None

    def _reset_graph(self) -> None:
        object.__setattr__(self, "_layers", [])
        self._is_graph_network = False
        self.inputs = None
        self.outputs = None
        self.built = False
        self._plan = None
        self._seq_outputs = []
        if not self._has_explicit_input_shape:
            self._input_tensor = None

    def _rebuild(self) -> None:
        output = self._seq_outputs[-1] if self._seq_outputs else self._input_tensor
        init_graph(self, self._input_tensor, output)
        self._reset_compiled_plans()

    def build(self, input_shape=None) -> None:
        """Build the graph for inputs of ``input_shape`` (batch axis included, ``None`` allowed)."""
        if self._is_graph_network:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        input_shape = tuple(input_shape)
        self._build_graph_for(input_shape, None)

    def _build_graph_for(self, batch_shape, dtype) -> None:
        if not self._seq_layers:
            raise ValueError(f'Sequential model "{self.name}" has no layers; add layers before using it.')
        first = self._seq_layers[0]
        if dtype is None:
            dtype = "int32" if first._keeps_int_inputs() else first.dtype
        self._input_tensor = Input(batch_shape=(None,) + tuple(batch_shape[1:]), dtype=dtype,
                                   name=f"{first.name}_input")
        outputs = []
        x = self._input_tensor
        for layer in self._seq_layers:
            x = layer(x)
            if len(flatten(x)) != 1:
                raise ValueError("All layers in a Sequential model should have a single output tensor. For "
                                 "multi-output layers, use the functional API.")
            x = flatten(x)[0]
            outputs.append(x)
        self._seq_outputs = outputs
        self._build_input_shape = tuple(batch_shape)
        self._rebuild()

    def _build_for_data(self, shape, dtype) -> None:
        """The deferred build on the first data. Inside a shape inference (a custom layer's ``call`` run on dummy
        data while a functional model is built) the middle axes' sizes are placeholders: the graph takes any
        size there (as tf.keras's symbolic trace does) unless some layer needs them fixed (Flatten + Dense)."""
        if runtime.inferring_shapes and len(shape) > 2:
            try:
                self._build_graph_for((None,) * (len(shape) - 1) + tuple(shape[-1:]), dtype)
                return
            except (ValueError, TypeError):
                pass
        self._build_graph_for(shape, dtype)

    def _maybe_build(self, input_shapes) -> None:
        # Deferred build happens in `call`, where the data's dtype is known too.
        pass

    def call(self, inputs, training=None, mask=None):
        if not self._is_graph_network:
            if not self._seq_layers:
                raise ValueError(f'Sequential model "{self.name}" has no layers; add layers before calling it.')
            leaves = flatten(inputs)
            if len(leaves) != 1:
                # Keras runs a multi-input first layer eagerly, layer by layer.
                x = inputs
                for layer in self._seq_layers:
                    x = layer(x, training=training)
                return x
            x = leaves[0]
            arr = x.value if isinstance(x, Tensor) else np.asarray(x)
            dtype = arr.dtype.name if arr.dtype.kind in "iub" and self._seq_layers[0]._keeps_int_inputs() else None
            self._build_for_data(arr.shape, dtype)
            self.built = True
            if "_pending_restores" in self.__dict__:
                self._run_pending_restores()
        return run_graph(self, inputs, training, mask)

    # -- legacy prediction helpers ---------------------------------------------------------------
    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: ``argmax`` of ``predict`` (or ``> 0.5`` for a single sigmoid unit). Deprecated."""
        warnings.warn(
            "`model.predict_classes()` is deprecated and was removed from tf.keras. Please use instead: "
            "`np.argmax(model.predict(x), axis=-1)` if your model does multi-class classification (e.g. it uses "
            "a `softmax` last-layer activation), or `(model.predict(x) > 0.5).astype(\"int32\")` if your model "
            "does binary classification (e.g. it uses a `sigmoid` last-layer activation).",
            DeprecationWarning, stacklevel=2)
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size=32, verbose=0):
        """The model's probability outputs (``predict``). Deprecated."""
        warnings.warn("`model.predict_proba()` is deprecated and was removed from tf.keras. Please use "
                      "`model.predict()` instead.", DeprecationWarning, stacklevel=2)
        preds = self.predict(x, batch_size=batch_size, verbose=verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).", stacklevel=2)
        return preds

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from featherflow.keras.saving.serialization_lib import serialize_keras_object  # Keras's full entries

        layer_configs = []
        if self._has_explicit_input_shape and self._input_tensor is not None:
            input_layer = self._input_tensor._keras_history[0]
            layer_configs.append(serialize_keras_object(input_layer))
        for layer in self._seq_layers:
            layer_configs.append(serialize_keras_object(layer))
        config = {"name": self.name, "layers": layer_configs}
        if self._build_input_shape is not None:
            config["build_input_shape"] = self._build_input_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from featherflow.keras.models.functional import _deserialize_layer

        model = cls(name=config.get("name"))
        for entry in config.get("layers", []):
            model.add(_deserialize_layer(entry, custom_objects))
        shape = config.get("build_input_shape")
        if not model._is_graph_network and shape is not None:
            model.build(shape)
        return model
