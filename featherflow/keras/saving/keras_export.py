"""featherflow's configs written so that Keras 3 and tf.keras 2.x load them (the reverse of ``keras_compat``).

``model.get_config()`` keeps tf.keras 2.x's keys (it is the tf.keras API); a file must also satisfy
Keras 3, which refuses keys it does not know. ``for_file`` rewrites a serialized model for a file:

* a functional model is ``{"module": "keras.models", "class_name": "Model"}`` in ``.keras`` files (the one
  spelling both Kerases resolve) and ``"Functional"`` without a module in legacy ``.h5`` files;
* keys Keras 3 refuses are left out when they hold their default: ``time_major`` of the RNN layers, the
  optimizers' ``jit_compile`` and ``is_legacy_optimizer``;
* a ``KerasOperation`` (a ``keras.ops`` call loaded from a Keras 3 file) goes back to its Keras 3 entry.

>>> from featherflow.keras.saving.keras_export import for_file
>>> entry = {"module": "keras.layers", "class_name": "LSTM", "config": {"units": 2, "time_major": False}}
>>> for_file(entry, "keras")["config"]
{'units': 2}
"""

from __future__ import annotations

_RNN_CLASSES = frozenset({"LSTM", "GRU", "SimpleRNN", "RNN"})
_OPTIMIZER_DROPPED = {"jit_compile": (True, False, None), "is_legacy_optimizer": (False, None)}
_MODEL_KEYS = ("layers", "input_layers", "output_layers")


def for_file(config, file_format: str):
    """A copy of a serialized object tree as written into a ``"keras"`` (zip) or ``"h5"`` (legacy) file."""
    if file_format not in ("keras", "h5"):
        raise ValueError(f"Unknown file format {file_format!r}; expected 'keras' or 'h5'.")
    return _walk(config, file_format)


def _walk(node, file_format):
    if isinstance(node, list):
        return [_walk(item, file_format) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("class_name"), str) and not node["class_name"].startswith("__"):
        return _object(node, file_format)
    return {key: _walk(value, file_format) for key, value in node.items()}


def _object(node, file_format):
    out = {key: (_walk(value, file_format) if key in ("config", "compile_config") else value)
           for key, value in node.items()}
    class_name, inner = out["class_name"], out.get("config")
    if class_name == "KerasOperation" and isinstance(inner, dict):
        return _keras_op(out, inner)
    if not isinstance(inner, dict):
        return out
    module = out.get("module") or ""
    if class_name in ("Functional", "Model") and all(key in inner for key in _MODEL_KEYS):
        if file_format == "keras":
            out.update(module="keras.models", class_name="Model", registered_name=None)
        else:
            out["class_name"] = "Functional"
    elif class_name in _RNN_CLASSES and inner.get("time_major") is False:
        out["config"] = {k: v for k, v in inner.items() if k != "time_major"}
    elif module.startswith("keras.optimizers") or "learning_rate" in inner and "ema_momentum" in inner:
        out["config"] = {k: v for k, v in inner.items()
                         if not (k in _OPTIMIZER_DROPPED and v in _OPTIMIZER_DROPPED[k])}
    return out


def _keras_op(out, inner):
    config = {"name": inner.get("name"), **(inner.get("op_config") or {})}
    entry = {"module": inner.get("op_module") or "keras.src.ops.numpy", "class_name": inner.get("op"),
             "config": config, "registered_name": inner.get("op")}
    entry.update({key: value for key, value in out.items() if key in ("name", "inbound_nodes")})
    return entry
