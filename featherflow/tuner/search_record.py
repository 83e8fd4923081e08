"""What a reloaded project is compared with: its search space and a description of the search's arguments.

A tuner created with ``overwrite=False`` on an existing project reuses its finished trials. That is only right
when the trials answer the same question: ``space_differences`` lists how two search spaces differ (the tuner
then refuses the project), ``describe_arguments`` summarises the data and ``fit`` arguments given to ``search``
(arrays by shape, dtype and a hash of their contents) so that a rerun on other data or with other epochs is
reported (``argument_differences``).

>>> from featherflow.tuner import HyperParameters
>>> old, new = HyperParameters(), HyperParameters()
>>> _ = old.Int("units", 8, 32); _ = new.Int("units", 64, 128); _ = new.Float("dropout", 0.0, 0.5)
>>> space_differences(old, new, exact=True)
["'units' was Int(min_value=8, max_value=32), now Int(min_value=64, max_value=128)", "'dropout' is new"]
>>> import numpy as np
>>> argument_differences(describe_arguments((np.zeros(3),), {"epochs": 2}),
...                      describe_arguments((np.ones(3),), {"epochs": 5}))
['positional argument 0: other contents', 'epochs: 2 -> 5']
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from featherflow.tuner.hyperparameters import HyperParameters

_FULL_HASH_BYTES = 64 << 20  # arrays up to 64 MB are hashed whole, larger ones by a sample of rows


def _describe_change(before: Any, after: Any) -> str:
    """``"was Int(min_value=8), now Int(min_value=64)"``: the class and the settings that differ."""
    old, new = before.get_config(), after.get_config()
    keys = [k for k in dict.fromkeys([*old, *new]) if k != "name" and old.get(k) != new.get(k)]

    def show(parameter: Any, config: dict) -> str:
        return f"{type(parameter).__name__}(" + ", ".join(f"{k}={config.get(k)!r}" for k in keys) + ")"

    return f"was {show(before, old)}, now {show(after, new)}"


def space_differences(old: HyperParameters, new: HyperParameters, exact: bool) -> list[str]:
    """How ``new`` differs from ``old``: changed definitions, new parameters and (``exact``) removed ones."""
    differences = []
    for parameter in new.space:
        if parameter.name not in old:
            differences.append(f"{parameter.name!r} is new")
            continue
        before = old.hyperparameter(parameter.name)
        if type(before) is not type(parameter) or before.get_config() != parameter.get_config():
            differences.append(f"{parameter.name!r} {_describe_change(before, parameter)}")
    if exact:
        differences += [f"{p.name!r} was removed" for p in old.space if p.name not in new]
    return differences


def _hash_array(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    digest = hashlib.blake2b(digest_size=8)
    if array.nbytes <= _FULL_HASH_BYTES or array.ndim == 0:
        digest.update(array.view(np.uint8).reshape(-1) if array.size else b"")
    else:
        step = -(-array.nbytes // _FULL_HASH_BYTES)
        digest.update(np.ascontiguousarray(array[::step]).view(np.uint8).reshape(-1))
    return digest.hexdigest()


def describe_value(value: Any) -> Any:
    """A JSON-ready description: arrays by shape, dtype and content hash, containers item by item."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (np.generic,)):
        return value.item()
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):  # pandas
        value = np.asarray(value.to_numpy())
    if isinstance(value, np.ndarray) or (hasattr(value, "__array__") and hasattr(value, "shape")):
        array = np.asarray(value)
        if array.dtype.kind == "O":
            return f"array{tuple(array.shape)} of objects"
        return f"array{tuple(array.shape)} {array.dtype} #{_hash_array(array)}"
    if isinstance(value, (list, tuple)):
        return [describe_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe_value(v) for k, v in value.items()}
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"<{getattr(value, '__module__', '') or type(value).__module__}.{name}>"


def describe_arguments(args: tuple, kwargs: dict, names: tuple = ()) -> dict:
    """``{"x": ..., "epochs": ...}``: the description of every argument of ``search`` (positional ones under
    ``names``, or ``"positional argument <i>"``)."""
    described = {names[i] if i < len(names) else f"positional argument {i}": describe_value(v)
                 for i, v in enumerate(args)}
    described.update({str(k): describe_value(v) for k, v in kwargs.items()})
    return described


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _changes(name: str, before: Any, after: Any, out: list) -> None:
    if before == after:
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            _changes(f"{name}[{i}]", b, a, out)
        return
    if isinstance(before, dict) and isinstance(after, dict) and before.keys() == after.keys():
        for key in before:
            _changes(f"{name}[{key!r}]", before[key], after[key], out)
        return
    if isinstance(before, str) and isinstance(after, str) and before.startswith("array") and \
            after.startswith("array") and before.split(" #")[0] == after.split(" #")[0]:
        out.append(f"{name}: other contents")
    else:
        out.append(f"{name}: {_short(before)} -> {_short(after)}")


def argument_differences(old: dict, new: dict) -> list[str]:
    """The arguments whose description changed, e.g. ``"epochs: 2 -> 5"`` or ``"x: other contents"``."""
    changes: list[str] = []
    for name in [*old, *(k for k in new if k not in old)]:
        if name not in old:
            changes.append(f"{name}: new ({_short(new[name])})")
        elif name not in new:
            changes.append(f"{name}: no longer given (was {_short(old[name])})")
        else:
            _changes(name, old[name], new[name], changes)
    return changes
