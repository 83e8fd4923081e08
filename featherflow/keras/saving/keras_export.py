"""featherflow's configs written so that Keras 3 and tf.keras 2.x load them (the reverse of ``keras_compat``).

``model.get_config()`` keeps tf.keras 2.x's keys (it is the tf.keras API); a file must also satisfy
Keras 3, which refuses keys it does not know. ``for_file`` rewrites a serialized model for a file:

* a functional model is ``{"module": "keras.models", "class_name": "Model"}`` in ``.keras`` files (the one
  spelling both Kerases resolve) and ``"Functional"`` without a module in legacy ``.h5`` files;
* keys Keras 3 refuses are left out when they hold their default: ``time_major`` of the RNN and ConvLSTM
  layers, the optimizers' ``jit_compile`` and ``is_legacy_optimizer``, the spatial dropouts' ``trainable`` and
  ``noise_shape``, MultiHeadAttention's build shapes (in ``.keras`` files: tf.keras 2.x requires them, so
  ``.h5`` files keep them), the augmentation layers' ``data_format``, Discretization's ``trainable`` and output
  ``dtype`` (Keras 3 would cast the inputs to it); a loss's ``reduction="auto"`` is written as the equal
  ``"sum_over_batch_size"``;
* a learning-rate schedule inside an optimizer gets its ``module`` (Keras 3 needs it there);
* in legacy ``.h5`` files a built-in optimizer is ``"Custom>Adam"`` (tf.keras 2.x reads ``"Adam"`` there as
  its legacy optimizer) and per-output losses are spelled out (``"mse"`` -> ``"mean_squared_error"``: Keras 3's
  legacy reader resolves only those);
* a ``KerasOperation`` (a ``keras.ops`` call loaded from a Keras 3 file) goes back to its Keras 3 entry.

>>> from featherflow.keras.saving.keras_export import for_file
>>> entry = {"module": "keras.layers", "class_name": "LSTM", "config": {"units": 2, "time_major": False}}
>>> for_file(entry, "keras")["config"]
{'units': 2}
"""

from __future__ import annotations

_OPTIMIZER_DROPPED = {"jit_compile": (True, False, None), "is_legacy_optimizer": (False, None)}
_MODEL_KEYS = ("layers", "input_layers", "output_layers")
_SPATIAL_DROPOUTS = frozenset({"SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"})
_LOSS_NAMES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
               "msle": "mean_squared_logarithmic_error"}


def for_file(config, file_format: str):
    """A copy of a serialized object tree as written into a ``"keras"`` (zip) or ``"h5"`` (legacy) file."""
    if file_format not in ("keras", "h5"):
        raise ValueError(f"Unknown file format {file_format!r}; expected 'keras' or 'h5'.")
    return _walk(config, file_format)


def compile_config_for_file(compile_config: dict, file_format: str) -> dict:
    """A compile config (optimizer, loss, metrics, ...) as written into a ``"keras"`` or ``"h5"`` file."""
    if file_format not in ("keras", "h5"):
        raise ValueError(f"Unknown file format {file_format!r}; expected 'keras' or 'h5'.")
    return _compile_config(_walk(compile_config, file_format), file_format)


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
    if isinstance(out.get("compile_config"), dict):
        out["compile_config"] = _compile_config(out["compile_config"], file_format)
    class_name, inner = out["class_name"], out.get("config")
    if class_name == "KerasOperation" and isinstance(inner, dict):
        return _keras_op(out, inner)
    if not isinstance(inner, dict):
        return out
    module = out.get("module") or ""
    if class_name in ("Functional", "Model") and all(key in inner for key in _MODEL_KEYS):
        if file_format == "keras":
            out.update(module="keras.models", class_name="Model", registered_name=None)
        else:  # tf.keras 2.x's legacy spelling; Keras 3 reads it only without a module
            out = {key: value for key, value in out.items() if key not in ("module", "registered_name")}
            out["class_name"] = "Functional"
    elif inner.get("time_major") is False:  # tf.keras 2.x's RNN and ConvLSTM option; Keras 3 has none
        out["config"] = {k: v for k, v in inner.items() if k != "time_major"}
    elif class_name == "MultiHeadAttention":
        # tf.keras 2.x requires its build shapes in a config, Keras 3 refuses them: .keras files are Keras 3's
        shapes = ("query_shape", "key_shape", "value_shape") if file_format == "keras" else ()
        out["config"] = {k: v for k, v in inner.items()
                         if k not in shapes and not (k == "softmax_robust_masking" and v is False)}
    elif class_name == "Discretization":
        # tf.keras 2.x's dtype is the output's (int64); Keras 3 would cast the inputs to it before bucketing, and
        # takes no `trainable`: both default to what featherflow computes
        out["config"] = {k: v for k, v in inner.items()
                         if not (k == "dtype" and v in ("int64", "int32")) and not (k == "trainable" and v is True)}
    elif class_name.startswith("Random") and inner.get("data_format") in (None, "channels_last"):
        out["config"] = {k: v for k, v in inner.items() if k != "data_format"}  # tf.keras 2.x's have none
    elif class_name in _SPATIAL_DROPOUTS:  # Keras 3's take neither (no **kwargs)
        out["config"] = {k: v for k, v in inner.items()
                         if not (k == "trainable" and v is True or k == "noise_shape" and v is None)}
    elif _is_optimizer(module, inner):
        inner = {k: v for k, v in inner.items() if not (k in _OPTIMIZER_DROPPED and v in _OPTIMIZER_DROPPED[k])}
        schedule = inner.get("learning_rate")
        if isinstance(schedule, dict) and "class_name" in schedule and not schedule.get("module"):
            inner["learning_rate"] = {"module": "keras.optimizers.schedules", **schedule,
                                      "registered_name": schedule.get("registered_name")}
        out["config"] = inner
        if file_format == "h5" and module.startswith("keras.optimizers"):
            # tf.keras 2.x reads "Adam" in a legacy file as its legacy optimizer; "Custom>Adam" is its own spelling
            out = {"class_name": f"Custom>{class_name}", "config": inner}
    elif "reduction" in inner and inner.get("reduction") == "auto" and module.startswith("keras.losses"):
        out["config"] = dict(inner, reduction="sum_over_batch_size")  # the same; Keras 3 knows only this name
    return out


def _is_optimizer(module: str, inner: dict) -> bool:
    return module.startswith("keras.optimizers") and not module.startswith("keras.optimizers.schedules") or (
        not module and "learning_rate" in inner and "ema_momentum" in inner)


def _compile_config(compile_config: dict, file_format: str) -> dict:
    """Loss names Keras 3's legacy-file reader cannot resolve in a per-output dict, spelled out."""
    if file_format != "h5":
        return compile_config
    loss = compile_config.get("loss")

    def spelled(value):
        return _LOSS_NAMES.get(value, value) if isinstance(value, str) else value

    if isinstance(loss, dict) and "class_name" not in loss:
        loss = {key: spelled(value) for key, value in loss.items()}
    elif isinstance(loss, list):
        loss = [spelled(value) for value in loss]
    else:
        loss = spelled(loss)
    return dict(compile_config, loss=loss)


def _keras_op(out, inner):
    config = {"name": inner.get("name"), **(inner.get("op_config") or {})}
    entry = {"module": inner.get("op_module") or "keras.src.ops.numpy", "class_name": inner.get("op"),
             "config": config, "registered_name": inner.get("op")}
    entry.update({key: value for key, value in out.items() if key in ("name", "inbound_nodes")})
    return entry
