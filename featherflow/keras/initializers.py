"""``keras.initializers``: how new weights are filled, seeded through featherflow's generator.

Every initializer is called as ``init(shape, dtype=None)`` and returns a Tensor. Without a
``seed`` it draws from featherflow's global generator (so ``keras.utils.set_random_seed`` makes a
run reproducible); with a ``seed`` every call gives the same values (as in tf.keras 2.12).

Variance scaling (``fan_in``, ``fan_out``, their average for ``fan_avg``; conv kernels count the
receptive field)::

    n = fan_in | fan_out | (fan_in + fan_out) / 2,   s = scale / n
    truncated_normal: N(0, sqrt(s) / 0.87962566103423978) truncated at 2 standard deviations
    untruncated_normal: N(0, sqrt(s));   uniform: U(-sqrt(3 s), sqrt(3 s))

Glorot = (1, fan_avg), He = (2, fan_in), LeCun = (1, fan_in); ``*Uniform`` use ``uniform``,
``*Normal`` use ``truncated_normal``.

>>> from featherflow.keras import initializers
>>> initializers.get("zeros")((2,)).numpy()
array([0., 0.], dtype=float32)
>>> a = initializers.GlorotUniform(seed=1)((2, 3)); b = initializers.GlorotUniform(seed=1)((2, 3))
>>> bool((a.numpy() == b.numpy()).all())
True
"""

from __future__ import annotations

import math

import numpy as np

from featherflow.backend import random as _random
from featherflow.backend.arrays import floatx
from featherflow.core.tensor import Tensor

_TRUNCATED_STD_FACTOR = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


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


def _dtype(dtype, float_only=True, name="initializer"):
    dt = np.dtype(dtype or floatx())
    if float_only and dt.kind not in "fc":
        raise ValueError(f"{name} only supports floating-point dtypes. Received: dtype={dt.name}")
    return dt


class Initializer:
    """Base class: ``initializer(shape, dtype)`` returns a Tensor."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError(f"Initializer '{type(self).__name__}' must implement __call__(shape, dtype).")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class Zeros(Initializer):
    """All zeros (any dtype)."""

    def __call__(self, shape, dtype=None, **kwargs):
        return Tensor(np.zeros(tuple(shape), dtype=np.dtype(dtype or floatx())))


class Ones(Initializer):
    """All ones (any dtype)."""

    def __call__(self, shape, dtype=None, **kwargs):
        return Tensor(np.ones(tuple(shape), dtype=np.dtype(dtype or floatx())))


class Constant(Initializer):
    """Every element equal to ``value`` (a scalar, or an array broadcastable to the shape).

    >>> Constant(3.0)((2,)).numpy()
    array([3., 3.], dtype=float32)
    """

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None, **kwargs):
        value = np.asarray(self.value)
        try:
            out = np.broadcast_to(value, tuple(shape))
        except ValueError:
            raise ValueError(f"Constant initializer value of shape {value.shape} cannot fill a weight of shape "
                             f"{tuple(shape)}. Pass a scalar or a broadcastable array.") from None
        return Tensor(np.array(out, dtype=np.dtype(dtype or floatx())))

    def get_config(self):
        value = self.value.tolist() if isinstance(self.value, np.ndarray) else self.value
        return {"value": value}


class _Random(Initializer):
    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.seed = seed

    def _rng(self):
        return _random.make_generator(self.seed) if self.seed is not None else _random.generator()

    def get_config(self):
        return {"seed": self.seed}


def _truncated_normal(rng, shape, mean, stddev):
    """Normal samples redrawn until they lie within two standard deviations."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return mean + stddev * out


