"""Shuffle-and-split shared by ``boston_housing`` and ``california_housing`` (tf.keras's rule)."""

from __future__ import annotations

import numpy as np


def shuffle_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int):
    """Shuffle with ``np.random.RandomState(seed)``; the first ``int(n * (1 - test_split))`` are train."""
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
