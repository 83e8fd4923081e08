"""``keras.regularizers``: weight penalties added to the training loss (differentiable, built on ops).

::

    L1(l1):        l1 * sum(|w|)
    L2(l2):        l2 * sum(w^2)
    L1L2(l1, l2):  both
    OrthogonalRegularizer(factor, mode): factor * mean over pairs of |cos| between rows (or columns)

Defaults follow tf.keras: ``L1()``/``L2()``/``"l1"``/``"l2"`` use 0.01; ``L1L2()`` uses 0 and 0 while
the function ``l1_l2()`` uses 0.01 and 0.01.

>>> from featherflow import keras
>>> float(keras.regularizers.L2(0.5)([[1.0, 2.0]]))
2.5
"""

from __future__ import annotations

import math

import numpy as np

from featherflow import ops
from featherflow.ops._convert import as_float_tensor


def _penalty(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(
            float(value)):
        raise ValueError(f"Value {value!r} is not a valid regularization penalty number for `{name}`, expected an "
                         f"int or a float value.")
    return float(value)


class Regularizer:
    """Base class: ``regularizer(weight)`` returns a scalar penalty tensor."""

    def __call__(self, x):
        return ops.constant(0.0)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _penalty(l1, "l1")
        self.l2 = _penalty(l2, "l2")

    def __call__(self, x):
        x = as_float_tensor(x, "regularizer")
        out = None
        if self.l1:
            out = ops.reduce_sum(ops.abs(x)) * self.l1
        if self.l2:
            term = ops.reduce_sum(ops.square(x)) * self.l2
            out = term if out is None else out + term
        return out if out is not None else ops.zeros((), dtype=x.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)`` (default ``l1=0.01``; ``l=`` is the old name)."""

    def __init__(self, l1=0.01, **kwargs):
        l1 = kwargs.pop("l", l1)
        if kwargs:
            raise TypeError(f"L1: unexpected arguments {sorted(kwargs)}")
        super().__init__(l1=l1, l2=0.0)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w^2)`` (default ``l2=0.01``; ``l=`` is the old name)."""

    def __init__(self, l2=0.01, **kwargs):
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"L2: unexpected arguments {sorted(kwargs)}")
        super().__init__(l1=0.0, l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns (``"columns"``) of a 2-D weight towards orthogonality.

    ``factor * 0.5 * sum(|G - diag(G)|) / (n (n - 1) / 2)`` with ``G`` the Gram matrix of the
    L2-normalized rows (or columns), ``n`` their count.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _penalty(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. Received: "
                             f"mode={mode}")
        self.mode = mode

    def __call__(self, x):
        x = as_float_tensor(x, "OrthogonalRegularizer")
        if x.ndim != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={x.shape}")
        if self.mode == "rows":
            x = ops.l2_normalize(x, axis=1)
            product = ops.matmul(x, ops.transpose(x))
        else:
            x = ops.l2_normalize(x, axis=0)
            product = ops.matmul(ops.transpose(x), x)
        size = product.shape[0]
        if size < 2:
            return ops.zeros((), dtype=x.dtype)
        off_diagonal = product * (1.0 - np.eye(size, dtype=x.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return ops.reduce_sum(ops.abs(off_diagonal)) * (self.factor * 0.5 / num_pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1=0.01, l2=0.01):
    """An ``L1L2`` regularizer with both penalties (defaults 0.01)."""
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer

_CLASSES = {cls.__name__: cls for cls in (L1, L2, L1L2, OrthogonalRegularizer)}
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer) -> dict:
    """``{"class_name": ..., "config": ...}``."""
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config, custom_objects=None):
    """Inverse of ``serialize``; a name gives the default-configured regularizer."""
    custom_objects = custom_objects or {}
    valid = sorted(set(_CLASSES) | set(_ALIASES))
    if isinstance(config, str):
        make = custom_objects.get(config) or _CLASSES.get(config) or _ALIASES.get(config.lower())
        if make is None:
            raise ValueError(f"Unknown regularizer: {config!r}. Valid names are: {valid}")
        return make()
    name = config.get("class_name")
    cls = custom_objects.get(name) or _CLASSES.get(name) or _ALIASES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown regularizer: {name!r}. Valid names are: {valid}")
    return cls.from_config(config.get("config", {})) if isinstance(cls, type) else cls(**config.get("config", {}))


def get(identifier):
    """Resolve ``None``, a name, a config dict, a Regularizer or any callable ``fn(weight)``."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
