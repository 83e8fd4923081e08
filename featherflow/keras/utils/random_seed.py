"""``keras.utils.set_random_seed``: one call makes a run reproducible.

>>> import numpy as np, random
>>> set_random_seed(7); a = (random.random(), np.random.rand())
>>> set_random_seed(7); a == (random.random(), np.random.rand())
True
"""

from __future__ import annotations

import random

import numpy as np

from featherflow.backend import random as backend_random


def set_random_seed(seed: int) -> None:
    """Sets all random seeds: Python's ``random``, NumPy's global RNG and featherflow's.

    Equivalent to ``random.seed(seed); np.random.seed(seed); featherflow.random.set_seed(seed)``;
    weight initialisers, dropout and shuffling in ``fit`` all draw from featherflow's
    generator, so two runs after the same call are bit-identical on the same machine.

    Args:
        seed: a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r} (of type {type(seed)})")
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"Expected `seed` argument to be a non-negative integer. Received: seed={seed}")
    random.seed(seed)
    # NumPy's legacy global seed only takes 32 bits.
    np.random.seed(seed % 2**32)
    backend_random.set_seed(seed)
