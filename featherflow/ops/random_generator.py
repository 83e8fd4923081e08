"""``tf.random.Generator``: a random number generator whose state is a variable, plus the global generator,
``gamma``/``poisson`` and the candidate samplers of ``tf.random`` / ``tf.nn``.

A Generator's ``state`` is an int64 variable laid out as TensorFlow's Philox state ``[counter_lo,
counter_hi, key]`` (``create_rng_state``); every draw runs NumPy's Philox generator from that state and
writes the advanced counter back, so a Generator made ``from_seed`` replays the same stream and ``split``
gives independent ones (the numbers are not TensorFlow's bit patterns).

>>> import featherflow as ff
>>> g = ff.random.Generator.from_seed(1)
>>> a = g.normal([2])
>>> g.reset_from_seed(1)
>>> bool(ff.reduce_all(g.normal([2]) == a))
True
"""

from __future__ import annotations

import collections
import enum
import math

import numpy as np

from featherflow.backend import random as _backend_random
from featherflow.backend.arrays import floatx, xp
from featherflow.core.tensor import Tensor
from featherflow.core.variable import Variable
from featherflow.ops._convert import as_tensor
from featherflow.ops.creation import _shape

_MASK64 = (1 << 64) - 1
_STATE_SIZE = {1: 3, 2: 2, 3: 3}