class RandomNormal(_Random):
    """Normal with ``mean`` and ``stddev`` (defaults 0 and 0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, **kwargs):
        dt = _dtype(dtype, name="RandomNormal")
        return Tensor(self._rng().normal(self.mean, self.stddev, tuple(shape)).astype(dt))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Random):
    """Uniform in ``[minval, maxval)`` (defaults -0.05, 0.05); integer dtypes draw integers."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None, **kwargs):
        dt = _dtype(dtype, float_only=False)
        if dt.kind in "iu":
            return Tensor(self._rng().integers(int(self.minval), int(self.maxval), tuple(shape)).astype(dt))
        if dt.kind not in "fc":
            raise ValueError(f"RandomUniform supports float and integer dtypes. Received: dtype={dt.name}")
        return Tensor(self._rng().uniform(self.minval, self.maxval, tuple(shape)).astype(dt))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(_Random):
    """Normal with ``mean``/``stddev`` (defaults 0, 0.05), redrawn beyond two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, **kwargs):
        dt = _dtype(dtype, name="TruncatedNormal")
        return Tensor(_truncated_normal(self._rng(), tuple(shape), self.mean, self.stddev).astype(dt))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Random):
    """Samples scaled to the weight's fan (see the module docstring).

    Args:
        scale: positive scaling factor. Defaults to 1.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (alias ``"normal"``), ``"untruncated_normal"`` or ``"uniform"``.
        seed: optional integer seed.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError(f"Argument `mode` should be one of ('fan_in', 'fan_out', 'fan_avg'). Received: "
                             f"mode={mode}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in {"uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Argument `distribution` should be one of ('uniform', 'truncated_normal', "
                             f"'untruncated_normal'). Received: distribution={distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None, **kwargs):
        dt = _dtype(dtype, name=type(self).__name__)
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        s = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(s) / _TRUNCATED_STD_FACTOR)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(s), shape)
        else:
            limit = math.sqrt(3.0 * s)
            values = rng.uniform(-limit, limit, shape)
        return Tensor(values.astype(dt))

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _preset(name, scale, mode, distribution, doc):
    class _Init(VarianceScaling):
        def __init__(self, seed=None):
            super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

        def get_config(self):
            return {"seed": self.seed}

    _Init.__name__ = _Init.__qualname__ = name
    _Init.__doc__ = doc
    return _Init


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform",
                        "Glorot/Xavier uniform: ``U(-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``.")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Glorot/Xavier normal: truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform",
                    "He uniform: ``U(-limit, limit)``, ``limit = sqrt(6 / fan_in)``.")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                   "He normal: truncated normal with ``stddev = sqrt(2 / fan_in)``.")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform",
                       "LeCun uniform: ``U(-limit, limit)``, ``limit = sqrt(3 / fan_in)``.")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                      "LeCun normal: truncated normal with ``stddev = sqrt(1 / fan_in)``.")


class Orthogonal(_Random):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014), reshaped to the weight's shape.

    The weight is viewed as ``(prod(shape[:-1]), shape[-1])``; the QR factor of a normal matrix,
    sign-corrected by ``diag(R)``, gives orthonormal rows or columns.
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        dt = _dtype(dtype, name="Orthogonal")
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional. Received: shape={shape}")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return Tensor((self.gain * q.reshape(shape)).astype(dt))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D weights only; rectangular ones get ``eye(rows, cols)``)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. Received: shape={shape}")
        return Tensor((self.gain * np.eye(*shape)).astype(_dtype(dtype, name="Identity")))

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, GlorotUniform,
    GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity)}
_ALIASES = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal, "identity": Identity,
}
# lower-case class aliases, as tf.keras exports them
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def _valid_names() -> list:
    return sorted(set(_ALIASES) | set(_CLASSES))


def _lookup(name):
    return _CLASSES.get(name) or _ALIASES.get(name) or _ALIASES.get(str(name).lower())


def serialize(initializer) -> dict:
    """``{"class_name": ..., "config": ...}`` for an initializer."""
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config, custom_objects=None) -> Initializer:
    """Inverse of ``serialize`` (a name works too; ``custom_objects`` for user initializers)."""
    custom_objects = custom_objects or {}
    if isinstance(config, str):
        cls = custom_objects.get(config) or _lookup(config)
        if cls is None:
            raise ValueError(f"Unknown initializer: {config!r}. Valid names are: {_valid_names()}")
        return cls() if isinstance(cls, type) else cls
    name = config.get("class_name")
    cls = custom_objects.get(name) or _lookup(name)
    if cls is None:
        raise ValueError(f"Unknown initializer: {name!r}. Valid names are: {_valid_names()}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """Resolve ``None``, a name, a config dict, an Initializer (instance or class) or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}. Valid names are: "
                     f"{_valid_names()}")
