"""``keras.optimizers``: optimizers on flat parameter buffers, learning-rate schedules, lookup by name.

``get("adam")`` / ``get({"class_name": "Adam", "config": {...}})`` / ``get(optimizer)`` resolve an
optimizer; unknown names raise a ``ValueError`` listing the valid ones. The lecture's lower-case
classes (``keras.optimizers.sgd(lr=0.1)``) still work, with a ``DeprecationWarning``.

>>> from featherflow import keras
>>> type(keras.optimizers.get("adam")).__name__
'Adam'
"""

from __future__ import annotations

import warnings

from featherflow.keras.optimizers import experimental, legacy, schedules
from featherflow.keras.optimizers.adadelta import Adadelta
from featherflow.keras.optimizers.adafactor import Adafactor
from featherflow.keras.optimizers.adagrad import Adagrad
from featherflow.keras.optimizers.adam import Adam
from featherflow.keras.optimizers.adamax import Adamax
from featherflow.keras.optimizers.adamw import AdamW
from featherflow.keras.optimizers.base import Optimizer
from featherflow.keras.optimizers.ftrl import Ftrl
from featherflow.keras.optimizers.lion import Lion
from featherflow.keras.optimizers.nadam import Nadam
from featherflow.keras.optimizers.rmsprop import RMSprop
from featherflow.keras.optimizers.sgd import SGD

_CLASSES = {cls.__name__: cls for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam, Ftrl, Lion,
                                          Adafactor)}
_ALIASES = {name.lower(): cls for name, cls in _CLASSES.items()}


def _legacy(cls):
    def make(*args, **kwargs):
        warnings.warn(f"keras.optimizers.{cls.__name__.lower()} is deprecated; use keras.optimizers.{cls.__name__} "
                      f"instead.", DeprecationWarning, stacklevel=2)
        return cls(*args, **kwargs)

    make.__name__ = cls.__name__.lower()
    make.__doc__ = f"Deprecated lower-case alias of ``{cls.__name__}``."
    return make


# The lecture-era lower-case names (Keras 1/2.0), kept with a deprecation warning.
sgd = _legacy(SGD)
rmsprop = _legacy(RMSprop)
adagrad = _legacy(Adagrad)
adadelta = _legacy(Adadelta)
adam = _legacy(Adam)
adamax = _legacy(Adamax)
nadam = _legacy(Nadam)


def serialize(optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` for an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None) -> Optimizer:
    """Rebuild an optimizer from ``serialize()`` output."""
    name = config.get("class_name")
    if name == "LossScaleOptimizer" and name not in (custom_objects or {}):
        from featherflow.keras.mixed_precision import LossScaleOptimizer  # wraps these optimizers: defined above

        return LossScaleOptimizer.from_config(config.get("config", {}))
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name) or _ALIASES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name!r}. Valid names are: {sorted(_ALIASES)}")
    return cls.from_config(config.get("config", {}), custom_objects=custom_objects) if issubclass(
        cls, Optimizer) else cls.from_config(config.get("config", {}))


def get(identifier) -> Optimizer:
    """Resolve an optimizer instance, a name (``"adam"``, ``"SGD"``) or a config dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: {identifier!r}. Valid names are: {sorted(_ALIASES)}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Pass an Optimizer instance, a name "
                     f"({sorted(_ALIASES)}) or a config dict.")
