"""Functional models: a graph of layer calls (``Node``s) from ``keras.Input`` tensors to outputs.

``keras.Model(inputs, outputs)`` walks the nodes back from the outputs, orders them by depth
(as Keras does, so ``model.layers`` and ``summary()`` match tf.keras) and compiles an execution
plan: a list of layer calls over numbered value slots. Running the model executes the plan.
Layers that cannot see masks, activity regularizers or dtype casts are called through
``layer.call`` directly, skipping ``Layer.__call__``'s bookkeeping (the plan was validated
when the graph was built); the others go through ``Layer.__call__``.

>>> from featherflow import keras
>>> a = keras.Input(shape=(3,), name="a")
>>> b = keras.Input(shape=(2,), name="b")
>>> h = keras.layers.Dense(4, name="h")(a)
>>> joined = keras.layers.Concatenate(name="joined")([h, b])
>>> out = keras.layers.Dense(1, name="out")(joined)
>>> model = keras.Model([a, b], out)
>>> [layer.name for layer in model.layers]
['a', 'h', 'b', 'joined', 'out']
>>> model({"a": [[1.0, 2.0, 3.0]], "b": [[0.0, 0.0]]}).shape
(1, 1)
"""

from __future__ import annotations

import functools

import numpy as np

from featherflow import ops
from featherflow.core import Tensor
from featherflow.core.runtime import state as _runtime
from featherflow.keras.layers.base import Layer, flatten, map_structure
from featherflow.keras.layers.input_layer import InputLayer
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.node import KerasTensor, Node
from featherflow.keras.models.model import Model


def _unwrap_single_list(structure):
    # Keras treats `[tensor]` like `tensor` for a model's inputs and outputs.
    if isinstance(structure, list) and len(flatten(structure)) == 1:
        return structure[0]
    return structure


def _check_keras_tensors(structure, what: str, model_name: str) -> list:
    flat = flatten(structure)
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise ValueError(
                f"The model's {what} must be symbolic tensors made with `keras.Input` and layers applied to them. "
                f'Received for model "{model_name}": {t!r:.100} (of type {type(t).__name__}). Build the graph '
                "with `x = keras.Input(shape)` and `y = SomeLayer(...)(x)`, then call `keras.Model(x, y)`."
            )
        if t._keras_history is None:
            raise ValueError(f"Tensor {t!r} has no layer history; it must come from keras.Input or a layer call.")
    return flat


def _map_graph(inputs_flat, outputs_flat):
    """Nodes by depth and layers in Keras's order; raises on cycles and disconnected graphs."""
    input_ids = {id(t) for t in inputs_flat}
    finished, in_progress = set(), set()
    nodes_in_decreasing_depth = []
    layer_indices: dict = {}
    layer_objects: dict = {}

    def node_of(tensor):
        layer, node_index, _ = tensor._keras_history
        return layer, layer._inbound_nodes[node_index]

    def visit(tensor, stop_here):
        layer, node = node_of(tensor)
        if stop_here and not isinstance(layer, InputLayer):
            return  # an intermediate tensor used as a model input: its producer is not part of the model
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f'The tensor {tensor!r} at layer "{layer.name}" is part of a cycle.')
        if id(layer) not in layer_indices:
            layer_indices[id(layer)] = len(layer_indices)
            layer_objects[id(layer)] = layer
        in_progress.add(id(node))
        if not stop_here:
            for parent in node.keras_inputs:
                visit(parent, id(parent) in input_ids)
        in_progress.discard(id(node))
        finished.add(id(node))
        nodes_in_decreasing_depth.append((node, stop_here))

    for t in outputs_flat:
        visit(t, id(t) in input_ids)

    node_depth: dict = {}
    layer_depth: dict = {}
    input_nodes = set()
    for node, stop_here in reversed(nodes_in_decreasing_depth):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        if stop_here:
            input_nodes.add(id(node))
            continue
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))

    nodes_by_depth: dict = {}
    for node, _ in nodes_in_decreasing_depth:
        nodes_by_depth.setdefault(node_depth[id(node)], []).append(node)
    layers_by_depth: dict = {}
    for layer_id, depth in layer_depth.items():
        layers_by_depth.setdefault(depth, []).append(layer_objects[layer_id])
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda lay: layer_indices[id(lay)]))

    # Check that every node can be computed from the inputs.
    computable = set(input_ids)
    accessed = []
    ordered_nodes = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if id(node) in input_nodes or node.is_input:
                # A model input's producer, or an Input not passed to the model (its consumers then
                # report the disconnection below).
                continue
            for t in node.keras_inputs:
                if id(t) not in computable:
                    raise ValueError(
                        f'Graph disconnected: cannot obtain value for tensor {t!r} at layer "{node.layer.name}". '
                        f"The following previous layers were accessed without issue: {accessed}"
                    )
            computable.update(id(t) for t in node.output_tensors)
            accessed.append(node.layer.name)
            ordered_nodes.append(node)
    return nodes_by_depth, layers, ordered_nodes


