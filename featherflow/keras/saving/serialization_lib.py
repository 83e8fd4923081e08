"""``serialize_keras_object`` / ``deserialize_keras_object``: objects <-> JSON-ready dicts, closed by default.

The dict format is Keras's: ``{"module", "class_name", "config", "registered_name", "build_config"}``
(``"compile_config"`` on models). Deserialisation first *vets* the whole config (``check_config``):
every ``class_name`` anywhere in it must resolve through the registry (featherflow's public classes,
``@register_keras_serializable`` objects, ``custom_objects``); a ``module`` such as ``os``,
``subprocess`` or ``builtins`` is refused; Python code (a ``Lambda``'s lambda) is refused unless
``safe_mode=False``. Nothing named in a config is ever imported.

>>> from featherflow import keras
>>> layer = keras.layers.Dense(2, activation="relu", name="d")
>>> config = keras.saving.serialize_keras_object(layer)
>>> config["module"], config["class_name"], config["config"]["units"]
('keras.layers', 'Dense', 2)
>>> clone = keras.saving.deserialize_keras_object(config)
>>> type(clone).__name__, clone.name, clone.units
('Dense', 'd', 2)
>>> keras.saving.deserialize_keras_object({"module": "os", "class_name": "function", "config": "system"})
Traceback (most recent call last):
...
featherflow.keras.saving.serialization_lib.UnknownObjectError: Could not locate function 'system' (module 'os'); refused. ...
"""

from __future__ import annotations

import base64
import builtins
import inspect
import json
import sys
import threading
import types

import numpy as np

from featherflow.keras.saving import object_registration as registry
from featherflow.keras.saving.errors import InvalidArchiveError, UnsafeModelError

LAMBDA_REFUSAL = (
    "Requested the deserialization of a Lambda layer with a Python `lambda` inside it. This carries a potential "
    "risk of arbitrary code execution and thus it is disallowed by default. If you trust the source of the saved "
    "model, you can pass `safe_mode=False` to the loading function in order to allow Lambda layer loading."
)
_DATA_CLASSES = frozenset({"__numpy__", "__tensor__", "__bytes__", "__tuple__", "__slice__", "__keras_tensor__"})
_MAX_DEPTH = 256
_MAX_NODES = 2_000_000
# Declared input shapes are allocated as dummy data when a functional graph is rebuilt; a file may not
# declare inputs beyond this many elements (a 64-frame 224x224 RGB video clip is 9.6 million).
MAX_INPUT_ELEMENTS = 1 << 26
_SHAPE_KEYS = ("batch_input_shape", "batch_shape", "input_shape", "build_input_shape")
_local = threading.local()
_global_safe_mode = {"unsafe_enabled": False}


# -- safe mode -------------------------------------------------------------------------------------------
class SafeModeScope:
    """Context manager fixing ``safe_mode`` for every nested deserialisation (``None`` = leave as is)."""

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._previous = getattr(_local, "safe_mode", None)
        _local.safe_mode = self.safe_mode if self.safe_mode is not None else self._previous
        return self

    def __exit__(self, *exc):
        _local.safe_mode = self._previous
        return False


def in_safe_mode() -> bool | None:
    """The ``safe_mode`` of the innermost ``SafeModeScope`` (``None`` outside any; ``False`` once
    ``enable_unsafe_deserialization()`` was called)."""
    scoped = getattr(_local, "safe_mode", None)
    if scoped is not None:
        return scoped
    return False if _global_safe_mode["unsafe_enabled"] else None


def enable_unsafe_deserialization() -> None:
    """Allow ``Lambda`` code to be loaded everywhere in this process (only for files you trust)."""
    _global_safe_mode["unsafe_enabled"] = True


def _effective_safe_mode(safe_mode) -> bool:
    scoped = in_safe_mode()
    if scoped is not None:
        return bool(scoped)
    return True if safe_mode is None else bool(safe_mode)


