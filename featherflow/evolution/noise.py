"""Seeded Gaussian noise: per-seed mutation vectors and the shared noise table of Salimans et al. (2017).

Two ways to turn an integer into a Gaussian vector ``eps ~ N(0, I)`` of length ``n``, both bit-exact on every
process that runs the same NumPy:

* ``mutation_noise(seed, n)``: a fresh PCG64 generator seeded with ``seed`` draws ``n`` standard normals
  (float32). The genetic algorithm uses it: a genome's mutation seeds rebuild its parameters exactly.
* ``NoiseTable(size, seed)``: one block of ``size`` standard normals drawn once from ``seed``; a perturbation is
  the slice ``table[offset:offset + n]``. Evolution strategies use it: workers build the same table once
  and only integer offsets cross process boundaries (Salimans et al., 2017, section 2.1).

>>> table = NoiseTable(size=1000, seed=3)
>>> bool((table.get(10, 4) == NoiseTable(size=1000, seed=3).get(10, 4)).all())
True
>>> mutation_noise(7, 3).dtype
dtype('float32')
"""

from __future__ import annotations

import numpy as np


def derive_seed(*keys: int) -> int:
    """A 32-bit seed mixed from non-negative integer ``keys`` (NumPy's ``SeedSequence``; order matters).

    >>> derive_seed(1, 2) == derive_seed(1, 2) != derive_seed(2, 1)
    True
    """
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1, np.uint32)[0])


def mutation_noise(seed: int, size: int, dtype=np.float32) -> np.ndarray:
    """``size`` standard normals drawn by a PCG64 generator seeded with ``seed`` (the GA's mutation ``eps``)."""
    return np.random.default_rng(int(seed)).standard_normal(int(size), dtype=np.dtype(dtype))


class NoiseTable:
    """A block of ``size`` standard normals drawn once from ``seed`` (float32).

    Args:
        size: number of values; a perturbation of ``n`` parameters is any slice ``[offset, offset + n)``,
            so ``size`` must be at least ``n`` (a few times ``n`` or more gives less correlated slices).
        seed: seed of the generator that fills the table.

    ``NoiseTable.shared(size, seed)`` returns one table per process for the same arguments (workers build it
    once and keep it).
    """

    _per_process: dict = {}

    def __init__(self, size: int = 2**22, seed: int = 0):
        size = int(size)
        if size < 1:
            raise ValueError(f"NoiseTable size must be a positive integer. Received: size={size}")
        self.size = size
        self.seed = int(seed)
        self.noise = np.random.default_rng(self.seed).standard_normal(size, dtype=np.float32)

    @classmethod
    def shared(cls, size: int, seed: int) -> NoiseTable:
        """The process-wide table for ``(size, seed)`` (built on first use)."""
        key = (int(size), int(seed))
        table = cls._per_process.get(key)
        if table is None:
            cls._per_process.clear()  # one table at a time: a table can be hundreds of MB
            table = cls._per_process[key] = cls(size, seed)
        return table

    def get(self, offset: int, n: int) -> np.ndarray:
        """The ``n`` values starting at ``offset`` (a read-only view)."""
        offset, n = int(offset), int(n)
        if offset < 0 or offset + n > self.size:
            raise ValueError(f"Noise slice [{offset}, {offset + n}) is outside the table of size {self.size}.")
        view = self.noise[offset:offset + n]
        view.flags.writeable = False
        return view

    def sample_offsets(self, rng: np.random.Generator, n: int, count: int) -> np.ndarray:
        """``count`` random offsets of slices of length ``n`` (int64)."""
        if n > self.size:
            raise ValueError(f"The noise table ({self.size} values) is smaller than the parameter vector ({n}); "
                             f"use a larger noise_table_size.")
        return rng.integers(0, self.size - n + 1, size=int(count), dtype=np.int64)

    def __repr__(self) -> str:
        return f"NoiseTable(size={self.size}, seed={self.seed})"
