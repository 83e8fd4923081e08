"""Stateless random ops: the same ``seed`` (a shape-``[2]`` integer tensor) gives the same numbers, every time.

Each call draws from NumPy's Philox generator keyed by the seed, so results are reproducible across runs and
machines but are not TensorFlow's bit patterns (TensorFlow's kernels are not reproduced). ``split`` and
``fold_in`` derive new seeds from a seed; ``index_shuffle`` is a seeded bijection of ``[0, max_index]``.

>>> import featherflow as ff
>>> a = ff.random.stateless_normal([3], seed=[1, 2])
>>> bool(ff.reduce_all(a == ff.random.stateless_normal([3], seed=[1, 2])))
True
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import floatx, xp
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.creation import _shape

_MASK64 = (1 << 64) - 1


def _seed_words(seed, op, size=2):
    s = np.asarray(seed.value if isinstance(seed, Tensor) else seed)
    if s.dtype.kind not in "iu" or s.shape != (size,):
        raise ValueError(f"{op}: seed must be an integer tensor of shape [{size}]. Received: "
                         f"{s.tolist() if s.size < 8 else s.shape}")
    return [int(v) & _MASK64 for v in s.reshape(-1)]


def rng(seed, op, salt=0) -> np.random.Generator:
    """The NumPy generator for a stateless op with ``seed`` (``salt`` separates derived streams)."""
    words = _seed_words(seed, op)
    return np.random.Generator(np.random.Philox(key=[words[0], words[1] ^ salt]))


def _float(dtype, op):
    dtype = np.dtype(floatx() if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"{op}: dtype must be a floating-point type. Received: dtype={dtype.name}")
    return dtype


def _param(value, dtype):
    return np.asarray(value.value if isinstance(value, Tensor) else value, dtype=np.float64).astype(dtype)


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype="float32", name=None, alg="auto_select") -> Tensor:
    """Uniform samples in ``[minval, maxval)`` (``maxval`` defaults to 1 for floats; integer dtypes need it, or
    neither bound for full-range integers).

    >>> import featherflow as ff
    >>> ff.random.stateless_uniform([2], seed=[7, 7], maxval=10, dtype="int32").dtype.name
    'int32'
    """
    dtype = np.dtype(floatx() if dtype is None else dtype)
    dims = _shape(shape)
    gen = rng(seed, "stateless_uniform")
    if dtype.kind in "iu":
        if minval is None and maxval is None:
            info = np.iinfo(dtype)
            return Tensor(xp().asarray(gen.integers(info.min, info.max, dims, dtype=dtype, endpoint=True)))
        if maxval is None:
            raise ValueError("stateless_uniform: maxval must be given for integer dtypes (or neither bound).")
        lo, hi = int(_param(minval, np.float64)), int(_param(maxval, np.float64))
        if lo >= hi:
            raise InvalidArgumentError(None, None, f"Need minval < maxval: {lo} >= {hi}")
        return Tensor(xp().asarray(gen.integers(lo, hi, dims).astype(dtype)))
    lo = _param(0.0 if minval is None else minval, np.float64)
    hi = _param(1.0 if maxval is None else maxval, np.float64)
    return Tensor(xp().asarray((lo + (hi - lo) * gen.random(dims)).astype(dtype)))


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype="float32", name=None, alg="auto_select") -> Tensor:
    """Normal samples ``N(mean, stddev^2)``.

    >>> import featherflow as ff
    >>> ff.random.stateless_normal([2, 3], seed=[1, 2]).shape
    (2, 3)
    """
    dtype = _float(dtype, "stateless_normal")
    gen = rng(seed, "stateless_normal")
    draws = gen.standard_normal(_shape(shape))
    return Tensor(xp().asarray((_param(mean, np.float64) + _param(stddev, np.float64) * draws).astype(dtype)))


def _truncated(gen, dims, low, high):
    """Standard normals restricted to ``[low, high]`` by inverting the CDF (works for far tails too)."""
    from featherflow.ops.elementwise import _erf_array
    from featherflow.ops.special import _ndtri_array

    low, high = np.broadcast_arrays(np.asarray(low, np.float64), np.asarray(high, np.float64))
    cdf_low = 0.5 * (1 + _erf_array(np.broadcast_to(low / np.sqrt(2), dims).astype(np.float64)))
    cdf_high = 0.5 * (1 + _erf_array(np.broadcast_to(high / np.sqrt(2), dims).astype(np.float64)))
    u = cdf_low + (cdf_high - cdf_low) * gen.random(dims)
    return np.clip(_ndtri_array(np.clip(u, 1e-300, 1 - 1e-16)), np.broadcast_to(low, dims), np.broadcast_to(high, dims))


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype="float32", name=None,
                               alg="auto_select") -> Tensor:
    """Normal samples kept within two standard deviations of the mean.

    >>> import featherflow as ff
    >>> bool(ff.reduce_all(ff.abs(ff.random.stateless_truncated_normal([100], seed=[3, 4])) <= 2.0))
    True
    """
    dtype = _float(dtype, "stateless_truncated_normal")
    dims = _shape(shape)
    draws = _truncated(rng(seed, "stateless_truncated_normal"), dims, -2.0, 2.0)
    return Tensor(xp().asarray((_param(mean, np.float64) + _param(stddev, np.float64) * draws).astype(dtype)))


def stateless_parameterized_truncated_normal(shape, seed, means=0.0, stddevs=1.0, minvals=-2.0, maxvals=2.0,
                                             name=None) -> Tensor:
    """Normal samples ``N(means, stddevs^2)`` restricted to ``[minvals, maxvals]`` (all broadcast to ``shape``).

    >>> import featherflow as ff
    >>> x = ff.random.stateless_parameterized_truncated_normal([50], [1, 2], minvals=0.5, maxvals=1.0)
    >>> bool(ff.reduce_min(x) >= 0.5 and ff.reduce_max(x) <= 1.0)
    True
    """
    dims = _shape(shape)
    dtype = next((v.value.dtype for v in (means, stddevs, minvals, maxvals) if isinstance(v, Tensor)),
                 np.dtype("float32"))
    mean, std = _param(means, np.float64), _param(stddevs, np.float64)
    low = (_param(minvals, np.float64) - mean) / std
    high = (_param(maxvals, np.float64) - mean) / std
    draws = _truncated(rng(seed, "stateless_parameterized_truncated_normal"), dims, low, high)
    return Tensor(xp().asarray((mean + std * draws).astype(dtype)))


def stateless_categorical(logits, num_samples, seed, dtype="int64", name=None) -> Tensor:
    """Class indices drawn from the categorical distributions given by ``(batch, classes)`` logits.

    >>> import featherflow as ff
    >>> ff.random.stateless_categorical([[0.0, -float("inf")]], 3, seed=[1, 1]).numpy()
    array([[0, 0, 0]])
    """
    values = as_tensor(logits, "stateless_categorical", "logits").value
    if values.ndim != 2:
        raise ValueError(f"stateless_categorical: logits must be 2-D (batch, classes). Received: {values.shape}")
    gen = rng(seed, "stateless_categorical")
    num_samples = int(num_samples)
    host = np.asarray(values, dtype=np.float64)
    noise = -np.log(-np.log(gen.uniform(np.finfo(np.float64).tiny, 1.0, (host.shape[0], num_samples, host.shape[1]))))
    return Tensor(xp().asarray(np.argmax(host[:, None, :] + noise, axis=-1).astype(np.dtype(dtype))))


def stateless_binomial(shape, seed, counts, probs, output_dtype="int32", name=None) -> Tensor:
    """Binomial counts of successes in ``counts`` trials of probability ``probs`` (both broadcast to ``shape``).

    >>> import featherflow as ff
    >>> ff.random.stateless_binomial([3], [1, 2], counts=10.0, probs=0.0).numpy()
    array([0, 0, 0], dtype=int32)
    """
    dims = _shape(shape)
    n = np.broadcast_to(_param(counts, np.float64), dims)
    p = np.broadcast_to(_param(probs, np.float64), dims)
    draws = rng(seed, "stateless_binomial").binomial(n.astype(np.int64), np.clip(p, 0, 1))
    return Tensor(xp().asarray(draws.astype(np.dtype(output_dtype))))


def stateless_gamma(shape, seed, alpha, beta=None, dtype="float32", name=None) -> Tensor:
    """Gamma samples with shape ``alpha`` and inverse scale ``beta`` (broadcast to ``shape``).

    >>> import featherflow as ff
    >>> bool(ff.reduce_min(ff.random.stateless_gamma([10], [1, 2], alpha=2.0)) > 0)
    True
    """
    dtype = _float(dtype, "stateless_gamma")
    dims = _shape(shape)
    a = np.broadcast_to(_param(alpha, np.float64), dims)
    b = 1.0 if beta is None else np.broadcast_to(_param(beta, np.float64), dims)
    return Tensor(xp().asarray((rng(seed, "stateless_gamma").standard_gamma(a) / b).astype(dtype)))


def stateless_poisson(shape, seed, lam, dtype="int32", name=None) -> Tensor:
    """Poisson samples with rate ``lam`` (broadcast to ``shape``).

    >>> import featherflow as ff
    >>> ff.random.stateless_poisson([2], [1, 2], lam=0.0).numpy()
    array([0, 0], dtype=int32)
    """
    dims = _shape(shape)
    lam = np.broadcast_to(_param(lam, np.float64), dims)
    return Tensor(xp().asarray(rng(seed, "stateless_poisson").poisson(lam).astype(np.dtype(dtype))))


def split(seed, num=2, alg="auto_select") -> Tensor:
    """``num`` new seeds derived from ``seed``: shape ``[num, 2]``, the seed's dtype.

    >>> import featherflow as ff
    >>> ff.random.split([1, 2], 3).shape
    (3, 2)
    """
    s = as_tensor(seed, "split", "seed").value
    dtype = s.dtype if s.dtype.kind in "iu" else np.dtype("int32")
    info = np.iinfo(dtype)
    draws = rng(seed, "split", salt=0x5EED).integers(info.min, info.max, (int(num), 2), dtype=dtype, endpoint=True)
    return Tensor(xp().asarray(draws))


def fold_in(seed, data, alg="auto_select") -> Tensor:
    """A new seed combining ``seed`` with the integer ``data`` (e.g. a step or replica number).

    >>> import featherflow as ff
    >>> ff.random.fold_in([1, 2], 7).shape
    (2,)
    """
    s = as_tensor(seed, "fold_in", "seed").value
    dtype = s.dtype if s.dtype.kind in "iu" else np.dtype("int32")
    info = np.iinfo(dtype)
    value = int(data.value if isinstance(data, Tensor) else data) & _MASK64
    draws = rng(seed, "fold_in", salt=value).integers(info.min, info.max, 2, dtype=dtype, endpoint=True)
    return Tensor(xp().asarray(draws))


def stateless_shuffle(value, seed, alg="auto_select", name=None) -> Tensor:
    """``value`` with its first axis permuted by a permutation that depends only on ``seed``.

    >>> import featherflow as ff
    >>> sorted(ff.random.experimental.stateless_shuffle([1, 2, 3], seed=[5, 6]).numpy().tolist())
    [1, 2, 3]
    """
    from featherflow.ops.indexing import gather

    x = as_tensor(value, "stateless_shuffle", "value")
    if x.value.ndim == 0:
        raise ValueError("stateless_shuffle: value must have rank >= 1.")
    return gather(x, rng(seed, "stateless_shuffle").permutation(x.value.shape[0]))


def index_shuffle(index, seed, max_index) -> Tensor:
    """A seeded bijection of ``[0, max_index]``: distinct indices map to distinct indices (a keyed Feistel
    network with cycle walking).

    >>> sorted(int(index_shuffle(i, [1, 2, 3], 9)) for i in range(10))
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    idx = np.asarray(index.value if isinstance(index, Tensor) else index)
    flat_seed = np.asarray(seed.value if isinstance(seed, Tensor) else seed).reshape(-1)
    if flat_seed.size not in (2, 3) or flat_seed.dtype.kind not in "iu":
        raise ValueError(f"index_shuffle: seed must hold 2 or 3 integers. Received: {flat_seed.tolist()}")
    words = [int(v) & _MASK64 for v in flat_seed]
    limit = int(np.max(max_index.value if isinstance(max_index, Tensor) else max_index))
    if limit < 0 or (idx.size and (idx.min() < 0 or idx.max() > limit)):
        raise InvalidArgumentError(None, None, f"index_shuffle: index must be in [0, max_index]. Received: "
                                   f"{idx.tolist()}, max_index={limit}")
    bits = max(2, limit.bit_length() + limit.bit_length() % 2)  # an even width covering [0, max_index]
    half = bits // 2
    mask = (1 << half) - 1
    key = [words[0], words[1] ^ (words[2] if len(words) > 2 else 0)]
    keys = np.random.Generator(np.random.Philox(key=key)).integers(0, 1 << 32, 4)

    def permute(v):
        while True:
            left, right = v >> half, v & mask
            for k in keys:
                left, right = right, left ^ (((right * 0x9E3779B1 + int(k)) ^ (right >> 3)) & mask)
            v = (left << half) | right
            if v <= limit:
                return v

    out = np.vectorize(permute, otypes=[np.int64])(idx.astype(np.int64)) if idx.size else idx.astype(np.int64)
    return Tensor(xp().asarray(np.asarray(out).astype(idx.dtype if idx.dtype.kind in "iu" else np.int64)))
