"""tf.keras 2.x's legacy HDF5 files: ``model.save("m.h5")`` and ``model.save_weights("w.h5")`` layouts.

A legacy model file keeps the config in root attributes (``model_config``, ``training_config``) and
the weights in ``model_weights/<layer>/<weight name>`` with ``layer_names`` / ``weight_names``
attributes; a legacy weights file has the same layer groups at its root. Loading walks the whole
file with the same checks as ``.weights.h5`` (no external/soft links, no external or virtual
datasets, no shape bombs) and vets the config before building anything.

>>> import os, tempfile
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
>>> model.save(path)
>>> keras.models.load_model(path).layers[-1].units
2
"""

from __future__ import annotations

import io
import json

import numpy as np

from featherflow.keras.saving import atomic, saving_lib, serialization_lib, weights_io
from featherflow.keras.saving.archive import LIMITS
from featherflow.keras.saving.errors import InvalidArchiveError, SavingError
from featherflow.keras.saving.weights_formats import _require_h5py, _walk_h5


def _layers_of(model) -> list:
    return list(getattr(model, "layers", []))


def _weight_name(variable) -> str:
    name = getattr(variable, "name", "weight")
    return name if ":" in name else f"{name}:0"


def legacy_weights(layer, optional: bool = True) -> list:
    """A layer's variables in the order legacy files list them: trainable, then non-trainable, then the state
    tf.keras 2.x keeps as variables where featherflow does not (a tf_idf lookup's idf weights; ``optional``: files
    written by Keras 3 do not list it)."""
    extra = layer._legacy_state_weights() if optional and hasattr(layer, "_legacy_state_weights") else []
    return list(layer.trainable_weights) + list(layer.non_trainable_weights) + list(extra)


def _write_layer_group(group, layers) -> None:
    group.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers]
    group.attrs["backend"] = b"featherflow"
    group.attrs["keras_version"] = saving_lib.KERAS_API_VERSION.encode("utf8")
    group.attrs["featherflow_version"] = saving_lib._featherflow_version().encode("utf8")
    for layer in layers:
        layer_group = group.create_group(layer.name)
        names = []
        for w in legacy_weights(layer):
            name = _weight_name(w)
            while name.encode("utf8") in names or name in layer_group:  # names must be unique in the group
                name = name.replace(":0", "") + "_:0"
            names.append(name.encode("utf8"))
            layer_group.create_dataset(name, data=w.numpy())
        layer_group.attrs["weight_names"] = names


def _encode_file(fill) -> bytes:
    h5py = _require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        fill(handle)
    return buffer.getvalue()


def _file_attrs(handle) -> None:
    handle.attrs["keras_version"] = saving_lib.KERAS_API_VERSION.encode("utf8")
    handle.attrs["backend"] = b"featherflow"
    handle.attrs["featherflow_version"] = saving_lib._featherflow_version().encode("utf8")


def model_h5_config(model) -> dict:
    """The ``model_config`` attribute of a legacy file: tf.keras 2.x's graph form, keys Keras 3 also reads."""
    from featherflow.keras.layers.lookup_saving import vocabulary_in_config
    from featherflow.keras.saving import graph_config, keras_export

    # an adapted vocabulary goes in the config: the one place in a legacy file both Kerases read it
    with graph_config.writing_style("tf_keras", portable=True), vocabulary_in_config():
        config = serialization_lib.serialize_keras_object(model)
    return keras_export.for_file(config, "h5")


def save_model_to_h5(model, filepath, include_optimizer: bool = True) -> None:
    """Write the legacy tf.keras HDF5 model file (config in attributes, weights per layer), atomically.

    The layout is tf.keras 2.x's (``model_weights/<layer>/<weight>`` with ``layer_names`` and
    ``weight_names`` attributes; the optimizer's state in tf.keras's order in ``optimizer_weights``).
    """
    from featherflow.keras.saving import keras_export

    config = model_h5_config(model)

    def fill(handle):
        _file_attrs(handle)
        handle.attrs["model_config"] = json.dumps(config).encode("utf8")
        _write_layer_group(handle.create_group("model_weights"), _layers_of(model))
        optimizer = getattr(model, "optimizer", None)
        compile_config = saving_lib.get_compile_config(model) if include_optimizer else None
        if compile_config is not None:
            compile_config = keras_export.compile_config_for_file(compile_config, "h5")
            training = {k: v for k, v in compile_config.items() if k != "optimizer"}
            if isinstance(compile_config.get("optimizer"), dict):
                training["optimizer_config"] = compile_config["optimizer"]
            handle.attrs["training_config"] = json.dumps(training).encode("utf8")
            _write_optimizer_group(handle, optimizer)

    atomic.atomic_write_bytes(filepath, _encode_file(fill))


