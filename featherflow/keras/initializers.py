"""``keras.initializers``: how new weights are filled (seeded through featherflow's generator).

>>> from featherflow.keras import initializers
>>> initializers.get("zeros")((2,)).numpy()
array([0., 0.], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from featherflow.backend import random as _random
from featherflow.backend.arrays import floatx
from featherflow.core import Tensor


def compute_fans(shape):
    """``(fan_in, fan_out)`` as Keras computes them (conv kernels: receptive field x channels)."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``initializer(shape, dtype)`` returns a Tensor."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None, **kwargs):
        return Tensor(np.zeros(tuple(shape), dtype=dtype or floatx()))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None, **kwargs):
        return Tensor(np.ones(tuple(shape), dtype=dtype or floatx()))


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def _rng(self):
        return _random.make_generator(self.seed) if self.seed is not None else _random.generator()

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_Seeded):
    """Uniform in ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""

    def __call__(self, shape, dtype=None, **kwargs):
        fan_in, fan_out = compute_fans(shape)
        limit = math.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return Tensor(self._rng().uniform(-limit, limit, tuple(shape)).astype(dtype or floatx()))


_ALIASES = {"zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "glorot_uniform": GlorotUniform}


def get(identifier):
    """Resolve a name, a config dict, an Initializer or a callable to an initializer."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer) or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, dict):
        cls = _ALIASES.get(identifier.get("class_name", "").lower()) or {
            c.__name__: c for c in set(_ALIASES.values())}.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown initializer: {identifier.get('class_name')!r}.")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower()) or {c.__name__: c for c in set(_ALIASES.values())}.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown initializer: {identifier!r}. Valid names are: {sorted(_ALIASES)}")
        return cls()
    raise TypeError(f"Could not interpret initializer identifier: {identifier!r}")
