"""The functional API's graph: ``KerasTensor`` (a symbolic tensor) and ``Node`` (one layer call).

Calling a layer on ``KerasTensor`` inputs records a ``Node`` and returns new
``KerasTensor``s whose ``_keras_history`` points back at the layer; a functional
``Model`` walks these nodes to run the graph on real data.

>>> from featherflow import keras
>>> x = keras.Input(shape=(4,))
>>> y = keras.layers.Dense(3)(x)
>>> y.shape
(None, 3)
"""

from __future__ import annotations

import numpy as np

from featherflow.core import Tensor, pause_all_tapes
from featherflow.core.runtime import inferring_shapes_scope, training_scope
from featherflow.core.string_tensor import STRING, is_string_dtype
from featherflow.core.tensor import TensorShape
from featherflow.keras.layers.base import flatten, map_structure
from featherflow.keras.layers.input_spec import check_input_compatibility


class KerasTensor:
    """A symbolic tensor: shape (``None`` for unknown sizes, batch first), dtype, and the layer
    call that produced it."""

    _mask_ndim = None  # the rank of its Keras mask when the layer call that made it produces one

    def __init__(self, shape, dtype="float32", name=None, keras_history=None, sparse=False):
        self.shape = TensorShape(shape)  # a tuple with TensorFlow's helpers: `inputs.shape.as_list()`
        self.dtype = STRING if is_string_dtype(dtype) else np.dtype(dtype)
        self.name = name
        self._keras_history = keras_history  # (layer, node_index, tensor_index)
        self.sparse = sparse

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self):
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    def __repr__(self) -> str:
        creator = f" (created by layer '{self._keras_history[0].name}')" if self._keras_history else ""
        dtype = "string" if self.dtype.kind == "O" else self.dtype.name
        return f"<KerasTensor: shape={self.shape} dtype={dtype}{creator}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "You are passing a symbolic KerasTensor (from keras.Input or a layer applied to one) to a NumPy "
            "or featherflow function. Symbolic tensors only flow through Keras layers; wrap the computation "
            "in a keras.layers.Lambda layer or a custom layer."
        )

    def __hash__(self):
        return id(self)


class Node:
    """One call of ``layer`` on symbolic inputs: the inputs, extra call arguments and outputs."""

    def __init__(self, layer, call_inputs, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_inputs = call_inputs  # nested structure of KerasTensors as passed to the layer
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.outputs = outputs
        self.input_tensors = [t for t in flatten(call_inputs) if isinstance(t, KerasTensor)]
        # Every symbolic tensor the call depends on: the inputs plus any passed in other arguments
        # (e.g. an RNN's ``initial_state``); the functional model runs a node once all are known.
        self.keras_inputs = self.input_tensors + [
            t for t in flatten([list(call_args), dict(call_kwargs)]) if isinstance(t, KerasTensor)]
        self.output_tensors = flatten(outputs)

    @property
    def parent_nodes(self) -> list:
        parents = []
        for t in self.keras_inputs:
            if t._keras_history is not None:
                node = t.node
                if not any(node is p for p in parents):
                    parents.append(node)
        return parents

    @property
    def is_input(self) -> bool:
        return not self.keras_inputs

    def iterate_inbound(self):
        """``(inbound_layer, node_index, tensor_index, tensor)`` for each symbolic input of this call."""
        for t in self.keras_inputs:
            layer, node_index, tensor_index = t._keras_history
            yield layer, node_index, tensor_index, t


def _dummy_array(shape, dtype, fill):
    batch_fill, axis_fill = fill
    dims = tuple((batch_fill if i == 0 else axis_fill) if d is None else d for i, d in enumerate(shape))
    kind = np.dtype(dtype).kind
    if kind in "OUS":  # strings of `fill` words, so axes a text layer derives from them vary like the others
        return np.full(dims, b" ".join([b"x"] * axis_fill), dtype=object)
    if kind in "iu":
        return np.zeros(dims, dtype=dtype)
    if kind == "b":
        return np.ones(dims, dtype=dtype)
    return np.full(dims, 0.5, dtype=dtype)


def _run_dummy(layer, specs, fill, call_args, call_kwargs):
    """Run ``layer.call`` on small dummy arrays shaped like ``specs`` (unknown sizes: ``fill`` = (batch axis,
    other axes))."""
    def make(spec):
        if isinstance(spec, KerasTensor):
            tensor = Tensor(_dummy_array(spec.shape, spec.dtype, fill))
            if spec._mask_ndim is not None:  # as the real data will be: masked (all True here)
                tensor._keras_mask = Tensor(np.ones(tensor.shape[:spec._mask_ndim], dtype=bool))
            return tensor
        return spec

    # the inputs as the layer's __call__ would convert them (an integer Input into Dense is cast to float)
    inputs = map_structure(lambda spec: layer._convert_input(make(spec)) if isinstance(spec, KerasTensor) else spec,
                           specs)
    call_args = map_structure(make, tuple(call_args))
    kwargs = map_structure(make, dict(call_kwargs))
    if layer._call_has_training:
        kwargs["training"] = False
    leaves = flatten(inputs)
    if layer._call_has_mask and "mask" not in kwargs and any(getattr(x, "_keras_mask", None) is not None
                                                            for x in leaves):
        kwargs["mask"] = leaves[0]._keras_mask if len(leaves) == 1 else map_structure(
            lambda x: getattr(x, "_keras_mask", None), inputs)  # as Layer.__call__ passes it
    # training=False and shape inference on (stateful layers keep no state from dummy runs), no tape
    with training_scope(False), inferring_shapes_scope(), pause_all_tapes():
        outputs = layer.call(inputs, *call_args, **kwargs)
        layer._set_output_masks(inputs, outputs, kwargs.get("mask"))  # so the symbolic outputs know their masks
    return outputs


class _Spec(tuple):
    """``(shape, dtype)`` of an output, with the rank of its Keras mask (``mask_ndim``, None without one)."""

    mask_ndim = None


# Sizes given to unknown axes in the two dummy runs: the batch axis stays small (it is never downsampled, and
# the runs cost what a batch of that size costs); other axes (time steps, image sides) get sizes large enough
# for kernels to fit and twice apart, so that strided convolutions and pooling still map them to different
# sizes (2 and 3 both pool to 1). When a run is still too small for the layer (a deep valid-padded stack),
# larger sizes are tried.
_DUMMY_FILLS = [((2, 16), (3, 32)), ((2, 64), (3, 128)), ((2, 512), (3, 1024))]


def _has_unknown_inner_axis(specs, call_args, call_kwargs) -> bool:
    tensors = flatten([specs, list(call_args), dict(call_kwargs)])
    return any(isinstance(t, KerasTensor) and None in tuple(t.shape)[1:] for t in tensors)


def infer_output_specs(layer, specs, call_args=(), call_kwargs=None):
    """Output shapes and dtypes of ``layer`` on symbolic ``specs``, by running it twice on dummy
    data with different sizes for unknown axes: an output axis whose size differs is unknown."""
    call_kwargs = call_kwargs or {}
    fills = _DUMMY_FILLS if _has_unknown_inner_axis(specs, call_args, call_kwargs) else _DUMMY_FILLS[:1]
    for attempt, (first_fill, second_fill) in enumerate(fills):
        try:
            first = _run_dummy(layer, specs, first_fill, call_args, call_kwargs)
            second = _run_dummy(layer, specs, second_fill, call_args, call_kwargs)
            break
        except ValueError:
            if attempt == len(fills) - 1:
                raise

    def spec_of(a, b):
        shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape))
        spec = _Spec((shape, a.dtype))
        mask = getattr(a, "_keras_mask", None)
        if mask is not None:
            spec.mask_ndim = np.ndim(mask.value if isinstance(mask, Tensor) else mask)
        return spec

    return _zip_structures(first, second, spec_of)


