"""Python code of ``Lambda`` layers in saved files: written for Keras parity, loaded only with ``safe_mode=False``.

``Lambda.get_config`` names a lambda (``function_type="lambda"``) without its code. When a model is
saved, this module adds the bytecode next to it (``function_code``, as Keras stores marshalled code);
loading in safe mode refuses any ``function_type="lambda"`` with Keras's explanation of the risk.
With ``safe_mode=False`` the code is rebuilt and handed to ``Lambda.from_config`` through a custom
object scope under a private name.

>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Lambda(lambda x: x * 3.0, name="triple")])
>>> config = attach_lambda_code(model, keras.saving.serialize_keras_object(model))
>>> entry = [layer for layer in config["config"]["layers"] if layer["class_name"] == "Lambda"][0]
>>> entry["config"]["function_type"], sorted(entry["config"]["function_code"])[:2]
('lambda', ['closure', 'defaults'])
"""

from __future__ import annotations

import copy
import types

from featherflow.keras.saving import serialization_lib
from featherflow.keras.saving.errors import InvalidArchiveError

_FIELDS = (("function", "function"), ("output_shape", "_output_shape"), ("mask", "mask"))


def _lambda_layers(model) -> dict:
    from featherflow.keras.saving.weights_io import walk

    found: dict = {}

    def visit(obj, path):
        if serialization_lib._is_lambda_layer(type(obj)):
            found.setdefault(obj.name, obj)

    walk(model, visit)
    return found


def _entries(config):
    """Every ``{"class_name": "Lambda", "config": {...}}`` dict inside ``config``."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda" and isinstance(node.get("config"), dict):
                yield node["config"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def attach_lambda_code(model, config: dict) -> dict:
    """``config`` with the bytecode of each lambda-holding ``Lambda`` layer of ``model`` added."""
    layers = _lambda_layers(model)
    if not layers:
        return config
    config = copy.deepcopy(config)
    for inner in _entries(config):
        layer = layers.get(inner.get("name"))
        if layer is None:
            continue
        for key, attribute in _FIELDS:
            fn = getattr(layer, attribute, None)
            if inner.get(f"{key}_type") == "lambda" and isinstance(fn, types.FunctionType):
                try:
                    inner[f"{key}_code"] = serialization_lib.serialize_function_code(fn)
                except (TypeError, ValueError):
                    pass  # a closure over something unserializable: the lambda cannot be restored
    return config


def restore_lambda_code(config: dict, safe_mode: bool) -> tuple[dict, dict]:
    """``(config, custom_objects)`` with saved lambdas rebuilt (``safe_mode=False`` only).

    In safe mode the config is returned unchanged (the vetting then refuses the lambdas); the code
    fields are dropped either way so ``Lambda.from_config`` never sees them.
    """
    config = copy.deepcopy(config)
    objects: dict = {}
    for inner in _entries(config):
        for key, _ in _FIELDS:
            code = inner.pop(f"{key}_code", None)
            if code is None or safe_mode or inner.get(f"{key}_type") != "lambda":
                continue
            if not isinstance(code, dict):
                raise InvalidArchiveError(f"The saved code of a Lambda layer's {key} is malformed.")
            name = f"featherflow_lambda_{len(objects)}"
            objects[name] = serialization_lib.deserialize_function_code(code, safe_mode=False)
            inner[key] = name
            inner[f"{key}_type"] = "function"
            inner[f"{key}_module" if key != "function" else "module"] = None
    return config, objects
