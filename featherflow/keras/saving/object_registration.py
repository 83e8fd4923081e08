"""The object registry: which classes and functions a config may name.

Loading is closed: a name in a file is looked up, never imported. It resolves, in order, in the
active ``custom_object_scope``s, the global registry filled by ``@register_keras_serializable``
(plus anything put in ``get_custom_objects()``), the ``custom_objects=`` passed to the loader, and
featherflow's own public classes (``keras.layers``, ``keras.optimizers``, ...). Anything else is refused.

>>> from featherflow import keras
>>> @keras.saving.register_keras_serializable(package="Docs")
... class Double(keras.layers.Layer):
...     def call(self, x):
...         return x * 2.0
>>> keras.saving.get_registered_name(Double)
'Docs>Double'
>>> keras.saving.get_registered_object("Docs>Double") is Double
True
"""

from __future__ import annotations

import inspect
import sys
import threading
import types
from typing import Any

_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_local = threading.local()

# featherflow namespaces whose public classes may be named in a config, and the namespaces whose
# public functions may be (pure math: activations, losses, metrics, tf.math, tf.nn). Nothing that
# touches files, processes or the network (utils.get_file, saving, callbacks) is ever reachable.
_CLASS_NAMESPACES = ("layers", "layers.experimental", "models", "optimizers", "optimizers.schedules", "mixed_precision",
                     "losses", "metrics", "initializers", "regularizers", "constraints", "activations")
_FUNCTION_NAMESPACES = ("activations", "losses", "metrics", "math", "nn")
_EXCLUDED_FUNCTIONS = frozenset({"get", "serialize", "deserialize"})
# Module prefixes that mean "a built-in of Keras or featherflow" in a saved file.
_BUILTIN_MODULE_PREFIXES = ("keras", "tf_keras", "tensorflow", "featherflow")


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Class or function decorator: make a custom object loadable by name (``"package>name"``).

    Args:
        package: namespace of the registered name (default ``"Custom"``).
        name: the object's name inside the package (default: its ``__name__``).

    Registering a name again replaces the earlier object (so re-running a notebook cell works).

    >>> from featherflow import keras
    >>> @keras.saving.register_keras_serializable(package="Docs", name="half")
    ... def half(x):
    ...     return x * 0.5
    >>> keras.saving.get_registered_name(half)
    'Docs>half'
    """
    if not isinstance(package, str) or ">" in package or not package:
        raise ValueError(f"`package` must be a non-empty string without '>'. Received: package={package!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"`name` must be a non-empty string or None. Received: name={name!r}")

    def decorator(arg):
        if not (inspect.isclass(arg) or inspect.isfunction(arg) or callable(arg)):
            raise TypeError(f"`register_keras_serializable` decorates classes and functions. Received: {arg!r}")
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method. "
                             f"Received: {arg.__name__}")
        registered_name = f"{package}>{name if name is not None else arg.__name__}"
        previous = _GLOBAL_CUSTOM_OBJECTS.get(registered_name)
        if previous is not None:
            _GLOBAL_CUSTOM_NAMES.pop(previous, None)
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under (``"package>name"``), else its ``__name__``."""
    try:
        registered = _GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable
        registered = None
    return registered if registered is not None else obj.__name__


def get_custom_objects() -> dict:
    """The global registry (a live dict: ``get_custom_objects()["name"] = obj`` registers ``obj``)."""
    return _GLOBAL_CUSTOM_OBJECTS


def _scope_stack() -> list:
    stack = getattr(_local, "scopes", None)
    if stack is None:
        stack = _local.scopes = []
    return stack


class CustomObjectScope:
    """Context manager: names usable by deserialisation inside the block (innermost scope wins).

    >>> from featherflow import keras
    >>> def swish2(x):
    ...     return x
    >>> with keras.saving.custom_object_scope({"swish2": swish2}):
    ...     keras.saving.get_registered_object("swish2") is swish2
    True
    >>> keras.saving.get_registered_object("swish2") is None
    True
    """

    def __init__(self, *custom_objects):
        merged: dict = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(f"custom_object_scope expects dicts of name -> object. Received: {objects!r}")
            merged.update(objects)
        self.custom_objects = merged

    def __enter__(self):
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        stack = _scope_stack()
        if stack and stack[-1] is self.custom_objects:
            stack.pop()
        return False


custom_object_scope = CustomObjectScope