def init_graph(model: Model, inputs, outputs) -> None:
    """Turn ``model`` into a graph network from symbolic ``inputs`` to ``outputs``."""
    inputs = _unwrap_single_list(inputs)
    outputs = _unwrap_single_list(outputs)
    if isinstance(inputs, dict):
        inputs = dict(inputs)
    inputs_flat = _check_keras_tensors(inputs, "inputs", model.name)
    outputs_flat = _check_keras_tensors(outputs, "outputs", model.name)
    if len({id(t) for t in inputs_flat}) != len(inputs_flat):
        raise ValueError(f"The list of inputs passed to the model \"{model.name}\" contains the same input multiple "
                         f"times. All inputs should only appear once. Received: inputs={inputs_flat}")
    nodes_by_depth, layers, ordered_nodes = _map_graph(inputs_flat, outputs_flat)
    counts: dict = {}
    for layer in layers:
        counts[layer.name] = counts.get(layer.name, 0) + 1
    for name, count in counts.items():
        if count > 1:
            raise ValueError(f'The name "{name}" is used {count} times in the model. All layer names should be '
                             "unique.")
    model._is_graph_network = True
    model._nested_inputs = inputs
    model._nested_outputs = outputs
    model.inputs = inputs_flat
    model.outputs = outputs_flat
    model._nodes_by_depth = nodes_by_depth
    model._graph_nodes = ordered_nodes
    object.__setattr__(model, "_layers", [layer for layer in layers if layer is not model])
    model._input_layers = [t._keras_history[0] for t in inputs_flat]
    model._output_layers = [t._keras_history[0] for t in outputs_flat]
    if isinstance(inputs, dict):
        model._input_names = list(sorted(inputs))
    else:
        model._input_names = [t._keras_history[0].name for t in inputs_flat]
    if isinstance(outputs, dict):
        model._output_names = list(sorted(outputs))
    else:
        model._output_names = [t._keras_history[0].name for t in outputs_flat]
    model.input_spec = [InputSpec(shape=t.shape, allow_last_axis_squeeze=True, name=n)
                        for t, n in zip(inputs_flat, model._input_names)]
    if len(model.input_spec) == 1:
        model.input_spec = model.input_spec[0]
    model._plan = None
    model.built = True
    # The node linking the model's own inputs to its outputs (Keras's node 0 of a functional model).
    self_node = Node(model, inputs, (), {}, outputs)
    if model._inbound_nodes and model._inbound_nodes[0].layer is model and getattr(model, "_self_node", None) \
            is model._inbound_nodes[0]:
        model._inbound_nodes[0] = self_node
    else:
        model._inbound_nodes.insert(0, self_node)
    model._self_node = self_node


# -- execution ------------------------------------------------------------------------------------
class _Step:
    __slots__ = ("layer", "fn", "direct", "has_training", "in_slot", "in_struct", "args", "kwargs",
                 "out_slots", "single_out", "fixed_training")