class Algorithm(enum.Enum):
    """The counter-based generators TensorFlow offers (featherflow draws with Philox for both)."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


def _algorithm(alg) -> Algorithm:
    if alg is None:
        return Algorithm.PHILOX
    if isinstance(alg, Algorithm):
        return alg
    if isinstance(alg, str):
        try:
            return Algorithm[alg.upper()]
        except KeyError:
            pass
    elif isinstance(alg, int) and alg in (1, 2, 3):
        return Algorithm(alg)
    raise ValueError(f'Unknown RNG algorithm. Expected "philox", "threefry" or "auto_select". Received: alg={alg!r}')


def create_rng_state(seed, alg) -> Tensor:
    """The initial int64 state for ``seed``: the seed split into 64-bit words, zero-padded to the algorithm's
    state size (3 for Philox, 2 for ThreeFry).

    >>> create_rng_state(1, "philox").numpy()
    array([1, 0, 0])
    """
    size = _STATE_SIZE[_algorithm(alg).value]
    if isinstance(seed, Tensor):
        seed = seed.value.tolist()
    values = list(seed) if isinstance(seed, (list, tuple, np.ndarray)) else None
    if values is None:
        value = int(seed)
        if value < 0:
            raise ValueError(f"create_rng_state: the seed must be non-negative. Received: {seed}")
        values = []
        while value and len(values) < size:
            values.append(value & _MASK64)
            value >>= 64
    words = [int(v) & _MASK64 for v in values][:size]
    words += [0] * (size - len(words))
    return Tensor(np.asarray(words, dtype=np.uint64).view(np.int64))


class Generator:
    """A seeded random number generator with its state in a Variable (TensorFlow's ``tf.random.Generator``).

    Build one with ``Generator.from_seed``, ``from_non_deterministic_state``, ``from_state`` or
    ``from_key_counter``.
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        if copy_from is not None:
            self._alg = copy_from.algorithm
            self._state = Variable(copy_from.state.numpy(), trainable=False, name="StateVar")
            return
        if state is None:
            raise ValueError("Generator: pass copy_from or state, or use Generator.from_seed(...).")
        self._alg = _algorithm(alg)
        value = np.asarray(state.value if isinstance(state, Tensor) else state, dtype=np.int64).reshape(-1)
        if value.shape != (_STATE_SIZE[self._alg.value],):
            raise ValueError(f"Generator: the state must have {_STATE_SIZE[self._alg.value]} int64 entries for "
                             f"{self._alg.name}. Received shape {value.shape}")
        self._state = Variable(value, trainable=False, name="StateVar")

    @classmethod
    def from_seed(cls, seed, alg=None) -> Generator:
        """A generator whose stream is fixed by ``seed``."""
        return cls(state=create_rng_state(seed, alg or Algorithm.PHILOX), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None) -> Generator:
        """A generator seeded from the operating system's entropy."""
        return cls.from_seed(int(np.random.SeedSequence().entropy) & ((1 << 126) - 1), alg)

    @classmethod
    def from_state(cls, state, alg) -> Generator:
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg) -> Generator:
        """A generator from a key and a counter (state ``counter + [key]``)."""
        counter = np.asarray(counter.value if isinstance(counter, Tensor) else counter, dtype=np.int64).reshape(-1)
        key = np.asarray(key.value if isinstance(key, Tensor) else key, dtype=np.int64).reshape(-1)
        return cls(state=np.concatenate([counter, key]), alg=alg)

    @property
    def state(self) -> Variable:
        return self._state

    @property
    def algorithm(self) -> int:
        return self._alg.value

    @property
    def key(self) -> Tensor:
        return Tensor(self._state.numpy()[-1:].copy() if self._alg is not Algorithm.THREEFRY else
                      self._state.numpy()[1:].copy())

    def _generator(self) -> np.random.Generator:
        words = self._state.numpy().view(np.uint64).tolist()
        counter, key = (words[:2], words[2]) if len(words) == 3 else ([words[0], 0], words[1])
        bits = np.random.Philox(key=[key, 0])
        state = bits.state
        state["state"]["counter"] = np.asarray(counter + [0, 0], dtype=np.uint64)
        bits.state = state
        self._bits = bits
        return np.random.Generator(bits)

    def _advance(self) -> None:
        counter = self._bits.state["state"]["counter"]
        words = self._state.numpy().view(np.uint64)
        if len(words) == 3:
            words[0], words[1] = counter[0], counter[1]
        else:
            words[0] = counter[0]
        self._state.assign(words.view(np.int64))

    def _draw(self, fn):
        gen = self._generator()
        out = fn(gen)
        self._advance()
        return out

    def reset(self, state) -> None:
        self._state.assign(np.asarray(state.value if isinstance(state, Tensor) else state, dtype=np.int64))

    def reset_from_seed(self, seed) -> None:
        self._state.assign(create_rng_state(seed, self._alg).value)

    def reset_from_key_counter(self, key, counter) -> None:
        self._state.assign(Generator.from_key_counter(key, counter, self._alg).state.numpy())

    def skip(self, delta) -> None:
        """Advance the stream as if ``delta`` draws had been made."""
        self._draw(lambda gen: self._bits.advance(int(delta)))

    def normal(self, shape, mean=0.0, stddev=1.0, dtype="float32", name=None) -> Tensor:
        dtype = np.dtype(floatx() if dtype is None else dtype)
        draws = self._draw(lambda gen: gen.standard_normal(_shape(shape)))
        return Tensor(xp().asarray((_value(mean) + _value(stddev) * draws).astype(dtype)))

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype="float32", name=None) -> Tensor:
        from featherflow.ops.random_stateless import _truncated

        dtype = np.dtype(floatx() if dtype is None else dtype)
        draws = self._draw(lambda gen: _truncated(gen, _shape(shape), -2.0, 2.0))
        return Tensor(xp().asarray((_value(mean) + _value(stddev) * draws).astype(dtype)))

    def uniform(self, shape, minval=0, maxval=None, dtype="float32", name=None) -> Tensor:
        dtype = np.dtype(floatx() if dtype is None else dtype)
        dims = _shape(shape)
        if dtype.kind in "iu":
            if maxval is None:
                raise ValueError("Generator.uniform: maxval must be given for integer dtypes.")
            return Tensor(xp().asarray(self._draw(lambda gen: gen.integers(int(_value(minval)), int(_value(maxval)),
                                                                           dims)).astype(dtype)))
        lo, hi = _value(minval), _value(1.0 if maxval is None else maxval)
        return Tensor(xp().asarray((lo + (hi - lo) * self._draw(lambda gen: gen.random(dims))).astype(dtype)))

    def uniform_full_int(self, shape, dtype="uint64", name=None) -> Tensor:
        dtype = np.dtype(dtype)
        info = np.iinfo(dtype)
        return Tensor(xp().asarray(self._draw(lambda gen: gen.integers(info.min, info.max, _shape(shape), dtype=dtype,
                                                                       endpoint=True))))

    def binomial(self, shape, counts, probs, dtype="int32", name=None) -> Tensor:
        dims = _shape(shape)
        n = np.broadcast_to(_value(counts), dims).astype(np.int64)
        p = np.clip(np.broadcast_to(_value(probs), dims), 0, 1)
        return Tensor(xp().asarray(self._draw(lambda gen: gen.binomial(n, p)).astype(np.dtype(dtype))))

    def make_seeds(self, count=1) -> Tensor:
        """``count`` seeds for stateless ops, as the columns of a ``[2, count]`` int64 tensor."""
        return Tensor(xp().asarray(self._draw(lambda gen: gen.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max,
                                                                       (2, int(count)), dtype=np.int64))))

    def split(self, count=1) -> list:
        """``count`` new generators with independent streams (this one advances)."""
        seeds = self.make_seeds(count).numpy()
        return [Generator(state=create_rng_state([int(seeds[0, i]) & _MASK64, int(seeds[1, i]) & _MASK64],
                                                 self._alg), alg=self._alg) for i in range(int(count))]

    def __repr__(self) -> str:
        return f"<Generator alg={self._alg.name} state={self._state.numpy().tolist()}>"