def _from_user_objects(name: str, custom_objects: dict | None):
    for scope in reversed(_scope_stack()):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if ">" not in name:
        # A config written with the bare class name ("MyLayer") still finds "Package>MyLayer" when exactly
        # one registered object has that name.
        matches = [obj for key, obj in _GLOBAL_CUSTOM_OBJECTS.items() if key.rpartition(">")[2] == name]
        if len(matches) == 1:
            return matches[0]
    return None


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None):
    """Look ``name`` up in scopes, the global registry, ``custom_objects``, then ``module_objects``.

    Returns ``None`` when nothing matches (the caller decides how to refuse). Never imports anything.
    """
    if not isinstance(name, str):
        return None
    found = _from_user_objects(name, custom_objects)
    if found is None and module_objects and name in module_objects:
        found = module_objects[name]
    return found


# -- featherflow's built-ins -------------------------------------------------------------------------
_builtin_cache: dict = {"key": None, "classes": {}, "functions": {}}


def _namespace_module(namespace: str):
    """The already-imported ``featherflow.keras.<ns>`` (or ``featherflow.<ns>``) module, or ``None``."""
    return sys.modules.get(f"featherflow.keras.{namespace}") or (
        sys.modules.get(f"featherflow.{namespace}") if namespace in ("math", "nn") else None)


def _is_featherflow(obj) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == "featherflow" or module.startswith("featherflow.")


def _scan() -> tuple[dict, dict]:
    """``{namespace: {name: class}}`` and ``{namespace: {name: function}}`` of featherflow's public API.

    Rebuilt when a namespace module gains names (other modules may still be filling in)."""
    import featherflow.keras  # noqa: F401  (make sure the namespaces are imported)

    modules = [(ns, _namespace_module(ns)) for ns in set(_CLASS_NAMESPACES + _FUNCTION_NAMESPACES)]
    key = tuple(sorted((ns, id(m), len(vars(m)) if m is not None else -1) for ns, m in modules))
    if _builtin_cache["key"] == key:
        return _builtin_cache["classes"], _builtin_cache["functions"]
    classes: dict = {}
    functions: dict = {}
    for ns, module in modules:
        if module is None:
            continue
        for name, value in vars(module).items():
            if name.startswith("_") or not _is_featherflow(value):
                continue
            if ns in _CLASS_NAMESPACES and inspect.isclass(value) and not issubclass(value, BaseException) \
                    and hasattr(value, "from_config"):
                classes.setdefault(ns, {})[name] = value
            elif ns in _FUNCTION_NAMESPACES and isinstance(value, types.FunctionType) \
                    and name not in _EXCLUDED_FUNCTIONS:
                functions.setdefault(ns, {})[name] = value
    _builtin_cache.update(key=key, classes=classes, functions=functions)
    return classes, functions


def is_builtin_module(module) -> bool:
    """Whether a saved ``module`` field denotes Keras/featherflow built-ins (or is absent)."""
    if module is None:
        return True
    if not isinstance(module, str):
        return False
    return any(module == p or module.startswith(p + ".") for p in _BUILTIN_MODULE_PREFIXES)


def _ordered_namespaces(table: dict, module: str | None, preferred: tuple) -> list:
    """Namespaces to search: those named in ``module`` (``keras.losses`` -> losses) first."""
    parts = (module or "").split(".")
    hinted = [ns for ns in table if ns.split(".")[-1] in parts]
    hinted.sort(key=lambda ns: -len(ns))  # optimizers.schedules before optimizers
    rest = [ns for ns in preferred if ns in table and ns not in hinted]
    return hinted + rest + [ns for ns in table if ns not in hinted and ns not in rest]


def get_builtin_class(class_name: str, module: str | None = None):
    """featherflow's public class ``class_name`` (``module`` disambiguates, e.g. losses vs metrics)."""
    if not isinstance(class_name, str) or not is_builtin_module(module):
        return None
    classes, _ = _scan()
    for ns in _ordered_namespaces(classes, module, _CLASS_NAMESPACES):
        if class_name in classes[ns]:
            return classes[ns][class_name]
    return None


def get_builtin_function(name: str, module: str | None = None):
    """featherflow's public math function ``name`` (activations, losses, metrics, math, nn)."""
    if not isinstance(name, str) or not is_builtin_module(module):
        return None
    _, functions = _scan()
    for ns in _ordered_namespaces(functions, module, _FUNCTION_NAMESPACES):
        if name in functions[ns]:
            return functions[ns][name]
    return None


def builtin_namespace_of(obj) -> str | None:
    """``"keras.layers"`` for featherflow's Dense, ``None`` when ``obj`` is not a public built-in."""
    classes, functions = _scan()
    for table in (classes, functions):
        for ns in _ordered_namespaces(table, None, _CLASS_NAMESPACES + _FUNCTION_NAMESPACES):
            if any(value is obj for value in table[ns].values()):
                return ("keras." + ns) if ns not in ("math", "nn") else ("featherflow." + ns)
    return None