def _write_optimizer_group(handle, optimizer) -> None:
    """``optimizer_weights``: the optimizer's state in tf.keras 2.x's order (a model file's group)."""
    if optimizer is None or not hasattr(optimizer, "get_state") or len(optimizer.variables) <= 1:
        return
    group = handle.create_group("optimizer_weights")
    names = []
    for i, (variable, value) in enumerate(zip(optimizer.variables, optimizer.get_state())):
        name = f"{optimizer.name}/{i}_{_weight_name(variable).replace('/', '_')}"
        names.append(name.encode("utf8"))
        group.create_dataset(name, data=value)
    group.attrs["weight_names"] = names


def save_weights_to_h5(model, filepath) -> None:
    """``save_weights("w.h5")``: tf.keras 2.x's legacy weights file (layer groups at the root), atomically.

    The optimizer's state goes in an ``optimizer_weights`` group as in a model file; Keras reads only the
    groups ``layer_names`` lists, featherflow restores the state from it.
    """
    def fill(handle):
        _file_attrs(handle)
        _write_layer_group(handle, _layers_of(model))
        _write_optimizer_group(handle, getattr(model, "optimizer", None))

    atomic.atomic_write_bytes(filepath, _encode_file(fill))


def _text(value, what: str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.shape == () and isinstance(value.item(), (bytes, str)):
        return _text(value.item(), what)
    raise InvalidArchiveError(f"The HDF5 attribute {what!r} must be a string. Received: {type(value).__name__}")


def _text_list(value, what: str) -> list:
    if value is None:
        return []
    if isinstance(value, (bytes, str)):
        return [_text(value, what)]
    values = np.asarray(value)
    if values.size == 0:
        return []
    if values.dtype.kind not in "SUO" or values.ndim > 1 or values.size > 1_000_000:
        raise InvalidArchiveError(f"The HDF5 attribute {what!r} must be a list of strings.")
    return [_text(v, what) for v in values.reshape(-1).tolist()]


def _json_attr(attrs, name: str):
    if name not in attrs:
        return None
    text = _text(attrs[name], name)
    if len(text) > LIMITS.max_json_bytes:
        raise InvalidArchiveError(f"The HDF5 attribute {name!r} is larger than the loader's limit.")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise InvalidArchiveError(f"The HDF5 attribute {name!r} is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise InvalidArchiveError(f"The HDF5 attribute {name!r} must hold a JSON object.")
    return value


def _read(filepath):
    """``(root attrs, {path: array}, {layer: [arrays]} in file order, optimizer arrays)`` of a legacy file."""
    h5py = _require_h5py()
    try:
        handle = h5py.File(filepath, "r")
    except (OSError, ValueError) as e:
        raise InvalidArchiveError(f"{filepath} is not a valid HDF5 file: {e}") from e
    try:
        with handle:
            arrays = _walk_h5(handle, h5py, LIMITS)  # refuses links, external data, bombs everywhere
            attrs = {k: handle.attrs[k] for k in ("model_config", "training_config", "keras_version", "backend",
                                                   "featherflow_version") if k in handle.attrs}
            root = "model_weights" if "model_weights" in handle else ""
            group = handle[root] if root else handle
            layers = []
            for layer_name in _text_list(group.attrs.get("layer_names"), "layer_names"):
                if layer_name not in group or not isinstance(group[layer_name], h5py.Group):
                    raise InvalidArchiveError(f"Layer group {layer_name!r} listed in layer_names is missing.")
                names = _text_list(group[layer_name].attrs.get("weight_names"), "weight_names")
                prefix = f"{root}/{layer_name}" if root else layer_name
                layers.append((layer_name, [_lookup(arrays, f"{prefix}/{n}") for n in names]))
            optimizer = []
            if "optimizer_weights" in handle:
                names = _text_list(handle["optimizer_weights"].attrs.get("weight_names"), "weight_names")
                optimizer = [_lookup(arrays, f"optimizer_weights/{n}") for n in names]
    except SavingError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        raise InvalidArchiveError(f"{filepath} is corrupted: {e}") from e
    return attrs, layers, optimizer


def file_source(attrs: dict):
    """The writer of a legacy file, from its root attributes (``keras_version``, ``backend``)."""
    from featherflow.keras.saving.keras_compat import FileSource

    def text(name):
        try:
            return _text(attrs[name], name) if name in attrs else None
        except InvalidArchiveError:
            return None

    backend = "featherflow" if "featherflow_version" in attrs else text("backend")
    return FileSource(keras_version=text("keras_version"), backend=backend)


def _lookup(arrays: dict, key: str):
    if key not in arrays:
        raise InvalidArchiveError(f"Weight {key!r} named in the file's weight_names is missing.")
    return arrays[key]


def is_legacy_weights_file(filepath) -> bool:
    """Whether an HDF5 file uses tf.keras 2.x's ``layer_names`` layout."""
    h5py = _require_h5py()
    try:
        with h5py.File(filepath, "r") as handle:
            return "layer_names" in handle.attrs or (
                "model_weights" in handle and "layer_names" in handle["model_weights"].attrs)
    except (OSError, ValueError, KeyError) as e:
        raise InvalidArchiveError(f"{filepath} is not a valid HDF5 file: {e}") from e


def _assign_layers(model, saved_layers, by_name: bool, skip_mismatch: bool) -> None:
    saved = [(name, values) for name, values in saved_layers if values]
    # tf.keras 2.x lists a tf_idf lookup's idf weights, Keras 3 does not: the file's layer count tells which
    optional = len([layer for layer in _layers_of(model) if legacy_weights(layer, False)]) != len(saved)
    layers = [layer for layer in _layers_of(model) if legacy_weights(layer, optional)]
    plan = []
    if by_name:
        index = {name: values for name, values in saved}
        pairs = [(layer, index[layer.name]) for layer in layers if layer.name in index]
    else:
        if len(layers) != len(saved):
            raise ValueError(f"Layer count mismatch when loading weights from file. Model expected {len(layers)} "
                             f"layers, found {len(saved)} saved layers.")
        pairs = [(layer, values) for layer, (_, values) in zip(layers, saved)]
    for layer, values in pairs:
        weights = legacy_weights(layer, optional or by_name)
        problem = None
        if len(weights) != len(values):
            problem = (f"Layer '{layer.name}' expected {len(weights)} weights, but the saved weights have "
                       f"{len(values)} elements.")
        else:
            for w, v in zip(weights, values):
                if tuple(w.shape) != tuple(np.shape(v)):
                    problem = (f"Shape mismatch in layer '{layer.name}' for weight {w.name}. Weight expects shape "
                               f"{tuple(w.shape)}. Received saved weight with shape {tuple(np.shape(v))}")
                    break
        if problem:
            if skip_mismatch:
                import warnings

                warnings.warn(f"Skipping loading weights for layer '{layer.name}': {problem}", stacklevel=3)
                continue
            raise ValueError(problem)
        plan.extend(zip(weights, values))
    for w, v in plan:
        w.assign(np.asarray(v, dtype=w.dtype))


def load_legacy_weights(model, filepath, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Load tf.keras 2.x ``.h5`` weights (layer order, or ``by_name``) into a built model (and the optimizer's
    state, when the file has an ``optimizer_weights`` group and the model an optimizer)."""
    _, layers, optimizer_state = _read(filepath)
    _assign_layers(model, layers, by_name, skip_mismatch)
    optimizer = getattr(model, "optimizer", None)
    if optimizer_state and optimizer is not None and hasattr(optimizer, "load_own_variables"):
        notes = weights_io.load_optimizer_state(model, optimizer, {str(i): v for i, v in enumerate(optimizer_state)},
                                                skip_mismatch)
        for note in notes:
            import warnings

            warnings.warn(note, stacklevel=3)


def load_model_from_h5(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a legacy tf.keras ``.h5`` model file (config vetted like ``.keras`` archives)."""
    attrs, layers, optimizer_state = _read(filepath)
    config = _json_attr(attrs, "model_config")
    if config is None:
        raise ValueError(f"No model config found in the file at {filepath}.")
    training = _json_attr(attrs, "training_config") if compile else None
    compile_config = None
    if training is not None:
        compile_config = {k: v for k, v in training.items() if k != "optimizer_config"}
        if "optimizer_config" in training:
            compile_config["optimizer"] = training["optimizer_config"]
    if compile_config is not None:
        config = dict(config, compile_config=compile_config)
    stored = sum(int(np.asarray(value).nbytes) for _, values in layers for value in values)
    model = saving_lib.model_from_parts(config, {}, custom_objects, compile, safe_mode, source=filepath,
                                        stored_bytes=stored, file_source=file_source(attrs))
    try:
        _assign_layers(model, layers, by_name=False, skip_mismatch=False)
    except ValueError as e:
        raise InvalidArchiveError(f"The weights in {filepath} do not match its model config: {e}") from e
    optimizer = getattr(model, "optimizer", None)
    if compile and optimizer_state and optimizer is not None:
        weights_io.load_optimizer_state(model, optimizer, {str(i): v for i, v in enumerate(optimizer_state)})
    return model
