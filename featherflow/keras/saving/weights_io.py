"""A model's state as a flat ``{path: array}`` dict in Keras's v3 layout, and back.

Paths follow the object tree, not auto-generated names (which differ between processes):
``layers/dense/vars/0`` is the first variable of the first Dense layer of a Sequential/functional
model (layers are named by snake-cased class plus a counter, in order), attributes of custom
layers and subclassed models by attribute name (``layers/bidirectional/forward_layer/cell/vars/1``),
the model's own variables at ``vars/i`` and the optimizer's state at ``optimizer/vars/i``.

>>> from featherflow import keras
>>> from featherflow.keras.saving.weights_io import collect_weights
>>> layer = keras.layers.Dense(2)
>>> layer.build((None, 3))
>>> sorted(collect_weights(layer))
['vars/0', 'vars/1']
"""

from __future__ import annotations

import re

import numpy as np

from featherflow.keras.layers.base import Layer, _to_snake_case


def _is_layer(value) -> bool:
    return isinstance(value, Layer)


def _escape(component: str) -> str:
    return component.replace("%", "%25").replace("/", "%2F")


def keras3_snake_case(name: str) -> str:
    """Keras 3's snake case of a class name (``ConvLSTM2D`` -> ``conv_lstm2d``; tf.keras 2.x, whose rule
    featherflow's layer names follow, gives ``conv_lst_m2d``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _container_names(items) -> list:
    """Keras 3's naming of saveables in a list: snake-cased class name, ``_1``, ``_2``... for repeats."""
    used: dict = {}
    names = []
    for item in items:
        base = keras3_snake_case(type(item).__name__)
        if base in used:
            used[base] += 1
            names.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            names.append(base)
    return names


def _is_sequential(obj) -> bool:
    from featherflow.keras.models.sequential import Sequential  # models sit beside saving in keras

    return isinstance(obj, Sequential)


def _children(obj) -> list:
    """``[(relative_path, child_layer)]`` in a deterministic order."""
    out = []
    seen: set = set()

    def add_container(prefix, items):
        items = [x for x in items if _is_layer(x)]
        for name, item in zip(_container_names(items), items):
            if id(item) not in seen:
                seen.add(id(item))
                out.append((f"{prefix}/{_escape(name)}", item))

    if getattr(obj, "_is_graph_network", False) or _is_sequential(obj):
        add_container("layers", list(obj.layers))
    for attr in getattr(type(obj), "_saved_private_children", ()):  # private sub-layers Keras saves by name
        value = vars(obj).get(attr)
        if _is_layer(value) and id(value) not in seen:
            seen.add(id(value))
            out.append((_escape(attr), value))
    for attr in sorted(vars(obj)):
        if attr.startswith("_") or attr in ("optimizer", "inputs", "outputs"):
            continue
        value = vars(obj)[attr]
        if _is_layer(value):
            if value is not obj and id(value) not in seen:
                seen.add(id(value))
                out.append((_escape(attr), value))
        elif isinstance(value, (list, tuple)) and any(_is_layer(v) for v in value):
            add_container(_escape(attr), value)
        elif isinstance(value, dict) and any(_is_layer(v) for v in value.values()):
            add_container(_escape(attr), list(value.values()))
    leftover = [layer for layer in getattr(obj, "_layers", []) if id(layer) not in seen and layer is not obj]
    if leftover:
        add_container("layers", leftover)
    return out


def _own_variables(obj) -> list:
    return list(obj.__dict__.get("_trainable_weights", [])) + list(obj.__dict__.get("_non_trainable_weights", []))


def walk(obj, visit, path: str = "", visited: set | None = None) -> None:
    """Call ``visit(obj, path)`` for ``obj`` and each sub-layer (once each, parents first)."""
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return
    visited.add(id(obj))
    visit(obj, path)
    for rel, child in _children(obj):
        walk(child, visit, f"{path}/{rel}" if path else rel, visited)


def _vars_path(path: str, obj=None) -> str:
    """Where ``obj``'s own variables live: ``<path>/vars``, or ``<path>/<sub>/vars`` for a layer that keeps the
    variables Keras keeps in a sub-object (``_saved_vars_subpath = "cell"``: ConvLSTM's, in Keras its cell's)."""
    sub = getattr(type(obj), "_saved_vars_subpath", None) if obj is not None else None
    if sub:
        path = f"{path}/{sub}" if path else sub
    return f"{path}/vars" if path else "vars"


def _has_custom_hook(obj, name: str) -> bool:
    method = getattr(type(obj), name, None)
    return method is not None and getattr(Layer, name, None) is not method


