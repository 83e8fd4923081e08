"""A functional model's config: its layers with their inbound nodes, in tf.keras 2.x's and Keras 3's forms.

Each layer entry lists the calls ("nodes") that made it part of the model. tf.keras 2.x writes a call as
``[[inbound_layer, node_index, tensor_index, kwargs], ...]``; Keras 3 as ``{"args": [...], "kwargs": {...}}``
whose tensors are ``{"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}``. The two
number a nested model's calls differently: tf.keras counts the model's own input->output node as
node 0 (its first call in the outer model is node 1), Keras 3 does not (first call = node 0), except in
``input_layers``/``output_layers`` where a nested ``Functional`` starts at 1 in both. Neither reads the
other's numbering, so featherflow writes tf.keras's form for ``get_config()`` and ``.h5`` files, and
Keras 3's form in ``.keras`` files whose graph holds a nested functional model, a ``keras.ops`` call or a
tensor passed in a later argument (Keras 3 does not read those in the list form); anything else loads in
both. In files a nested ``Sequential`` is written without its input, so both number its calls from 0.
Reading accepts both forms and both numberings (and featherflow's older files, which numbered from 0 in
the list form: a nested model's node numbers are taken from the smallest one the config references).

>>> from featherflow import keras
>>> from featherflow.keras.saving import graph_config
>>> inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="d")], name="inner")
>>> x = keras.Input((2,), name="x")
>>> model = keras.Model(x, inner(inner(x)), name="outer")
>>> [entry["inbound_nodes"] for entry in model.get_config()["layers"]]
[[], [[['x', 0, 0, {}]], [['inner', 1, 0, {}]]]]
>>> with graph_config.writing_style("keras3"):
...     nodes = model.get_config()["layers"][1]["inbound_nodes"]
>>> [node["args"][0]["config"]["keras_history"] for node in nodes]
[['x', 0, 0], ['inner', 0, 0]]
"""

from __future__ import annotations

import contextlib
import threading

from featherflow.keras.saving.errors import InvalidArchiveError

_local = threading.local()
_STYLES = ("tf_keras", "keras3", "auto")


@contextlib.contextmanager
def writing_style(style: str, portable: bool = False):
    """Serialise functional graphs in ``"tf_keras"`` (list), ``"keras3"`` (dict) or ``"auto"`` form in the block.

    ``"auto"`` picks Keras 3's form for a graph with a nested functional model, a ``keras.ops`` call or a tensor
    passed in a later argument (``MultiHeadAttention()(query, value)``), else tf.keras's. With ``portable`` (files), a nested ``Sequential`` is written without its ``InputLayer`` (built
    by its call, as Keras does for a Sequential without an input): both Kerases then number its calls from 0.
    """
    if style not in _STYLES:
        raise ValueError(f"Unknown graph config style {style!r}; expected one of {_STYLES}.")
    previous = getattr(_local, "style", None), getattr(_local, "portable", False)
    _local.style, _local.portable = style, portable
    try:
        yield
    finally:
        _local.style, _local.portable = previous


def _style() -> str:
    return getattr(_local, "style", None) or "tf_keras"


def _deferred_sequential_entry(entry: dict) -> dict:
    """A nested Sequential's entry without its input (``InputLayer``, ``build_input_shape``, ``build_config``)."""
    inner = dict(entry.get("config") or {})
    layers = list(inner.get("layers") or [])
    if layers and isinstance(layers[0], dict) and layers[0].get("class_name") == "InputLayer":
        layers = layers[1:]
    if layers and isinstance(layers[0], dict) and isinstance(layers[0].get("config"), dict):
        first = dict(layers[0])
        first["config"] = {k: v for k, v in first["config"].items()
                           if k not in ("batch_input_shape", "input_shape", "input_dim", "batch_size")}
        layers[0] = first
    inner["layers"] = layers
    inner.pop("build_input_shape", None)
    return {**{k: v for k, v in entry.items() if k != "build_config"}, "config": inner}


# -- writing ---------------------------------------------------------------------------------------
def _is_graph_model(layer) -> bool:
    from featherflow.keras.models.model import Model

    return isinstance(layer, Model) and getattr(layer, "_is_graph_network", False)


def _tf_keras_skip(layer, entry_config) -> int:
    """1 when tf.keras counts ``layer``'s own input->output node first (a model that starts with an Input)."""
    if not _is_graph_model(layer) or not isinstance(entry_config, dict):
        return 0
    layers = entry_config.get("layers") or []
    if "input_layers" in entry_config:
        return 1
    return int(bool(layers) and isinstance(layers[0], dict) and layers[0].get("class_name") == "InputLayer")