# -- helpers ---------------------------------------------------------------------------------------------
def _short(config, limit: int = 300) -> str:
    try:
        text = json.dumps(config, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = repr(config)
    return text if len(text) <= limit else text[:limit] + "...(truncated)"


def _refuse_unknown(name, module, config, what="class"):
    where = "" if registry.is_builtin_module(module) else f" (module {module!r})"
    raise UnknownObjectError(
        f"Could not locate {what} {name!r}{where}; refused. featherflow builds only its own classes and the "
        "objects you register with `@keras.saving.register_keras_serializable()` or pass in `custom_objects=`; it "
        f"never imports a module or calls a function named in a file. Full object config: {_short(config)}"
    )


class UnknownObjectError(UnsafeModelError, TypeError):
    """A config names a class/function that is neither featherflow's, registered, nor in custom_objects."""


def resolve_class(class_name, registered_name=None, module=None, custom_objects=None):
    """The class a config names, looked up (never imported); ``None`` when unknown."""
    for name in (registered_name, class_name):
        if isinstance(name, str):
            found = registry.get_registered_object(name, custom_objects)
            if found is not None:
                return found
    if class_name == "KerasOperation" and isinstance(module, str) and module.startswith("featherflow.keras.saving"):
        from featherflow.keras.saving.keras_ops import KerasOperation  # a Keras 3 op node of a loaded graph

        return KerasOperation
    return registry.get_builtin_class(class_name, module)


def resolve_function(name, registered_name=None, module=None, custom_objects=None):
    """The function a config names (registered, custom or one of featherflow's math functions)."""
    for candidate in (registered_name, name):
        if isinstance(candidate, str):
            found = registry.get_registered_object(candidate, custom_objects)
            if found is not None:
                return found
    return registry.get_builtin_function(name, module)


def _is_lambda_layer(cls) -> bool:
    return inspect.isclass(cls) and any(
        base.__name__ == "Lambda" and registry._is_featherflow(base) for base in cls.__mro__)


# -- vetting ---------------------------------------------------------------------------------------------
def check_config(config, custom_objects: dict | None = None, safe_mode: bool = True) -> None:
    """Refuse a config that names anything outside the registry, or holds code in safe mode.

    Walks the whole nested structure (bounded depth and size) before any object is built, so a
    hostile entry deep inside a model is refused even if some ``from_config`` would not look at it.

    Raises:
        UnsafeModelError: unknown/unregistered class or function, a foreign module, Python code.
        InvalidArchiveError: a structure nested too deeply or too large.
    """
    counter = [0]

    def visit(node, depth):
        counter[0] += 1
        if depth > _MAX_DEPTH or counter[0] > _MAX_NODES:
            raise InvalidArchiveError(f"The model config is nested too deeply or is too large (limits: depth "
                                      f"{_MAX_DEPTH}, {_MAX_NODES} entries).")
        if isinstance(node, list):
            for item in node:
                visit(item, depth + 1)
            return
        if not isinstance(node, dict):
            return
        class_name = node.get("class_name")
        if class_name is not None:
            _check_object(node, class_name)
        for key in _SHAPE_KEYS:
            if key in node:
                _check_declared_shape(key, node[key])
        for value in node.values():
            visit(value, depth + 1)

    def _check_object(node, class_name):
        if not isinstance(class_name, str):
            raise InvalidArchiveError(f"`class_name` must be a string. Received: {_short(node)}")
        module = node.get("module")
        registered = node.get("registered_name")
        if module is not None and not isinstance(module, str) or registered is not None and not isinstance(
                registered, str):
            raise InvalidArchiveError(f"`module` and `registered_name` must be strings. Received: {_short(node)}")
        if class_name == "__lambda__":
            if safe_mode:
                raise UnsafeModelError(LAMBDA_REFUSAL)
            return
        if class_name in _DATA_CLASSES:
            return
        if class_name.startswith("__"):
            raise UnsafeModelError(f"Refused the special object {class_name!r}: featherflow does not load it. "
                                   f"Full object config: {_short(node)}")
        if class_name == "function":
            fn_name = node.get("config")
            if resolve_function(fn_name, registered, module, custom_objects) is None:
                _refuse_unknown(fn_name, module, node, "function")
            return
        inner = node.get("config")
        if safe_mode and isinstance(inner, dict) and any(
                isinstance(key, str) and key.endswith("_type") and value == "lambda" for key, value in inner.items()):
            raise UnsafeModelError(LAMBDA_REFUSAL)  # Keras 2's Lambda config: marshalled code
        cls = resolve_class(class_name, registered, module, custom_objects)
        if cls is None:
            _refuse_unknown(registered or class_name, module, node)
        if isinstance(inner, dict):
            _check_code_fields(inner, cls, custom_objects, safe_mode)

    visit(config, 0)


def _check_declared_shape(key, shape) -> None:
    """Refuse a declared input shape whose known dimensions multiply beyond ``MAX_INPUT_ELEMENTS``."""
    shapes = shape if isinstance(shape, list) and shape and all(isinstance(s, list) for s in shape) else [shape]
    for one in shapes:
        if not isinstance(one, list):
            continue
        elements = 1
        for dim in one:
            if isinstance(dim, int) and not isinstance(dim, bool):
                if dim < 0:
                    raise InvalidArchiveError(f"`{key}` holds a negative dimension: {one!r:.200}")
                elements *= dim
                if elements > MAX_INPUT_ELEMENTS:
                    raise InvalidArchiveError(
                        f"`{key}`={one!r:.200} declares inputs of more than {MAX_INPUT_ELEMENTS} elements: refusing "
                        "to allocate them (raise featherflow.keras.saving.serialization_lib.MAX_INPUT_ELEMENTS for "
                        "a trusted file).")


def _check_code_fields(inner: dict, cls, custom_objects, safe_mode) -> None:
    """In safe mode a Lambda's named functions must resolve through the registry and marshalled code is
    refused; with ``safe_mode=False`` the Lambda may also find a function in an already-imported module."""
    if not _is_lambda_layer(cls) or not safe_mode:
        return
    function = inner.get("function")
    if isinstance(function, str) and inner.get("function_type", "function") == "function":
        if resolve_function(function, None, inner.get("module"), custom_objects) is None:
            _refuse_unknown(function, inner.get("module"), inner, "function")
    elif isinstance(function, (list, tuple)) and safe_mode:
        raise UnsafeModelError(LAMBDA_REFUSAL)
    for key in ("output_shape", "mask"):
        value = inner.get(key)
        if inner.get(f"{key}_type") == "function" and isinstance(value, str):
            if resolve_function(value, None, inner.get(f"{key}_module"), custom_objects) is None:
                _refuse_unknown(value, inner.get(f"{key}_module"), inner, "function")


# -- serialisation ---------------------------------------------------------------------------------------
def serialize_keras_object(obj):
    """A JSON-ready description of ``obj`` (layer, model, optimizer, loss, metric, function, array, ...).

    Args:
        obj: a Keras object with ``get_config``, a function, or plain data.

    Returns:
        ``None``/numbers/strings unchanged; lists and dicts element-wise; a Keras object as
        ``{"module", "class_name", "config", "registered_name"}`` (+ ``build_config`` for built layers).
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    from featherflow.core import Tensor

    if isinstance(obj, Tensor) and not hasattr(obj, "get_config"):
        value = np.asarray(obj.numpy())
        return {"class_name": "__tensor__", "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {"start": serialize_keras_object(obj.start),
                                                      "stop": serialize_keras_object(obj.stop),
                                                      "step": serialize_keras_object(obj.step)}}
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        return {"class_name": "__lambda__", "config": serialize_function_code(obj)}
    if inspect.isclass(obj) or not hasattr(obj, "get_config"):
        if callable(obj) and hasattr(obj, "__name__"):
            return _serialize_function(obj)
        raise TypeError(f"Cannot serialize {obj!r}: it is not a Keras object (no `get_config()`), a function or "
                        "plain data.")
    return _serialize_object(obj)


def _serialize_function(fn):
    builtin_ns = registry.builtin_namespace_of(fn)
    registered = registry._GLOBAL_CUSTOM_NAMES.get(fn)
    return {"module": builtin_ns or getattr(fn, "__module__", None), "class_name": "function",
            "config": fn.__name__, "registered_name": registered or fn.__name__}


def _serialize_object(obj):
    cls = type(obj)
    builtin_ns = registry.builtin_namespace_of(cls)
    registered = registry._GLOBAL_CUSTOM_NAMES.get(cls)
    config = serialize_keras_object(obj.get_config())
    out = {"module": builtin_ns or cls.__module__, "class_name": cls.__name__, "config": config,
           "registered_name": None if builtin_ns and not registered else (registered or cls.__name__)}
    build_config = get_build_config(obj)
    if build_config is not None:
        out["build_config"] = serialize_keras_object(build_config)
    return out


def get_build_config(obj):
    """``{"input_shape": ...}`` for a built layer (``None`` when unbuilt or unknown)."""
    if hasattr(obj, "get_build_config"):
        return obj.get_build_config()
    if not getattr(obj, "built", False):
        return None
    shape = getattr(obj, "_build_input_shape", None)
    if shape is None:
        return None
    return {"input_shape": _shape_to_list(shape)}


def _shape_to_list(shape):
    if isinstance(shape, dict):
        return {k: _shape_to_list(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple, dict)) for s in shape):
        return [_shape_to_list(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _list_to_shape(shape):
    if isinstance(shape, dict):
        return {k: _list_to_shape(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple, dict)) for s in shape):
        return [_list_to_shape(s) for s in shape]
    if not isinstance(shape, (list, tuple)) or not all(d is None or type(d) is int for d in shape):
        raise InvalidArchiveError(f"A saved input shape must be a list of integers or nulls. Received: {shape!r}")
    return tuple(shape)


# -- deserialisation -------------------------------------------------------------------------------------
def deserialize_keras_object(config, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs):
    """Build the object a config describes, refusing anything unregistered (see ``check_config``).

    Args:
        config: a dict from ``serialize_keras_object`` (or Keras), a name, or plain data.
        custom_objects: ``{name: class_or_function}`` for user objects not registered globally.
        safe_mode: refuse Python code (``Lambda`` lambdas); ``False`` only for files you trust.
        module_objects: legacy: extra ``{name: object}`` to resolve plain names against.

    Raises:
        UnsafeModelError: the config names something outside the registry or holds code in safe mode.
    """
    safe = _effective_safe_mode(safe_mode)
    module_objects = kwargs.get("module_objects")
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        found = registry.get_registered_object(config, custom_objects, module_objects)
        return found if found is not None else config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode=safe, **kwargs) for c in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not deserialize {config!r}: expected a dict, a string or plain data.")
    from featherflow.keras.saving import keras_compat

    config = keras_compat.normalize(config, custom_objects)  # Keras 3 / tf.keras 2.x forms -> featherflow's
    if isinstance(config, str):  # a dtype policy object is just its name
        return config
    check_config(config, custom_objects, safe)
    if "class_name" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode=safe, **kwargs) for k, v in config.items()}
    return _build(config, custom_objects, safe, module_objects)


def _build(config, custom_objects, safe, module_objects=None):
    class_name = config["class_name"]
    inner = config.get("config")
    module = config.get("module")
    registered = config.get("registered_name")
    if class_name in _DATA_CLASSES or class_name == "__lambda__":
        return decode_value(config, safe)
    if class_name == "function":
        fn = resolve_function(inner, registered, module, custom_objects)
        if fn is None and module_objects and isinstance(inner, str):
            fn = module_objects.get(inner)
        if fn is None:
            _refuse_unknown(inner, module, config, "function")
        return fn
    cls = resolve_class(class_name, registered, module, custom_objects)
    if cls is None and module_objects:
        cls = module_objects.get(class_name)
    if cls is None:
        _refuse_unknown(registered or class_name, module, config)
    if not hasattr(cls, "from_config"):
        if inner in (None, {}) and callable(cls):
            return cls
        raise UnsafeModelError(f"{class_name!r} has no `from_config()` and cannot be built from a file.")
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise InvalidArchiveError(f"The config of {class_name!r} must be a dict. Received: {_short(inner)}")
    inner = decode_plain_values(inner, safe)
    with registry.CustomObjectScope(custom_objects), SafeModeScope(safe):
        try:
            if "custom_objects" in inspect.signature(cls.from_config).parameters:
                instance = cls.from_config(inner, custom_objects=custom_objects)
            else:
                instance = cls.from_config(inner)
        except NotImplementedError as e:  # an option featherflow has but does not implement (renorm=True, ...)
            from featherflow.keras.saving.errors import UnsupportedConfigError
            from featherflow.keras.saving.keras_compat import current_source

            name = inner.get("name")
            raise UnsupportedConfigError(
                f"Could not build '{name}' ({class_name}) from the file, written by {current_source().describe()}: "
                f"{e} Config: {_short(inner)}") from e
        build_config = config.get("build_config")
        if isinstance(build_config, dict) and not getattr(instance, "built", True):
            build_from_config(instance, build_config)
    return instance


def build_from_config(instance, build_config: dict) -> None:
    """Create a layer's weights from ``{"input_shape": ...}`` (or its own ``build_from_config``)."""
    if hasattr(instance, "build_from_config"):
        instance.build_from_config(build_config)
    else:
        shape = build_config.get("input_shape")
        if shape is None:
            return
        shape = _list_to_shape(shape)
        instance.build(shape)
        instance._build_input_shape = shape
    instance.built = True


def decode_plain_values(node, safe: bool):
    """Replace data entries (``__numpy__``, ``__bytes__``, ...) inside a config by their values;
    object entries stay dicts for the owner's ``from_config`` to resolve."""
    if isinstance(node, list):
        return [decode_plain_values(x, safe) for x in node]
    if isinstance(node, dict):
        if node.get("class_name") in _DATA_CLASSES - {"__keras_tensor__"}:
            return decode_value(node, safe)
        if "class_name" in node:
            return node
        return {k: decode_plain_values(v, safe) for k, v in node.items()}
    return node


_ALLOWED_ARRAY_KINDS = "biufcU"


def decode_value(config: dict, safe: bool):
    """The value of a data entry: arrays, tensors, bytes, tuples, slices (and lambdas if not safe)."""
    class_name = config["class_name"]
    inner = config.get("config")
    if not isinstance(inner, dict):
        raise InvalidArchiveError(f"Malformed {class_name} entry: {_short(config)}")
    if class_name in ("__numpy__", "__tensor__"):
        try:
            dtype = np.dtype(inner.get("dtype"))
        except (TypeError, ValueError) as e:
            raise InvalidArchiveError(f"Unsupported array dtype in {_short(config)}") from e
        if dtype.kind not in _ALLOWED_ARRAY_KINDS:
            raise UnsafeModelError(f"Refused an array of dtype {dtype} (only numeric arrays load). {_short(config)}")
        try:
            value = np.array(inner.get("value"), dtype=dtype)
        except (TypeError, ValueError, OverflowError) as e:
            raise InvalidArchiveError(f"Malformed array entry: {_short(config)}") from e
        if class_name == "__tensor__":
            from featherflow.core import Tensor

            return Tensor(value)
        return value
    if class_name == "__bytes__":
        value = inner.get("value")
        if not isinstance(value, str):
            raise InvalidArchiveError(f"Malformed bytes entry: {_short(config)}")
        return value.encode("utf-8")
    if class_name == "__tuple__":
        value = inner.get("value")
        if not isinstance(value, list):
            raise InvalidArchiveError(f"Malformed tuple entry: {_short(config)}")
        return tuple(decode_plain_values(value, safe))
    if class_name == "__slice__":
        return slice(inner.get("start"), inner.get("stop"), inner.get("step"))
    if class_name == "__lambda__":
        return deserialize_function_code(inner, safe)
    return config


# -- Python code (only ever loaded with safe_mode=False) ------------------------------------------------
def serialize_function_code(fn) -> dict:
    """A lambda's bytecode (marshal, base64), defaults, closure and the modules its globals name.

    Loading this back executes code, so ``deserialize_function_code`` refuses it in safe mode.
    """
    import marshal

    modules = {}
    for name in fn.__code__.co_names:
        value = fn.__globals__.get(name)
        if isinstance(value, types.ModuleType):
            modules[name] = value.__name__
    closure = [serialize_keras_object(c.cell_contents) for c in fn.__closure__] if fn.__closure__ else None
    return {"value": base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii"),
            "defaults": serialize_keras_object(list(fn.__defaults__)) if fn.__defaults__ else None,
            "closure": closure, "modules": modules, "python": list(sys.version_info[:2])}


def deserialize_function_code(config: dict, safe_mode: bool | None = True):
    """Rebuild a lambda saved by ``serialize_function_code`` (refused in safe mode)."""
    if _effective_safe_mode(safe_mode):
        raise UnsafeModelError(LAMBDA_REFUSAL)
    import importlib
    import marshal

    if list(config.get("python") or []) != list(sys.version_info[:2]):
        raise InvalidArchiveError(
            f"This Lambda was saved by Python {config.get('python')}; its bytecode cannot run on Python "
            f"{list(sys.version_info[:2])}. Re-create the Lambda layer in code and load the weights instead.")
    try:
        code = marshal.loads(base64.b64decode(config["value"]))
    except (KeyError, ValueError, TypeError, EOFError) as e:
        raise InvalidArchiveError("The Lambda's saved code is corrupt.") from e
    if not isinstance(code, types.CodeType):
        raise InvalidArchiveError("The Lambda's saved code is not a code object.")
    namespace = {"__builtins__": builtins}
    for name, module in (config.get("modules") or {}).items():
        namespace[name] = importlib.import_module(module)  # safe_mode=False: the user trusts this file
    closure = config.get("closure")
    cells = tuple(types.CellType(c) for c in closure) if closure else None
    defaults = tuple(config["defaults"]) if config.get("defaults") else None
    return types.FunctionType(code, namespace, code.co_name, defaults, cells)


# -- keras.layers.serialize / deserialize ----------------------------------------------------------------
def serialize_layer(layer) -> dict:
    """``keras.layers.serialize``: a layer's ``{"module", "class_name", "config", ...}`` dict."""
    return serialize_keras_object(layer)


def deserialize_layer(config, custom_objects: dict | None = None, use_legacy_format: bool = False):
    """``keras.layers.deserialize``: a layer from its config, through the closed registry.

    >>> from featherflow import keras
    >>> keras.layers.deserialize({"class_name": "Dense", "config": {"units": 2}}).units
    2
    """
    if not isinstance(config, dict):
        raise TypeError(f"`keras.layers.deserialize` expects a dict config. Received: config={config!r:.100}")
    return deserialize_keras_object(config, custom_objects=custom_objects)
