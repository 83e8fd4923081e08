"""Random tensors drawn from featherflow's seeded generator (``featherflow.random``).

>>> import featherflow as ff
>>> ff.random.set_seed(1); a = ff.random.normal((2,)).numpy()
>>> ff.random.set_seed(1); bool((a == ff.random.normal((2,)).numpy()).all())
True
"""

from __future__ import annotations

import numpy as np

from featherflow.backend import random as _random
from featherflow.backend.arrays import floatx, xp
from featherflow.core.tensor import Tensor
from featherflow.ops.creation import _shape

set_seed = _random.set_seed


def _rng(seed):
    return _random.make_generator(seed) if seed is not None else _random.generator()


def _float_dtype(dtype, op):
    dtype = np.dtype(floatx() if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"{op}: dtype must be a float type. Received: dtype={dtype.name}")
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None) -> Tensor:
    """Samples from a normal distribution ``N(mean, stddev**2)``."""
    dtype = _float_dtype(dtype, "normal")
    return Tensor(xp().asarray(_rng(seed).normal(mean, stddev, _shape(shape)).astype(dtype)))


def uniform(shape, minval=0, maxval=None, dtype=None, seed=None, name=None) -> Tensor:
    """Samples uniform in ``[minval, maxval)`` (``maxval`` defaults to 1 for floats); integer
    dtypes need ``maxval``."""
    dtype = np.dtype(floatx() if dtype is None else dtype)
    rng = _rng(seed)
    if dtype.kind in "iu":
        if maxval is None:
            raise ValueError("uniform: `maxval` must be given for integer dtypes.")
        return Tensor(xp().asarray(rng.integers(minval, maxval, _shape(shape)).astype(dtype)))
    maxval = 1.0 if maxval is None else maxval
    if maxval < minval:
        raise ValueError(f"uniform: need minval <= maxval. Received: minval={minval}, maxval={maxval}")
    return Tensor(xp().asarray(rng.uniform(minval, maxval, _shape(shape)).astype(dtype)))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None) -> Tensor:
    """Normal samples, redrawn until they lie within two standard deviations of the mean."""
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = _rng(seed)
    dims = _shape(shape)
    out = rng.standard_normal(dims)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return Tensor(xp().asarray((out * stddev + mean).astype(dtype)))


def shuffle(value, seed=None, name=None) -> Tensor:
    """A copy of ``value`` with its first axis randomly permuted."""
    arr = value.value if isinstance(value, Tensor) else np.asarray(value)
    return Tensor(arr[_rng(seed).permutation(arr.shape[0])])


def categorical(logits, num_samples, dtype=None, seed=None, name=None) -> Tensor:
    """Draw class indices from the categorical distributions given by unnormalized log-probabilities.

    Args:
        logits: ``(batch, classes)`` unnormalized log-probabilities (``-inf`` excludes a class).
        num_samples: draws per row.
        dtype: integer output dtype (default int64).

    Returns: ``(batch, num_samples)`` class indices (Gumbel-max sampling).

    >>> import featherflow as ff
    >>> ff.random.categorical([[0.0, float("-inf")]], 3).numpy()
    array([[0, 0, 0]])
    """
    arr = logits.value if isinstance(logits, Tensor) else np.asarray(logits, dtype="float64")
    if arr.ndim != 2 or arr.dtype.kind != "f":
        raise ValueError(
            f"categorical: `logits` must be a 2-D float tensor (batch, classes). Received: shape={arr.shape}, "
            f"dtype={arr.dtype}"
        )
    num_samples = int(num_samples)
    if num_samples < 0:
        raise ValueError(f"categorical: num_samples must be non-negative. Received: {num_samples}")
    out_dtype = np.dtype("int64" if dtype is None else dtype)
    if out_dtype.kind not in "iu":
        raise ValueError(f"categorical: dtype must be an integer type. Received: dtype={out_dtype.name}")
    host = np.asarray(arr.get() if hasattr(arr, "get") else arr, dtype="float64")
    gumbel = -np.log(-np.log(_rng(seed).uniform(np.finfo("float64").tiny, 1.0,
                                                 (host.shape[0], num_samples, host.shape[1]))))
    draws = np.argmax(host[:, None, :] + gumbel, axis=-1)
    return Tensor(xp().asarray(draws.astype(out_dtype)))
