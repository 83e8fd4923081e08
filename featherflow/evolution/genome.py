"""Seed-encoded genomes (Such et al., 2017): a network is the list of seeds that produced it.

A genome is a tuple of integers ``(tau_0, tau_1, ..., tau_g)``. ``tau_0`` seeds the initial parameters, each
later ``tau_i`` one Gaussian mutation::

    theta_0 = init(tau_0)
    theta_i = theta_{i-1} + sigma * eps(tau_i),      eps(tau) = mutation_noise(tau, n)   (float32)

``init`` is ``ParameterLayout.initial`` (the model's initializers seeded by ``tau_0``) or, with
``init="model"``, the model's own weights plus ``sigma * eps(tau_0)``. Every step is the same float32
operation in the same order, so a genome rebuilds bit for bit on any process; a few hundred integers stand
for millions of weights and are all that crosses process boundaries.

``GenomeDecoder`` caches decoded vectors (least recently used first out) and rebuilds a genome from its
longest cached prefix, so a child of a cached parent costs one mutation.

>>> import numpy as np
>>> from featherflow import keras
>>> from featherflow.evolution.parameters import ParameterLayout
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
>>> decoder = GenomeDecoder(ParameterLayout(model), sigma=0.1)
>>> child = decoder.decode((11, 12))
>>> bool(np.array_equal(child, GenomeDecoder(ParameterLayout(model), sigma=0.1).decode((11, 12))))
True
"""

from __future__ import annotations

import collections

import numpy as np

from featherflow.evolution.noise import mutation_noise

INIT_MODES = ("initializers", "model")


def mutate(parent: np.ndarray, seed: int, sigma: float) -> np.ndarray:
    """``parent + sigma * eps(seed)`` as a new array (float32 arithmetic for float32 parents)."""
    noise = mutation_noise(seed, parent.size, parent.dtype)
    noise *= parent.dtype.type(sigma)
    noise += parent
    return noise


class GenomeDecoder:
    """Rebuilds parameter vectors from seed lists, with a cache of recently decoded genomes.

    Args:
        layout: the model's ``ParameterLayout`` (its size, dtype and seeded initializers).
        sigma: the mutation power.
        init: ``"initializers"`` (theta_0 from the model's initializers seeded by ``tau_0``) or ``"model"``
            (theta_0 = the model's weights given as ``base`` + ``sigma * eps(tau_0)``).
        base: the model's weights, needed for ``init="model"``.
        cache_bytes: memory for cached vectors (at least 8 vectors are kept).
    """

    def __init__(self, layout, sigma: float, init: str = "initializers", base: np.ndarray | None = None,
                 cache_bytes: int = 256 * 2**20):
        if init not in INIT_MODES:
            raise ValueError(f"init must be one of {INIT_MODES}. Received: init={init!r}")
        if init == "model" and base is None:
            raise ValueError("init='model' needs the model's weights as `base`.")
        self.layout = layout
        self.sigma = float(sigma)
        self.init = init
        self.base = None if base is None else np.asarray(base, dtype=layout.dtype)
        itemsize = np.dtype(layout.dtype).itemsize
        self.capacity = max(8, min(4096, int(cache_bytes) // max(1, layout.size * itemsize)))
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self.mutations = 0  # mutation steps applied (tests and logs: a cached parent makes it one per child)

    def initial(self, seed: int) -> np.ndarray:
        if self.init == "model":
            return mutate(self.base, seed, self.sigma)
        return self.layout.initial(seed)

    def decode(self, genome) -> np.ndarray:
        """The parameter vector ``(n,)`` of ``genome`` (do not modify it: it may be cached)."""
        genome = tuple(int(s) for s in genome)
        if not genome:
            raise ValueError("A genome needs at least its initial seed. Received: genome=()")
        cut = len(genome)
        while cut > 0 and genome[:cut] not in self._cache:
            cut -= 1
        from_scratch = cut == 0
        if from_scratch:
            theta = self.initial(genome[0])
            cut = 1
        else:
            theta = self._cache[genome[:cut]]
            self._cache.move_to_end(genome[:cut])
        for index in range(cut, len(genome)):
            if index == len(genome) - 1 and (index > cut or from_scratch):
                self._remember(genome[:index], theta)  # the parent: its other children come next
            theta = mutate(theta, genome[index], self.sigma)
            self.mutations += 1
        self._remember(genome, theta)
        return theta

    def _remember(self, genome: tuple, theta: np.ndarray) -> None:
        self._cache[genome] = theta
        self._cache.move_to_end(genome)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)

    def clear(self) -> None:
        self._cache.clear()
