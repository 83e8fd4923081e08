"""``tf.Module``: a named container of variables and sub-modules, found by walking its attributes.

``variables``, ``trainable_variables``, ``non_trainable_variables`` and ``submodules`` walk the module's
attributes in sorted name order, through lists, tuples and dicts, into nested modules, each object once (as
TensorFlow does). Keras layers and models count as sub-modules and contribute their weights. A module's
``name_scope`` (``"<enclosing scopes>/<name>/"``) prefixes the variables created inside it, and
``Module.with_name_scope`` makes a method enter it.

>>> import featherflow as ff
>>> class Affine(ff.Module):
...     def __init__(self, name=None):
...         super().__init__(name=name)
...         with self.name_scope:
...             self.w = ff.Variable([[1.0, 2.0]], name="w")
...             self.b = ff.Variable([0.5], name="b", trainable=False)
...     def __call__(self, x):
...         return ff.matmul(x, self.w) + self.b
>>> layer = Affine()
>>> layer.name, [v.name for v in layer.variables], [v.name for v in layer.trainable_variables]
('affine', ['affine/b', 'affine/w'], ['affine/w'])
"""

from __future__ import annotations

import functools
import re

from featherflow.core.runtime import state as _state
from featherflow.core.scopes import name_scope
from featherflow.core.variable import Variable


def _camel_to_snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _is_keras_layer(value) -> bool:
    return hasattr(value, "trainable_weights") and hasattr(value, "non_trainable_weights") and \
        not isinstance(value, Module)


class Module:
    """Base class for named collections of variables and sub-modules.

    Args:
        name: a valid Python identifier (default: the class name in snake case).
    """

    def __init__(self, name=None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid Python identifiers "
                             f"(e.g. a valid class name).")
        self._name = name
        outer = _state.name_scope
        self._scope_name = f"{outer}/{name}/" if outer else f"{name}/"

    @property
    def name(self) -> str:
        """The module's name (without its enclosing scopes)."""
        return self._name

    @property
    def name_scope(self) -> name_scope:
        """The module's name scope: entering it makes variables ``<scope>/<name>``."""
        return name_scope(self._scope_name)

    @property
    def variables(self) -> tuple:
        """Every variable of this module and its sub-modules (each once)."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple:
        """The trainable variables of this module and its sub-modules."""
        return tuple(v for v in self.variables if v.trainable)

    @property
    def non_trainable_variables(self) -> tuple:
        """The non-trainable variables of this module and its sub-modules."""
        return tuple(v for v in self.variables if not v.trainable)

    @property
    def submodules(self) -> tuple:
        """Every module reachable from this one's attributes (not including itself)."""
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(self, recursive=True, predicate=None, attribute_traversal_key=None, with_path=False,
                 expand_composites=False):
        """The objects reachable from this module's attributes that satisfy ``predicate``."""
        predicate = predicate or (lambda _: True)
        seen = {id(self)}
        out = []
        for path, value in self._walk(self, (), seen, recursive, attribute_traversal_key):
            if predicate(value):
                out.append((path, value) if with_path else value)
        return out

    @classmethod
    def _walk(cls, module, prefix, seen, recursive, key):
        attributes = vars(module)
        for name in sorted(attributes, key=key):
            yield from cls._walk_value(attributes[name], prefix + (name,), seen, recursive, key)

    @classmethod
    def _walk_value(cls, value, path, seen, recursive, key):
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                yield from cls._walk_value(item, path + (i,), seen, recursive, key)
            return
        if isinstance(value, dict):
            for k in sorted(value, key=str):
                yield from cls._walk_value(value[k], path + (k,), seen, recursive, key)
            return
        if id(value) in seen:
            return
        if isinstance(value, (Variable, Module)) or _is_keras_layer(value):
            seen.add(id(value))
            yield path, value
        if isinstance(value, Module) and recursive:
            yield from cls._walk(value, path, seen, recursive, key)
        elif _is_keras_layer(value):
            for i, weight in enumerate(list(value.trainable_weights) + list(value.non_trainable_weights)):
                if id(weight) not in seen:
                    seen.add(id(weight))
                    yield path + ("weights", i), weight

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: run ``method`` inside its module's name scope."""
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapped

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object named {self._name!r}>"


def _is_variable(value) -> bool:
    return isinstance(value, Variable)


def _is_module(value) -> bool:
    return isinstance(value, Module) or _is_keras_layer(value)