class GraphPlan:
    """The nodes of a functional model as a flat list of calls over value slots."""

    def __init__(self, model: Model):
        slots: dict = {}

        def slot(t):
            key = id(t)
            if key not in slots:
                slots[key] = len(slots)
            return slots[key]

        self.input_slots = [slot(t) for t in model.inputs]
        may_mask = set()  # slots whose value may carry a Keras mask
        steps = []
        for node in model._graph_nodes:
            layer = node.layer
            step = _Step()
            step.layer = layer
            step.has_training = layer._call_has_training
            in_masked = any(slot(t) in may_mask for t in node.keras_inputs)
            dtypes_ok = all(
                t.dtype.name == layer.dtype or (t.dtype.kind in "iub" and layer._keeps_int_inputs())
                for t in node.input_tensors)
            step.direct = (
                layer.built and not isinstance(layer, Model) and not in_masked and dtypes_ok
                and layer.activity_regularizer is None and type(layer).compute_mask is Layer.compute_mask
                and type(layer).__call__ is Layer.__call__
            )
            step.fn = layer.call if step.direct else layer
            plain = isinstance(node.call_inputs, KerasTensor) and not node.call_args and not any(
                isinstance(v, KerasTensor) for v in flatten(dict(node.call_kwargs)))
            step.in_slot = slot(node.call_inputs) if plain else None
            step.in_struct = None if plain else map_structure(
                lambda t: _SlotRef(slot(t)) if isinstance(t, KerasTensor) else t, node.call_inputs)
            step.args = tuple(map_structure(lambda t: _SlotRef(slot(t)) if isinstance(t, KerasTensor) else t,
                                            tuple(node.call_args)))
            step.kwargs = dict(node.call_kwargs)
            # `layer(x, training=False)` in the graph: that call runs in that mode whatever fit/predict say
            step.fixed_training = step.kwargs.pop("training", None)
            if not plain:
                step.kwargs = map_structure(lambda t: _SlotRef(slot(t)) if isinstance(t, KerasTensor) else t,
                                            step.kwargs)
            step.out_slots = [slot(t) for t in node.output_tensors]
            step.single_out = isinstance(node.outputs, KerasTensor)
            produces_mask = type(layer).compute_mask is not Layer.compute_mask or isinstance(layer, Model)
            if produces_mask or (in_masked and layer.supports_masking):
                may_mask.update(step.out_slots)
            steps.append(step)
        self.steps = steps
        self.num_slots = len(slots)
        self.output_slots = [slot(t) for t in model.outputs]
        self.nested_outputs = map_structure(lambda t: _SlotRef(slot(t)), model._nested_outputs)
        self.single_output = isinstance(model._nested_outputs, KerasTensor)
        self.input_dtypes = [t.dtype for t in model.inputs]
        self.flat_layers = [model] + model._flat_layers()
        self.input_shapes = [t.shape for t in model.inputs]
        self._single_shape = tuple(self.input_shapes[0][1:]) if len(self.input_shapes) == 1 else None
        self._single_fixed = self._single_shape is not None and None not in self._single_shape
        # A plain chain (each layer feeds only the next, one input, one output) runs as a list of
        # callables with the training flag bound in: the cheapest possible loop.
        self._chains: dict = {}
        self.is_chain = self._check_chain()
        #: What array programs derive from the graph, computed once per plan (see ``memo``).
        self.derived: dict = {}

    def _check_chain(self) -> bool:
        if len(self.input_slots) != 1 or not self.single_output or not self.steps:
            return False
        current = self.input_slots[0]
        for step in self.steps:
            if step.in_slot != current or not step.single_out or (step.kwargs and step.direct) or \
                    step.fixed_training is not None:
                return False
            current = step.out_slots[0]
        return current == self.output_slots[0]

    def _chain(self, training) -> list:
        fns = []
        for step in self.steps:
            if step.direct:
                fns.append(functools.partial(step.fn, training=training) if step.has_training else step.fn)
            else:
                fns.append(functools.partial(step.fn, training=training, **step.kwargs))
        self._chains[training] = fns
        return fns

    def memo(self, key: str, build):
        """``build(self)``, computed once per plan and kept with it (what is derived from the graph:
        ``chain.plan_chain``, ``steps.CompiledForward``)."""
        try:
            return self.derived[key]
        except KeyError:
            value = self.derived[key] = build(self)
            return value

    def accepts_all(self, values) -> bool:
        """Whether each input value's shape (after the batch axis) fits the model's inputs."""
        if len(values) != len(self.input_shapes):
            return False
        for v, expected in zip(values, self.input_shapes):
            shape = v.shape[1:]
            if len(shape) != len(expected) - 1 or any(e is not None and e != d for e, d in zip(expected[1:], shape)):
                return False
        return True

    def accepts_single(self, x) -> bool:
        """Whether the array ``x`` fits the model's only input (shape after the batch axis)."""
        expected = self._single_shape
        if expected is None:
            return False
        shape = x.shape[1:]
        if self._single_fixed:
            return shape == expected
        return len(shape) == len(expected) and all(e is None or e == d for e, d in zip(expected, shape))

    def run(self, input_values: list, training):
        """Run the plan on tensors (one per model input, already of the inputs' dtypes)."""
        if self.is_chain:
            fns = self._chains.get(training)
            if fns is None:
                fns = self._chain(training)
            x = input_values[0]
            for fn in fns:
                x = fn(x)
            return x
        values = [None] * self.num_slots
        for s, v in zip(self.input_slots, input_values):
            values[s] = v
        outer_training = training
        for step in self.steps:
            training = outer_training if step.fixed_training is None else step.fixed_training
            if step.in_slot is not None:
                x = values[step.in_slot]
                if step.direct:
                    out = step.fn(x, training=training) if step.has_training else step.fn(x)
                else:
                    out = step.fn(x, training=training, **step.kwargs) if step.kwargs else step.fn(
                        x, training=training)
            else:
                def resolve(v):
                    return values[v.slot] if isinstance(v, _SlotRef) else v

                x = map_structure(resolve, step.in_struct)
                args = map_structure(resolve, step.args)
                kwargs = map_structure(resolve, step.kwargs)
                if step.direct and step.has_training:
                    kwargs["training"] = training
                elif not step.direct:
                    kwargs["training"] = training
                out = step.fn(x, *args, **kwargs)
            if step.single_out:
                values[step.out_slots[0]] = out
            else:
                for s, v in zip(step.out_slots, flatten(out)):
                    values[s] = v
        if self.single_output:
            return values[self.output_slots[0]]
        return map_structure(lambda ref: values[ref.slot], self.nested_outputs)


