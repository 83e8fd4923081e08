"""``model.summary()``: the table of layers, output shapes and parameter counts, in tf.keras 2.12's layout.

Sequential-like models (a chain of single-input layers) get three columns in 65 characters
(``[0.45, 0.85, 1.0]``); graphs with branches or multi-input layers add a "Connected to" column
in 98 characters (``[0.33, 0.55, 0.67, 1.0]``). Long cells wrap onto extra lines, breaking after
``),``, ``},``, ``],`` or ``',`` when one falls inside the cell.

>>> from featherflow import keras
>>> model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,), name="d")], name="tiny")
>>> model.summary(line_length=40)
Model: "tiny"
________________________________________
 Layer (type)     Output Shape     Param #
========================================
 d (Dense)        (None, 2)        8
<BLANKLINE>
========================================
Total params: 8
Trainable params: 8
Non-trainable params: 0
________________________________________
"""

from __future__ import annotations

import re

import numpy as np


def _count(weights) -> int:
    seen, total = set(), 0
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            total += int(np.prod(w.shape))
    return total


def _is_sequential_like(model) -> bool:
    from featherflow.keras.models.sequential import Sequential

    if isinstance(model, Sequential) or not model._is_graph_network:
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].keras_inputs) > 1):
            return False
        nodes.extend(depth_nodes)
    node_ids = {id(n) for n in nodes}
    for layer in model.layers:
        in_model = [n for n in layer._inbound_nodes if id(n) in node_ids]
        if len(in_model) > 1:
            return False  # a shared layer
    return True


def _layer_range_bounds(model, layer_range) -> tuple:
    layers = model.layers
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(f"layer_range must be a list or tuple of length 2. Received: layer_range = {layer_range} of "
                         f"length {len(layer_range)}")
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def _output_shape(layer):
    try:
        return layer.output_shape
    except AttributeError:
        return "multiple"


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                  layer_range=None) -> None:
    """Print ``model``'s summary table (see the module docstring); ``print_fn`` receives each line."""
    if print_fn is None:
        from featherflow.keras.utils.io_utils import print_msg

        print_fn = print_msg
    sequential_like = _is_sequential_like(model)
    relevant_nodes = set()
    if sequential_like:
        line_length = line_length or 65
        positions = list(positions or [0.45, 0.85, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = list(positions or [0.33, 0.55, 0.67, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        relevant_nodes = {id(n) for nodes in model._nodes_by_depth.values() for n in nodes}
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        header.append("Trainable")
    start, stop = _layer_range_bounds(model, layer_range)

    def print_row(fields, nested_level=0):
        remaining = [str(f) for f in fields]
        last = len(positions) - 1
        while any(remaining):
            line = ""
            for col in range(len(remaining)):
                begin = positions[col - 1] if col > 0 else 0
                space = 2 if col != last else 0  # two spaces between columns, none after the last
                cutoff = positions[col] - begin - space
                piece = remaining[col][:cutoff]
                # Prefer breaking right after the end of a tuple, dict, list or quoted item.
                breaks = [piece.find(m) + len(m) for m in ("),", "},", "],", "',") if piece.find(m) >= 0]
                if breaks:
                    cutoff = min(breaks)
                    piece = piece[:cutoff]
                if col == 0:
                    line += "|" * nested_level + " "
                line += piece + " " * space
                remaining[col] = remaining[col][cutoff:]
                pad = positions[col] - len(line) - (nested_level if nested_level else 0)
                line += " " * pad
            line += "|" * nested_level
            print_fn(line)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_row(header)
    print_fn("=" * line_length)

    def layer_fields(layer):
        name = f"{layer.name} ({type(layer).__name__})"
        shape = _output_shape(layer)
        if not layer.built and not getattr(layer, "_is_graph_network", False):
            params = "0 (unused)"
        else:
            params = layer.count_params()
        if sequential_like:
            fields = [name, shape, params]
        else:
            connections = []
            for node in layer._inbound_nodes:
                if relevant_nodes and id(node) not in relevant_nodes:
                    continue
                for inbound_layer, node_index, tensor_index, _ in node.iterate_inbound():
                    connections.append(f"{inbound_layer.name}[{node_index}][{tensor_index}]")
            fields = [name, shape, params, connections]
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        return fields

    def print_layer(layer, nested_level=0, is_nested_last=False):
        print_row(layer_fields(layer), nested_level)
        inner = getattr(layer, "layers", None) if expand_nested else None
        if inner:
            print_fn("|" * (nested_level + 1) + "\u00af" * (line_length - 2 * nested_level - 2)
                     + "|" * (nested_level + 1))
            for i, sub in enumerate(inner):
                print_layer(sub, nested_level + 1, i == len(inner) - 1)
            print_fn("|" * nested_level + "\u00af" * (line_length - 2 * nested_level) + "|" * nested_level)
        if not is_nested_last:
            print_fn("|" * nested_level + " " * (line_length - 2 * nested_level) + "|" * nested_level)

    for layer in model.layers[start:stop]:
        print_layer(layer)
    print_fn("=" * line_length)
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


def summary_lines(model, **kwargs) -> list:
    """The lines ``model.summary(**kwargs)`` prints, as a list of strings."""
    lines = []
    print_summary(model, print_fn=lines.append, **kwargs)
    return lines