def collect_weights(model, include_optimizer: bool = True) -> dict:
    """Every variable of ``model`` (and its optimizer's state) as ``{path: numpy array}``."""
    out: dict = {}

    def visit(obj, path):
        prefix = _vars_path(path, obj)
        if _has_custom_hook(obj, "save_own_variables"):
            store: dict = {}
            obj.save_own_variables(store)
            for key, value in store.items():
                out[f"{prefix}/{key}"] = np.array(value.numpy() if hasattr(value, "numpy") else value, copy=True)
            return
        for i, variable in enumerate(_own_variables(obj)):
            out[f"{prefix}/{i}"] = variable.numpy()

    walk(model, visit)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and hasattr(optimizer, "save_own_variables"):
        from featherflow.keras.saving import optimizer_state

        if hasattr(optimizer, "get_state") and len(optimizer.variables) > 1:
            values = optimizer_state.keras3_state(optimizer)  # Keras 3's layout: what .keras readers expect
        else:
            store = {}
            optimizer.save_own_variables(store)
            values = [store[str(i)] for i in range(len(store))]
        for i, value in enumerate(values):
            out[f"optimizer/vars/{i}"] = np.asarray(value)
    return out


def collect_assets(model) -> dict:
    """``{"<layer path>/<file name>": bytes}``: the files layers keep beside their variables (a lookup layer's
    ``vocabulary.txt``), which ``.keras`` archives hold under ``assets/`` as Keras's do."""
    out: dict = {}

    def visit(obj, path):
        files = obj._asset_files() if hasattr(obj, "_asset_files") else {}
        for name, data in files.items():
            out[f"{path}/{name}" if path else name] = bytes(data)

    walk(model, visit)
    return out


def assign_assets(model, assets: dict) -> None:
    """Give every layer that reads assets the files ``collect_assets`` (or Keras) stored at its path."""
    if not assets:
        return
    assets = _with_keras3_names(model, assets)

    def visit(obj, path):
        if not hasattr(obj, "_load_asset_files"):
            return
        prefix = f"{path}/" if path else ""
        files = {key[len(prefix):]: data for key, data in assets.items()
                 if key.startswith(prefix) and "/" not in key[len(prefix):]}
        if files:
            obj._load_asset_files(files)

    walk(model, visit)


_INDEX = re.compile(r"^\d+$")


def _group_by_prefix(weights: dict) -> dict:
    """``{"layers/dense/vars": {"0": arr, "1": arr}}`` from the flat dict."""
    groups: dict = {}
    for key, value in weights.items():
        prefix, _, leaf = key.rpartition("/")
        groups.setdefault(prefix, {})[leaf] = value
    return groups


def _with_keras3_names(model, weights: dict) -> dict:
    """``weights`` with tf.keras 2.x's path spellings renamed to the model's (Keras 3's) where they differ:
    its snake case of class names (``conv_lst_m2d_1`` -> ``conv_lstm2d_1``, also in older featherflow files)
    and its private attribute names (MultiHeadAttention's ``_query_dense`` -> ``query_dense``)."""
    paths: set = set()
    aliases: dict = {}

    def visit(obj, path):
        paths.add(path)
        name = type(obj).__name__
        if keras3_snake_case(name) != _to_snake_case(name):
            aliases[_to_snake_case(name)] = keras3_snake_case(name)

    walk(model, visit)
    pattern = re.compile(r"^(" + "|".join(re.escape(a) for a in aliases) + r")(_\d+)?$") if aliases else None
    known = {prefix for path in paths for prefix in _prefixes(path)}

    def rename(key):
        parts, out = key.split("/"), []
        for part in parts:
            current = "/".join(out)
            candidates = [part]
            if pattern is not None:
                candidates.append(pattern.sub(lambda m: aliases[m.group(1)] + (m.group(2) or ""), part))
            candidates.append(part.lstrip("_"))
            found = next((c for c in candidates if (f"{current}/{c}" if current else c) in known), part)
            out.append(found)
        return "/".join(out)

    renamed = {rename(key): value for key, value in weights.items()}
    return renamed if len(renamed) == len(weights) else weights


def _prefixes(path: str) -> list:
    parts = path.split("/") if path else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _ordered(store: dict, owner: str) -> list:
    if not all(_INDEX.match(k) for k in store):
        raise ValueError(f"Weights of {owner} have non-numeric keys {sorted(store)}; the file does not match this "
                         "model.")
    n = len(store)
    if sorted(int(k) for k in store) != list(range(n)):
        raise ValueError(f"Weights of {owner} are not numbered 0..{n - 1}: {sorted(store)}.")
    return [store[str(i)] for i in range(n)]