def _is_sequential(layer) -> bool:
    from featherflow.keras.models.sequential import Sequential

    return isinstance(layer, Sequential)


def _keras3_output_skip(layer) -> int:
    return int(_is_graph_model(layer) and not _is_sequential(layer))


def functional_config(model) -> dict:
    """Keras's functional config of ``model`` (layers with inbound nodes, input and output layers)."""
    from featherflow.keras.layers.node import KerasTensor
    from featherflow.keras.saving.serialization_lib import serialize_keras_object

    kept = {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}
    entries, skips, ordinals = [], {}, {}
    for layer in model.layers:
        entry = serialize_keras_object(layer)
        if getattr(_local, "portable", False) and _is_graph_model(layer) and _is_sequential(layer):
            entry = _deferred_sequential_entry(entry)
        entry["name"] = layer.name
        skips[id(layer)] = _tf_keras_skip(layer, entry.get("config"))
        count = 0
        for i, node in enumerate(layer._inbound_nodes):
            if id(node) in kept and not node.is_input:
                ordinals[(id(layer), i)] = count
                count += 1
        entries.append((layer, entry))
    style = _style()
    if style == "auto":
        style = "keras3" if _needs_keras3_form(model, kept) else "tf_keras"

    def ordinal(layer, node_index) -> int:
        from featherflow.keras.layers.input_layer import InputLayer

        if isinstance(layer, InputLayer):
            return 0
        return ordinals.get((id(layer), node_index), node_index)

    def ref(t, for_output=False) -> list:
        layer, node_index, tensor_index = t._keras_history
        index = ordinal(layer, node_index)
        if style == "tf_keras":
            index += skips.get(id(layer), 0)
        elif for_output:
            index += _keras3_output_skip(layer)
        return [layer.name, index, tensor_index]

    def keras3_tensor(t):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(t.shape), "dtype": t.dtype.name, "keras_history": ref(t)}}

    from featherflow.keras.layers.base import map_structure

    for layer, entry in entries:
        nodes = []
        for node in layer._inbound_nodes:
            if id(node) not in kept or node.is_input:
                continue
            if style == "keras3":
                def encode(value):
                    return keras3_tensor(value) if isinstance(value, KerasTensor) else value

                call_inputs, state_kwargs = _keras3_rnn_inputs(layer, node.call_inputs)
                args = [map_structure(encode, call_inputs), *map_structure(encode, list(node.call_args))]
                kwargs = map_structure(encode, {**dict(node.call_kwargs), **state_kwargs})
                nodes.append({"args": serialize_keras_object(args), "kwargs": serialize_keras_object(kwargs)})
                continue
            # tf.keras 2.x keeps only the first argument positional: the others go in by their names
            call_kwargs = {**_positional_as_keywords(layer, node.call_args), **dict(node.call_kwargs)}
            kwargs = serialize_keras_object(map_structure(
                lambda v: ref(v) if isinstance(v, KerasTensor) else v, call_kwargs))
            nodes.append([[*ref(t), kwargs] for t in node.input_tensors])
        entry["inbound_nodes"] = nodes

    def refs(structure):
        if isinstance(structure, dict):
            return {k: ref(v, True) for k, v in structure.items()}
        from featherflow.keras.layers.base import flatten

        flat = [ref(t, True) for t in flatten(structure)]
        return flat[0] if style == "keras3" and isinstance(structure, KerasTensor) else flat

    return {"name": model.name, "trainable": model.trainable, "layers": [entry for _, entry in entries],
            "input_layers": refs(model._nested_inputs), "output_layers": refs(model._nested_outputs)}


def _keras3_rnn_inputs(layer, call_inputs):
    """``(inputs, {"initial_state": states})`` of an RNN call: featherflow (as tf.keras) passes the states in the
    inputs list, Keras 3 only by keyword (its RNN refuses a list of inputs)."""
    from featherflow.keras.layers.recurrent import RNN

    if (isinstance(layer, RNN) and isinstance(call_inputs, (list, tuple)) and len(call_inputs) > 1
            and not layer._num_constants):
        return call_inputs[0], {"initial_state": list(call_inputs[1:])}
    return call_inputs, {}