def _zip_structures(a, b, fn):
    if isinstance(a, dict):
        return {k: _zip_structures(a[k], b[k], fn) for k in a}
    if isinstance(a, (list, tuple)):
        return type(a)(_zip_structures(x, y, fn) for x, y in zip(a, b))
    if a is None:
        return None
    return fn(a, b)


def infer_output_shapes(layer, input_shape):
    """Output shape(s) of ``layer`` for ``input_shape`` via dummy runs (see ``infer_output_specs``)."""
    def is_shape(s):
        return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in s)

    if is_shape(input_shape):
        specs = KerasTensor(input_shape, layer.dtype)
    else:
        specs = [KerasTensor(s, layer.dtype) for s in input_shape]
    return _map_specs(lambda pair: pair[0], infer_output_specs(layer, specs))


def symbolic_call(layer, inputs, call_args, call_kwargs):
    """Apply ``layer`` to symbolic inputs: build it, check its input spec, infer the outputs and
    record a ``Node``."""
    leaves = [t for t in flatten(inputs) if isinstance(t, KerasTensor)]
    shapes = [t.shape for t in leaves]
    if not layer.built:
        layer._maybe_build(shapes)
    if layer.input_spec is not None:
        check_input_compatibility(layer.input_spec, shapes, layer.name)
    kwargs = {k: v for k, v in call_kwargs.items() if k != "training"}
    result = infer_output_specs(layer, inputs, call_args, kwargs)
    node_index = len(layer._inbound_nodes)
    counter = iter(range(1 << 30))

    def make(pair):
        shape, dtype = pair
        tensor = KerasTensor(shape, dtype, name=layer.name, keras_history=(layer, node_index, next(counter)))
        tensor._mask_ndim = getattr(pair, "mask_ndim", None)
        return tensor

    outputs = _map_specs(make, result)
    if call_kwargs.get("training") is not None:
        # an explicit mode (`base_model(x, training=False)`) is part of the graph: the call keeps it in fit
        kwargs["training"] = call_kwargs["training"]
    node = Node(layer, inputs, tuple(call_args), kwargs, outputs)
    layer._inbound_nodes.append(node)
    for t in leaves:
        if t._keras_history is not None:
            t._keras_history[0]._outbound_nodes.append(node)
    return outputs


def _map_specs(fn, result):
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], np.dtype):
        return fn(result)
    if isinstance(result, dict):
        return {k: _map_specs(fn, v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return type(result)(_map_specs(fn, v) for v in result)
    return result