def assign_weights(model, weights: dict, skip_mismatch: bool = False, load_optimizer: bool = True) -> list:
    """Set ``model``'s variables (and optimizer state) from a ``collect_weights``-style dict.

    Everything is checked before anything is written, so a mismatch leaves the model unchanged.

    Args:
        skip_mismatch: skip layers whose variable count or shapes differ (warning) instead of raising.
        load_optimizer: also restore ``optimizer/vars/*`` into ``model.optimizer`` when present.

    Returns:
        Warnings (strings) about skipped entries.

    Raises:
        ValueError: a layer's variable count or shape differs from the file, or the file holds
            state no layer of this model consumes.
    """
    groups = _group_by_prefix(_with_keras3_names(model, weights))
    plan = []
    custom = []
    notes = []
    consumed = set()

    def visit(obj, path):
        prefix = _vars_path(path, obj)
        store = groups.get(prefix, {})
        if _has_custom_hook(obj, "load_own_variables"):
            if store:
                custom.append((obj, store))
                consumed.add(prefix)
            return
        variables = _own_variables(obj)
        if not store and not variables:
            return
        consumed.add(prefix)
        name = getattr(obj, "name", path)
        values = _ordered(store, f"layer '{name}'")
        if len(values) != len(variables):
            message = _count_message(obj, variables, values)
            if skip_mismatch:
                notes.append(message)
                return
            raise ValueError(message)
        for variable, value in zip(variables, values):
            if tuple(variable.shape) != tuple(np.shape(value)):
                message = (f"Layer '{name}' weight '{variable.name}' has shape {tuple(variable.shape)}, but the saved "
                           f"weight has shape {tuple(np.shape(value))} (path {prefix}).")
                if skip_mismatch:
                    notes.append(message)
                    return
                raise ValueError(message)
        plan.extend(zip(variables, values))

    walk(model, visit)
    optimizer_store = groups.get("optimizer/vars")
    if optimizer_store is not None:
        consumed.add("optimizer/vars")
    # tf.keras 2.x also saves its compiled metrics' running totals (metrics/mean/vars, ...): state that
    # fit/evaluate reset anyway, so it is not restored.
    consumed.update(p for p in groups if p.startswith("metrics/"))
    leftover = sorted(p for p in groups if p not in consumed and groups[p])
    if leftover:
        message = (f"The weights file holds variables for {leftover} that do not exist in this model (its "
                   "structure differs from the saved model's).")
        if not skip_mismatch:
            raise ValueError(message)
        notes.append(message)
    for variable, value in plan:
        variable.assign(np.asarray(value, dtype=variable.dtype))
    for obj, store in custom:  # the layer may keep these arrays: give it writable copies
        obj.load_own_variables({key: np.array(value) for key, value in store.items()})
    optimizer = getattr(model, "optimizer", None)
    if load_optimizer and optimizer_store and optimizer is not None and hasattr(optimizer, "load_own_variables"):
        notes.extend(load_optimizer_state(model, optimizer, optimizer_store, skip_mismatch))
    return notes


def load_optimizer_state(model, optimizer, store: dict, skip_mismatch: bool = False) -> list:
    """Build ``optimizer`` for the model's trainable variables (if needed) and restore its state."""
    from featherflow.keras.saving import optimizer_state

    values = _ordered(store, "the optimizer")
    try:
        if len(values) > 1 and not getattr(optimizer, "_built", True) and hasattr(optimizer, "build"):
            optimizer.build(model.trainable_variables)
        if hasattr(optimizer, "get_state"):
            values = optimizer_state.to_featherflow(optimizer, values)
        optimizer.load_own_variables({str(i): v for i, v in enumerate(values)})
    except ValueError as e:
        if not skip_mismatch:
            raise ValueError(f"Could not restore the optimizer's state: {e}") from e
        return [f"Skipped the optimizer's state: {e}"]
    return []


def _count_message(obj, variables, values) -> str:
    name = getattr(obj, "name", type(obj).__name__)
    if not variables and not getattr(obj, "built", True):
        return (f"Layer '{name}' was never built and thus it doesn't have any variables. However the weights file "
                f"lists {len(values)} variables for this layer. Build the model (call it on data or call "
                "`model.build(input_shape)`) before loading weights, or give the layer a `build_from_config()`.")
    return (f"Layer '{name}' expected {len(variables)} variables, but received {len(values)} variables during "
            f"loading. Expected: {[v.name for v in variables]}")
