"""Module attributes loaded on first use (PEP 562), so that ``import featherflow`` stays fast.

A namespace module (``featherflow.math``, ``featherflow.ops``, ...) lists the names it re-exports from
rarely needed modules in a table instead of importing them; the first access imports the module and keeps
the value in the namespace, so later accesses are plain attribute lookups. ``from featherflow.math import
lgamma``, ``dir()``, ``hasattr`` and tab completion all see the names.

The table maps a module to the names taken from it: ``"name"``, ``"exported=attribute"`` (a renamed
re-export), or ``"exported="`` (the module itself).

>>> import types
>>> namespace = types.ModuleType("example")
>>> namespace.__getattr__, namespace.__dir__ = lazy_attributes("example", vars(namespace),
...     {"json": ("dumps", "serialize=dumps", "json_module=")})
>>> namespace.serialize([1]), namespace.json_module.__name__, "dumps" in dir(namespace)
('[1]', 'json', True)
"""

from __future__ import annotations

import importlib


def lazy_table(modules: dict) -> dict:
    """``{exported_name: (module, attribute or None)}`` from a ``{module: names}`` table."""
    table = {}
    for module, names in modules.items():
        for item in names:
            if "=" in item:
                exported, attribute = item.split("=", 1)
                table[exported] = (module, attribute or None)
            else:
                table[item] = (module, item)
    return table


def lazy_attributes(module_name: str, namespace: dict, *tables: dict):
    """``(__getattr__, __dir__)`` for a module whose ``namespace`` (its ``globals()``) should resolve the names
    of ``tables`` (each ``{module: names}``, see the module docstring) on first access."""
    table = {}
    for modules in tables:
        table.update(lazy_table(modules))

    def __getattr__(name):
        try:
            module, attribute = table[name]
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None
        target = importlib.import_module(module)
        value = target if attribute is None else getattr(target, attribute)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(table))

    __getattr__.table = table
    return __getattr__, __dir__