def _value(v):
    return np.asarray(v.value if isinstance(v, Tensor) else v, dtype=np.float64)


_GLOBAL: dict = {"generator": None}


def get_global_generator() -> Generator:
    """The global generator (made on first use from the global seed, ``random.set_seed``, when there is one).

    >>> isinstance(get_global_generator(), Generator)
    True
    """
    if _GLOBAL["generator"] is None:
        seed = _backend_random.get_seed()
        _GLOBAL["generator"] = Generator.from_seed(seed) if seed is not None else \
            Generator.from_non_deterministic_state()
    return _GLOBAL["generator"]


def set_global_generator(generator) -> None:
    """Replace the global generator."""
    if not isinstance(generator, Generator):
        raise TypeError(f"set_global_generator expects a Generator. Received: {generator!r}")
    _GLOBAL["generator"] = generator


def _rng(seed):
    return _backend_random.make_generator(seed) if seed is not None else _backend_random.generator()


def gamma(shape, alpha, beta=None, dtype="float32", seed=None, name=None) -> Tensor:
    """Gamma samples: shape ``shape + broadcast(alpha, beta).shape`` (``beta`` the inverse scale, default 1).

    >>> import featherflow as ff
    >>> ff.random.gamma([4], [1.0, 2.0]).shape
    (4, 2)
    """
    dims = _shape(shape)
    a, b = np.broadcast_arrays(_value(alpha), _value(1.0 if beta is None else beta))
    draws = _rng(seed).standard_gamma(np.broadcast_to(a, dims + a.shape)) / b
    return Tensor(xp().asarray(draws.astype(np.dtype(floatx() if dtype is None else dtype))))


def poisson(shape, lam, dtype="float32", seed=None, name=None) -> Tensor:
    """Poisson samples: shape ``shape + lam.shape``.

    >>> import featherflow as ff
    >>> ff.random.poisson([4, 2], [1.0, 2.0, 3.0]).shape
    (4, 2, 3)
    """
    dims = _shape(shape)
    rate = _value(lam)
    return Tensor(xp().asarray(_rng(seed).poisson(np.broadcast_to(rate, dims + rate.shape)).astype(np.dtype(dtype))))


CandidateSample = collections.namedtuple("CandidateSample",
                                         ["sampled_candidates", "true_expected_count", "sampled_expected_count"])


