"""``keras.constraints``: projections applied to weights after each optimizer update.

::

    MaxNorm(m, axis):        w * clip(n, 0, m) / (eps + n)
    MinMaxNorm(a, b, r, ax): w * (r * clip(n, a, b) + (1 - r) * n) / (eps + n)
    UnitNorm(axis):          w / (eps + n)
    NonNeg():                w * (w >= 0)

with ``n = sqrt(sum(w^2, axis, keepdims=True))`` and ``eps = keras.backend.epsilon()``. The
default ``axis=0`` constrains each output unit's incoming weight vector of a Dense kernel
``(in, out)``; use ``axis=[0, 1, 2]`` for a Conv2D kernel.

>>> from featherflow import keras
>>> keras.constraints.NonNeg()([-1.0, 2.0]).numpy()
array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module, epsilon
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    xp = array_module(w)
    return xp.sqrt((w * w).sum(axis=_axis(axis), keepdims=True))


class Constraint:
    """Base class: ``constraint(weight)`` returns the projected weight (a Tensor)."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class MaxNorm(Constraint):
    """Rescale weight vectors whose L2 norm along ``axis`` exceeds ``max_value`` (default 2)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = as_float_tensor(w, "MaxNorm").value
        n = _norms(w, self.axis)
        desired = array_module(w).clip(n, 0, self.max_value)
        return Tensor((w * (desired / (epsilon() + n))).astype(w.dtype, copy=False))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move weight-vector norms into ``[min_value, max_value]`` at ``rate`` (1 = all the way)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = as_float_tensor(w, "MinMaxNorm").value
        n = _norms(w, self.axis)
        desired = self.rate * array_module(w).clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return Tensor((w * (desired / (epsilon() + n))).astype(w.dtype, copy=False))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative weights."""

    def __call__(self, w):
        w = as_float_tensor(w, "NonNeg").value
        return Tensor(w * (w >= 0))


class UnitNorm(Constraint):
    """Scale weight vectors to unit L2 norm along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = as_float_tensor(w, "UnitNorm").value
        return Tensor((w / (epsilon() + _norms(w, self.axis))).astype(w.dtype, copy=False))

    def get_config(self):
        return {"axis": self.axis}


class RadialConstraint(Constraint):
    """Make each ``(rows, cols)`` slice of a 4-D kernel ``(rows, cols, channels, kernels)`` radially symmetric:
    rings around the centre take one value each, read along the diagonal below the centre, exactly as
    tf.keras 2 does (odd size ``n``: the centre takes ``w[n//2 - 1, n//2 - 1]`` and ring ``r`` takes
    ``w[n//2 + r - 1, n//2 + r - 1]``; even size: the inner 2x2 takes ``w[n//2 - 1, n//2 - 1]`` and ring
    ``r`` takes ``w[n//2 + r, n//2 + r]``).

    >>> import numpy as np
    >>> w = np.arange(9.0).reshape(3, 3, 1, 1)
    >>> RadialConstraint()(w).numpy()[:, :, 0, 0]
    array([[4., 4., 4.],
           [4., 0., 4.],
           [4., 4., 4.]])
    """

    def __call__(self, w):
        w = as_float_tensor(w, "RadialConstraint").value
        if w.ndim != 4:
            raise ValueError(f"The weight tensor must have rank 4. Received weight tensor with shape: {w.shape}")
        height, width, channels, kernels = w.shape
        if height != width or height < 2:
            raise ValueError(f"RadialConstraint needs square kernels of size 2 or more. Received weight tensor with "
                             f"shape: {w.shape}")
        flat = w.reshape(height, width, channels * kernels)
        start = height // 2
        if height % 2:
            ring, index = flat[start - 1:start, start - 1:start], 0
        else:
            ring, index = np.broadcast_to(flat[start - 1:start, start - 1:start], (2, 2, flat.shape[-1])), 1
        while index < start:
            size = ring.shape[0] + 2
            grown = np.broadcast_to(flat[start + index, start + index], (size, size, flat.shape[-1])).copy()
            grown[1:-1, 1:-1] = ring
            ring, index = grown, index + 1
        return Tensor(ring.reshape(w.shape).astype(w.dtype, copy=False))


max_norm = maxnorm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
radial_constraint = RadialConstraint

_CLASSES = {cls.__name__: cls for cls in (MaxNorm, MinMaxNorm, NonNeg, UnitNorm, RadialConstraint)}
_ALIASES = {"max_norm": MaxNorm, "maxnorm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
            "nonneg": NonNeg, "unit_norm": UnitNorm, "unitnorm": UnitNorm, "radial_constraint": RadialConstraint}


def serialize(constraint) -> dict:
    """``{"class_name": ..., "config": ...}``."""
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def deserialize(config, custom_objects=None):
    """Inverse of ``serialize``; a name gives the default-configured constraint."""
    custom_objects = custom_objects or {}
    valid = sorted(set(_CLASSES) | set(_ALIASES))
    name = config if isinstance(config, str) else config.get("class_name")
    cls = custom_objects.get(name) or _CLASSES.get(name) or _ALIASES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown constraint: {name!r}. Valid names are: {valid}")
    return cls() if isinstance(config, str) else cls.from_config(config.get("config", {}))


def get(identifier):
    """Resolve ``None``, a name, a config dict, a Constraint or any callable ``fn(weight)``."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