def _positional_as_keywords(layer, call_args) -> dict:
    """``{parameter name: value}`` for the positional arguments after the first of a call of ``layer``."""
    if not call_args:
        return {}
    import inspect

    names = [name for name, p in inspect.signature(layer.call).parameters.items()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
    if len(names) < len(call_args):
        raise ValueError(f"Layer '{layer.name}' is called with {len(call_args) + 1} positional arguments, more than "
                         "its `call` names; tf.keras's config form cannot hold them. Save the model as a `.keras` file.")
    return dict(zip(names, call_args))


def _needs_keras3_form(model, kept) -> bool:
    from featherflow.keras.saving.keras_ops import KerasOperation

    portable = getattr(_local, "portable", False)
    for layer in model.layers:
        if isinstance(layer, KerasOperation) or _is_graph_model(layer) and not (portable and _is_sequential(layer)):
            return True
        # a tensor in a later argument (MultiHeadAttention's value): Keras 3 reads it only in its own form
        if any(id(node) in kept and len(node.keras_inputs) > len(node.input_tensors) for node in layer._inbound_nodes):
            return True
    return False


# -- reading ---------------------------------------------------------------------------------------
def _history(value):
    """``[layer, node, tensor]`` of a Keras 3 ``__keras_tensor__`` entry, else ``None``."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        if isinstance(history, list) and len(history) == 3:
            return history
        raise InvalidArchiveError(f"Malformed __keras_tensor__ entry in the model config: {value!r:.200}")
    return None


def _is_ref(value) -> bool:
    return (isinstance(value, list) and len(value) in (3, 4) and isinstance(value[0], str)
            and isinstance(value[1], int) and isinstance(value[2], int))


def _written_by_keras3() -> bool:
    from featherflow.keras.saving.keras_compat import current_source

    source = current_source()
    return source.backend != "featherflow" and (source.keras_version or "").split(".")[0].isdigit() and \
        int(source.keras_version.split(".")[0]) >= 3


def _list_ref(value):
    """``[layer, node, tensor]`` of a tf.keras list-form reference, else ``None``."""
    return value[:3] if _is_ref(value) else None


def _walk_refs(structure, found, reference=_history):
    """The references (``reference`` reads one) anywhere in nested lists and dicts (``mask=[ref, ref]``)."""
    history = reference(structure)
    if history is not None:
        found.append(history)
    elif isinstance(structure, dict):
        for value in structure.values():
            _walk_refs(value, found, reference)
    elif isinstance(structure, list):
        for value in structure:
            _walk_refs(value, found, reference)


def _list_node_refs(node) -> list:
    refs = []
    for item in node:
        if not _is_ref(item):
            raise InvalidArchiveError(f"Malformed inbound node {item!r:.200}: expected [layer, node, tensor, kwargs].")
        refs.append(item[:3])
        kwargs = item[3] if len(item) == 4 else {}
        if isinstance(kwargs, dict):
            _walk_refs(kwargs, refs, _list_ref)
    return refs


def _output_refs(spec) -> list:
    if isinstance(spec, dict):
        return [v for v in spec.values() if _is_ref(v)]
    if _is_ref(spec):
        return [spec]
    return [item for item in spec if _is_ref(item)] if isinstance(spec, list) else []


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild a functional model from a tf.keras 2.x, Keras 3 or featherflow config."""
    from featherflow.keras.layers.base import flatten
    from featherflow.keras.layers.input_layer import InputLayer
    from featherflow.keras.saving.serialization_lib import deserialize_keras_object

    entries = config.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str)
                                                for e in entries):
        raise InvalidArchiveError("A functional model config needs a list of named `layers`.")
    created, pending, calls = {}, [], {}
    for entry in entries:
        layer_config = {key: entry[key] for key in ("module", "class_name", "config", "registered_name",
                                                    "build_config") if key in entry}
        layer = deserialize_keras_object(layer_config, custom_objects)
        if entry["name"] in created:
            raise InvalidArchiveError(f"The model config names layer {entry['name']!r} twice.")
        created[entry["name"]] = layer
        nodes = list(entry.get("inbound_nodes") or [])
        calls[entry["name"]] = len(nodes)
        pending.append((layer, nodes))
    dict_form = any(isinstance(node, dict) for _, nodes in pending for node in nodes)
    offsets = _node_offsets(config, pending, calls, dict_form)
    produced = {name: [layer._inbound_nodes[0].outputs] for name, layer in created.items()
                if isinstance(layer, InputLayer)}

    def lookup(name, index, tensor_index, offset):
        outs = produced.get(name)
        if outs is None and name not in created:
            raise InvalidArchiveError(f"The model config refers to an unknown layer {name!r}.")
        index = 0 if isinstance(created[name], InputLayer) else index - offset
        if outs is None or not 0 <= index < len(outs):
            return None
        return flatten(outs[index])[tensor_index]

    def ready_call(layer, node):
        missing = object()
        if isinstance(node, dict):
            def decode(value):
                history = _history(value)
                if history is None:
                    return value
                found = lookup(*history, 0)
                if found is None:
                    raise LookupError
                return found

            try:
                args = _decode_structure(decode, _plain(node.get("args", [])))
                kwargs = _decode_structure(decode, _plain(node.get("kwargs", {})))
            except LookupError:
                return missing
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise InvalidArchiveError(f"Malformed inbound node of layer '{layer.name}': {node!r:.200}")
            kwargs = {k: v for k, v in kwargs.items() if not (k == "mask" and v is None)}
            if _written_by_keras3():
                # Keras 3 records every call's resolved `training` (RandomFlip's default True too) and lets the
                # outer fit/predict mode override it; tf.keras 2 and featherflow keep an explicit one fixed.
                kwargs.pop("training", None)
            return lambda: layer(*args, **kwargs)
        tensors, kwargs = [], {}
        for item in node:
            found = lookup(item[0], item[1], item[2], offsets.get(item[0], 0))
            if found is None:
                return missing
            tensors.append(found)
            if len(item) == 4 and isinstance(item[3], dict) and item[3]:
                # tf.keras writes every tensor of the kwargs as a reference, also inside lists and dicts
                # (Attention's mask=[query_mask, value_mask]), as its convert_inner_node_data reads them
                def decode_ref(value):
                    found = lookup(value[0], value[1], value[2], offsets.get(value[0], 0))
                    if found is None:
                        raise LookupError
                    return found

                try:
                    kwargs = _decode_structure(decode_ref, item[3], _list_ref)
                except LookupError:
                    return missing
        single = tensors[0] if len(tensors) == 1 else tensors
        return lambda: layer(single, **kwargs)

    progress = True
    while progress:
        progress = False
        for layer, nodes in pending:
            while nodes:
                call = ready_call(layer, nodes[0])
                if not callable(call):
                    break
                produced.setdefault(layer.name, []).append(call())
                nodes.pop(0)
                progress = True
    unfinished = [layer.name for layer, nodes in pending if nodes]
    if unfinished:
        raise InvalidArchiveError(f"Could not rebuild the functional model: the inbound nodes of layers {unfinished} "
                                  "refer to layers that never produce the tensors they need.")

    def resolve(ref):
        name, index = ref[0], ref[1]
        offset = _keras3_entry_skip(entries, name) if dict_form else offsets.get(name, 0)
        found = lookup(name, index, ref[2], offset)
        if found is None:
            raise InvalidArchiveError(f"The model config's inputs/outputs refer to node {index} of layer {name!r}, "
                                      "which the config never creates.")
        return found

    def resolve_all(spec):
        if isinstance(spec, dict):
            return {k: resolve(v) for k, v in spec.items()}
        if _is_ref(spec):
            return resolve(spec)
        return [resolve_all(item) for item in spec]

    inputs = resolve_all(config.get("input_layers", []))
    outputs = resolve_all(config.get("output_layers", []))
    from featherflow.keras.models.functional import Functional
    from featherflow.keras.models.model import Model

    target = cls if cls is not Model else Functional
    model = target(inputs=inputs, outputs=outputs, name=config.get("name"))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def _decode_structure(decode, value, reference=_history):
    """``decode`` applied to each reference (a ``__keras_tensor__`` entry, or what ``reference`` reads) in nested
    lists and dicts; other values kept."""
    if reference(value) is not None:
        return decode(value)
    if isinstance(value, list):
        return [_decode_structure(decode, item, reference) for item in value]
    if isinstance(value, dict):
        return {key: _decode_structure(decode, item, reference) for key, item in value.items()}
    return value