def _sample_candidates(true_classes, num_true, num_sampled, unique, range_max, probs, seed, op):
    classes = np.asarray(as_tensor(true_classes, op, "true_classes").value, dtype=np.int64)
    if classes.ndim != 2 or classes.shape[1] != int(num_true):
        raise ValueError(f"{op}: true_classes must have shape (batch, num_true={num_true}). Received: {classes.shape}")
    num_sampled, range_max = int(num_sampled), int(range_max)
    if unique and num_sampled > range_max:
        raise ValueError(f"{op}: with unique=True, num_sampled ({num_sampled}) must be <= range_max ({range_max}).")
    gen = _rng(seed)
    if unique:
        chosen, tries = [], 0
        seen = set()
        while len(chosen) < num_sampled:
            draw = int(gen.choice(range_max, p=probs))
            tries += 1
            if draw not in seen:
                seen.add(draw)
                chosen.append(draw)
        sampled = np.asarray(chosen, dtype=np.int64)

        def expected(p):
            return -np.expm1(tries * np.log1p(-np.minimum(p, 1 - 1e-12)))
    else:
        sampled = gen.choice(range_max, size=num_sampled, p=probs).astype(np.int64)

        def expected(p):
            return num_sampled * p
    return CandidateSample(Tensor(sampled), Tensor(expected(probs[classes]).astype(np.float32)),
                           Tensor(expected(probs[sampled]).astype(np.float32)))


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None):
    """Sample ``num_sampled`` classes uniformly from ``[0, range_max)``; also the expected counts of the true and
    sampled classes (``-expm1(tries * log1p(-p))`` with ``unique``, else ``num_sampled * p``).

    >>> import featherflow as ff
    >>> ff.random.uniform_candidate_sampler([[1]], 1, 3, True, 5, seed=0).sampled_candidates.shape
    (3,)
    """
    probs = np.full(int(range_max), 1.0 / int(range_max))
    return _sample_candidates(true_classes, num_true, num_sampled, unique, range_max, probs, seed,
                              "uniform_candidate_sampler")


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None):
    """Sample classes from the log-uniform (Zipfian) distribution ``P(c) = log((c + 2) / (c + 1)) /
    log(range_max + 1)``, which favours small ids (frequent words first).

    >>> import featherflow as ff
    >>> ff.random.log_uniform_candidate_sampler([[1]], 1, 2, False, 10, seed=0).sampled_candidates.shape
    (2,)
    """
    c = np.arange(int(range_max), dtype=np.float64)
    probs = (np.log(c + 2) - np.log(c + 1)) / math.log(int(range_max) + 1)
    return _sample_candidates(true_classes, num_true, num_sampled, unique, range_max, probs / probs.sum(), seed,
                              "log_uniform_candidate_sampler")


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, vocab_file="",
                                    distortion=1.0, num_reserved_ids=0, num_shards=1, shard=0, unigrams=(), seed=None,
                                    name=None):
    """Sample classes with probabilities proportional to ``unigrams[c] ** distortion`` (the counts may come from
    ``vocab_file``, one count per line, last comma-separated field); reserved ids have probability 0.

    >>> import featherflow as ff
    >>> s = ff.random.fixed_unigram_candidate_sampler([[0]], 1, 2, True, 3, unigrams=[0.0, 1.0, 1.0], seed=0)
    >>> sorted(s.sampled_candidates.numpy().tolist())
    [1, 2]
    """
    counts = list(unigrams)
    if vocab_file:
        with open(vocab_file, encoding="utf-8") as f:
            counts = [float(line.strip().split(",")[-1]) for line in f if line.strip()]
    counts = [0.0] * int(num_reserved_ids) + [float(c) for c in counts]
    if len(counts) != int(range_max):
        raise ValueError(f"fixed_unigram_candidate_sampler: expected range_max={range_max} counts (with "
                         f"num_reserved_ids), got {len(counts)}.")
    weights = np.asarray(counts) ** float(distortion)
    ids = np.arange(int(range_max))
    weights = np.where(ids % int(num_shards) == int(shard), weights, 0.0)
    if weights.sum() <= 0:
        raise ValueError("fixed_unigram_candidate_sampler: the unigram weights sum to zero.")
    return _sample_candidates(true_classes, num_true, num_sampled, unique, range_max, weights / weights.sum(), seed,
                              "fixed_unigram_candidate_sampler")


def learned_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None):
    """Sample classes in proportion to their frequency among ``true_classes`` (add-one smoothed), the unigram
    distribution learned from this batch.

    >>> import featherflow as ff
    >>> ff.random.learned_unigram_candidate_sampler([[1], [1]], 1, 2, False, 4, seed=0).sampled_candidates.shape
    (2,)
    """
    classes = np.asarray(as_tensor(true_classes, "learned_unigram_candidate_sampler", "true_classes").value)
    counts = np.bincount(classes.reshape(-1).astype(np.int64), minlength=int(range_max))[:int(range_max)] + 1.0
    return _sample_candidates(true_classes, num_true, num_sampled, unique, range_max, counts / counts.sum(), seed,
                              "learned_unigram_candidate_sampler")


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None):
    """Every class ``0..num_sampled-1``, each with expected count 1 (for testing sampled losses against the full
    softmax).

    >>> import featherflow as ff
    >>> ff.random.all_candidate_sampler([[0]], 1, 3, True).sampled_candidates.numpy()
    array([0, 1, 2])
    """
    classes = np.asarray(as_tensor(true_classes, "all_candidate_sampler", "true_classes").value)
    n = int(num_sampled)
    return CandidateSample(Tensor(np.arange(n, dtype=np.int64)), Tensor(np.ones(classes.shape, np.float32)),
                           Tensor(np.ones(n, np.float32)))