class _SlotRef:
    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


def get_plan(model: Model) -> GraphPlan:
    plan = model._plan
    if plan is None:
        plan = model._plan = GraphPlan(model)
    return plan


def _cast_input(x, dtype):
    if isinstance(x, Tensor):
        arr = x.value
        if arr.dtype == dtype:
            return x
        out = Tensor(arr.astype(dtype))
        out._keras_mask = x._keras_mask
        return out
    arr = np.asarray(x)
    return Tensor(arr if arr.dtype == dtype else arr.astype(dtype))


def flatten_model_inputs(model: Model, inputs) -> list:
    """The model's inputs as a flat list in ``model.inputs`` order, from a tensor, list or dict."""
    n = len(model.inputs)
    if isinstance(inputs, dict):
        names = model._input_names
        missing = [name for name in names if name not in inputs]
        if missing:
            raise ValueError(
                f'Missing data for input "{missing[0]}". You passed a data dictionary with keys {sorted(inputs)}. '
                f"Expected the following keys: {names}"
            )
        return [inputs[name] for name in names]
    if isinstance(inputs, (list, tuple)) and n > 1:
        if len(inputs) != n:
            raise ValueError(
                f'Layer "{model.name}" expects {n} input(s), but it received {len(inputs)} input tensors. '
                f"Inputs received: {[getattr(x, 'shape', type(x).__name__) for x in inputs]}"
            )
        return list(inputs)
    if n == 1:
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1 and not isinstance(inputs[0], (int, float)):
            return [inputs[0]]
        return [inputs]
    raise ValueError(f'Layer "{model.name}" expects {n} inputs, but it received 1 input tensor. Pass a list or a '
                     f"dict keyed by input name ({model._input_names}).")


