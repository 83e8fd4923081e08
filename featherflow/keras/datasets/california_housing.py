"""California housing prices: Keras's ``california_housing.load_data``.

20,640 census block groups of California (1990) with 8 features (median income, house age,
average rooms, average bedrooms, population, average occupancy, latitude, longitude); targets
are median house values in dollars. ``version="small"`` keeps the first 600 samples (a
stand-in for ``boston_housing``). Downloaded from tf.keras's origin and checked against the
published sha256.
"""

from __future__ import annotations

from featherflow.keras.datasets._files import KERAS_DATASETS_BASE, fetch
from featherflow.keras.datasets._housing import shuffle_split
from featherflow.keras.datasets._safe_pickle import load_npz


def load_data(version: str = "large", path: str = "california_housing.npz", test_split: float = 0.2, seed: int = 113):
    """Loads the California Housing dataset.

    Args:
        version: ``"large"`` (all 20,640 samples) or ``"small"`` (the first 600, before shuffling).
        path: where to cache the data (relative to ``~/.keras/datasets``).
        test_split: fraction of the data reserved as test set.
        seed: seed of the shuffle done before the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` ``(n, 8)``, ``y`` ``(n,)``; 16,512/4,128
        samples for ``"large"``, 480/120 for ``"small"`` with the defaults.
    """
    if version not in ("small", "large"):
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: version={version}")
    arrays = load_npz(fetch(KERAS_DATASETS_BASE + "california_housing.npz", fname=path))
    x, y = arrays["x"], arrays["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffle_split(x, y, test_split, seed)