def _plain(value):
    """Data entries (``__tuple__``, ``__numpy__``) decoded; ``__keras_tensor__`` entries kept for the caller."""
    from featherflow.keras.saving.serialization_lib import decode_plain_values

    return decode_plain_values(value, True)


def _keras3_entry_skip(entries, name) -> int:
    for entry in entries:
        if entry["name"] == name:
            if entry.get("class_name") == "Sequential":
                return 0
            inner = entry.get("config")
            return int(isinstance(inner, dict) and "input_layers" in inner)
    return 0


def _node_offsets(config, pending, calls, dict_form) -> dict:
    """Per layer, the number of the first call in list-form node references (0, or 1 for tf.keras's models)."""
    if dict_form:
        return {}
    refs: dict = {}
    for _, nodes in pending:
        for node in nodes:
            if isinstance(node, list):
                for name, index, _ in _list_node_refs(node):
                    refs.setdefault(name, []).append(index)
    for spec in (config.get("input_layers", []), config.get("output_layers", [])):
        for name, index, *_ in _output_refs(spec):
            refs.setdefault(name, []).append(index)
    offsets = {}
    for name, indices in refs.items():
        if indices and min(indices) >= 1 and max(indices) == calls.get(name, 0):
            offsets[name] = 1
    return offsets
