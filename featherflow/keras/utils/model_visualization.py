"""``model_to_dot`` and ``plot_model``: a model's layer graph as a pydot graph, and drawn to a file by graphviz.

``model_to_dot`` needs only pydot (extra ``pydot``: ``pip install "featherflow[pydot]"``); ``plot_model``
also needs graphviz's ``dot`` program (not a Python package: your system's package manager, or
https://graphviz.gitlab.io/download/). One node per layer, labelled ``name: ClassName`` (with the
input and output shapes, dtype, activation and trainability when asked), one edge per connection;
nested models are one node, or their layers with ``expand_nested``.

>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input((3,), name="x"), keras.layers.Dense(2, name="hidden")])
>>> dot = model_to_dot(model)
>>> sorted(node.get_label() for node in dot.get_nodes() if node.get_label())
['hidden: Dense', 'x: InputLayer']
"""

from __future__ import annotations

import os

_INSTALL = ('You must install pydot (`pip install pydot`, or `pip install "featherflow[pydot]"`) and install graphviz '
            "(see instructions at https://graphviz.gitlab.io/download/) for plot_model to work.")


def _pydot():
    try:
        import pydot
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc
    return pydot


def check_graphviz() -> bool:
    """Whether graphviz's ``dot`` program runs (pydot installed too)."""
    try:
        pydot = _pydot()
        pydot.Dot.create(pydot.Dot())
    except (ImportError, OSError, FileNotFoundError, AssertionError):
        return False
    return True


def _shape_text(shape) -> str:
    if isinstance(shape, list) and len(shape) == 1:
        shape = shape[0]
    return str(shape).replace("None", "?") if shape is not None else "?"


def _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable) -> str:
    class_name = type(layer).__name__
    label = f"{layer.name}: {class_name}" if show_layer_names else class_name
    if show_layer_activations and hasattr(layer, "activation") and layer.activation is not None:
        label += f"\n(activation: {getattr(layer.activation, '__name__', str(layer.activation))})"
    if show_dtype:
        label += f"\ndtype: {layer.dtype}"
    if show_shapes:
        try:
            out_shape = _shape_text(layer.output_shape)
        except AttributeError:
            out_shape = "multiple"
        try:
            in_shape = _shape_text(layer.input_shape)
        except AttributeError:
            in_shape = "multiple"
        label += f"\ninput: {in_shape}\noutput: {out_shape}"
    if show_trainable:
        label += f"\ntrainable: {'T' if layer.trainable else 'F'}"
    return label


def _graph_layers(model) -> list:
    layers = list(model.layers)
    if type(model).__name__ == "Sequential" and getattr(model, "inputs", None):
        input_layer = model.inputs[0]._keras_history[0]
        if not any(layer is input_layer for layer in layers):
            layers = [input_layer] + layers  # tf.keras draws the Sequential's input
    return layers


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=96, subgraph=False, layer_range=None, show_layer_activations=False,
                 show_trainable=False):
    """A ``pydot.Dot`` graph of ``model``'s layers (see the module docstring).

    Args:
        show_shapes / show_dtype / show_layer_activations / show_trainable: add them to the labels.
        show_layer_names: label with ``name: ClassName`` (else the class name only).
        rankdir: ``"TB"`` (top to bottom) or ``"LR"``.
        expand_nested: draw the layers of nested models inside a cluster.
        dpi: the drawing's resolution.
        subgraph: return a ``pydot.Cluster`` (for nesting) instead of a ``pydot.Dot``.
        layer_range: ``[first_name, last_name]`` to draw a slice of the layers.
    """
    pydot = _pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set_node_defaults(shape="record")
    if not getattr(model, "_is_graph_network", False) and type(model).__name__ != "Sequential":
        dot.add_node(pydot.Node(str(id(model)), label=model.name))  # a subclassed model is one box
        return dot
    layers = _graph_layers(model)
    if layer_range is not None:
        names = [layer.name for layer in layers]
        if len(layer_range) != 2 or any(name not in names for name in layer_range):
            raise ValueError(f"`layer_range` must be two layer names of the model. Received: layer_range={layer_range}"
                             f"; the layers are {names}")
        first, last = names.index(layer_range[0]), names.index(layer_range[1])
        layers = layers[first:last + 1]
    kept = {id(layer) for layer in layers}
    heads: dict = {}  # id(layer) -> the node id where its incoming edges end (a nested model's first node)
    tails: dict = {}  # id(layer) -> the node id its outgoing edges leave from
    for layer in layers:
        nested = getattr(layer, "_is_graph_network", False) or type(layer).__name__ == "Sequential"
        if expand_nested and nested:
            cluster = model_to_dot(layer, show_shapes, show_dtype, show_layer_names, rankdir, True, dpi, True, None,
                                   show_layer_activations, show_trainable)
            dot.add_subgraph(cluster)
            inner = [n for n in cluster.get_nodes() if n.get_name() not in ("node", "graph", "edge")]
            heads[id(layer)] = inner[0].get_name()
            tails[id(layer)] = inner[-1].get_name()
            continue
        node_id = str(id(layer))
        dot.add_node(pydot.Node(node_id, label=_label(layer, show_shapes, show_dtype, show_layer_names,
                                                      show_layer_activations, show_trainable)))
        heads[id(layer)] = tails[id(layer)] = node_id
    for layer in layers:
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                source = tensor._keras_history[0] if tensor._keras_history else None
                if source is not None and id(source) in kept and id(layer) in kept:
                    edge = pydot.Edge(tails[id(source)], heads[id(layer)])
                    if not dot.get_edge(edge.get_source(), edge.get_destination()):
                        dot.add_edge(edge)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
               expand_nested=False, dpi=96, layer_range=None, show_layer_activations=False, show_trainable=False):
    """Draw ``model`` into ``to_file`` (the format from its extension, PNG by default) with graphviz.

    Returns an ``IPython.display.Image`` of a PNG in a notebook, else ``None``. Raises ``ImportError`` naming
    what to install when pydot or graphviz's ``dot`` is missing.
    """
    if not check_graphviz():
        raise ImportError(_INSTALL)
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi, layer_range=layer_range,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
