"""``keras.models.clone_model``: the same architecture with new, freshly initialized layers.

Each layer is recreated from its config by ``clone_function`` (default:
``layer.__class__.from_config(layer.get_config())``); a Sequential model gets the cloned layers in
order, a functional model is re-wired node by node (shared layers stay shared), and a subclassed
model is rebuilt with ``from_config(get_config())``. Weights are not copied (as in Keras): use
``clone.set_weights(model.get_weights())`` for that.

>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, name="d")])
>>> clone = keras.models.clone_model(model)
>>> clone.layers[0].name, clone.layers[0] is model.layers[0], clone.count_params()
('d', False, 8)
"""

from __future__ import annotations

from featherflow.keras.layers.base import flatten, map_structure


def _default_clone(layer):
    return layer.__class__.from_config(layer.get_config())


def _sequential_class():
    from featherflow.keras.models.sequential import Sequential

    return Sequential


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the architecture of ``model`` and newly created layers.

    Args:
        model: a Sequential, functional or subclassed model.
        input_tensors: optional ``keras.Input`` tensor(s) to build the clone on (functional and
            Sequential models).
        clone_function: ``layer -> new layer`` applied to every layer (not to the inputs), e.g. to
            change a config or keep a layer shared: ``lambda layer: layer`` reuses it.
    """
    from featherflow import keras
    from featherflow.keras.models.model import Model

    if not isinstance(model, Model):
        raise ValueError(f"Expected `model` argument to be a `Model` instance. Received: model={model!r}")
    clone_function = clone_function or _default_clone
    if isinstance(model, _sequential_class()):
        return _clone_sequential(model, input_tensors, clone_function, keras)
    if getattr(model, "_is_graph_network", False):
        return _clone_functional(model, input_tensors, clone_function, keras)
    if input_tensors is not None:
        raise ValueError("`input_tensors` can only be used with functional and Sequential models; this is a subclassed "
                         f"model: {model!r}")
    config = model.get_config()
    try:
        return model.__class__.from_config(config)
    except TypeError as e:
        raise ValueError(f"Cannot clone the subclassed model {model.name!r}: it must implement `get_config()` (and, if "
                         f"needed, `from_config()`) returning its constructor arguments. Error: {e}") from e


def _clone_sequential(model, input_tensors, clone_function, keras):
    layers = [clone_function(layer) for layer in model.layers]
    first = []
    if input_tensors is not None:
        tensors = flatten(input_tensors)
        if len(tensors) != 1:
            raise ValueError(f"To clone a Sequential model, pass a single input tensor. Received: {input_tensors!r}")
        first = [keras.layers.InputLayer(input_tensor=tensors[0])]
    elif getattr(model, "_has_explicit_input_shape", False) and model.inputs:
        source = model.inputs[0]
        first = [keras.Input(batch_shape=source.shape, dtype=source.dtype.name)]
    clone = _sequential_class()(first + layers, name=model.name)
    build_shape = getattr(model, "_build_input_shape", None)
    if not first and build_shape is not None and not clone.built:
        clone.build(build_shape)
    return clone


def _clone_functional(model, input_tensors, clone_function, keras):
    from featherflow.keras.layers.node import KerasTensor

    new_of: dict = {}  # id(old KerasTensor) -> new KerasTensor
    if input_tensors is not None:
        given = flatten(input_tensors)
        if len(given) != len(model.inputs):
            raise ValueError(f"The model has {len(model.inputs)} inputs but {len(given)} input tensors were given.")
        for old, new in zip(model.inputs, given):
            if not isinstance(new, KerasTensor):
                raise ValueError(f"`input_tensors` must be `keras.Input` tensors. Received: {new!r:.80}")
            new_of[id(old)] = new
    else:
        for old in model.inputs:
            layer = old._keras_history[0]
            new_of[id(old)] = keras.Input(batch_shape=old.shape, dtype=old.dtype.name, name=layer.name,
                                          sparse=getattr(old, "sparse", False))
    clones: dict = {}

    def swap(value):
        return new_of[id(value)] if isinstance(value, KerasTensor) else value

    for node in model._graph_nodes:
        layer = node.layer
        if id(layer) not in clones:
            clones[id(layer)] = clone_function(layer)
        new_layer = clones[id(layer)]
        inputs = map_structure(swap, node.call_inputs)
        args = tuple(map_structure(swap, tuple(node.call_args)))
        kwargs = map_structure(swap, dict(node.call_kwargs))
        outputs = new_layer(inputs, *args, **kwargs)
        for old, new in zip(node.output_tensors, flatten(outputs)):
            new_of[id(old)] = new
    new_inputs = map_structure(swap, model._nested_inputs)
    new_outputs = map_structure(swap, model._nested_outputs)
    return keras.Model(new_inputs, new_outputs, name=model.name)