def conform_input(x, reference_shape):
    """tf.keras's rule for an input against its ``keras.Input``: a trailing size-1 axis more is squeezed, one
    less is added when the Input's last axis has size 1 (so ``(N,)`` data feeds ``Input(shape=(1,))``).

    >>> conform_input(np.zeros(4), (None, 1)).shape
    (4, 1)
    """
    if not isinstance(x, (np.ndarray, Tensor)):
        return x
    rank = len(reference_shape)
    if x.ndim == rank + 1 and x.shape[-1] == 1:
        return x[..., 0] if isinstance(x, np.ndarray) else ops.squeeze(x, -1)
    if x.ndim == rank - 1 and reference_shape[-1] == 1:
        return x[..., None] if isinstance(x, np.ndarray) else ops.expand_dims(x, -1)
    return x


def conform_inputs(model: Model, inputs):
    """``inputs`` (one array, a list, or a dict by input name) with each leaf conformed to its Input."""
    shapes = [tuple(t.shape) for t in model.inputs]
    if isinstance(inputs, dict):
        names = model._input_names
        return {k: conform_input(v, shapes[names.index(k)]) if k in names else v for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)) and len(inputs) == len(shapes) and len(shapes) > 1:
        return type(inputs)(conform_input(v, s) for v, s in zip(inputs, shapes))
    if len(shapes) == 1 and not isinstance(inputs, (list, tuple)):
        return conform_input(inputs, shapes[0])
    return inputs


def run_graph(model: Model, inputs, training=None, mask=None):
    """Run ``model``'s graph on real inputs (a tensor, list or dict keyed by input name)."""
    plan = get_plan(model)
    flat = flatten_model_inputs(model, inputs)
    values = [_cast_input(x, dtype) for x, dtype in zip(flat, plan.input_dtypes)]
    if mask is not None:
        for v, m in zip(values, flatten(mask) if isinstance(mask, (list, tuple, dict)) else [mask]):
            if m is not None:
                v._keras_mask = m
    if training is None:
        training = _runtime.training
    return plan.run(values, training)


class Functional(Model):
    """A model defined by a graph of layers: ``keras.Model(inputs, outputs)``.

    Args:
        inputs: ``keras.Input`` tensor(s): one, a list, or a dict keyed by name.
        outputs: tensor(s) computed from them by layer calls: one, a list, or a dict.
        name: the model's name.
        trainable: whether ``fit`` updates its weights.
    """

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, name=name, trainable=trainable, **kwargs)


# -- config -----------------------------------------------------------------------------------------
def functional_config(model: Model) -> dict:
    """Keras's functional config: layers with their inbound nodes, input and output layers."""
    from featherflow.keras.saving import graph_config  # the config forms of tf.keras 2.x and Keras 3

    return graph_config.functional_config(model)


def _deserialize_layer(entry, custom_objects):
    from featherflow.keras.saving.serialization_lib import deserialize_keras_object

    layer_config = {key: entry[key] for key in ("module", "class_name", "config", "registered_name", "build_config")
                    if key in entry}
    return deserialize_keras_object(layer_config, custom_objects)


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild a functional model from a tf.keras 2.x, Keras 3 or featherflow config."""
    from featherflow.keras.saving import graph_config

    return graph_config.functional_from_config(cls, config, custom_objects)
